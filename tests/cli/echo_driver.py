#!/usr/bin/python3
"""echo_driver.py - a server that tests an echo client (wsc --echo): on each
connection it sends a list of messages, checks that each comes back
unchanged and with the same type, then closes with 1000 "done".

    echo_driver.py --log FILE [--plan default|one] [--lifetime S]

Plans: "default" sends JSON text, non-JSON text, UTF-8 text, an empty text,
binary bytes (with 0x00 and 0xff), an empty binary message, a 1 MiB binary
message and a 1 MiB text message; "one" sends a single short text (for runs
of many connections). Prints "LISTENING <port>" first; writes one JSON line
per connection to --log: {"conn": n, "ok": true|false, "detail": "..."}.
Run with /usr/bin/python3 (Debian's python3-websockets).
"""
import argparse
import asyncio
import json
import signal

import websockets
from websockets.legacy.server import serve

ap = argparse.ArgumentParser()
ap.add_argument("--log", required=True)
ap.add_argument("--plan", default="default")
ap.add_argument("--lifetime", type=float, default=60)
args = ap.parse_args()

MIB = 1024 * 1024
PLANS = {
    "default": [
        '{"op": "hello", "n": [1, 2.50, null]}',
        "not JSON at all",
        "h\u00e9llo \u2603 \U0001F600",
        "",
        bytes([0, 1, 2, 0xFE, 0xFF]),
        b"",
        bytes(i & 0xFF for i in range(MIB)),
        "x" * MIB,
    ],
    "one": ["ping-pong"],
}
log_file = open(args.log, "a", buffering=1)
conn_no = 0


async def handler(ws, path):
    global conn_no
    conn_no += 1
    n = conn_no
    ok, detail = True, "all echoed"
    try:
        for i, msg in enumerate(PLANS[args.plan]):
            await ws.send(msg)
            back = await asyncio.wait_for(ws.recv(), 10)
            if type(back) is not type(msg) or back != msg:
                ok = False
                detail = "message %d came back different (%s, %d bytes)" % (i, type(back).__name__, len(back))
                break
        await ws.close(1000, "done")
    except Exception as e:  # noqa: BLE001 - any failure is a failed conversation
        ok, detail = False, "%s: %s" % (type(e).__name__, e)
    log_file.write(json.dumps({"conn": n, "ok": ok, "detail": detail}) + "\n")


async def main():
    stop = asyncio.get_running_loop().create_future()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set_result, None)
    async with serve(handler, "127.0.0.1", 0, max_size=64 * MIB, ping_interval=None) as server:
        print("LISTENING %d" % server.sockets[0].getsockname()[1], flush=True)
        try:
            await asyncio.wait_for(stop, args.lifetime)
        except asyncio.TimeoutError:
            pass


asyncio.run(main())
