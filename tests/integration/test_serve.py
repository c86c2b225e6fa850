#!/usr/bin/env python3
"""test_serve.py WSC SOURCE_DIR - the `wsc serve` command against Python
`websockets` and node `ws` clients (tests/peers/), on 127.0.0.1: echo,
broadcast, the --require-csrf double-submit check (403, 1008), shutdown close
codes (SIGTERM 1001, SIGHUP 1012), TLS, Unix sockets, --help."""
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

WSC = sys.argv[1]
SRC = sys.argv[2]
PEERS = os.path.join(SRC, "tests", "peers")
PY = "/usr/bin/python3"
CLIENTS = {
    "py": [PY, os.path.join(PEERS, "py_client.py")],
    "node": ["node", os.path.join(PEERS, "node_client.js")],
}


class Server:
    def __init__(self, *args):
        self.p = subprocess.Popen([WSC, "serve", "--port", "0", "--lifetime", "60", *args],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.url = self.p.stdout.readline().strip()
        if not self.url:
            raise RuntimeError("wsc serve printed no URL: " + self.p.stderr.read())

    def stop(self, sig=signal.SIGTERM):
        if self.p.poll() is None:
            self.p.send_signal(sig)
        try:
            self.p.wait(10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
        return self.p.returncode


def client(kind, url, *args, timeout=20):
    r = subprocess.run([*CLIENTS[kind], url, *args, "--timeout", "10"], capture_output=True, text=True,
                       timeout=timeout)
    return r.returncode, r.stdout + r.stderr


class TestServe(unittest.TestCase):
    def test_echo_both_clients(self):
        s = Server()
        try:
            self.assertRegex(s.url, r"^ws://127\.0\.0\.1:\d+/$")
            for kind in CLIENTS:
                rc, out = client(kind, s.url + "echo", "--send", "hello κόσμε", "--expect", "hello κόσμε",
                                 "--send-binary", "00ff", "--expect-binary", "00ff",
                                 "--send-pattern", "300000", "--expect-pattern", "300000")
                self.assertEqual(rc, 0, out)
                rc, out = client(kind, s.url, "--no-deflate", "--send", "x", "--expect", "x")
                self.assertEqual(rc, 0, out)
        finally:
            self.assertEqual(s.stop(), 0)

    def test_broadcast(self):
        s = Server("--broadcast")
        try:
            # a listener waiting for 2 messages, then a sender sending 2
            lst = subprocess.Popen([*CLIENTS["py"], s.url, "--recv", "2", "--timeout", "10"],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            time.sleep(0.5)
            rc, out = client("node", s.url, "--send", "one", "--expect", "one", "--send", "two", "--expect", "two")
            self.assertEqual(rc, 0, out)
            out, err = lst.communicate(timeout=15)
            self.assertEqual(lst.returncode, 0, err)
            self.assertEqual(out.split(), ["one", "two"])
        finally:
            s.stop()

    def test_require_csrf(self):
        s = Server("--require-csrf")
        try:
            for kind in CLIENTS:
                ok = s.url + "feed?x=1&csrf=tok%2D1"
                rc, out = client(kind, ok, "--cookie", "csrf_token=tok-1", "--send", '{"csrf":"tok-1","a":1}',
                                 "--expect-match", '"a": ?1')
                self.assertEqual(rc, 0, out)
                rc, out = client(kind, ok, "--cookie", "csrf_token=other", "--expect-status", "403")
                self.assertEqual(rc, 0, out)
                rc, out = client(kind, s.url + "feed", "--cookie", "csrf_token=tok-1", "--expect-status", "403")
                self.assertEqual(rc, 0, out)
                rc, out = client(kind, ok, "--expect-status", "403")
                self.assertEqual(rc, 0, out)
                rc, out = client(kind, ok, "--cookie", "csrf_token=tok-1", "--send", '{"csrf":"nope"}',
                                 "--expect-close", "1008")
                self.assertEqual(rc, 0, out)
                rc, out = client(kind, ok, "--cookie", "csrf_token=tok-1", "--send", '[1,2]',
                                 "--expect-close", "1008")
                self.assertEqual(rc, 0, out)
                # text that is not JSON carries no token: refused by default
                rc, out = client(kind, ok, "--cookie", "csrf_token=tok-1", "--send", "plain",
                                 "--expect-close", "1008")
                self.assertEqual(rc, 0, out)
        finally:
            s.stop()
        self.assertNotIn("tok-1", s.p.stderr.read())

    def test_shutdown_codes(self):
        for sig, code in ((signal.SIGTERM, "1001"), (signal.SIGHUP, "1012")):
            s = Server()
            out = {}

            def run():
                out["r"] = client("py", s.url, "--send", "x", "--expect", "x", "--expect-close", code)

            t = threading.Thread(target=run)
            t.start()
            time.sleep(1.0)
            self.assertEqual(s.stop(sig), 0)
            t.join(20)
            self.assertEqual(out["r"][0], 0, out["r"][1])

    def test_tls_and_unix(self):
        with tempfile.TemporaryDirectory() as d:
            subprocess.run(["bash", os.path.join(PEERS, "mkcerts.sh"), d], check=True)
            s = Server("--tls-cert", os.path.join(d, "server.pem"), "--tls-key", os.path.join(d, "server.key"),
                       "--host", "localhost")
            try:
                self.assertTrue(s.url.startswith("wss://localhost:"), s.url)
                for kind in CLIENTS:
                    rc, out = client(kind, s.url, "--cafile", os.path.join(d, "ca.pem"), "--send", "sec",
                                     "--expect", "sec")
                    self.assertEqual(rc, 0, out)
            finally:
                s.stop()
            sock = os.path.join(d, "s.sock")
            p = subprocess.Popen([WSC, "serve", "--unix", sock, "--lifetime", "30", "-q"], stdout=subprocess.PIPE,
                                 text=True)
            try:
                self.assertEqual(p.stdout.readline().strip(), "ws+unix:%s:/" % sock)
                rc, out = client("py", "ws://localhost/x", "--unix", sock, "--send", "u", "--expect", "u")
                self.assertEqual(rc, 0, out)
            finally:
                p.terminate()
                p.wait(10)

    def test_bench_large_messages(self):
        """Large messages in flight both ways (partial writes in both send
        buffers), over ws and wss: every echo checked by `wsc bench`."""
        with tempfile.TemporaryDirectory() as d:
            subprocess.run(["bash", os.path.join(PEERS, "mkcerts.sh"), d], check=True)
            for tls in (False, True):
                extra = ["--tls-cert", os.path.join(d, "server.pem"), "--tls-key", os.path.join(d, "server.key"),
                         "--host", "localhost"] if tls else []
                s = Server("--lean", *extra)
                try:
                    for size in (262144, 1048576):
                        cmd = [WSC, "bench"] + (["--ca", os.path.join(d, "ca.pem")] if tls else []) + \
                              ["throughput", s.url, str(48 * 1048576), str(size)]
                        r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
                        self.assertEqual(r.returncode, 0, r.stderr)
                        self.assertRegex(r.stdout, r"^RESULT throughput msgs=%d bytes=%d seconds=" %
                                         (48 * 1048576 // size, 48 * 1048576))
                    r = subprocess.run([WSC, "bench"] + (["--ca", os.path.join(d, "ca.pem")] if tls else []) +
                                       ["latency", s.url, "2000", "32"], capture_output=True, text=True, timeout=60)
                    self.assertEqual(r.returncode, 0, r.stderr)
                finally:
                    self.assertEqual(s.stop(), 0)

    def test_usage(self):
        r = subprocess.run([WSC, "serve", "--help"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0)
        for opt in ("--require-csrf", "--broadcast", "--sink", "--tls-cert", "--shutdown-code", "--lean"):
            self.assertIn(opt, r.stdout)
        r = subprocess.run([WSC, "serve", "--port", "99999"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 2)
        self.assertIn("bad port", r.stderr)
        busy = Server()
        try:
            port = busy.url.rsplit(":", 1)[1].rstrip("/")
            r = subprocess.run([WSC, "serve", "--port", port], capture_output=True, text=True, timeout=10)
            self.assertEqual(r.returncode, 1)
            self.assertIn("address already in use", r.stderr.lower())
        finally:
            busy.stop()


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"])
