#!/usr/bin/python3
"""Reference echo server on Python's `websockets` (Debian's python3-websockets
10.4), for the server-mode conformance suite (run_server.py).

py_echo_server.py [PORT]: listen on 127.0.0.1 (port 0: a free one), print
ws://127.0.0.1:PORT/ as the first line of stdout, echo every message with its
type (permessage-deflate on, websockets' default), exit on SIGTERM/SIGINT.
"""
import asyncio
import signal
import sys

import websockets


async def echo(ws, path=None):
    try:
        async for msg in ws:
            await ws.send(msg)
    except websockets.exceptions.ConnectionClosed:
        pass


async def main(port):
    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
    # no size or queue limits: 9.x sends 16 MiB messages
    async with websockets.serve(echo, "127.0.0.1", port, max_size=None, max_queue=None,
                                ping_interval=None) as server:
        print("ws://127.0.0.1:%d/" % server.sockets[0].getsockname()[1], flush=True)
        await stop


if __name__ == "__main__":
    if len(sys.argv) > 2:
        sys.exit("usage: py_echo_server.py [PORT]")
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 0))
