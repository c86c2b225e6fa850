#!/usr/bin/python3
"""test_secrets.py WSC - the token stays secret in the wsc command (issue 14
item 2), against a hostile server on 127.0.0.1 that reflects the token it
receives in its HTTP status reason, in a header, and in its close reason:

- every status line and error is masked (***), whatever the token's source:
  --token, --token-file, WSC_TOKEN, the store;
- core dumps are off (RLIMIT_CORE 0 in /proc/PID/limits) unless --allow-core;
- WSC_TOKEN's value is overwritten in /proc/PID/environ once read;
- --token-file: first line only, a file others may write to is refused;
- `wsc URL` with no token option creates no store file.
Every wait is bounded.
"""
import base64
import hashlib
import os
import re
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest

WSC = os.path.abspath(sys.argv[1])
TOKEN = "Sup3r-s3cret_t0ken.value"
TMP = tempfile.mkdtemp(prefix="wsc-secrets-test-")


def env(**extra):
    e = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy") and k != "WSC_TOKEN"}
    e["HOME"] = os.path.join(TMP, "home")
    e["XDG_STATE_HOME"] = os.path.join(TMP, "state")
    e["NO_COLOR"] = "1"
    e.update(extra)
    return e


class Hostile:
    """Answers every connection according to mode: 'reason403' (403 whose
    reason and X-Echo header carry the token received), 'close' (upgrade,
    then Close 1008 with the token in its reason), 'hold' (upgrade, then
    wait for the client to go)."""

    def __init__(self, mode):
        self.mode = mode
        self.ls = socket.socket()
        self.ls.bind(("127.0.0.1", 0))
        self.ls.listen(8)
        self.ls.settimeout(30)
        self.port = self.ls.getsockname()[1]
        self.url = "ws://127.0.0.1:%d/feed" % self.port
        self.received = []
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        try:
            while True:
                c, _ = self.ls.accept()
                threading.Thread(target=self.serve, args=(c,), daemon=True).start()
        except OSError:
            return

    def serve(self, c):
        c.settimeout(30)
        head = b""
        try:
            while b"\r\n\r\n" not in head:
                d = c.recv(4096)
                if not d:
                    return
                head += d
            text = head.decode("latin-1")
            m = re.search(r"(?im)^Cookie:.*\bcsrf_token=([^;\r\n]*)", text)
            tok = m.group(1) if m else "none"
            self.received.append(tok)
            if self.mode == "reason403enc":  # the token re-encoded: every byte %xx, lower case
                enc = "".join("%%%02x" % ord(ch) for ch in tok)
                c.sendall(("HTTP/1.1 403 bad /feed?csrf=%s\r\nContent-Length: 0\r\n"
                           "Connection: close\r\n\r\n" % enc).encode())
                return
            if self.mode == "reason403":
                c.sendall(("HTTP/1.1 403 bad token %s\r\nX-Echo: %s\r\nContent-Length: 0\r\n"
                           "Connection: close\r\n\r\n" % (tok, tok)).encode())
                return
            key = re.search(r"(?im)^Sec-WebSocket-Key:\s*(\S+)", text).group(1)
            acc = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode())
                                   .digest()).decode()
            c.sendall(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                       "Sec-WebSocket-Accept: %s\r\nX-Echo: %s\r\n\r\n" % (acc, tok)).encode())
            if self.mode == "close":
                reason = ("bad token " + tok).encode()[:123]
                c.sendall(struct.pack("!BBH", 0x88, 2 + len(reason), 1008) + reason)
                time.sleep(0.2)
                return
            while c.recv(65536):
                pass
        except OSError:
            pass
        finally:
            c.close()

    def stop(self):
        self.ls.close()


def run_wsc(args, extra_env=None, stdin_data=b"", timeout=30):
    return subprocess.run([WSC, *args], input=stdin_data, capture_output=True, timeout=timeout,
                          env=env(**(extra_env or {})))


class TestMasking(unittest.TestCase):
    def check(self, server_mode, args, extra_env=None):
        srv = Hostile(server_mode)
        try:
            r = run_wsc(["--no-reconnect", *args, srv.url], extra_env)
        finally:
            srv.stop()
        out = (r.stdout + r.stderr).decode("utf-8", "replace")
        self.assertIn(TOKEN, srv.received, out)  # the server did get it ...
        self.assertNotIn(TOKEN, out)             # ... and it never shows
        self.assertIn("***", out)
        return out

    def token_file(self):
        p = os.path.join(TMP, "tok.txt")
        with open(p, "w") as f:
            f.write(TOKEN + "\nsecond line ignored\n")
        os.chmod(p, 0o600)
        return p

    def test_status_reason_every_source(self):
        sources = {
            "--token": (["--token", TOKEN], None),
            "--token-file": (["--token-file", self.token_file()], None),
            "WSC_TOKEN": ([], {"WSC_TOKEN": TOKEN}),
        }
        for name, (args, e) in sources.items():
            with self.subTest(name):
                out = self.check("reason403", ["--no-store", *args] if name != "--token" else args, e)
                self.assertIn("403", out)

    def test_status_reason_reencoded(self):
        out = self.check("reason403enc", ["--no-store", "--token", TOKEN])
        enc = "".join("%%%02x" % ord(ch) for ch in TOKEN)
        self.assertNotIn(enc, out)
        self.assertNotIn(enc[:30], out)
        self.assertIn("csrf=***", out)

    def test_store_token(self):
        store = os.path.join(TMP, "store", "tokens.db")
        srv = Hostile("reason403")
        try:
            r = subprocess.run([WSC, "token", "set", "--store", store, srv.url], input=TOKEN.encode(),
                               capture_output=True, timeout=30, env=env())
            self.assertEqual(r.returncode, 0, r.stderr)
            r = run_wsc(["--no-reconnect", "--store", store, srv.url])
        finally:
            srv.stop()
        out = (r.stdout + r.stderr).decode("utf-8", "replace")
        self.assertIn(TOKEN, srv.received)
        self.assertNotIn(TOKEN, out)
        self.assertIn("***", out)

    def test_close_reason_and_verbose_headers(self):
        out = self.check("close", ["-v", "--token", TOKEN])
        self.assertIn("1008", out)


class TestProcess(unittest.TestCase):
    def held(self, args, extra_env=None, preexec=None):
        """Runs wsc against a server that holds the connection; returns
        (limits text, environ bytes) read while it runs."""
        srv = Hostile("hold")
        p = subprocess.Popen([WSC, "--no-reconnect", "--no-store", *args, srv.url], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env(**(extra_env or {})),
                             preexec_fn=preexec)
        try:
            deadline = time.monotonic() + 20
            while not srv.received and time.monotonic() < deadline and p.poll() is None:
                time.sleep(0.02)
            self.assertTrue(srv.received, "wsc never connected")
            with open("/proc/%d/limits" % p.pid) as f:
                limits = f.read()
            with open("/proc/%d/environ" % p.pid, "rb") as f:
                environ = f.read()
            return limits, environ
        finally:
            p.stdin.close()
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            p.stdout.close()
            p.stderr.close()
            srv.stop()

    @staticmethod
    def core_unlimited():
        import resource
        resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))

    def test_core_dumps_off_unless_allowed(self):
        limits, _ = self.held([], preexec=self.core_unlimited)
        self.assertRegex(limits, r"Max core file size\s+0\s+0\s")
        limits, _ = self.held(["--allow-core"], preexec=self.core_unlimited)
        # The hard limit tells: wsc lowered neither. (The soft one is 0 in an
        # ASan build anyway: ASan turns core dumps off on 64-bit machines.)
        self.assertRegex(limits, r"Max core file size\s+\S+\s+unlimited\s")
        # Every command accepts --allow-core (main() takes it out of argv).
        r = subprocess.run([WSC, "token", "list", "--allow-core"], capture_output=True, timeout=30, env=env())
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_wsc_token_env_removed(self):
        _, environ = self.held([], {"WSC_TOKEN": TOKEN})
        # /proc/PID/environ shows the environment the process started with:
        # the name stays there, the value is overwritten in place.
        self.assertNotIn(TOKEN.encode(), environ)
        self.assertIn(b"WSC_TOKEN=" + b"x" * len(TOKEN) + b"\0", environ)


class TestTokenFile(unittest.TestCase):
    def test_refused_when_others_may_write(self):
        p = os.path.join(TMP, "shared.txt")
        with open(p, "w") as f:
            f.write(TOKEN + "\n")
        for mode in (0o620, 0o602, 0o666):
            os.chmod(p, mode)
            r = run_wsc(["--token-file", p, "ws://127.0.0.1:9/"])
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn(b"refusing token file", r.stderr)
            self.assertNotIn(TOKEN.encode(), r.stderr)

    def test_missing_empty_and_with_store(self):
        r = run_wsc(["--token-file", os.path.join(TMP, "nope"), "ws://127.0.0.1:9/"])
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"cannot read token file", r.stderr)
        p = os.path.join(TMP, "empty.txt")
        open(p, "w").close()
        os.chmod(p, 0o600)
        r = run_wsc(["--token-file", p, "ws://127.0.0.1:9/"])
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"no token on its first line", r.stderr)
        with open(p, "w") as f:
            f.write(TOKEN)
        r = run_wsc(["--token-file", p, "--store", os.path.join(TMP, "s.db"), "ws://127.0.0.1:9/"])
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"--token-file and --store cannot be used together", r.stderr)


class TestNoStoreCreated(unittest.TestCase):
    def test_connect_creates_no_store(self):
        state = os.path.join(TMP, "fresh-state")
        srv = Hostile("close")
        try:
            r = subprocess.run([WSC, "--no-reconnect", srv.url], input=b"", capture_output=True, timeout=30,
                               env=env(XDG_STATE_HOME=state))
        finally:
            srv.stop()
        self.assertEqual(srv.received, ["none"], r.stderr)
        self.assertFalse(os.path.exists(os.path.join(state, "wsc", "tokens.db")), r.stderr)
        self.assertFalse(os.path.exists(os.path.join(state, "wsc")))


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"])
