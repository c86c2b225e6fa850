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
        # On input, an explicit prefix chooses the type (websocat's rule), so
        # that wsc's output can be sent again as it was received.
        r = wsc("-q", "--binary-prefix", "b:", "--text-prefix", "t:", "-n", "3", self.url,
                input=b"b:00ff\nt:b:not binary\nplain\nb:zz\n")
        self.assertEqual((r.returncode, r.stdout), (8, b"b:00ff\nt:b:not binary\nt:plain\n"), r.stderr)
        self.assertIn("line 4: not hex after --binary-prefix; not sent", r.stderr.decode())
        r = wsc("-q", "--binary-prefix", "B64 ", "--base64", "-n", "1", self.url, input=b"B64 AAH/\n")
        self.assertEqual((r.returncode, r.stdout), (0, b"B64 AAH/\n"), r.stderr)

    def test_new_options_in_help_and_man_page(self):
        out = wsc("--help").stdout.decode()
        self.assertLessEqual(max(len(x) for x in out.splitlines()), 80)
        r = subprocess.run(["groff", "-man", "-Tutf8", "-ww", os.path.join(T.SRC, "docs", "wsc.1")],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
        page = r.stdout.decode("utf-8", "replace")
        import re
        page = re.sub(r".\x08", "", page).replace("\u2010", "-").replace("\u2212", "-")
        for opt in ("--compact", "--binary-prefix", "--text-prefix", "-0,", "--null", "-L,", "--location",
                    "--exec", "--exec-raw"):
            self.assertIn(opt, out, opt)
            self.assertIn(opt.rstrip(","), page, opt)

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
        t = Pty(["--no-color", "--compact", self.url])
        try:
            t.expect(r"connected")
            t.send(b'{ "b" : [1, 2] }\r')
            t.expect(r'< \{"b":\[1,2\]\}\n')
            t.send(b"\x04")
            self.assertEqual(t.wait(), 0)
        finally:
            t.close()


# ---------------------------------------------------------------------------
# Item 5: the exit status tells the truth
# ---------------------------------------------------------------------------

class TestExitStatus(unittest.TestCase):
    def last_error(self, r):
        return lines(r.stderr)[-1]

    def test_refusal_codes_exit_7(self):
        p = peer("py")
        for code, name in ((1003, "unsupported data"), (1008, "policy violation"), (1010, "mandatory extension"),
                           (1011, "internal error")):
            with self.subTest(code=code):
                r = wsc("--no-reconnect", p.url("/close?code=%d&reason=CSRF+token+missing+or+wrong" % code),
                        stdin=subprocess.DEVNULL)
                self.assertEqual(r.returncode, 7, r.stderr)
                self.assertEqual(self.last_error(r), "wsc: the server closed the connection with %d (%s): "
                                 "CSRF token missing or wrong" % (code, name))
        for code in (1002, 1007, 1009):
            with self.subTest(code=code):
                r = wsc("--no-reconnect", p.url("/close?code=%d" % code), stdin=subprocess.DEVNULL)
                self.assertEqual(r.returncode, 4, r.stderr)

    def test_csrf_refusal_is_not_hidden_by_a_reconnect(self):
        # The case: `wsc serve --require-csrf` closes with 1008 on a
        # message without the token; the client reconnects and later ends
        # with its own clean close, yet the exit status is 7.
        srv, url = serve("--require-csrf")
        try:
            r = wsc("--token", "Tok3n", "--no-store", "--timeout", "20", "-x", "not json", "-w", "0.5", url)
            self.assertEqual(r.returncode, 7, r.stderr)
            self.assertIn("closed: 1008", r.stderr.decode())
            self.assertRegex(self.last_error(r), r"^wsc: the server closed the connection with 1008 "
                                                 r"\(policy violation\)")
        finally:
            stop(srv)

    def test_protocol_error_is_not_hidden_by_a_reconnect(self):
        s = script_server("close:1002:bad frame")
        try:
            r = wsc("--timeout", "20", "-w", "0.3", s.url("/"), stdin=subprocess.DEVNULL)
            self.assertEqual(r.returncode, 4, r.stderr)
            self.assertIn("reconnecting in 20 ms (attempt 1)", lines(r.stderr))
            self.assertEqual(self.last_error(r), "wsc: the server closed the connection with 1002 (protocol error): "
                                                 "bad frame")
        finally:
            s.stop()

    def test_skipped_input_exits_8(self):
        r = wsc("-q", "--json", "--no-store", "-x", "nope", "-x", "{}", "-n", "1", peer("py").url())
        self.assertEqual((r.returncode, lines(r.stdout)), (8, ["{}"]), r.stderr)
        self.assertEqual(lines(r.stderr)[-1], "wsc: 1 message was not sent (see above)")
        r = wsc("-q", "-n", "1", peer("py").url(), input=b"\xff\nfine\n")
        self.assertEqual(r.returncode, 8, r.stderr)
        self.assertEqual(lines(r.stderr)[-1], "wsc: 1 input line was not sent (see above)")
        r = wsc("-q", "-n", "1", peer("py").url(), input=b"fine\n")
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_file_waits_for_its_reply(self):
        path = os.path.join(TMP, "slow.bin")
        with open(path, "wb") as f:
            f.write(b"\x01\x02")
        url = peer("py").url("/slow?ms=1500")  # the echo comes 1.5 s later, after the default -w 1
        r = wsc("-q", "--file", path, url)
        self.assertEqual((r.returncode, r.stdout), (0, b"[binary] 0102\n"), r.stderr)
        r = wsc("-q", "--file", path, "-w", "0.2", url)
        self.assertEqual((r.returncode, r.stdout), (9, b""), r.stderr)
        err = lines(r.stderr)
        self.assertRegex(err[0], r"^wsc: --file .*slow.bin: the server confirmed reading it \(2 bytes\), but no "
                                 r"reply came within the -w wait")
        self.assertEqual(err[-1], "wsc: --file %s was not acknowledged by the server" % path)
        # -w 0: no reply expected; the server's confirmation is enough.
        r = wsc("-q", "--file", path, "-w", "0", url)
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_echo_follows_the_table(self):
        # --echo: the same codes as the client (cli_close_status), 0 for a
        # clean 1000 close, 7 for a policy close, with its reason on stderr
        p = peer("py")
        r = wsc("--echo", p.url("/close?code=1000"), stdin=subprocess.DEVNULL)
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, b"", b""))
        r = wsc("--echo", p.url("/close?code=1008&reason=CSRF+token+missing+or+wrong"), stdin=subprocess.DEVNULL)
        self.assertEqual((r.returncode, r.stdout), (7, b""), r.stderr)
        self.assertEqual(lines(r.stderr), ["wsc: the server closed the connection with 1008 (policy violation): "
                                           "CSRF token missing or wrong"])
        for code, status in ((1003, 7), (1010, 7), (1011, 7), (1002, 4), (1007, 4), (1009, 4), (4000, 0)):
            with self.subTest(code=code):
                r = wsc("--echo", p.url("/close?code=%d" % code), stdin=subprocess.DEVNULL)
                self.assertEqual(r.returncode, status, r.stderr)
        self.assertIn("--echo follows the same table", wsc("--help").stdout.decode())

    def test_codes_documented_in_help_and_man_page(self):
        out = wsc("--help").stdout.decode()
        for code in range(10):
            self.assertRegex(out, r"\n  %d  \S" % code)
        for code in ("1003", "1008", "1010", "1011"):
            self.assertIn(code, out)
        page = open(os.path.join(T.SRC, "docs", "wsc.1")).read()
        section = page[page.index(".SH EXIT STATUS"):page.index(".SH ENVIRONMENT")]
        for code in range(10):
            self.assertIn(".B %d\n" % code, section)


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


# ---------------------------------------------------------------------------
# Item 4: -L follows redirects of the handshake
# ---------------------------------------------------------------------------

class TestLocation(unittest.TestCase):
    def test_not_followed_without_L(self):
        r = wsc("-x", "hi", peer("py").url("/status/302?location=/echo"))
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertEqual(lines(r.stderr), ["wsc: server answered 302 Found (expected 101 Switching Protocols); "
                                           "it redirects to /echo (-L follows)"])

    def test_relative_and_absolute(self):
        p = peer("py")
        for loc in ("/echo", "ws://localhost:%d/echo" % p.port, "echo-not-found"):
            with self.subTest(location=loc):
                r = wsc("-L", "-x", "hi", "-n", "1", p.url("/status/307?location=" + loc))
                if loc == "echo-not-found":  # relative to /status/: /status/echo-not-found
                    self.assertEqual(r.returncode, 1, r.stderr)
                    self.assertIn("redirected to ws://127.0.0.1:%d/status/echo-not-found" % p.port,
                                  r.stderr.decode())
                    continue
                self.assertEqual((r.returncode, lines(r.stdout)), (0, ["hi"]), r.stderr)
                self.assertRegex(r.stderr.decode(), r"(?m)^redirected to ws://")

    def test_at_most_five(self):
        s = script_server(",".join(["http:302"] * 5))
        try:
            r = wsc("-L", "-x", "five", "-n", "1", s.url("/"))
            self.assertEqual((r.returncode, lines(r.stdout)), (0, ["five"]), r.stderr)
        finally:
            s.stop()
        s = script_server(",".join(["http:302"] * 6))
        try:
            r = wsc("-L", "-x", "six", s.url("/"))
            self.assertEqual(r.returncode, 1, r.stderr)
            self.assertRegex(lines(r.stderr)[-1], r"^wsc: server answered 302 Found .*; too many redirects "
                                                  r"\(-L follows at most 5\)$")
            self.assertEqual(len([e for e in s.log_lines() if e["event"] == "handshake"]), 6)
        finally:
            s.stop()

    def test_never_from_wss_to_ws(self):
        tls = peer("tls")
        target = peer("py").url("/echo")
        r = wsc("-L", "--ca", os.path.join(pki(), "ca.pem"), "-x", "x",
                "wss://localhost:%d/status/302?location=%s" % (tls.port, target))
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("not following a redirect from wss:// to ws://", r.stderr.decode())
        self.assertNotIn("redirected to", r.stderr.decode())

    def test_token_and_credentials_only_to_the_same_origin(self):
        p = peer("py")
        args = ["-L", "--no-store", "--token", "Tok3nSecret", "--auth", "al:pw", "--cookie", "a=1",
                "-x", "hi", "-n", "1"]
        # same origin: the token and the credentials go along
        r = wsc(*args, p.url("/status/302?location=/record"))
        self.assertEqual(r.returncode, 0, r.stderr)
        hs = [e for e in p.log_lines() if e.get("event") == "handshake"][-1]
        self.assertIn("Tok3nSecret", json.dumps(hs))
        self.assertIn("Authorization", json.dumps(hs))
        # another origin (localhost is not 127.0.0.1): neither
        r = wsc(*args, p.url("/status/302?location=ws://localhost:%d/record" % p.port))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("(another origin: no token, no credentials)", r.stderr.decode())
        hs = [e for e in p.log_lines() if e.get("event") == "handshake"][-1]
        self.assertNotIn("Tok3nSecret", json.dumps(hs))
        self.assertNotIn("Authorization", json.dumps(hs))
        self.assertNotIn("a=1", json.dumps(hs))


# ---------------------------------------------------------------------------
# --exec / --exec-raw: a program bridged over the connection
# ---------------------------------------------------------------------------

class TestExec(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv, cls.url = serve("--echo")

    @classmethod
    def tearDownClass(cls):
        stop(cls.srv)

    def test_lines_both_ways_and_the_programs_status(self):
        got = os.path.join(TMP, "exec-got.txt")
        # Its output lines are sent; the echoes come back on its stdin, one
        # per line; when it exits, wsc closes (1000) and exits with its status.
        cmd = 'echo one; echo "{ \\"b\\" : 2 }"; read a; read b; printf "%%s|%%s" "$a" "$b" > %s; exit 3' % got
        r = wsc("--exec", cmd, self.url, stdin=subprocess.DEVNULL)
        self.assertEqual((r.returncode, r.stdout), (3, b""), r.stderr)
        with open(got) as f:
            self.assertEqual(f.read(), 'one|{ "b" : 2 }')
        self.assertIn("closed: 1000 (clean)", r.stderr.decode())
        r = wsc("-q", "--exec", "echo fine", self.url)
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_connection_closing_first_ends_its_input(self):
        got = os.path.join(TMP, "exec-eof.txt")
        p = peer("py")
        r = wsc("-q", "--no-reconnect", "--exec", "echo ping; cat > %s; exit 42" % got,
                p.url("/close?code=4001&reason=bye&after=1"))
        self.assertEqual(r.returncode, 42, r.stderr)
        with open(got) as f:
            self.assertEqual(f.read(), "ping\n")

    def test_program_keeps_running_across_a_reconnect(self):
        got = os.path.join(TMP, "exec-reconnect.txt")
        # The second connection greets first: "two" is written only once it
        # is open (written while the first one closes, it would cross the
        # server's Close).
        s = script_server("closeafter:1:1012,send:hello2")
        try:
            cmd = 'echo one; read a; read h; echo two; read b; printf "%%s|%%s|%%s" "$a" "$h" "$b" > %s' % got
            r = wsc("--timeout", "20", "--exec", cmd, s.url("/"))
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("reconnecting in 20 ms (attempt 1)", lines(r.stderr))
            with open(got) as f:
                self.assertEqual(f.read(), "one|hello2|two")
        finally:
            s.stop()

    def test_raw_bytes(self):
        got = os.path.join(TMP, "exec-raw.bin")
        r = wsc("-q", "--exec-raw", "printf '\\000\\001\\377'; head -c 3 > %s" % got, self.url)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(got, "rb") as f:
            self.assertEqual(f.read(), b"\x00\x01\xff")

    def test_killed_program_and_usage(self):
        r = wsc("-q", "--exec", "kill -TERM $$", self.url)
        self.assertEqual(r.returncode, 128 + 15, r.stderr)
        r = wsc("--exec", "cat", "-x", "hi", self.url)
        self.assertEqual(r.returncode, 2)
        r = wsc("--echo", "--exec", "cat", self.url)
        self.assertEqual(r.returncode, 2)


# ---------------------------------------------------------------------------
# Item 2: an https:// proxy of real servers (stunnel4 in front of tinyproxy)
# ---------------------------------------------------------------------------

class TestHttpsProxy(unittest.TestCase):
    SCRIPT = os.path.join(PEERS, "run_https_proxy.py")

    @classmethod
    def setUpClass(cls):
        check = subprocess.run([PY, cls.SCRIPT, "--check"], stderr=subprocess.PIPE, timeout=20)
        if check.returncode == 77:
            raise unittest.SkipTest(check.stderr.decode().strip())
        d = pki()
        cls.ca = os.path.join(d, "ca.pem")
        cls.proxies = []
        for auth in (None, "alice:s3cr.t"):
            argv = [PY, cls.SCRIPT, "--cert", os.path.join(d, "server.pem"), "--key", os.path.join(d, "server.key"),
                    "--lifetime", "100"] + (["--auth", auth] if auth else [])
            cls.proxies.append(Peer(argv, "https_proxy"))
        cls.open, cls.auth = cls.proxies
        cls.target = "wss://localhost:%d/echo" % peer("tls").port

    @classmethod
    def tearDownClass(cls):
        for p in cls.proxies:
            p.stop()

    def test_wss_through_it(self):
        proxy = "https://localhost:%d" % self.open.port
        r = wsc("-q", "--proxy", proxy, "--ca", self.ca, "-x", "through stunnel and tinyproxy", "-n", "1",
                self.target)
        self.assertEqual((r.returncode, r.stdout), (0, b"through stunnel and tinyproxy\n"), r.stderr)
        # tinyproxy's log: the CONNECT went through it, to the server's name
        with open(self.open.log) as f:
            self.assertIn("CONNECT localhost:%d" % peer("tls").port, f.read())
        # pipe mode too, and ws:// inside the proxy's TLS
        r = wsc("-q", "--proxy", proxy, "--ca", self.ca, "-n", "2", peer("py").url(), input=b"one\ntwo\n")
        self.assertEqual((r.returncode, lines(r.stdout)), (0, ["one", "two"]), r.stderr)

    def test_proxy_certificate_verified(self):
        wrong = os.path.join(pki(), "self-signed.pem")  # a CA that did not sign the proxy's certificate
        r = wsc("-q", "--proxy", "https://localhost:%d" % self.open.port, "--ca", wrong, "-x", "x", self.target)
        self.assertEqual((r.returncode, r.stdout), (1, b""), r.stderr)
        self.assertIn("TLS certificate verification failed for proxy 'localhost'", r.stderr.decode())

    def test_basic_auth(self):
        port = self.auth.port
        r = wsc("-q", "--proxy", "https://alice:s3cr.t@localhost:%d" % port, "--ca", self.ca, "-x", "hi", "-n", "1",
                self.target)
        self.assertEqual((r.returncode, r.stdout), (0, b"hi\n"), r.stderr)
        # a wrong password: refused at once (no reconnect), never shown
        r = wsc("--proxy", "https://alice:hunter2@localhost:%d" % port, "--ca", self.ca, "-x", "hi", self.target)
        self.assertEqual((r.returncode, r.stdout), (1, b""), r.stderr)
        err = r.stderr.decode()
        self.assertIn("the proxy refused the tunnel: 401", err)
        self.assertNotIn("hunter2", err)
        self.assertNotIn("reconnecting", err)


def tearDownModule():
    T.tearDownModule()


if __name__ == "__main__":
    unittest.main(verbosity=2)
