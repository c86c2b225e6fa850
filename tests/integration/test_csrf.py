#!/usr/bin/env python3
"""test_csrf.py WSC - `wsc serve --require-csrf`, strict (issue 14 item 3), with
raw sockets so that every byte of the bypass attempts is exact:

- handshake: missing, empty, mismatched, NUL, case of the names,
  percent-encoding, quoting: 403; the token twice (two cookies of the name in
  one header, the parameter twice): 400; two Cookie headers: 400; the right
  token: 101.
- messages: the right token passes; a wrong one, a JSON key given twice,
  JSON that is not an object, text that is not JSON and binary: 1008;
  --csrf-allow-non-json lets the last two pass.
- --issue-token: GET / without the cookie sets a fresh token cookie (HttpOnly,
  SameSite=Strict), which then opens the WebSocket; with the cookie, none.
"""
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rawws import Server, frame, read_close, request  # noqa: E402

WSC = sys.argv[1]
TOK = "tok-1"


def status_of(port, target, *headers):
    s, st, _ = request(port, target, headers)
    s.close()
    return st


def opened(port, tok=TOK):
    s, st, text = request(port, "/feed?csrf=" + tok, ("Cookie: csrf_token=" + tok,))
    assert st == 101, text
    return s


def echo_or_close(s, payload, opcode=0x1):
    """Sends one message; returns ('echo', bytes) or ('close', code)."""
    s.sendall(frame(opcode, payload, fin=True))
    s.settimeout(20)
    buf = b""
    while len(buf) < 2 or len(buf) < 2 + (buf[1] & 0x7F):
        chunk = s.recv(65536)
        if not chunk:
            return ("eof", None)
        buf += chunk
    n = buf[1] & 0x7F
    if buf[0] & 0x0F == 8:
        return ("close", int.from_bytes(buf[2:4], "big"))
    return ("echo", buf[2:2 + n])


class TestCsrf(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server(WSC, "--require-csrf", "--echo", "--no-deflate")
        cls.port = cls.srv.port

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()
        log = cls.srv.p.stderr.read()
        assert TOK not in log, log

    def test_handshake_accepts_the_right_token(self):
        self.assertEqual(status_of(self.port, "/feed?csrf=tok%2D1", "Cookie: a=b; csrf_token=tok-1"), 101)

    def test_handshake_refusals(self):
        cases = {
            "no cookie, no parameter": ("/feed",),
            "no cookie": ("/feed?csrf=tok-1",),
            "no parameter": ("/feed", "Cookie: csrf_token=tok-1"),
            "empty both": ("/feed?csrf=", "Cookie: csrf_token="),
            "empty cookie": ("/feed?csrf=tok-1", "Cookie: csrf_token="),
            "empty parameter": ("/feed?csrf=", "Cookie: csrf_token=tok-1"),
            "parameter without =": ("/feed?csrf", "Cookie: csrf_token="),
            "empty quoted cookie": ("/feed?csrf=", 'Cookie: csrf_token=""'),
            "mismatch": ("/feed?csrf=tok-2", "Cookie: csrf_token=tok-1"),
            "prefix": ("/feed?csrf=tok-", "Cookie: csrf_token=tok-1"),
            "NUL": ("/feed?csrf=tok-1%00", "Cookie: csrf_token=tok-1"),
            "cookie name case": ("/feed?csrf=tok-1", "Cookie: CSRF_TOKEN=tok-1"),
            "parameter name case": ("/feed?CSRF=tok-1", "Cookie: csrf_token=tok-1"),
            "value case": ("/feed?csrf=TOK-1", "Cookie: csrf_token=tok-1"),
            "encoded cookie": ("/feed?csrf=tok-1", "Cookie: csrf_token=tok%2D1"),
            "encoded both": ("/feed?csrf=tok%2D1", "Cookie: csrf_token=tok%2D1"),
            "quotes in the parameter": ("/feed?csrf=%22tok-1%22", "Cookie: csrf_token=tok-1"),
            "bad escape": ("/feed?csrf=tok%zz", "Cookie: csrf_token=tok%zz"),
        }
        for name, (target, *headers) in cases.items():
            with self.subTest(name):
                self.assertEqual(status_of(self.port, target, *headers), 403)

    def test_repeated_values_400(self):
        cases = {
            "cookie twice": ("/feed?csrf=tok-1", "Cookie: csrf_token=tok-1; csrf_token=evil"),
            "cookie twice, same value": ("/feed?csrf=tok-1", "Cookie: csrf_token=tok-1; csrf_token=tok-1"),
            "parameter twice": ("/feed?csrf=tok-1&csrf=evil", "Cookie: csrf_token=tok-1"),
            "parameter twice, encoded name": ("/feed?csrf=tok-1&%63srf=evil", "Cookie: csrf_token=tok-1"),
            "two Cookie headers": ("/feed?csrf=tok-1", "Cookie: csrf_token=tok-1", "Cookie: csrf_token=evil"),
        }
        for name, (target, *headers) in cases.items():
            with self.subTest(name):
                self.assertEqual(status_of(self.port, target, *headers), 400)

    def test_messages(self):
        s = opened(self.port)
        self.assertEqual(echo_or_close(s, b'{"csrf":"tok-1","a":1}'), ("echo", b'{"csrf":"tok-1","a":1}'))
        s.close()
        refused = {
            "wrong token": b'{"csrf":"nope"}',
            "no token": b'{"a":1}',
            "empty token": b'{"csrf":""}',
            "token twice, last right": b'{"csrf":"nope","csrf":"tok-1"}',
            "token twice, first right": b'{"csrf":"tok-1","csrf":"nope"}',
            "token twice, both right": b'{"csrf":"tok-1","csrf":"tok-1"}',
            "NUL in the token": b'{"csrf":"tok-1\\u0000"}',
            "not an object": b'["tok-1"]',
            "not JSON": b"plain",
        }
        for name, payload in refused.items():
            with self.subTest(name):
                s = opened(self.port)
                self.assertEqual(echo_or_close(s, payload), ("close", 1008))
                s.close()
        s = opened(self.port)
        self.assertEqual(echo_or_close(s, b"\x00\x01", opcode=0x2), ("close", 1008))
        s.close()

    def test_allow_non_json(self):
        srv = Server(WSC, "--require-csrf", "--echo", "--no-deflate", "--csrf-allow-non-json")
        try:
            s = opened(srv.port)
            self.assertEqual(echo_or_close(s, b"plain"), ("echo", b"plain"))
            self.assertEqual(echo_or_close(s, b"\x00\x01", opcode=0x2), ("echo", b"\x00\x01"))
            # JSON is still checked, duplicates still refused.
            self.assertEqual(echo_or_close(s, b'{"csrf":"tok-1","csrf":"x"}'), ("close", 1008))
            s.close()
        finally:
            srv.stop()

    def test_issue_token(self):
        srv = Server(WSC, "--require-csrf", "--issue-token", "--echo", "--no-deflate")
        try:
            s, st, head = request(srv.port, "/", upgrade=False)
            s.close()
            self.assertEqual(st, 200, head)
            m = re.search(r"(?im)^Set-Cookie: csrf_token=([A-Za-z0-9_-]{43}); Path=/; HttpOnly; SameSite=Strict\r?$",
                          head)
            self.assertIsNotNone(m, head)
            tok = m.group(1)
            self.assertNotIn("Secure", head)
            # A second page load gets another token; one with the cookie, none.
            s, _, head2 = request(srv.port, "/", upgrade=False)
            s.close()
            self.assertNotIn(tok, head2)
            s, st, head3 = request(srv.port, "/", ("Cookie: csrf_token=" + tok,), upgrade=False)
            s.close()
            self.assertEqual(st, 200)
            self.assertNotIn("Set-Cookie", head3)
            # Other paths, and the server without --issue-token: 400 as before.
            s, st, _ = request(srv.port, "/other", upgrade=False)
            s.close()
            self.assertEqual(st, 400)
            self.assertEqual(status_of(self.port, "/", ), 403)
            s, st, _ = request(self.port, "/", upgrade=False)
            s.close()
            self.assertEqual(st, 400)
            # The issued token opens the WebSocket.
            s = opened(srv.port, tok)
            msg = ('{"csrf":"%s"}' % tok).encode()
            self.assertEqual(echo_or_close(s, msg), ("echo", msg))
            s.close()
        finally:
            srv.stop()
        self.assertNotIn(tok, srv.p.stderr.read())


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0]], verbosity=2)
