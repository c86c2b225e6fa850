#!/usr/bin/python3
"""Tests of the wsc command, issue 16 round two: faithful output, truthful
exit statuses, the hex dump on a terminal, -L and --exec.

    test_round2.py WSC_BINARY SOURCE_DIR [unittest arguments, e.g. TestOutput]

The helpers (peers on 127.0.0.1, the pseudo-terminal, bounded waits) are
test_cli.py's: importing it takes the two arguments off sys.argv.
"""
import json
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_cli as T  # noqa: E402  (reads and removes sys.argv[1:3])

from test_cli import PY, PEERS, TMP, Peer, Pty, lines, peer, pki, script_server, wsc  # noqa: E402


def serve(*args):
    """`wsc serve` on a free port; returns (process, URL)."""
    p = subprocess.Popen([T.WSC, "serve", "--port", "0", "-q"] + list(args), stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, start_new_session=True, env=T.base_env())
    url = p.stdout.readline().decode().strip()
    if not url.startswith("ws"):
        p.kill()
        p.wait()
        raise RuntimeError("wsc serve did not start: %r" % url)
    return p, url


def stop(p):
    if p.poll() is None:
        p.terminate()
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    if p.stdout:
        p.stdout.close()


# ---------------------------------------------------------------------------
# Item 1: what is printed is what was received
# ---------------------------------------------------------------------------

class TestOutput(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv, cls.url = serve("--echo")

    @classmethod
    def tearDownClass(cls):
        stop(cls.srv)

    def test_text_and_json_exactly_as_received(self):
        msgs = [b'{ "b" : 2 }', b'[1,  2.50e0 , "\\u00e9"]', b"plain \\n not a newline", b"caf\xc3\xa9", b"",
                b"\x1b[31mred\x1b[0m\tTab"]
        r = wsc("-q", "-n", str(len(msgs)), self.url, input=b"\n".join(msgs) + b"\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, b"".join(m + b"\n" for m in msgs))

    def test_compact_and_pretty_on_request(self):
        r = wsc("-q", "--compact", "-n", "2", self.url, input=b'{ "b" : [ 1 , 2.50 ] }\nnot json  x\n')
        self.assertEqual((r.returncode, r.stdout), (0, b'{"b":[1,2.50]}\nnot json  x\n'), r.stderr)
        r = wsc("-q", "--pretty", "-n", "1", self.url, input=b'{ "b" : 2 }\n')
        self.assertEqual((r.returncode, r.stdout), (0, b'{\n  "b": 2\n}\n'), r.stderr)
        r = wsc("--pretty", "--compact", self.url, stdin=subprocess.DEVNULL)
        self.assertEqual(r.returncode, 2)

    def test_embedded_newline_is_escaped_in_line_mode(self):
        # One message, one line: a newline inside is written as \n.
        r = wsc("-q", "-n", "1", "-x", "two\nlines", self.url)
        self.assertEqual((r.returncode, r.stdout), (0, b"two\\nlines\n"), r.stderr)

    def test_null_separated_records_are_exact(self):
        r = wsc("-q", "-0", "-n", "3", self.url, input=b"two\nlines\0 { \"a\" : 1 }\0last")
        self.assertEqual((r.returncode, r.stdout), (0, b"two\nlines\0 { \"a\" : 1 }\0last\0"), r.stderr)

    def test_binary_is_marked(self):
        r = wsc("-q", "--binary", "-n", "2", self.url, input=b"\x00\x01\nAB\n")
        self.assertEqual((r.returncode, r.stdout), (0, b"[binary] 0001\n[binary] 4142\n"), r.stderr)
        r = wsc("-q", "--binary", "--base64", "-n", "1", self.url, input=b"\x00\x01\n")
        self.assertEqual((r.returncode, r.stdout), (0, b"[binary] AAE=\n"), r.stderr)

    def test_prefixes(self):
        # websocat's --binary-prefix / --text-prefix: the marks are the user's.
        data = b"hello\n"
        r = wsc("-q", "--text-prefix", "t:", "--binary-prefix", "b:", "-n", "2", "-x", "hi", "-x", "x",
                self.url)
        self.assertEqual((r.returncode, r.stdout), (0, b"t:hi\nt:x\n"), r.stderr)
        r = wsc("-q", "--binary", "--binary-prefix", "", "-n", "1", self.url, input=data)
        self.assertEqual((r.returncode, r.stdout), (0, b"68656c6c6f\n"), r.stderr)

    def test_interactive_keeps_pretty_printing(self):
        t = Pty(["--no-color", self.url])
        try:
            t.expect(r"connected")
            t.send(b'{ "b" : 2 }\r')
            t.expect(r'< \{\n    "b": 2\n  \}')
            t.send(b"\x04")
            self.assertEqual(t.wait(), 0)
        finally:
            t.close()


# ---------------------------------------------------------------------------
# Item 3: --file on a terminal prints a hex dump
# ---------------------------------------------------------------------------

class TestHexdump(unittest.TestCase):
    def test_file_echo_on_a_terminal_is_a_hex_dump(self):
        srv, url = serve("--echo")
        path = os.path.join(TMP, "dump.bin")
        with open(path, "wb") as f:
            f.write(bytes(range(40)))
        t = Pty(["--no-color", "--file", path, url])
        try:
            t.expect(r"\[binary\] 40 bytes\n")
            t.expect(r"00000000  00 01 02 03 04 05 06 07  08 09 0a 0b 0c 0d 0e 0f  \|\.{16}\|\n")
            t.expect(r"00000020  20 21 22 23 24 25 26 27 +\| !\"#\$%&'\|\n")
            self.assertEqual(t.wait(), 0)
        finally:
            t.close()
            stop(srv)


def tearDownModule():
    T.tearDownModule()


if __name__ == "__main__":
    unittest.main(verbosity=2)
