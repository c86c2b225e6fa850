#!/usr/bin/python3
"""websockets_broadcast_server.py - Python websockets 10.4 doing what
`wsc serve --broadcast` does, for the server benchmark (bench/run.py
--sections broadcast): every message from any client goes to every connected
client, the sender included, with websockets.broadcast(), the library's
documented way to fan out (one write per connection, no awaiting).
No compression, no size limit, no pings.

    /usr/bin/python3 websockets_broadcast_server.py   (prints ws://127.0.0.1:PORT/ first)
"""
import asyncio
import signal

import websockets

CLIENTS = set()


async def handler(ws, path=None):
    CLIENTS.add(ws)
    try:
        async for msg in ws:
            websockets.broadcast(CLIENTS, msg)
    except websockets.ConnectionClosed:
        pass
    finally:
        CLIENTS.discard(ws)


async def main():
    stop = asyncio.get_running_loop().create_future()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set_result, None)
    async with websockets.serve(handler, "127.0.0.1", 0, compression=None, max_size=None, ping_interval=None,
                                backlog=4096) as s:
        print(f"ws://127.0.0.1:{s.sockets[0].getsockname()[1]}/", flush=True)
        await stop


asyncio.run(main())
