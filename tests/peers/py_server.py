#!/usr/bin/python3
"""WebSocket test server for wsc's integration tests (Python `websockets` 10.4).

Run with Debian's /usr/bin/python3 (it has python3-websockets). See README.md
for the behaviour of each request path. The first line on stdout is exactly
`LISTENING <port>` (or `LISTENING <path>` with --unix); everything else goes to
the JSON-lines log (--log FILE, default stderr).
"""

import argparse
import asyncio
import hashlib
import http
import json
import logging
import os
import signal
import ssl
import stat
import struct
import sys
import time
import types
import urllib.parse

import websockets
from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory
from websockets.frames import OP_PING, OP_PONG, Close
from websockets.legacy.server import WebSocketServerProtocol

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
HEX_LIMIT = 4096  # binary messages up to this size are recorded in hex


class Log:
    def __init__(self, path):
        self.f = open(path, "a", buffering=1, encoding="utf-8") if path else sys.stderr

    def __call__(self, event, **fields):
        rec = {"ts": round(time.time(), 6), "peer": "py_server", "event": event}
        rec.update(fields)
        try:
            self.f.write(json.dumps(rec, ensure_ascii=False) + "\n")
            self.f.flush()
        except (OSError, ValueError):
            pass


LOG = Log(None)


def describe(msg):
    """A JSON-friendly record of one message."""
    if isinstance(msg, str):
        return {"type": "text", "len": len(msg.encode("utf-8")), "data": msg}
    data = bytes(msg)
    rec = {"type": "binary", "len": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    if len(data) <= HEX_LIMIT:
        rec["hex"] = data.hex()
    return rec


def header_dict(raw):
    out = {}
    for name, value in raw:
        key = name.lower()
        if key in out:
            out[key] += ("; " if key == "cookie" else ", ") + value
        else:
            out[key] = value
    return out


def status_object(code):
    try:
        return http.HTTPStatus(code)
    except ValueError:
        # websockets only needs .value and .phrase to write the status line.
        return types.SimpleNamespace(value=code, phrase="Custom Status")


def int_param(params, name, default):
    try:
        return int(params.get(name, default))
    except ValueError:
        return default


class Conn:
    """What the server saw on one connection (for /record and __dump__)."""

    counter = 0

    def __init__(self, ws):
        Conn.counter += 1
        self.id = Conn.counter
        split = urllib.parse.urlsplit(ws.path)
        self.route = split.path
        self.query = split.query
        self.params = dict(urllib.parse.parse_qsl(split.query, keep_blank_values=True))
        self.raw_headers = [[k, v] for k, v in ws.request_headers.raw_items()]
        self.response_headers = (
            [[k, v] for k, v in ws.response_headers.raw_items()]
            if getattr(ws, "response_headers", None) is not None
            else []
        )
        self.messages = []
        self.pings = []
        self.pongs = []
        self.record = False

    def dump(self, ws):
        resp = header_dict(self.response_headers)
        return {
            "path": self.route,
            "query": self.query,
            "params": self.params,
            "headers": header_dict(self.raw_headers),
            "raw_headers": self.raw_headers,
            "subprotocol": ws.subprotocol,
            "extensions": resp.get("sec-websocket-extensions"),
            "messages": self.messages,
            "pings": self.pings,
            "pongs": self.pongs,
        }


def payload_text(data):
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return "hex:" + data.hex()


class Proto(WebSocketServerProtocol):
    """Reports every ping and pong it receives."""

    async def read_frame(self, max_size):
        frame = await super().read_frame(max_size)
        if frame.opcode in (OP_PING, OP_PONG):
            conn = getattr(self, "wsc_conn", None)
            kind = "ping" if frame.opcode == OP_PING else "pong"
            text = payload_text(bytes(frame.data))
            LOG(kind, conn=conn.id if conn else None, data=text)
            if conn is not None:
                (conn.pings if kind == "ping" else conn.pongs).append(text)
        return frame

    def connection_lost(self, exc):
        super().connection_lost(exc)
        conn = getattr(self, "wsc_conn", None)
        if conn is not None:
            LOG("closed", conn=conn.id, code=self.close_code, reason=self.close_reason)


async def process_request(path, headers):
    route = urllib.parse.urlsplit(path).path
    if route.startswith("/status/"):
        try:
            code = int(route[len("/status/"):])
        except ValueError:
            code = 400
        if not 100 <= code <= 999:
            code = 400
        params = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(path).query))
        hdrs = []
        if 300 <= code < 400:
            hdrs.append(("Location", params.get("location", "/echo")))
        if code == 401:
            hdrs.append(("WWW-Authenticate", 'Basic realm="wsc"'))
        if code in (429, 503):
            hdrs.append(("Retry-After", "1"))
        LOG("refused", path=path, status=code)
        return status_object(code), hdrs, f"status {code}\n".encode()
    if route not in ROUTES:
        LOG("refused", path=path, status=404)
        return http.HTTPStatus.NOT_FOUND, [], b"unknown test path\n"
    return None


async def close_with(ws, code, reason):
    """Close with any code (even ones websockets refuses); code 0: no status."""
    if code == 0:
        data = b""
        close = Close(1005, "")
    else:
        data = struct.pack("!H", code) + reason.encode("utf-8")
        close = Close(code, reason)
    await ws.write_close_frame(close, data)
    await ws.close()  # waits (bounded by close_timeout) for the peer's close


async def handler(ws):
    conn = Conn(ws)
    ws.wsc_conn = conn
    route, params = conn.route, conn.params
    LOG("open", conn=conn.id, path=ws.path, subprotocol=ws.subprotocol,
        extensions=header_dict(conn.response_headers).get("sec-websocket-extensions"))
    try:
        await serve_route(ws, conn, route, params)
    except websockets.ConnectionClosed:
        pass
    except Exception as exc:  # a bug here must not leave the connection open
        LOG("error", conn=conn.id, error=repr(exc))
        ws.transport.abort()


async def serve_route(ws, conn, route, params):
    after = int_param(params, "after", 0)
    delay = 0.0
    action = None
    dump = False

    if route == "/close":
        code = int_param(params, "code", 0)
        reason = params.get("reason", "")

        async def action():
            LOG("close_sent", conn=conn.id, code=code, reason=reason)
            await close_with(ws, code, reason)
            return True
    elif route == "/drop":
        async def action():
            LOG("drop", conn=conn.id)
            ws.transport.abort()
            return True
    elif route == "/raw":
        try:
            raw = bytes.fromhex(params.get("hex", ""))
        except ValueError:
            raw = b""

        async def action():
            LOG("raw_sent", conn=conn.id, hex=raw.hex())
            ws.transport.write(raw)
            return False
    elif route == "/silent":
        # Discard everything from now on: no pong, no close reply, nothing sent.
        ws.data_received = lambda data: None
        LOG("silent", conn=conn.id)
        await ws.wait_closed()
        return
    elif route == "/ping":
        dump = True
        for i in range(int_param(params, "n", 1)):
            LOG("ping_sent", conn=conn.id, data=f"p{i}")
            await ws.ping(f"p{i}")
    elif route == "/record":
        dump = True
        conn.record = True
        LOG("handshake", conn=conn.id, path=conn.route, query=conn.query,
            headers=conn.raw_headers)
    elif route == "/slow":
        delay = int_param(params, "ms", 100) / 1000.0
    elif route == "/big":
        n = int_param(params, "bytes", 0)
        block = bytes(range(256))
        data = (block * (n // 256 + 1))[:n]
        LOG("big_sent", conn=conn.id, bytes=n)
        await ws.send(data)

    if action is not None and after == 0:
        if await action():
            return
        action = None

    count = 0
    async for msg in ws:
        if dump and msg == "__dump__":
            await ws.send(json.dumps(conn.dump(ws), ensure_ascii=False))
            continue
        if conn.record:
            rec = describe(msg)
            conn.messages.append(rec)
            LOG("message", conn=conn.id, **rec)
        if delay:
            await asyncio.sleep(delay)
        await ws.send(msg)
        count += 1
        if action is not None and count == after:
            if await action():
                return
            action = None


ROUTES = {"/", "/echo", "/close", "/drop", "/raw", "/silent", "/ping", "/record",
          "/slow", "/big"}


def deflate_factory(spec):
    """--deflate-params "server_no_context_takeover,server_max_window_bits=10,..."."""
    kw = {"compress_settings": {"memLevel": 5}}
    for item in filter(None, (s.strip() for s in spec.split(","))):
        name, _, value = item.partition("=")
        if name in ("server_no_context_takeover", "client_no_context_takeover",
                    "require_client_max_window_bits"):
            kw[name] = True
        elif name in ("server_max_window_bits", "client_max_window_bits"):
            kw[name] = int(value)
        else:
            raise SystemExit(f"py_server: unknown deflate parameter {name!r}")
    return ServerPerMessageDeflateFactory(**kw)


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--unix", metavar="PATH")
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    p.add_argument("--require-client-cert", metavar="CA_PEM")
    p.add_argument("--protocols", default="")
    p.add_argument("--no-deflate", action="store_true")
    p.add_argument("--deflate-params", default=None)
    p.add_argument("--max-size", type=int, default=64 * 1024 * 1024)
    p.add_argument("--close-timeout", type=float, default=5.0)
    p.add_argument("--ping-interval", type=float, default=None,
                   help="keepalive pings from the server (default: none)")
    p.add_argument("--lifetime", type=float, default=120.0)
    p.add_argument("--log")
    p.add_argument("--verbose", action="store_true")
    args = p.parse_args(argv)
    if args.host not in LOOPBACK_HOSTS and not args.host.startswith("127."):
        p.error("--host must be a loopback address")
    if bool(args.tls_cert) != bool(args.tls_key):
        p.error("--tls-cert and --tls-key go together")
    return args


async def main(args):
    global LOG
    LOG = Log(args.log)
    logging.basicConfig(stream=sys.stderr,
                        level=logging.DEBUG if args.verbose else logging.CRITICAL)

    ctx = None
    if args.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        if args.require_client_cert:
            ctx.verify_mode = ssl.CERT_REQUIRED
            ctx.load_verify_locations(args.require_client_cert)

    protocols = [p for p in args.protocols.split(",") if p]
    kw = dict(
        create_protocol=Proto,
        process_request=process_request,
        subprotocols=protocols or None,
        select_subprotocol=lambda client, server: next(
            (p for p in client if p in server), None),
        ping_interval=args.ping_interval,
        max_size=args.max_size,
        close_timeout=args.close_timeout,
        server_header="wsc-test-py_server",
        ssl=ctx,
    )
    if args.no_deflate:
        kw["compression"] = None
    elif args.deflate_params is not None:
        kw["extensions"] = [deflate_factory(args.deflate_params)]

    if args.unix:
        try:
            if stat.S_ISSOCK(os.stat(args.unix).st_mode):
                os.unlink(args.unix)
        except FileNotFoundError:
            pass
        server = await websockets.unix_serve(handler, args.unix, **kw)
        where = args.unix
    else:
        server = await websockets.serve(handler, args.host, args.port, **kw)
        where = server.sockets[0].getsockname()[1]
    sys.stdout.write(f"LISTENING {where}\n")
    sys.stdout.flush()
    LOG("listening", where=where, tls=bool(ctx), pid=os.getpid())

    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda s=sig: stop.done() or stop.set_result(s.name))
    loop.call_later(args.lifetime, lambda: stop.done() or stop.set_result("lifetime"))
    why = await stop
    LOG("exit", why=why)
    server.close()
    try:
        await asyncio.wait_for(server.wait_closed(), 3)
    except asyncio.TimeoutError:
        pass
    if args.unix:
        try:
            os.unlink(args.unix)
        except OSError:
            pass


if __name__ == "__main__":
    try:
        asyncio.run(main(parse_args(sys.argv[1:])))
    except KeyboardInterrupt:
        pass
    sys.exit(0)
