#!/usr/bin/env python3
"""script_server.py - a WebSocket server whose behaviour is scripted per
connection, for the reconnecting client's tests (run with /usr/bin/python3,
which has Debian's python3-websockets).

    script_server.py --port 0 --log FILE --script "http:503,http:503,echo,close:4001:bye,drop:3,silent"

The N-th connection attempt follows the N-th step of the script; attempts past
the end follow --default (echo). Steps:
    echo              echo every message with its type
    http:NNN          refuse the upgrade with HTTP status NNN
    close:CODE[:R]    accept, then close with CODE (0: no status) and reason R
    closeafter:K:CODE accept, echo K messages, then close with CODE
    drop[:K]          accept, record K messages (default 0), drop TCP (no Close)
    silent            accept, then stop reading: pings go unanswered
    send:TEXT         accept, send TEXT as a text message, then echo
The first stdout line is "LISTENING <port>". Every attempt and every message
is written to --log as JSON lines: {"conn": n, "event": "handshake", "path",
"query", "cookie"}, {"conn": n, "event": "message", "text"|"hex"}, ...
Exits on SIGTERM or after --lifetime seconds.
"""
import argparse
import asyncio
import http
import json
import signal
import sys
import urllib.parse

import websockets
from websockets.legacy.server import serve

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, default=0)
parser.add_argument("--log", required=True)
parser.add_argument("--script", default="")
parser.add_argument("--default", default="echo")
parser.add_argument("--lifetime", type=float, default=120)
args = parser.parse_args()

steps = [s for s in args.script.split(",") if s]
log_file = open(args.log, "a", buffering=1)
attempt = 0


def log(**kw):
    log_file.write(json.dumps(kw) + "\n")


def step_for(n):
    return steps[n - 1] if n - 1 < len(steps) else args.default


async def process_request(path, headers):
    global attempt
    attempt += 1
    n = attempt
    url = urllib.parse.urlsplit(path)
    log(conn=n, event="handshake", path=url.path, query=url.query,
        cookie=headers.get("Cookie", ""), step=step_for(n))
    step = step_for(n)
    if step.startswith("http:"):
        status = http.HTTPStatus(int(step.split(":")[1]))
        hdrs = [("Content-Type", "text/plain")]
        if 300 <= status.value < 400:
            hdrs.append(("Location", "/elsewhere"))
        return (status, hdrs, b"scripted refusal\n")
    headers["X-Wsc-Conn"] = str(n)  # read back by the handler
    return None


async def handler(ws, path):
    n = int(ws.request_headers.get("X-Wsc-Conn", "0"))
    step = step_for(n)
    kind, _, rest = step.partition(":")
    log(conn=n, event="open", step=step)

    async def record_one():
        msg = await ws.recv()
        if isinstance(msg, str):
            log(conn=n, event="message", text=msg)
        else:
            log(conn=n, event="message", hex=msg.hex())
        return msg

    try:
        if kind == "close":
            code_s, _, reason = rest.partition(":")
            code = int(code_s or 1000)
            if code == 0:
                # A Close frame without status (websockets cannot send one).
                ws.transport.write(b"\x88\x00")
                await asyncio.sleep(0.3)
                ws.transport.close()
            else:
                await ws.close(code=code, reason=reason)
            return
        if kind == "closeafter":
            k_s, _, code_s = rest.partition(":")
            for _ in range(int(k_s)):
                await ws.send(await record_one())
            await ws.close(code=int(code_s or 1000))
            return
        if kind == "drop":
            for _ in range(int(rest or 0)):
                await record_one()
            ws.transport.abort()
            log(conn=n, event="dropped")
            return
        if kind == "silent":
            ws.transport.pause_reading()
            await asyncio.sleep(args.lifetime)
            return
        if kind == "send":
            await ws.send(rest)
        while True:
            await ws.send(await record_one())
    except websockets.ConnectionClosed as e:
        log(conn=n, event="closed", code=e.code, reason=e.reason)


async def main():
    stop = asyncio.get_running_loop().create_future()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set_result, None)
    async with serve(handler, "127.0.0.1", args.port, process_request=process_request,
                     ping_interval=None, max_size=64 * 1024 * 1024) as server:
        port = server.sockets[0].getsockname()[1]
        print(f"LISTENING {port}", flush=True)
        try:
            await asyncio.wait_for(stop, args.lifetime)
        except asyncio.TimeoutError:
            pass


asyncio.run(main())
