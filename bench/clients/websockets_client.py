#!/usr/bin/python3
"""websockets_client.py - the `bench` contract on Python websockets 10.4
(Debian's python3-websockets; run it with /usr/bin/python3).

  websockets_client.py [--deflate] latency    ws[s]://127.0.0.1:PORT/ COUNT SIZE
  websockets_client.py [--deflate] throughput ws[s]://127.0.0.1:PORT/ TOTAL_BYTES SIZE
  websockets_client.py [--deflate] conns      ws[s]://127.0.0.1:PORT/ N
  websockets_client.py [--deflate] json       ws[s]://127.0.0.1:PORT/ COUNT SIZE

json: the messages of bench/json_msg.h, 64 in flight, every echo given to
json.loads and its "seq" and "items" length checked, in order.

The library's documented asyncio API: `async with websockets.connect(url,
compression=None)`, `await ws.send()`, `await ws.recv()`; throughput sends
from one task and reads echoes in another, at most 64 in flight. wss trusts
the CA in SSL_CERT_FILE (Python's default context). --deflate turns
permessage-deflate on (off by default, as the contract says).
"""
import asyncio
import json as jsonlib
import os
import re
import sys
import time

import websockets

MAX_IN_FLIGHT = 64
CONNS_IN_FLIGHT = 128


def die(msg, code=1):
    sys.stderr.write(f"websockets_client: {msg}\n")
    sys.stderr.flush()
    raise SystemExit(code)


def rss_kb():
    with open("/proc/self/status") as f:
        m = re.search(r"VmRSS:\s+(\d+)", f.read())
    return int(m.group(1)) if m else -1


def connect(url, deflate):
    return websockets.connect(
        url,
        compression="deflate" if deflate else None,
        max_size=None,
        ping_interval=None,  # no keepalive pings during a benchmark
        open_timeout=30,
        close_timeout=2,
    )


progress = 0  # echoes received so far, for the watchdog


async def watchdog():
    """Every wait is bounded: no echo for 30 s fails the run (one check per
    5 s, not a timer per message)."""
    last, idle = -1, 0
    while True:
        await asyncio.sleep(5)
        idle = idle + 5 if progress == last else 0
        last = progress
        if idle >= 30:
            die("timed out waiting for an echo")


async def recv(ws):
    global progress
    try:
        m = await ws.recv()
    except websockets.ConnectionClosed:
        die("the server closed the connection early")
    progress += 1
    return m


async def latency(url, deflate, count, size):
    if size < 8:
        die("SIZE must be >= 8", 2)
    tail = "".join(chr(97 + j % 26) for j in range(8, size))
    async with connect(url, deflate) as ws:
        t0 = time.perf_counter()
        for i in range(count):
            msg = "%08x" % (i & 0xFFFFFFFF) + tail
            await ws.send(msg)
            echo = await recv(ws)
            if not isinstance(echo, str):
                die("echo has the wrong type")
            if echo != msg:
                die("echo mismatch")
        t = time.perf_counter() - t0
    return f"RESULT latency msgs={count} bytes={count * size} seconds={t:.6f}"


async def throughput(url, deflate, total, size):
    if size < 8:
        die("SIZE must be >= 8", 2)
    count = -(-total // size)
    tail = bytes((j * 31 + 7) & 0xFF for j in range(8, size))
    async with connect(url, deflate) as ws:
        window = asyncio.Semaphore(MAX_IN_FLIGHT)

        async def sender():
            for i in range(count):
                await window.acquire()
                await ws.send(i.to_bytes(8, "little") + tail)

        t0 = time.perf_counter()
        task = asyncio.create_task(sender())
        for i in range(count):
            echo = await recv(ws)
            if not isinstance(echo, bytes):
                die("echo has the wrong type")
            if len(echo) != size:
                die("echo has the wrong length")
            if int.from_bytes(echo[:8], "little") != i or echo[8:] != tail:
                die("echo mismatch")
            window.release()
        t = time.perf_counter() - t0
        await task
    return f"RESULT throughput msgs={count} bytes={count * size} seconds={t:.6f}"


def json_message(size):
    """bench/json_msg.h, byte for byte: (text, number of items)."""
    if size < 128:
        die("SIZE must be >= 128", 2)
    n = max(1, (size - 56) // 66)
    parts = ['{"seq":1000000000,"type":"update","items":[']
    for k in range(n):
        parts.append(('%s{"id":%d,"sym":"SYM%04d","px":%d.%02d,"qty":%d,"live":true}'
                      % ("," if k else "", 1000 + k % 9000, k % 10000, 1000 + k % 9000, k * 7 % 100,
                         100000 + k * 3 % 900000)))
    s = "".join(parts) + '],"pad":"'
    if len(s) + 2 > size:
        die("SIZE too small", 2)
    return s + "x" * (size - 2 - len(s)) + '"}', n


async def json_mode(url, deflate, count, size):
    text, items = json_message(size)
    head, tail = text[:7], text[17:]
    async with connect(url, deflate) as ws:
        window = asyncio.Semaphore(MAX_IN_FLIGHT)

        async def sender():
            for i in range(count):
                await window.acquire()
                await ws.send(head + str(1000000000 + i) + tail)

        t0 = time.perf_counter()
        task = asyncio.create_task(sender())
        for i in range(count):
            echo = await recv(ws)
            if not isinstance(echo, str):
                die("echo has the wrong type")
            v = jsonlib.loads(echo)
            if v["seq"] != 1000000000 + i or len(v["items"]) != items:
                die("echo mismatch")
            window.release()
        t = time.perf_counter() - t0
        await task
    return f"RESULT json msgs={count} bytes={count * size} seconds={t:.6f}"


async def conns(url, deflate, n):
    if n <= 0:
        die("N must be > 0", 2)
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    gate = asyncio.Semaphore(CONNS_IN_FLIGHT)
    opened = []

    async def one():
        global progress
        async with gate:
            opened.append(await connect(url, deflate))
            progress += 1

    base = rss_kb()
    t0 = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(n)))
    t = time.perf_counter() - t0
    rss = rss_kb()
    line = (f"RESULT conns msgs=0 bytes=0 seconds={t:.6f} conns={n} rss_base_kb={base} "
            f"rss_kb={rss} bytes_per_conn={(rss - base) * 1024 // n}")
    print(line, flush=True)
    sys.stderr.flush()
    os._exit(0)  # the N connections are dropped with the process


def main():
    args = sys.argv[1:]
    deflate = False
    if args and args[0] == "--deflate":
        deflate = True
        args = args[1:]
    if len(args) < 3 or not re.match(r"^wss?://", args[1]):
        die("usage: websockets_client.py [--deflate] latency|throughput URL COUNT|TOTAL SIZE | conns URL N", 2)
    mode, url = args[0], args[1]
    try:
        nums = [int(a) for a in args[2:]]
    except ValueError:
        die("bad number", 2)
    if mode == "latency" and len(nums) == 2:
        coro = latency(url, deflate, *nums)
    elif mode == "throughput" and len(nums) == 2:
        coro = throughput(url, deflate, *nums)
    elif mode == "json" and len(nums) == 2:
        coro = json_mode(url, deflate, *nums)
    elif mode == "conns" and len(nums) == 1:
        coro = conns(url, deflate, *nums)
    else:
        die(f"bad arguments for mode '{mode}'", 2)
    async def guarded():
        dog = asyncio.create_task(watchdog())
        try:
            return await coro
        finally:
            dog.cancel()

    try:
        line = asyncio.run(guarded())
    except (OSError, websockets.WebSocketException, asyncio.TimeoutError) as e:
        die(f"{type(e).__name__}: {e}")
    if line:
        print(line, flush=True)


if __name__ == "__main__":
    main()
