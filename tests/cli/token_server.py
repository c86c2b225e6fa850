#!/usr/bin/env python3
"""token_server.py - an HTTP(S) page that provides the CSRF token, for the
tests of `wsc token fetch` (test_cli.py, TestTokenFetch).

    token_server.py --log FILE [--cert server.pem --key server.key]

Paths: /            200, Set-Cookie: csrf_token=from-cookie-1; Path=/; HttpOnly
       /redirect    302 to / (same origin)
       /away        302 to http://127.0.0.1:1/ (another origin: must not be followed)
       /json        200, {"token": "from-json-2"} and no cookie
       /delete      200, Set-Cookie: csrf_token=; Max-Age=0
       /none        200, no cookie
First stdout line: "LISTENING <port>"; each request is logged as a JSON line.
"""
import argparse
import http.server
import json
import ssl
import threading

ap = argparse.ArgumentParser()
ap.add_argument("--log", required=True)
ap.add_argument("--cert")
ap.add_argument("--key")
ap.add_argument("--lifetime", type=float, default=60)
args = ap.parse_args()
logf = open(args.log, "a", buffering=1)


class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def send(self, status, headers, body=b""):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        logf.write(json.dumps({"path": self.path, "ua": self.headers.get("User-Agent", "")}) + "\n")
        if self.path == "/":
            self.send(200, [("Set-Cookie", "other=1"), ("Set-Cookie", "csrf_token=from-cookie-1; Path=/; HttpOnly")],
                      b"<p>signed in</p>")
        elif self.path == "/redirect":
            self.send(302, [("Location", "/")])
        elif self.path == "/away":
            self.send(302, [("Location", "http://127.0.0.1:1/")])
        elif self.path == "/json":
            self.send(200, [("Content-Type", "application/json")], b'{"token": "from-json-2"}')
        elif self.path == "/delete":
            self.send(200, [("Set-Cookie", "csrf_token=; Max-Age=0")])
        else:
            self.send(200, [], b"nothing here")


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
if args.cert:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
print("LISTENING %d" % srv.server_address[1], flush=True)
threading.Timer(args.lifetime, srv.shutdown).start()
srv.serve_forever()
