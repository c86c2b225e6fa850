#!/usr/bin/python3
"""Tests of the wsc command against real peers on 127.0.0.1.

    test_cli.py WSC_BINARY SOURCE_DIR [unittest arguments, e.g. TestScripted]

Peers (tests/peers/, tests/integration/script_server.py, echo_driver.py
here) are started by the tests and stopped at the end; every wait is
bounded. HOME and XDG_STATE_HOME point into a temporary directory, so the
tests never touch the user's token store or history.
"""
import json
import os
import pty
import re
import select
import shutil
import signal
import stat
import struct
import subprocess
import sys
import tempfile
import termios
import fcntl
import time
import unittest

if len(sys.argv) < 3:
    sys.exit("usage: test_cli.py WSC_BINARY SOURCE_DIR [unittest args]")
WSC = os.path.abspath(sys.argv[1])
SRC = os.path.abspath(sys.argv[2])
del sys.argv[1:3]
PY = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
NODE = shutil.which("node")
PEERS = os.path.join(SRC, "tests", "peers")
HERE = os.path.dirname(os.path.abspath(__file__))
TMP = tempfile.mkdtemp(prefix="wsc-cli-test-")
SGR = re.compile(rb"\x1b\[[0-9;]*m")
ANSI = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]")


def base_env(**extra):
    env = dict(os.environ)
    for k in ("NO_COLOR", "http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "no_proxy", "NO_PROXY",
              "all_proxy", "ALL_PROXY", "WSC_KEY_PASSPHRASE"):
        env.pop(k, None)
    env["HOME"] = os.path.join(TMP, "home")
    env["XDG_STATE_HOME"] = os.path.join(TMP, "state")
    env["TERM"] = "xterm"
    env.update(extra)
    return env


class Peer:
    """A peer process that prints "LISTENING <port>" first."""

    def __init__(self, argv, name):
        self.log = os.path.join(TMP, "%s-%d.log" % (name, time.monotonic_ns()))
        self.proc = subprocess.Popen(argv + ["--log", self.log], stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, start_new_session=True)
        ready, _, _ = select.select([self.proc.stdout], [], [], 15)
        line = self.proc.stdout.readline().decode() if ready else ""
        if not line.startswith("LISTENING "):
            self.stop()
            raise RuntimeError("%s did not start: %r" % (name, line))
        where = line.split()[1]
        self.port = int(where) if where.isdigit() else None

    def url(self, path="/echo"):
        return "ws://127.0.0.1:%d%s" % (self.port, path)

    def log_lines(self):
        # The peer writes each line as it happens; give it a moment.
        time.sleep(0.1)
        try:
            with open(self.log) as f:
                return [json.loads(line) for line in f if line.strip()]
        except FileNotFoundError:
            return []

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()


_peers = {}


def peer(kind):
    """Shared peers, started once: 'py', 'node', 'tls'."""
    if kind not in _peers:
        if kind == "py":
            _peers[kind] = Peer([PY, os.path.join(PEERS, "py_server.py"), "--lifetime", "300"], "py_server")
        elif kind == "node":
            _peers[kind] = Peer([NODE, os.path.join(PEERS, "node_server.js"), "--lifetime", "300"], "node_server")
        elif kind == "tls":
            _peers[kind] = Peer([PY, os.path.join(PEERS, "py_server.py"), "--lifetime", "300",
                                 "--tls-cert", os.path.join(pki(), "server.pem"),
                                 "--tls-key", os.path.join(pki(), "server.key")], "tls_server")
    return _peers[kind]


def pki():
    d = os.path.join(TMP, "pki")
    if not os.path.exists(os.path.join(d, "ca.pem")):
        subprocess.run(["bash", os.path.join(PEERS, "mkcerts.sh"), d], check=True, timeout=60)
    return d


def script_server(script, default="echo"):
    return Peer([PY, os.path.join(SRC, "tests", "integration", "script_server.py"), "--lifetime", "60",
                 "--script", script, "--default", default], "script_server")


def delivery_server(script, default="ack:0"):
    return Peer([PY, os.path.join(SRC, "tests", "integration", "delivery_server.py"), "--lifetime", "60",
                 "--script", script, "--default", default], "delivery_server")


def wsc(*args, input=b"", timeout=20, env=None, stdin=None):
    """Runs wsc with stdin from `input` (a pipe) or `stdin` (a file)."""
    kw = {"stdin": stdin} if stdin is not None else {"input": input}
    return subprocess.run([WSC] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=timeout, env=env or base_env(), **kw)


def lines(b):
    return b.decode("utf-8", "replace").splitlines()


class Pty:
    """wsc in a pseudo-terminal (stdin, stdout and stderr on it)."""

    def __init__(self, args, env=None, cols=80):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            try:
                os.execve(WSC, [WSC] + list(args), env or base_env())
            finally:
                os._exit(127)
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, cols, 0, 0))
        self.raw = b""
        self.pos = 0
        self.status = None

    def _read(self, timeout):
        r, _, _ = select.select([self.fd], [], [], timeout)
        if not r:
            return False
        try:
            data = os.read(self.fd, 65536)
        except OSError:
            return False
        self.raw += data
        return bool(data)

    def text(self):
        """What was shown, without escape sequences and carriage returns."""
        return ANSI.sub(b"", self.raw).replace(b"\r", b"").decode("utf-8", "replace")

    def expect(self, pattern, timeout=8):
        end = time.monotonic() + timeout
        while True:
            m = re.compile(pattern).search(self.text(), self.pos)
            if m:
                self.pos = m.end()
                return m
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError("timed out waiting for %r; got:\n%s" % (pattern, self.text()))
            self._read(min(left, 0.1))

    def send(self, data):
        os.write(self.fd, data)

    def wait(self, timeout=10):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            pid, st = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                while self._read(0.05):
                    pass
                self.status = os.waitstatus_to_exitcode(st)
                return self.status
            self._read(0.05)
        raise AssertionError("wsc did not exit; output:\n%s" % self.text())

    def close(self):
        if self.status is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            except ProcessLookupError:
                pass
        os.close(self.fd)


# ---------------------------------------------------------------------------
# Command line, help, version
# ---------------------------------------------------------------------------

ALL_OPTIONS = ["--echo", "--json", "--binary", "--pretty", "--base64", "--execute", "--file", "--wait", "--count",
               "--protocol", "--header", "--origin", "--cookie", "--user-agent", "--proxy", "--no-proxy",
               "--connect-timeout", "--max-message-size", "--no-deflate", "--ca", "--capath", "--cert", "--key",
               "--insecure", "--no-check-hostname", "--max", "--timeout", "--backoff", "--backoff-max",
               "--jitter", "--no-reconnect", "--retry-connect", "--ping-interval", "--ping-timeout", "--token",
               "--store", "--no-store", "--token-key", "--csrf-cookie", "--csrf-param", "--csrf-property",
               "--verbose", "--quiet", "--no-color", "--help", "--version"]


class TestUsage(unittest.TestCase):
    def test_help_lists_every_option_and_exit_code(self):
        r = wsc("--help")
        self.assertEqual(r.returncode, 0)
        out = r.stdout.decode()
        for opt in ALL_OPTIONS:
            self.assertRegex(out, r"(^|[ ,])%s\b" % re.escape(opt), opt)
        for short in ["-x,", "-w,", "-n,", "-p,", "-H,", "-v,", "-q,", "-h,"]:
            self.assertIn(short, out)
        for code in range(6):
            self.assertRegex(out, r"\n  %d  \S" % code)
        self.assertIn("token", out)
        self.assertLessEqual(max(len(x) for x in out.splitlines()), 80)
        self.assertEqual(r.stderr, b"")
        self.assertEqual(wsc("help").stdout, r.stdout)

    def test_version(self):
        r = wsc("--version")
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout.decode(), r"^wsc \d+\.\d+\.\d+ ")

    def test_usage_errors_exit_2_with_one_line(self):
        cases = [
            [],
            ["--bogus", "ws://x"],
            ["-w"],
            ["--wait", "soon", "ws://x"],
            ["--count", "0", "ws://x"],
            ["--max", "-1", "ws://x"],
            ["--timeout", "1e3", "ws://x"],
            ["--max-message-size", "12Q", "ws://x"],
            ["--jitter", "101", "ws://x"],
            ["--echo", "--json", "ws://x"],
            ["--echo", "--token", "t", "ws://x"],
            ["--json", "--binary", "ws://x"],
            ["--no-reconnect", "--max", "3", "ws://x"],
            ["-H", "no colon", "ws://x"],
            ["ws://x", "extra"],
            ["ftp://example.com/"],
            ["ws://exa mple.com/"],
        ]
        for args in cases:
            with self.subTest(args=args):
                r = wsc(*args)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertEqual(r.stdout, b"")
                err = lines(r.stderr)
                self.assertEqual(len(err), 1, err)
                self.assertTrue(err[0].startswith("wsc: "), err)

    def test_token_is_hidden_from_the_process_list(self):
        # --token's argv copy is overwritten once parsed.
        p = subprocess.Popen([WSC, "--token", "VisibleSecret1", "--retry-connect", "--timeout", "5000",
                              "ws://127.0.0.1:1/"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=base_env())
        try:
            time.sleep(0.3)
            with open("/proc/%d/cmdline" % p.pid, "rb") as f:
                cmdline = f.read()
            self.assertNotIn(b"VisibleSecret1", cmdline)
        finally:
            p.send_signal(signal.SIGTERM)
            out, err = p.communicate(timeout=10)
        self.assertNotIn(b"VisibleSecret1", out + err)


# ---------------------------------------------------------------------------
# Scripted mode: stdin is not a terminal
# ---------------------------------------------------------------------------

class TestScripted(unittest.TestCase):
    def test_lines_in_replies_out_in_order(self):
        kinds = ["py"] + (["node"] if NODE else [])
        for kind in kinds:
            with self.subTest(peer=kind):
                p = peer(kind)
                msgs = ["hello", '{"a": [1, 2.50, {}], "b": "x"}', "caf\u00e9", "", "last line without newline"]
                r = wsc("-n", str(len(msgs)), p.url(), input="\n".join(msgs).encode())
                self.assertEqual(r.returncode, 0, r.stderr)
                # Every text message exactly as received, JSON included.
                self.assertEqual(lines(r.stdout), ["hello", '{"a": [1, 2.50, {}], "b": "x"}', "caf\u00e9", "",
                                                   "last line without newline"])
                self.assertRegex(r.stderr.decode(), r"(?m)^connected( \(|$)")
                self.assertRegex(r.stderr.decode(), r"(?m)^closed: 1000 \(clean\)$")

    def test_many_lines_keep_their_order(self):
        # More than the client's queue holds while connecting (flow control).
        n = 3000
        data = "".join("message %d\n" % i for i in range(n)).encode()
        r = wsc("-q", "-n", str(n), peer("py").url(), input=data, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(lines(r.stdout), ["message %d" % i for i in range(n)])
        self.assertEqual(r.stderr, b"")

    def test_stdin_from_a_regular_file(self):
        path = os.path.join(TMP, "input.txt")
        with open(path, "w") as f:
            f.write("one\ntwo\n")
        with open(path, "rb") as f:
            r = wsc("-q", "-n", "2", peer("py").url(), stdin=f)
        self.assertEqual((r.returncode, lines(r.stdout)), (0, ["one", "two"]), r.stderr)

    def test_default_wait_after_eof(self):
        t0 = time.monotonic()
        r = wsc("-q", peer("py").url("/slow?ms=300"), input=b"late reply\n")
        elapsed = time.monotonic() - t0
        self.assertEqual((r.returncode, lines(r.stdout)), (0, ["late reply"]), r.stderr)
        self.assertLess(elapsed, 4)

    def test_pretty(self):
        r = wsc("-q", "--pretty", "-n", "1", peer("py").url(), input=b'{"k":{"z":[],"n":[1e2,true,null]}}\n')
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.decode(), '{\n  "k": {\n    "z": [],\n    "n": [\n      1e2,\n      true,\n'
                                            '      null\n    ]\n  }\n}\n')

    def test_json_adds_the_token_and_rejects_invalid_lines(self):
        s = script_server("")
        try:
            data = b'{"op":"subscribe"}\nnot json\n\n[1, 2]\n{"op": "last", "n": 2}\n'
            r = wsc("--json", "--token", "T0k3n.value", "--no-store", "-n", "2", s.url("/feed?x=1"), input=data)
            self.assertEqual(r.returncode, 8, r.stderr)  # lines were skipped (issue 16 item 5)
            self.assertEqual([json.loads(x) for x in lines(r.stdout)],
                             [{"op": "subscribe", "csrf": "T0k3n.value"},
                              {"op": "last", "n": 2, "csrf": "T0k3n.value"}])
            err = r.stderr.decode()
            self.assertRegex(err, r"(?m)^wsc: line 2, column \d+: invalid JSON: .* \(not sent\)$")
            self.assertRegex(err, r"(?m)^wsc: line 4: not a JSON object.*not sent$")
            log = s.log_lines()
            sent = [json.loads(e["text"]) for e in log if e["event"] == "message"]
            self.assertEqual(sent, [{"op": "subscribe", "csrf": "T0k3n.value"},
                                    {"op": "last", "n": 2, "csrf": "T0k3n.value"}])
            # The double token: cookie and query parameter too.
            hs = [e for e in log if e["event"] == "handshake"][0]
            self.assertIn("csrf_token=T0k3n.value", hs["cookie"])
            self.assertIn("csrf=T0k3n.value", hs["query"])
            self.assertIn("x=1", hs["query"])
        finally:
            s.stop()

    def test_json_without_token_sends_any_value(self):
        r = wsc("-q", "--json", "--no-store", "-n", "2", peer("py").url(), input=b'[1, 2]\n"text"\n')
        self.assertEqual((r.returncode, lines(r.stdout)), (0, ["[1, 2]", '"text"']), r.stderr)

    def test_execute_and_wait(self):
        t0 = time.monotonic()
        r = wsc("-q", "-x", "first", "-x", '{"second": 2}', "-w", "0.5", peer("py").url())
        self.assertEqual((r.returncode, lines(r.stdout)), (0, ["first", '{"second": 2}']), r.stderr)
        self.assertGreaterEqual(time.monotonic() - t0, 0.5)

    def test_count_exits_with_stdin_still_open(self):
        p = subprocess.Popen([WSC, "-q", "-n", "1", peer("py").url()], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=base_env())
        try:
            p.stdin.write(b"only one\n")
            p.stdin.flush()
            out, err = p.communicate(timeout=10)  # closes stdin only after it exited
        finally:
            if p.poll() is None:
                p.kill()
        self.assertEqual((p.returncode, lines(out)), (0, ["only one"]), err)

    def test_binary_shown_as_hex_or_base64(self):
        url = peer("py").url("/big?bytes=20")
        r = wsc("-q", "-n", "1", url, stdin=subprocess.DEVNULL)
        # Marked as binary (issue 16): "0001" must not look like text.
        self.assertEqual((r.returncode, lines(r.stdout)), (0, ["[binary] " + bytes(range(20)).hex()]), r.stderr)
        r = wsc("-q", "-n", "1", "--base64", url, stdin=subprocess.DEVNULL)
        self.assertEqual((r.returncode, lines(r.stdout)), (0, ["[binary] AAECAwQFBgcICQoLDA0ODxAREhM="]), r.stderr)
        r = wsc("-q", "--binary", "-n", "2", peer("py").url(), input=b"AB\n\xff\x00\n")
        self.assertEqual((r.returncode, lines(r.stdout)), (0, ["[binary] 4142", "[binary] ff00"]), r.stderr)

    def test_invalid_utf8_line_is_reported(self):
        r = wsc("-q", "-n", "1", peer("py").url(), input=b"\xff\xfe\nok\n")
        self.assertEqual((r.returncode, lines(r.stdout)), (8, ["ok"]), r.stderr)  # a line was skipped
        self.assertRegex(r.stderr.decode(), r"^wsc: line 1: not valid UTF-8")

    def test_file_is_sent_as_one_binary_message(self):
        p = peer("py")
        path = os.path.join(TMP, "upload.bin")
        data = os.urandom(2 * 1024 * 1024 + 5)
        with open(path, "wb") as f:
            f.write(data)
        r = wsc("-q", "--file", path, "-w", "0", p.url("/record?upload=1"))
        self.assertEqual(r.returncode, 0, r.stderr)
        import hashlib
        digest = hashlib.sha256(data).hexdigest()
        msgs = [e for e in p.log_lines() if e.get("event") == "message" and e.get("sha256") == digest]
        self.assertEqual(len(msgs), 1)
        self.assertEqual((msgs[0]["type"], msgs[0]["len"]), ("binary", len(data)))
        r = wsc("--file", os.path.join(TMP, "missing.bin"), p.url())
        self.assertEqual(r.returncode, 2)
        self.assertRegex(r.stderr.decode(), r"^wsc: cannot open .*missing.bin")

    def test_closed_stdout_ends_quietly(self):
        # `wsc URL | head -1`: the reader goes away.
        p = subprocess.Popen([WSC, "-q", peer("py").url()], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=base_env())
        p.stdout.close()
        p.stdin.write(b"a\nb\n")
        p.stdin.close()
        self.assertEqual(p.wait(10), 0)
        self.assertEqual(p.stderr.read(), b"")
        p.stderr.close()

    def test_sigterm_closes_cleanly(self):
        s = script_server("")
        try:
            p = subprocess.Popen([WSC, s.url()], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, env=base_env())
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and not any(e["event"] == "open" for e in s.log_lines()):
                time.sleep(0.05)
            p.send_signal(signal.SIGTERM)
            out, err = p.communicate(timeout=10)
            self.assertEqual(p.returncode, 0, err)
            closed = [e for e in s.log_lines() if e["event"] == "closed"]
            self.assertEqual(closed[0]["code"], 1000)
        finally:
            s.stop()


# ---------------------------------------------------------------------------
# --echo
# ---------------------------------------------------------------------------

class TestEcho(unittest.TestCase):
    def driver(self, plan):
        return Peer([PY, os.path.join(HERE, "echo_driver.py"), "--plan", plan, "--lifetime", "60"], "echo_driver")

    def test_echo_everything_back(self):
        d = self.driver("default")
        try:
            r = wsc("--echo", d.url("/anything"), stdin=subprocess.DEVNULL)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(r.stdout, b"")
            self.assertEqual(r.stderr, b"")
            log = d.log_lines()
            self.assertEqual(log, [{"conn": 1, "ok": True, "detail": "all echoed"}])
            r = wsc("--echo", "--no-deflate", d.url("/anything"), stdin=subprocess.DEVNULL)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertTrue(d.log_lines()[1]["ok"])
        finally:
            d.stop()

    def test_many_connections_in_a_row(self):
        d = self.driver("one")
        try:
            n = 100
            t0 = time.monotonic()
            for _ in range(n):
                r = wsc("--echo", d.url(), stdin=subprocess.DEVNULL)
                self.assertEqual((r.returncode, r.stdout, r.stderr), (0, b"", b""))
            elapsed = time.monotonic() - t0
            log = d.log_lines()
            self.assertEqual(len(log), n)
            self.assertTrue(all(e["ok"] for e in log))
            self.assertLess(elapsed, 45)
        finally:
            d.stop()

    def test_echo_exit_codes(self):
        p = peer("py")
        r = wsc("--echo", p.url("/close?code=4001&reason=bye"), stdin=subprocess.DEVNULL)
        self.assertEqual((r.returncode, r.stdout), (0, b""), r.stderr)
        r = wsc("--echo", p.url("/drop?after=0"), stdin=subprocess.DEVNULL)
        self.assertEqual(r.returncode, 5, r.stderr)
        r = wsc("--echo", p.url("/raw?hex=a10100"), stdin=subprocess.DEVNULL)  # RSV2 set
        self.assertEqual(r.returncode, 4, r.stderr)
        r = wsc("--echo", "ws://127.0.0.1:1/", stdin=subprocess.DEVNULL)
        self.assertEqual(r.returncode, 1)
        self.assertEqual(len(lines(r.stderr)), 1)

    def test_conformance_subset(self):
        run = os.path.join(SRC, "tests", "conformance", "run.py")
        if not os.path.exists(run):
            self.skipTest("no conformance suite")
        r = subprocess.run([PY, run, "--client-cmd", "%s --echo {url}" % WSC, "--cases", "1.*,2.*,3.*,5.*,7.*",
                            "--quiet", "--agent", "wsc-cli-test"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
        self.assertEqual(r.returncode, 0, r.stdout.decode()[-3000:])


# ---------------------------------------------------------------------------
# Interactive mode in a pseudo-terminal
# ---------------------------------------------------------------------------

class TestInteractive(unittest.TestCase):
    def test_session(self):
        state = os.path.join(TMP, "state-interactive")
        t = Pty([peer("py").url()], env=base_env(XDG_STATE_HOME=state))
        try:
            t.expect(r"connected \(extensions: permessage-deflate[^)]*\); type /help for commands")
            t.expect(r"> ")
            t.send(b'{"a":[1,2],"b":{"c":null}}\r')
            t.expect(r'< \{\n    "a": \[\n      1,\n      2\n    \],\n    "b": \{\n      "c": null\n    \}\n  \}')
            t.send(b"plain text\r")
            t.expect(r"< plain text\n")
            t.send(b"/ping hi\r")
            t.expect(r"pong: hi \(\d+ ms\)")
            t.send(b"/binary 00 41 ff\r")
            t.expect(r"< binary message, 3 bytes\n  00000000  00 41 ff +\|\.A\.\|")
            t.send(b"//slash\r")
            t.expect(r"< /slash\n")
            t.send(b"/nope\r")
            t.expect(r"wsc: unknown command /nope")
            t.send(b"/help\r")
            t.expect(r"/close \[CODE \[REASON\]\]")
            t.send(b"/token set Secr3tT0ken\r")
            t.expect(r"token saved")
            t.send(b"/close 4000 bye\r")
            t.expect(r"closed: 4000 bye \(clean\); /reconnect to connect again")
            t.send(b"after close\r")
            t.expect(r"wsc: not connected \(use /reconnect\); not sent")
            t.send(b"/reconnect\r")
            t.expect(r"reconnecting\n(> )?connected")
            t.send(b"\x04")  # Ctrl-D on an empty line
            self.assertEqual(t.wait(), 0)
            self.assertRegex(t.raw, SGR)  # colours on a terminal
        finally:
            t.close()
        hist = os.path.join(state, "wsc", "history")
        self.assertEqual(stat.S_IMODE(os.stat(hist).st_mode), 0o600)
        with open(hist, "rb") as f:
            h = f.read()
        self.assertIn(b"plain", h)
        self.assertIn(b"/ping", h)
        self.assertNotIn(b"Secr3tT0ken", h)

    def test_incoming_message_does_not_corrupt_the_line(self):
        t = Pty([peer("py").url("/slow?ms=400")], env=base_env(NO_COLOR="1"))
        try:
            t.expect(r"connected")
            t.send(b"first\r")
            t.expect(r"> first\n")
            t.send(b"half typ")
            t.expect(r"< first\n> half typ")  # printed above, the line redrawn
            t.send(b"ed\r")
            t.expect(r"< half typed\n")
            t.send(b"\x03")  # Ctrl-C on an empty line ends the session
            self.assertEqual(t.wait(), 0)
            self.assertIsNone(SGR.search(t.raw), "no colours with NO_COLOR")
        finally:
            t.close()

    def test_ctrl_c_clears_the_line(self):
        t = Pty(["--no-color", peer("py").url()])
        try:
            t.expect(r"connected")
            t.send(b"discard me")
            t.expect(r"discard me")
            t.send(b"\x03")
            time.sleep(0.2)
            t.send(b"kept\r")
            t.expect(r"< kept\n")
            self.assertNotIn("< discard me", t.text())
            t.send(b"/quit\r")
            self.assertEqual(t.wait(), 0)
            self.assertIsNone(SGR.search(t.raw))
        finally:
            t.close()

    def test_suspend_and_resume_keep_the_line(self):
        t = Pty(["--no-color", peer("py").url()])
        try:
            t.expect(r"connected")
            t.send(b"abc")
            t.expect(r"abc")
            t.send(b"\x1a")  # Ctrl-Z
            deadline = time.monotonic() + 5
            stopped = False
            while time.monotonic() < deadline and not stopped:
                pid, st = os.waitpid(t.pid, os.WNOHANG | os.WUNTRACED)
                stopped = pid != 0 and os.WIFSTOPPED(st)
                time.sleep(0.02)
            self.assertTrue(stopped, "wsc did not stop on Ctrl-Z")
            os.kill(t.pid, signal.SIGCONT)
            t.expect(r"> abc")
            t.send(b"def\r")
            t.expect(r"< abcdef\n")
            t.send(b"\x04")
            self.assertEqual(t.wait(), 0)
        finally:
            t.close()

    def test_file_progress_bar_on_a_terminal(self):
        path = os.path.join(TMP, "progress.bin")
        with open(path, "wb") as f:
            f.write(os.urandom(3 * 1024 * 1024))
        t = Pty(["--file", path, "-w", "0", peer("py").url()])
        try:
            t.expect(r"sending 100% \[#+\] 3\.0 / 3\.0 MiB")
            self.assertEqual(t.wait(), 0)
        finally:
            t.close()


# ---------------------------------------------------------------------------
# Reconnection
# ---------------------------------------------------------------------------

class TestReconnect(unittest.TestCase):
    def test_maximum_reached(self):
        s = script_server("close:4001:bye,http:503,http:503")
        try:
            r = wsc("--max", "2", "--timeout", "50", "--no-deflate", s.url(), stdin=subprocess.DEVNULL)
            self.assertEqual(r.returncode, 3, r.stderr)
            self.assertEqual(lines(r.stderr), [
                "connected",
                "closed: 4001 bye (clean)",
                "reconnecting in 50 ms (attempt 1 of 2)",
                "error: server answered 503 Service Unavailable (expected 101 Switching Protocols)",
                "reconnecting in 50 ms (attempt 2 of 2)",
                "wsc: giving up after 2 failed attempts: server answered 503 Service Unavailable (expected 101 Switching Protocols)",
            ])
        finally:
            s.stop()

    def test_reconnects_and_carries_on(self):
        s = script_server("drop:1")
        try:
            r = wsc("--timeout", "50", "--no-deflate", s.url(), input=b"lost\n", timeout=20)
            # The first message was taken by the dropped connection; stdin's
            # EOF wait then ends the session on the second connection.
            self.assertEqual(r.returncode, 0, r.stderr)
            err = lines(r.stderr)
            self.assertIn("closed: 1006 (not clean)", err)
            self.assertIn("reconnecting in 50 ms (attempt 1)", err)
            self.assertEqual(err.count("connected"), 2)
            self.assertEqual(err[-1], "closed: 1000 (clean)")
        finally:
            s.stop()

    def test_first_connection_failure_is_final_unless_retry(self):
        s = script_server("http:503,http:503")
        try:
            r = wsc("--timeout", "50", s.url(), stdin=subprocess.DEVNULL)
            self.assertEqual(r.returncode, 1)
            self.assertEqual(lines(r.stderr), ["wsc: server answered 503 Service Unavailable (expected 101 Switching Protocols)"])
            r = wsc("--timeout", "50", "--retry-connect", "-n", "1", "-x", "third time", s.url())
            self.assertEqual((r.returncode, lines(r.stdout)), (0, ["third time"]), r.stderr)
            self.assertIn("reconnecting in 50 ms (attempt 1)", lines(r.stderr))
        finally:
            s.stop()

    def test_quiet_has_no_status_lines(self):
        s = script_server("close:4001,http:503")
        try:
            r = wsc("-q", "--max", "1", "--timeout", "20", s.url(), stdin=subprocess.DEVNULL)
            self.assertEqual(r.returncode, 3)
            self.assertEqual(len(lines(r.stderr)), 1)
            self.assertTrue(lines(r.stderr)[0].startswith("wsc: giving up after 1 failed attempt"))
        finally:
            s.stop()


class TestDelivery(unittest.TestCase):
    """Confirmed delivery and the exit statuses around it (delivery_server.py
    reads frame by frame and answers Pings only as scripted)."""

    def messages(self, s, conn):
        return [e["text"] for e in s.log_lines() if e["conn"] == conn and e["event"] == "message"]

    def test_default_reports_unconfirmed_lines_and_exits_6(self):
        s = delivery_server("noack:3:rst")
        try:
            r = wsc("--timeout", "20", "--no-store", s.url("/"), input=b"a\nb\nc\nd\ne\n")
            self.assertEqual(r.returncode, 6, r.stderr)
            err = lines(r.stderr)
            self.assertIn("wsc: 5 messages sent but not confirmed before the connection dropped, possibly lost "
                          "(not sent again; --at-least-once sends them again): lines 1-5", err)
            self.assertEqual(err[-1], "wsc: 5 messages may have been lost (see above)")
            self.assertEqual(self.messages(s, 2), [])
        finally:
            s.stop()

    def test_server_started_close_reports_them_too(self):
        # the server reads 3 lines, never answers a Ping, then closes cleanly
        # (1000): a close it started confirms nothing (client.h), and the
        # report says so rather than calling it a drop
        s = delivery_server("noack:3:1000")
        try:
            r = wsc("--timeout", "20", "--no-store", s.url("/"), input=b"a\nb\nc\nd\ne\n")
            self.assertEqual(r.returncode, 6, r.stderr)
            err = lines(r.stderr)
            self.assertIn("wsc: 5 messages sent but not confirmed before the server closed the connection, possibly "
                          "lost (not sent again; --at-least-once sends them again): lines 1-5", err)
            self.assertEqual(err[-1], "wsc: 5 messages may have been lost (see above)")
        finally:
            s.stop()

    def test_at_least_once_sends_them_again(self):
        s = delivery_server("noack:3:rst")
        try:
            r = wsc("--at-least-once", "--timeout", "20", "--no-store", s.url("/"), input=b"a\nb\nc\nd\ne\n")
            self.assertEqual(r.returncode, 0, r.stderr)
            err = lines(r.stderr)
            self.assertIn("5 unconfirmed messages will be sent again (the server may see duplicates): lines 1-5", err)
            self.assertIn("5 messages sent again after drops (possible duplicates at the server)", err)
            self.assertEqual(self.messages(s, 2), ["a", "b", "c", "d", "e"])
        finally:
            s.stop()

    def test_discard_report_at_max(self):
        # at-least-once: the two unconfirmed lines go back to the queue, then
        # the reconnect fails and the maximum is reached
        s = delivery_server("noack:2:rst,http:502,http:502,http:502")
        try:
            r = wsc("--at-least-once", "--max", "1", "--timeout", "20", "--no-store", s.url("/"),
                    input=b"x\ny\n")
            self.assertEqual(r.returncode, 3, r.stderr)
            err = lines(r.stderr)
            disc = [l for l in err if "discarded" in l]
            self.assertEqual(disc, ["wsc: 2 queued messages discarded: the maximum number of reconnect attempts "
                                    "was reached (not sent: lines 1-2)"])
            self.assertLess(err.index(disc[0]), len(err) - 1)  # before the "giving up" line
            self.assertTrue(err[-1].startswith("wsc: giving up after 1 failed attempt"))
        finally:
            s.stop()

    def test_count_reached_exits_0_when_close_is_ignored(self):
        s = delivery_server("ignoreclose:hello")
        try:
            r = wsc("-n", "1", "--no-store", s.url("/"), stdin=subprocess.DEVNULL, timeout=30)
            self.assertEqual((r.returncode, lines(r.stdout)), (0, ["hello"]), r.stderr)
        finally:
            s.stop()

    def test_explicit_max_retries_first_connection(self):
        s = delivery_server("http:503,http:503", default="ignoreclose:up")
        try:
            r = wsc("--max", "3", "--timeout", "20", "-n", "1", "--no-store", s.url("/"), stdin=subprocess.DEVNULL,
                    timeout=30)
            self.assertEqual((r.returncode, lines(r.stdout)), (0, ["up"]), r.stderr)
        finally:
            s.stop()

    def test_2xx_answer_is_final(self):
        s = delivery_server("http:200", default="ack:0")
        try:
            r = wsc("--retry-connect", "--timeout", "20", "--no-store", s.url("/"), stdin=subprocess.DEVNULL)
            self.assertEqual(r.returncode, 1, r.stderr)
            self.assertEqual(len([e for e in s.log_lines() if e["event"] == "handshake"]), 1)
        finally:
            s.stop()


class TestTokenFetch(unittest.TestCase):
    """`wsc token fetch` against a local HTTPS page (certificates from
    tests/peers/mkcerts.sh, made by the test with openssl)."""

    @classmethod
    def setUpClass(cls):
        d = pki()
        cls.ca = os.path.join(d, "ca.pem")
        cls.srv = Peer([PY, os.path.join(HERE, "token_server.py"), "--cert", os.path.join(d, "server.pem"),
                        "--key", os.path.join(d, "server.key")], "token_server")
        cls.base = "https://127.0.0.1:%d" % cls.srv.port

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()

    def token(self, *args, input=b""):
        return subprocess.run([WSC, "token"] + list(args), input=input, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=30, env=base_env())

    def store(self, name):
        return os.path.join(TMP, "fetch-%s.db" % name)

    def test_cookie_over_https_then_get_and_delete(self):
        st = self.store("cookie")
        r = self.token("fetch", "--store", st, "--ca", self.ca, self.base + "/")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn(b"from-cookie-1", r.stdout + r.stderr)  # never shown
        origin = "wss://127.0.0.1:%d" % self.srv.port
        self.assertEqual(lines(r.stderr), ["token stored for %s (from Set-Cookie csrf_token)" % origin])
        r = self.token("get", "--store", st, origin)
        self.assertEqual((r.returncode, lines(r.stdout)), (0, ["from-cookie-1"]), r.stderr)
        r = self.token("fetch", "--store", st, "--ca", self.ca, self.base + "/delete")
        self.assertEqual(r.returncode, 0, r.stderr)
        r = self.token("get", "--store", st, origin)
        self.assertEqual(r.returncode, 1)

    def test_redirect_within_origin_followed(self):
        st = self.store("redirect")
        r = self.token("fetch", "--store", st, "--ca", self.ca, "--for", "ws://127.0.0.1:9/feed",
                       self.base + "/redirect")
        self.assertEqual(r.returncode, 0, r.stderr)
        r = self.token("get", "--store", st, "ws://127.0.0.1:9")
        self.assertEqual(lines(r.stdout), ["from-cookie-1"])

    def test_redirect_to_another_origin_refused(self):
        r = self.token("fetch", "--store", self.store("away"), "--ca", self.ca, self.base + "/away")
        self.assertEqual(r.returncode, 1)
        self.assertIn("redirected to another origin (http://127.0.0.1:1); not followed", r.stderr.decode())

    def test_certificate_verified(self):
        # without the test CA the certificate is not trusted
        r = self.token("fetch", "--store", self.store("verify"), self.base + "/")
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stderr.decode(), r"(?i)certificate")

    def test_json_property_and_missing_cookie(self):
        st = self.store("json")
        r = self.token("fetch", "--store", st, "--ca", self.ca, "--json-property", "token", self.base + "/json")
        self.assertEqual(r.returncode, 0, r.stderr)
        r = self.token("get", "--store", st, "wss://127.0.0.1:%d" % self.srv.port)
        self.assertEqual(lines(r.stdout), ["from-json-2"])
        r = self.token("fetch", "--store", st, "--ca", self.ca, self.base + "/none")
        self.assertEqual(r.returncode, 1)
        self.assertIn("set no csrf_token cookie", r.stderr.decode())


# ---------------------------------------------------------------------------
# -v: the handshake, secrets masked
# ---------------------------------------------------------------------------

class TestVerbose(unittest.TestCase):
    TOKEN = "Tk-9f8e/7d+6c"

    def check(self, r, token):
        err = r.stderr.decode()
        self.assertRegex(err, r"(?m)^> GET /echo\?(x=1&)?csrf=\*\*\* HTTP/1\.1$")
        self.assertRegex(err, r"(?m)^> Cookie: (sid=\*\*\*; )?csrf_token=\*\*\*$")
        self.assertRegex(err, r"(?m)^< HTTP/1\.1 101 ")
        self.assertRegex(err, r"(?m)^< Sec-WebSocket-Accept: ")
        blob = r.stdout + r.stderr
        self.assertNotIn(token.encode(), blob)
        self.assertNotIn(token.replace("/", "%2F").replace("+", "%2B").encode(), blob)

    def test_in_memory_token_and_credentials_masked(self):
        url = "ws://alice:pa55word@127.0.0.1:%d/echo?x=1" % peer("py").port
        r = wsc("-v", "--token", self.TOKEN, "--cookie", "sid=SessionSecret", "-x", "hi", "-n", "1", url)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.check(r, self.TOKEN)
        self.assertRegex(r.stderr.decode(), r"(?m)^> Authorization: Basic \*\*\*$")
        for secret in (b"SessionSecret", b"pa55word", base64_of(b"alice:pa55word")):
            self.assertNotIn(secret, r.stdout + r.stderr)
        r = wsc("-v", "--token", self.TOKEN, "-H", "Authorization: Bearer BearerSecret", "-x", "hi", "-n", "1",
                peer("py").url())
        self.assertEqual(r.returncode, 0, r.stderr)
        self.check(r, self.TOKEN)
        self.assertRegex(r.stderr.decode(), r"(?m)^> Authorization: Bearer \*\*\*$")
        self.assertNotIn(b"BearerSecret", r.stdout + r.stderr)

    def test_stored_token_masked(self):
        store = os.path.join(TMP, "verbose-store.db")
        url = peer("py").url()
        r = subprocess.run([WSC, "token", "set", "--store", store, url], input=(self.TOKEN + "\n").encode(),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10, env=base_env())
        self.assertEqual(r.returncode, 0, r.stderr)
        r = wsc("-v", "--store", store, "-x", "hi", "-n", "1", url)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.check(r, self.TOKEN)


def base64_of(b):
    import base64
    return base64.b64encode(b)


# ---------------------------------------------------------------------------
# Exit statuses
# ---------------------------------------------------------------------------

class TestExitCodes(unittest.TestCase):
    def one_error_line(self, r, pattern):
        err = lines(r.stderr)
        self.assertEqual(len(err), 1, err)
        self.assertRegex(err[0], "^wsc: " + pattern)

    def test_refused(self):
        r = wsc("ws://127.0.0.1:1/", stdin=subprocess.DEVNULL)
        self.assertEqual(r.returncode, 1)
        self.one_error_line(r, r".*[Rr]efused")

    def test_http_refusal(self):
        r = wsc(peer("py").url("/status/403"), stdin=subprocess.DEVNULL)
        self.assertEqual(r.returncode, 1)
        self.one_error_line(r, r".*403")

    def test_tls(self):
        p = peer("tls")
        url = "wss://127.0.0.1:%d/echo" % p.port
        r = wsc("-q", "-x", "x", url)
        self.assertEqual(r.returncode, 1)
        self.one_error_line(r, r".*(certificate|verif)")
        r = wsc("-q", "-x", "secure", "-n", "1", "--ca", os.path.join(pki(), "ca.pem"), url)
        self.assertEqual((r.returncode, lines(r.stdout)), (0, ["secure"]), r.stderr)
        r = wsc("-q", "-x", "insecure", "-n", "1", "--insecure", url)
        self.assertEqual((r.returncode, lines(r.stdout)), (0, ["insecure"]), r.stderr)
        r = wsc("-q", "--ca", os.path.join(pki(), "ca.pem"), "-x", "x",
                "wss://localhost:%d/echo" % p.port, "-n", "1")
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_lost_without_reconnect(self):
        r = wsc("--no-reconnect", peer("py").url("/drop?after=0"), stdin=subprocess.DEVNULL)
        self.assertEqual(r.returncode, 5)
        self.assertRegex(lines(r.stderr)[-1], r"^wsc: connection lost \(1006\)")

    def test_protocol_errors(self):
        p = peer("py")
        r = wsc("--no-reconnect", p.url("/close?code=1002"), stdin=subprocess.DEVNULL)
        self.assertEqual(r.returncode, 4)
        self.assertRegex(lines(r.stderr)[-1], r"^wsc: the server closed the connection with 1002")
        r = wsc("--no-reconnect", p.url("/raw?hex=8102c328"), stdin=subprocess.DEVNULL)
        self.assertEqual(r.returncode, 4)  # invalid UTF-8: we fail it with 1007
        self.assertRegex(lines(r.stderr)[-1], r"^wsc: protocol error: ")
        r = wsc("--no-reconnect", "--max-message-size", "1k", p.url("/big?bytes=5000"), stdin=subprocess.DEVNULL)
        self.assertEqual(r.returncode, 4)  # too big: 1009

    def test_clean_close_by_server(self):
        r = wsc("--no-reconnect", peer("py").url("/close?code=4001&reason=bye"), stdin=subprocess.DEVNULL)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(lines(r.stderr)[-1], "closed: 4001 bye (clean)")
        r = wsc(peer("py").url("/close?code=1000"), stdin=subprocess.DEVNULL)
        self.assertEqual(r.returncode, 0, r.stderr)


# ---------------------------------------------------------------------------
# Connection options: handshake headers, subprotocols, proxy, mutual TLS, Unix
# ---------------------------------------------------------------------------


class TestRoundTwo(unittest.TestCase):
    """Issue 16: what wscat and websocat users reach for."""

    def test_url_without_scheme_means_ws(self):
        r = wsc("-q", "-x", "no scheme", "-n", "1", "127.0.0.1:%d/echo" % peer("py").port)
        self.assertEqual((r.returncode, lines(r.stdout)), (0, ["no scheme"]), r.stderr)

    def test_auth_sends_basic_and_is_masked(self):
        r = wsc("-v", "--auth", "bob:Sw0rdfish", "-x", "hi", "-n", "1", peer("py").url())
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stderr.decode(), r"(?m)^> Authorization: Basic \*\*\*$")
        for secret in (b"Sw0rdfish", base64_of(b"bob:Sw0rdfish")):
            self.assertNotIn(secret, r.stdout + r.stderr)
        r = wsc("--auth", "nocolon", peer("py").url(), stdin=subprocess.DEVNULL)
        self.assertEqual(r.returncode, 2)
        self.assertNotIn(b"nocolon", r.stderr)

    def test_non_101_answer_says_what_was_expected(self):
        r = wsc(peer("py").url("/status/403"), stdin=subprocess.DEVNULL)
        self.assertEqual(r.returncode, 1)
        self.assertIn("expected 101 Switching Protocols", r.stderr.decode())

    def test_echo_mode_shows_the_close_reason(self):
        s = script_server("close:4000:bye now")
        try:
            r = wsc("--echo", "-v", s.url("/"), stdin=subprocess.DEVNULL)
            self.assertIn("closed: 4000 bye now (clean)", r.stderr.decode())
        finally:
            s.stop()

    def test_encrypted_client_key(self):
        d = pki()
        enc = os.path.join(TMP, "client-enc.key")
        if not os.path.exists(enc):
            subprocess.run(["openssl", "pkey", "-in", os.path.join(d, "client.key"), "-aes256",
                            "-passout", "pass:open sesame", "-out", enc], check=True, timeout=30)
        p = Peer([PY, os.path.join(PEERS, "py_server.py"), "--lifetime", "60",
                  "--tls-cert", os.path.join(d, "server.pem"), "--tls-key", os.path.join(d, "server.key"),
                  "--require-client-cert", os.path.join(d, "ca.pem")], "mtls_enc")
        try:
            url = "wss://localhost:%d/echo" % p.port
            base = ["-q", "--ca", os.path.join(d, "ca.pem"), "--cert", os.path.join(d, "client.pem"), "--key", enc]
            r = wsc(*base, "--passphrase", "open sesame", "-x", "decrypted", "-n", "1", url)
            self.assertEqual((r.returncode, lines(r.stdout)), (0, ["decrypted"]), r.stderr)
            r = wsc(*base, "-x", "from env", "-n", "1", url, env=base_env(WSC_KEY_PASSPHRASE="open sesame"))
            self.assertEqual((r.returncode, lines(r.stdout)), (0, ["from env"]), r.stderr)
            r = wsc(*base, "--passphrase", "wrong", "-x", "x", url, stdin=subprocess.DEVNULL)
            self.assertEqual(r.returncode, 1)
            self.assertIn("wrong passphrase?", r.stderr.decode())
            self.assertNotIn(b"wrong\n", r.stderr)
            # no passphrase: an error, never a prompt (stdin is not read)
            r = wsc(*base, "-x", "x", url, stdin=subprocess.DEVNULL)
            self.assertEqual(r.returncode, 1)
            self.assertIn("give its passphrase", r.stderr.decode())
        finally:
            p.stop()

    def test_show_ping(self):
        # Our timed ping goes out at once, its pong comes back with its RTT;
        # the server's pings are shown as they arrive (/ping sends p0, p1).
        r = wsc("-P", "-x", "hi", "-w", "1", peer("py").url("/ping?n=2"), stdin=subprocess.DEVNULL)
        self.assertEqual(r.returncode, 0, r.stderr)
        err = r.stderr.decode()
        self.assertRegex(err, r"(?m)^ping: wsc-P 1$")
        self.assertRegex(err, r"(?m)^pong: wsc-P 1 \(\d+ ms\)$")
        self.assertRegex(err, r"(?m)^ping from the server: p0 \(answered\)$")
        self.assertRegex(err, r"(?m)^ping from the server: p1 \(answered\)$")
        r = wsc("--echo", "-P", peer("py").url(), stdin=subprocess.DEVNULL)
        self.assertEqual(r.returncode, 2)

    def test_options_anywhere(self):
        url = peer("py").url()
        r = wsc("-q", url, "-x", "after the url", "-n", "1")
        self.assertEqual((r.returncode, lines(r.stdout)), (0, ["after the url"]), r.stderr)
        r = wsc("bench", "latency", url, "20", "32", "--deflate", timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout.decode(), r"^RESULT latency msgs=20 ")
        # latency on the blocking API (the default) and on the loop
        for api in ("sync", "loop"):
            r = wsc("bench", "--api", api, "latency", url, "20", "32", timeout=60)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertRegex(r.stdout.decode(), r"^RESULT latency msgs=20 ")
        r = wsc("bench", "--api", "threads", "latency", url, "20", "32", timeout=60)
        self.assertEqual(r.returncode, 2)

    def test_bench_payload(self):
        # throughput --payload (bench/payload.h): JSON as text, random and a
        # file as binary, with and without deflate; every echo checked.
        url = peer("py").url()
        with tempfile.NamedTemporaryFile(dir=TMP, delete=False) as f:
            f.write(bytes(range(256)) + b"file payload")
        for kind, size in (("json", 880), ("random", 1024), (f.name, 1000)):
            for defl in ([], ["--deflate"]):
                r = wsc("bench", *defl, "--payload", kind, "throughput", url, str(size * 100), str(size), timeout=60)
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertRegex(r.stdout.decode(), r"^RESULT throughput msgs=100 bytes=%d " % (size * 100))
        for bad in (("--payload", "json", "latency", url, "10", "880"),  # throughput only
                    ("--payload", "json", "throughput", url, "1000", "100"),  # json needs SIZE >= 128
                    ("--payload", os.path.join(TMP, "no-such-file"), "throughput", url, "1000", "100")):
            self.assertEqual(wsc("bench", *bad).returncode, 2, bad)
        # A server that flips the last byte of echo 5 (text or binary) must be caught.
        corrupt = ("import asyncio, websockets\n"
                   "async def echo(ws, path=None):\n"
                   "    i = 0\n"
                   "    async for m in ws:\n"
                   "        if i == 5:\n"
                   "            m = m[:-1] + (chr(ord(m[-1]) ^ 1) if isinstance(m, str) else bytes([m[-1] ^ 1]))\n"
                   "        i += 1\n"
                   "        await ws.send(m)\n"
                   "async def main():\n"
                   "    async with websockets.serve(echo, '127.0.0.1', 0, max_size=None) as s:\n"
                   "        print('ws://127.0.0.1:%d/' % s.sockets[0].getsockname()[1], flush=True)\n"
                   "        await asyncio.sleep(60)\n"
                   "asyncio.run(main())\n")
        srv = subprocess.Popen([PY, "-c", corrupt], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            ready, _, _ = select.select([srv.stdout], [], [], 20)
            self.assertTrue(ready, "the corrupting server printed no URL")
            curl = srv.stdout.readline().decode().strip()
            for kind in ("json", "random"):
                r = wsc("bench", "--payload", kind, "throughput", curl, str(880 * 20), "880", timeout=60)
                self.assertNotEqual(r.returncode, 0, kind)
                self.assertEqual(r.stdout, b"", kind)
                self.assertIn(b"echo differs", r.stderr, kind)
        finally:
            os.killpg(srv.pid, signal.SIGTERM)
            srv.wait(timeout=10)

    def test_socks5_proxy(self):
        proxy = subprocess.Popen([PY, os.path.join(PEERS, "run_microsocks.py"), "--auth", "u:p", "--lifetime", "60"],
                                 stdout=subprocess.PIPE, start_new_session=True)
        try:
            port = int(proxy.stdout.readline().split()[1])
            for scheme in ("socks5h", "socks5"):
                r = wsc("-q", "--proxy", "%s://u:p@127.0.0.1:%d" % (scheme, port), "-x", "via " + scheme, "-n", "1",
                        "ws://localhost:%d/echo" % peer("py").port)
                self.assertEqual((r.returncode, lines(r.stdout)), (0, ["via " + scheme]), r.stderr)
            r = wsc("-q", "-x", "env", "-n", "1", "ws://localhost:%d/echo" % peer("py").port,
                    env=base_env(ALL_PROXY="socks5h://127.0.0.1:1"))
            self.assertEqual(r.returncode, 0, r.stderr)  # loopback never uses an environment proxy
            r = wsc("-q", "--proxy", "socks5h://u:bad@127.0.0.1:%d" % port, "-x", "x", peer("py").url(),
                    stdin=subprocess.DEVNULL)
            self.assertEqual(r.returncode, 1)
            self.assertIn("refused the user name or password", r.stderr.decode())
        finally:
            proxy.terminate()
            proxy.wait(5)
            proxy.stdout.close()

class TestConnection(unittest.TestCase):
    def test_handshake_options(self):
        p = Peer([PY, os.path.join(PEERS, "py_server.py"), "--lifetime", "60", "--protocols", "chat,superchat"],
                 "py_protocols")
        try:
            r = wsc("-p", "superchat", "-p", "chat", "-H", "X-Test: yes please", "--origin", "https://o.test",
                    "--user-agent", "agent/1.0", "--cookie", "a=1; b=2", "--no-store", "--no-deflate",
                    "-x", "__dump__", "-n", "1", p.url("/record"))
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(lines(r.stderr)[0], "connected (protocol: superchat)")
            dump = json.loads(r.stdout)
            h = dump["headers"]
            self.assertEqual(dump["subprotocol"], "superchat")
            self.assertEqual(h["sec-websocket-protocol"], "superchat, chat")
            self.assertEqual(h["x-test"], "yes please")
            self.assertEqual(h["origin"], "https://o.test")
            self.assertEqual(h["user-agent"], "agent/1.0")
            self.assertEqual(h["cookie"], "a=1; b=2")
            self.assertNotIn("sec-websocket-extensions", h)
        finally:
            p.stop()

    def test_proxy(self):
        proxy = Peer([PY, os.path.join(PEERS, "connect_proxy.py"), "--lifetime", "60"], "proxy")
        try:
            r = wsc("-q", "--proxy", "http://127.0.0.1:%d" % proxy.port, "-x", "via proxy", "-n", "1",
                    peer("py").url())
            self.assertEqual((r.returncode, lines(r.stdout)), (0, ["via proxy"]), r.stderr)
            connects = [e for e in proxy.log_lines() if e.get("event") == "connect"]
            self.assertEqual([(c["status"], c["target"]) for c in connects],
                             [(200, "127.0.0.1:%d" % peer("py").port)])
        finally:
            proxy.stop()
        r = wsc("-q", "--proxy", "http://127.0.0.1:1", "-x", "x", peer("py").url())
        self.assertEqual(r.returncode, 1)

    def test_client_certificate(self):
        d = pki()
        p = Peer([PY, os.path.join(PEERS, "py_server.py"), "--lifetime", "60",
                  "--tls-cert", os.path.join(d, "server.pem"), "--tls-key", os.path.join(d, "server.key"),
                  "--require-client-cert", os.path.join(d, "ca.pem")], "mtls")
        try:
            url = "wss://localhost:%d/echo" % p.port
            r = wsc("-q", "--ca", os.path.join(d, "ca.pem"), "--cert", os.path.join(d, "client.pem"),
                    "--key", os.path.join(d, "client.key"), "-x", "mutual", "-n", "1", url)
            self.assertEqual((r.returncode, lines(r.stdout)), (0, ["mutual"]), r.stderr)
            capath = os.path.join(TMP, "capath")
            if not os.path.isdir(capath):
                os.makedirs(capath)
                h = subprocess.run(["openssl", "x509", "-hash", "-noout", "-in", os.path.join(d, "ca.pem")],
                                   stdout=subprocess.PIPE, check=True, timeout=10).stdout.decode().strip()
                shutil.copy(os.path.join(d, "ca.pem"), os.path.join(capath, h + ".0"))
            r = wsc("-q", "--capath", capath, "--cert", os.path.join(d, "client.pem"),
                    "--key", os.path.join(d, "client.key"), "-x", "capath", "-n", "1", url)
            self.assertEqual((r.returncode, lines(r.stdout)), (0, ["capath"]), r.stderr)
            r = wsc("-q", "--ca", os.path.join(d, "ca.pem"), "-x", "no cert", url)
            self.assertEqual(r.returncode, 1, r.stderr)
            self.assertEqual(len(lines(r.stderr)), 1)
        finally:
            p.stop()

    def test_wrong_host_name(self):
        d = pki()
        p = Peer([PY, os.path.join(PEERS, "py_server.py"), "--lifetime", "60",
                  "--tls-cert", os.path.join(d, "wrong-host.pem"), "--tls-key", os.path.join(d, "wrong-host.key")],
                 "wrong_host")
        try:
            url = "wss://127.0.0.1:%d/echo" % p.port
            r = wsc("-q", "--ca", os.path.join(d, "ca.pem"), "-x", "x", url)
            self.assertEqual(r.returncode, 1)
            r = wsc("-q", "--ca", os.path.join(d, "ca.pem"), "--no-check-hostname", "-x", "named", "-n", "1", url)
            self.assertEqual((r.returncode, lines(r.stdout)), (0, ["named"]), r.stderr)
        finally:
            p.stop()

    def test_unix_socket(self):
        sock = os.path.join(TMP, "wsc-test.sock")
        p = Peer([PY, os.path.join(PEERS, "py_server.py"), "--lifetime", "60", "--unix", sock], "unix")
        try:
            r = wsc("-q", "-x", "over unix", "-n", "1", "ws+unix:%s:/echo" % sock)
            self.assertEqual((r.returncode, lines(r.stdout)), (0, ["over unix"]), r.stderr)
        finally:
            p.stop()


# ---------------------------------------------------------------------------
# wsc token
# ---------------------------------------------------------------------------

class TestToken(unittest.TestCase):
    def tok(self, *args, input=b""):
        return subprocess.run([WSC, "token"] + list(args), input=input, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=20, env=base_env())

    def test_set_get_list_clear(self):
        d = tempfile.mkdtemp(dir=TMP)
        store = os.path.join(d, "sub", "tokens.db")
        r = self.tok("set", "--store", store, "wss://Example.com/some/path?q=1", input=b"s3cr3t-T0ken\n")
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, b"", b""))
        self.assertEqual(stat.S_IMODE(os.stat(store).st_mode), 0o600)
        r = self.tok("get", "--store", store, "wss://example.com:443")
        self.assertEqual((r.returncode, r.stdout), (0, b"s3cr3t-T0ken\n"), r.stderr)
        r = self.tok("set", "ws://127.0.0.1:8080", "--store", store, "other-token", "--key", "alt")
        self.assertEqual(r.returncode, 0, r.stderr)
        r = self.tok("list", "--store", store)
        self.assertEqual(r.returncode, 0, r.stderr)
        out = lines(r.stdout)
        self.assertEqual(len(out), 2)
        self.assertRegex(out[0], r"^ws://127\.0\.0\.1:8080 +alt +\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertRegex(out[1], r"^wss://example\.com:443 +csrf_token +\d{4}-")
        self.assertNotIn(b"s3cr3t", r.stdout + r.stderr)
        self.assertNotIn(b"other-token", r.stdout + r.stderr)
        r = self.tok("list", "--store", store, "wss://example.com")
        self.assertEqual(len(lines(r.stdout)), 1)
        r = self.tok("clear", "--store", store, "wss://example.com/")
        self.assertEqual(r.returncode, 0, r.stderr)
        r = self.tok("get", "--store", store, "wss://example.com")
        self.assertEqual((r.returncode, r.stdout), (1, b""))
        self.assertEqual(lines(r.stderr), ["wsc: no token for wss://example.com:443"])
        r = self.tok("get", "--store", store, "ws://127.0.0.1:8080", "--key", "alt")
        self.assertEqual(r.stdout, b"other-token\n")

    def test_refuses_tokens_that_cannot_be_cookies(self):
        store = os.path.join(TMP, "refuse.db")
        for bad in [b"has space\n", b"semi;colon\n", b"\n", b"quote\"\n", b"x" * 5000 + b"\n", b"caf\xc3\xa9\n"]:
            with self.subTest(token=bad[:20]):
                r = self.tok("set", "--store", store, "ws://a.test", input=bad)
                self.assertEqual(r.returncode, 2)
                self.assertEqual(len(lines(r.stderr)), 1)
                self.assertIn(b"cannot be sent in a cookie", r.stderr)
                if bad.strip():
                    self.assertNotIn(bad.strip()[:20], r.stderr)

    def test_usage(self):
        for args in [[], ["frob", "ws://a"], ["get"], ["get", "example.com"], ["get", "ws://a", "b"],
                     ["set", "ws://a", "b", "c"], ["--bogus"]]:
            with self.subTest(args=args):
                r = self.tok(*args)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertEqual(len(lines(r.stderr)), 1)
        r = self.tok("--help")
        self.assertEqual(r.returncode, 0)
        self.assertIn(b"wsc token set ORIGIN [TOKEN]", r.stdout)

    def test_client_uses_the_stored_token(self):
        store = os.path.join(TMP, "client.db")
        s = script_server("")
        try:
            r = self.tok("set", "--store", store, s.url("/x"), input=b"From-Store-1\n")
            self.assertEqual(r.returncode, 0, r.stderr)
            r = wsc("-q", "--store", store, "--json", "-x", '{"hello": 1}', "-n", "1", s.url("/feed"))
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(json.loads(r.stdout), {"hello": 1, "csrf": "From-Store-1"})
            hs = [e for e in s.log_lines() if e["event"] == "handshake"][0]
            self.assertIn("csrf_token=From-Store-1", hs["cookie"])
            self.assertIn("csrf=From-Store-1", hs["query"])
        finally:
            s.stop()


# ---------------------------------------------------------------------------
# The man page
# ---------------------------------------------------------------------------

class TestManPage(unittest.TestCase):
    PAGE = os.path.join(SRC, "docs", "wsc.1")

    def test_groff_has_no_warnings(self):
        groff = shutil.which("groff")
        if not groff:
            self.skipTest("groff is not installed")
        r = subprocess.run([groff, "-man", "-z", "-ww", self.PAGE], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=30)
        self.assertEqual((r.returncode, r.stderr.decode()), (0, ""))
        r = subprocess.run([groff, "-man", "-Tutf8", "-ww", self.PAGE], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=30, env=dict(os.environ, MANWIDTH="80"))
        text = re.sub(r".\x08", "", r.stdout.decode("utf-8", "replace"))
        for section in ["NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "EXIT STATUS", "ENVIRONMENT", "FILES",
                        "EXAMPLES", "SEE ALSO"]:
            self.assertRegex(text, r"(?m)^%s$" % section)
        for opt in ALL_OPTIONS:
            self.assertIn(opt, text.replace("\u2010", "-").replace("\u2212", "-"), opt)
        for var in ["NO_COLOR", "XDG_STATE_HOME", "WSC_STORE_BUSY_MS", "https_proxy", "no_proxy"]:
            self.assertIn(var, text)

    def test_man_renders(self):
        man = shutil.which("man")
        if not man:
            self.skipTest("man is not installed")
        r = subprocess.run([man, "-l", self.PAGE], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30,
                           env=dict(os.environ, MANPAGER="cat", PAGER="cat", MANWIDTH="80"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"wsc", r.stdout)


def tearDownModule():
    for p in _peers.values():
        p.stop()
    shutil.rmtree(TMP, ignore_errors=True)


if __name__ == "__main__":
    unittest.main(verbosity=2)
