#!/usr/bin/python3
"""WebSocket test client for wsc's integration tests (Python `websockets` 10.4).

  py_client.py URL [actions...] [options...]

Actions run in the order given on the command line:
  --send TEXT            send a text message
  --send-binary HEX      send a binary message (hex; "" for an empty one)
  --send-pattern N       send a binary message of N bytes, byte i = i & 0xff
  --expect TEXT          the next message must be this text
  --expect-binary HEX    the next message must be this binary
  --expect-pattern N     the next message must be the N-byte pattern above
  --expect-match REGEX   the next message must be text matching REGEX (search)
  --recv N               receive N messages and print them on stdout (text as
                         is, binary as "binary:<hex>"), one per line
  --ping TEXT            send a ping and wait for its pong
Then, in this order: --echo echoes every message back with its type until the
server closes (exit 0 however it closes: the Autobahn echo-client contract);
--expect-close CODE[:REASON] waits for the server to close and checks the code
(1005: no status, 1006: dropped without a close frame) and the reason;
otherwise the client closes with --close CODE[:REASON] (default 1000).
Exit status: 0 success, 1 failure (what differed goes to stderr), 2 usage.
"""

import argparse
import asyncio
import base64
import logging
import re
import socket
import ssl
import sys
import urllib.parse

import websockets
from websockets.exceptions import InvalidStatusCode, RedirectHandshake
from websockets.legacy.client import WebSocketClientProtocol

PROG = "py_client"


class Failure(Exception):
    pass


class HandshakeStatus(Exception):
    def __init__(self, status, where):
        super().__init__(f"{where} answered HTTP {status}")
        self.status = status


class OrderedAction(argparse.Action):
    def __call__(self, parser, ns, values, option_string=None):
        ns.actions = list(getattr(ns, "actions", None) or [])
        ns.actions.append((self.dest, values))


def pattern(n):
    block = bytes(range(256))
    return (block * (n // 256 + 1))[:n]


def show(msg, limit=80):
    if isinstance(msg, str):
        s = msg if len(msg) <= limit else msg[:limit] + f"...({len(msg)} chars)"
        return f"text {s!r}"
    data = bytes(msg)
    h = data[:limit // 2].hex()
    return f"binary ({len(data)} bytes) {h}{'...' if len(data) > limit // 2 else ''}"


def parse_code(spec):
    code, _, reason = spec.partition(":")
    return int(code), reason


class ClientProto(WebSocketClientProtocol):
    follow_redirects = False

    async def read_http_response(self):
        status, headers = await super().read_http_response()
        self.wsc_status = status
        return status, headers

    async def handshake(self, *args, **kwargs):
        try:
            return await super().handshake(*args, **kwargs)
        except RedirectHandshake:
            if self.follow_redirects:
                raise
            raise InvalidStatusCode(self.wsc_status, self.response_headers)


def open_tunnel(proxy, host, port, timeout):
    """CONNECT through an HTTP proxy; returns the connected socket."""
    p = urllib.parse.urlsplit(proxy)
    sock = socket.create_connection((p.hostname, p.port or 8080), timeout=timeout)
    try:
        target = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        req = f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n"
        if p.username is not None:
            cred = f"{urllib.parse.unquote(p.username)}:{urllib.parse.unquote(p.password or '')}"
            req += "Proxy-Authorization: Basic " + base64.b64encode(cred.encode()).decode() + "\r\n"
        sock.sendall((req + "\r\n").encode())
        buf = b""
        while b"\r\n\r\n" not in buf:  # byte by byte: never read past the head
            c = sock.recv(1)
            if not c:
                raise Failure("proxy closed the connection during CONNECT")
            buf += c
            if len(buf) > 16384:
                raise Failure("proxy response head too long")
        status_line = buf.split(b"\r\n", 1)[0].decode("latin-1")
        parts = status_line.split()
        if len(parts) < 2 or not parts[1].isdigit():
            raise Failure(f"bad proxy status line {status_line!r}")
        if int(parts[1]) != 200:
            raise HandshakeStatus(int(parts[1]), "proxy")
        sock.settimeout(None)
        sock.setblocking(False)
        return sock
    except BaseException:
        sock.close()
        raise


async def next_message(ws):
    try:
        return await ws.recv()
    except websockets.ConnectionClosed as exc:
        raise Failure(f"connection closed while waiting for a message "
                      f"(code {exc.rcvd.code if exc.rcvd else 1006})") from None


async def bounded(args):
    """run() within --timeout; whatever happens, the connection is gone after."""
    state = {}
    try:
        await asyncio.wait_for(run(args, state), args.timeout)
    finally:
        ws = state.get("ws")
        if ws is not None and ws.transport is not None and not ws.closed:
            ws.transport.abort()


async def run(args, state):
    ClientProto.follow_redirects = args.follow_redirects
    url = urllib.parse.urlsplit(args.url)
    kw = dict(
        create_protocol=ClientProto,
        subprotocols=args.protocol or None,
        compression=None if args.no_deflate else "deflate",
        ping_interval=None,
        max_size=args.max_size,
        max_queue=None,
        open_timeout=args.timeout,
        close_timeout=min(5.0, args.timeout),
        user_agent_header=args.user_agent,
    )
    headers = []
    if args.cookie:
        headers.append(("Cookie", "; ".join(args.cookie)))
    for h in args.header:
        name, _, value = h.partition(":")
        headers.append((name.strip(), value.strip()))
    if headers:
        kw["extra_headers"] = headers
    if args.origin:
        kw["origin"] = args.origin
    if url.scheme == "wss":
        ctx = ssl.create_default_context(cafile=args.cafile)
        if args.insecure:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        if args.cert:
            ctx.load_cert_chain(args.cert, args.key or args.cert)
        kw["ssl"] = ctx

    if args.unix:
        connect = websockets.unix_connect(args.unix, args.url, **kw)
    else:
        if args.proxy:
            port = url.port or (443 if url.scheme == "wss" else 80)
            kw["sock"] = open_tunnel(args.proxy, url.hostname, port, args.timeout)
            if url.scheme == "wss":
                kw["server_hostname"] = url.hostname
        connect = websockets.connect(args.url, **kw)

    try:
        ws = await connect
        state["ws"] = ws
    except InvalidStatusCode as exc:
        raise HandshakeStatus(exc.status_code, "server") from None

    if args.expect_protocol is not None and (ws.subprotocol or "") != args.expect_protocol:
        raise Failure(f"subprotocol: expected {args.expect_protocol!r}, got {ws.subprotocol!r}")
    if args.expect_extensions is not None:
        got = ws.response_headers.get("Sec-WebSocket-Extensions", "")
        if got != args.expect_extensions:
            raise Failure(f"extensions: expected {args.expect_extensions!r}, got {got!r}")

    for kind, value in args.actions or []:
        if kind == "send":
            await ws.send(value)
        elif kind == "send_binary":
            await ws.send(bytes.fromhex(value))
        elif kind == "send_pattern":
            await ws.send(pattern(int(value)))
        elif kind == "ping":
            waiter = await ws.ping(value)
            await waiter
        elif kind == "recv":
            for _ in range(int(value)):
                msg = await next_message(ws)
                line = msg if isinstance(msg, str) else "binary:" + bytes(msg).hex()
                sys.stdout.write(line + "\n")
                sys.stdout.flush()
        else:
            msg = await next_message(ws)
            if kind == "expect":
                ok = isinstance(msg, str) and msg == value
                want = f"text {value!r}"
            elif kind == "expect_binary":
                ok = isinstance(msg, bytes) and msg == bytes.fromhex(value)
                want = f"binary {value}"
            elif kind == "expect_pattern":
                ok = isinstance(msg, bytes) and msg == pattern(int(value))
                want = f"binary pattern of {value} bytes"
            else:  # expect_match
                ok = isinstance(msg, str) and re.search(value, msg) is not None
                want = f"text matching {value!r}"
            if not ok:
                raise Failure(f"expected {want}, got {show(msg)}")

    if args.echo:
        try:
            async for msg in ws:
                await ws.send(msg)
        except websockets.ConnectionClosed:
            pass
        await ws.wait_closed()
        return

    if args.expect_close is not None:
        code, reason = parse_code(args.expect_close)
        try:
            msg = await ws.recv()
            raise Failure(f"expected the server to close, got {show(msg)}")
        except websockets.ConnectionClosed:
            pass
        await ws.wait_closed()
        got_code = ws.close_code
        got_reason = ws.close_reason or ""
        if got_code != code or (":" in args.expect_close and got_reason != reason):
            raise Failure(f"close: expected {code} {reason!r}, got {got_code} {got_reason!r}")
        return

    code, reason = parse_code(args.close)
    await ws.close(code, reason)


def parse_args(argv):
    p = argparse.ArgumentParser(prog=PROG, description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("url")
    for name, meta in (("send", "TEXT"), ("send-binary", "HEX"), ("send-pattern", "N"),
                       ("expect", "TEXT"), ("expect-binary", "HEX"), ("expect-pattern", "N"),
                       ("expect-match", "REGEX"), ("recv", "N"), ("ping", "TEXT")):
        p.add_argument("--" + name, action=OrderedAction, metavar=meta)
    p.add_argument("--echo", action="store_true")
    p.add_argument("--expect-close", metavar="CODE[:REASON]")
    p.add_argument("--close", default="1000", metavar="CODE[:REASON]")
    p.add_argument("--expect-status", type=int, metavar="NNN",
                   help="the handshake (or the proxy's CONNECT) must fail with this HTTP status")
    p.add_argument("--expect-error", metavar="SUBSTR",
                   help="connecting must fail with an error containing SUBSTR")
    p.add_argument("--expect-protocol", metavar="P", help='selected subprotocol ("" for none)')
    p.add_argument("--expect-extensions", metavar="HDR",
                   help="exact Sec-WebSocket-Extensions response value (\"\" for none)")
    p.add_argument("--protocol", action="append", default=[])
    p.add_argument("--cookie", action="append", default=[])
    p.add_argument("--header", action="append", default=[], metavar="'NAME: VALUE'")
    p.add_argument("--origin")
    p.add_argument("--user-agent", default="wsc-test-py_client")
    p.add_argument("--no-deflate", action="store_true")
    p.add_argument("--max-size", type=int, default=64 * 1024 * 1024)
    p.add_argument("--timeout", type=float, default=10.0)
    p.add_argument("--cafile")
    p.add_argument("--insecure", action="store_true", help="do not verify the server")
    p.add_argument("--cert", help="client certificate (PEM)")
    p.add_argument("--key", help="client key (PEM)")
    p.add_argument("--unix", metavar="PATH", help="connect to a Unix-domain socket")
    p.add_argument("--proxy", metavar="http://[USER:PASS@]HOST:PORT")
    p.add_argument("--follow-redirects", action="store_true")
    p.add_argument("--verbose", action="store_true")
    args = p.parse_args(argv)
    if not hasattr(args, "actions"):
        args.actions = []
    return args


def main(argv):
    args = parse_args(argv)
    sys.stdout.reconfigure(encoding="utf-8")
    logging.basicConfig(stream=sys.stderr,
                        level=logging.DEBUG if args.verbose else logging.CRITICAL)
    try:
        asyncio.run(bounded(args))
    except HandshakeStatus as exc:
        if args.expect_status == exc.status:
            return 0
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 1
    except Failure as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 1
    except asyncio.TimeoutError:
        print(f"{PROG}: timed out after {args.timeout} s", file=sys.stderr)
        return 1
    except Exception as exc:  # connection errors, TLS errors, ...
        text = f"{type(exc).__name__}: {exc}"
        if args.expect_error is not None and args.expect_error in text:
            return 0
        print(f"{PROG}: {text}", file=sys.stderr)
        return 1
    if args.expect_status is not None:
        print(f"{PROG}: expected HTTP status {args.expect_status}, but connected", file=sys.stderr)
        return 1
    if args.expect_error is not None:
        print(f"{PROG}: expected an error containing {args.expect_error!r}, but connected",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
