#!/usr/bin/python3
"""Reference echo client on Python's `websockets` (Debian's python3-websockets).

py_echo.py URL: connect (offering permessage-deflate, as websockets does by
default), echo every message with its type, follow the closing handshake,
exit when the connection ends (status 0 on a closing handshake, 1 otherwise).
"""
import asyncio
import sys

import websockets


async def main(url):
    try:
        async with websockets.connect(url, max_size=None, ping_interval=None, max_queue=None,
                                      open_timeout=10, close_timeout=5) as ws:
            async for msg in ws:
                await ws.send(msg)
    except websockets.exceptions.ConnectionClosedOK:
        return 0
    except (websockets.exceptions.WebSocketException, OSError) as e:
        print("py_echo: %s: %s" % (type(e).__name__, e), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: py_echo.py URL")
    sys.exit(asyncio.run(main(sys.argv[1])))
