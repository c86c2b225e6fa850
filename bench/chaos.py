#!/usr/bin/env python3
"""chaos.py - nothing lost across reconnects, measured (issue 12).

    bench/chaos.py chaos [--wsc build/wsc] [--messages 10000] [--seed 1]
                         [--max-after 80] [--pace-ms 2] [--modes burst,paced]
    bench/chaos.py cost  [--wsc build/wsc] [--bench build/bench_delivery] [--reps 7]

chaos: a server that accepts, reads a random 1..--max-after data messages
(answering Pings, as RFC 6455 requires), then drops the connection with a
FIN or a RST (seeded coin), for every connection. `wsc --json --timeout 5
--max 0 URL` reads --messages numbered lines ({"n": i}) from a pipe, written
at once (burst) or one every --pace-ms (paced), in both delivery modes:
  at-least-once  every message must arrive, in order of first delivery;
                 duplicates are counted;
  default        every message that did not arrive must be listed on wsc's
                 stderr by line number, and wsc must exit non-zero (6).
The server also lists, per connection, what it read; the report compares.

cost: throughput with and without confirmation (bench_delivery on/off), at
1 KiB and 64 KiB, against `wsc serve --echo`, alternating on/off --reps
times in the same run; medians and bests.

Everything on 127.0.0.1. Exit status 0 if every check passed.
"""
import argparse
import base64
import hashlib
import json
import os
import random
import re
import socket
import statistics
import struct
import subprocess
import sys
import threading
import time

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


class ChaosServer:
    """Reads frames one by one; after a random 1..max_after data messages,
    drops the connection (FIN or RST). Answers Pings; answers a Close."""

    def __init__(self, seed, max_after):
        self.rng = random.Random(seed)
        self.max_after = max_after
        self.lock = threading.Lock()
        self.received = []      # every data message, in arrival order
        self.conns = 0
        self.drops = {"fin": 0, "rst": 0}
        self.ls = socket.socket()
        self.ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.ls.bind(("127.0.0.1", 0))
        self.ls.listen(128)
        self.port = self.ls.getsockname()[1]
        self.stopped = False
        threading.Thread(target=self.accept_loop, daemon=True).start()

    def stop(self):
        self.stopped = True
        try:
            self.ls.close()
        except OSError:
            pass

    def accept_loop(self):
        while not self.stopped:
            try:
                s, _ = self.ls.accept()
            except OSError:
                return
            with self.lock:
                self.conns += 1
                after = self.rng.randint(1, self.max_after)
                how = self.rng.choice(["fin", "rst"])
            threading.Thread(target=self.serve, args=(s, after, how), daemon=True).start()

    def serve(self, s, after, how):
        f = s.makefile("rb", buffering=65536)
        try:
            head = b""
            while not head.endswith(b"\r\n\r\n"):
                line = f.readline()
                if not line:
                    return
                head += line
            key = re.search(rb"(?im)^sec-websocket-key:\s*(\S+)", head).group(1)
            acc = base64.b64encode(hashlib.sha1(key + GUID).digest())
            s.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      b"Sec-WebSocket-Accept: " + acc + b"\r\n\r\n")
            got = 0
            while True:
                h = f.read(2)
                if len(h) < 2:
                    return
                op, n = h[0] & 15, h[1] & 127
                if n == 126:
                    n = struct.unpack(">H", f.read(2))[0]
                elif n == 127:
                    n = struct.unpack(">Q", f.read(8))[0]
                mask = f.read(4)
                raw = f.read(n)
                data = bytes(b ^ mask[i & 3] for i, b in enumerate(raw)) if n < 256 else \
                    (int.from_bytes(raw, "big") ^ int.from_bytes((mask * (n // 4 + 1))[:n], "big")).to_bytes(n, "big")
                if op == 9:
                    s.sendall(bytes([0x8A, len(data)]) + data)
                elif op == 8:
                    s.sendall(bytes([0x88, min(len(data), 2)]) + data[:2])
                    s.close()
                    return
                elif op in (1, 2):
                    with self.lock:
                        self.received.append(data)
                    got += 1
                    if got >= after:
                        with self.lock:
                            self.drops[how] += 1
                        if how == "rst":
                            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                        else:
                            s.shutdown(socket.SHUT_RDWR)
                        s.close()
                        return
        except (OSError, AttributeError):
            pass
        finally:
            try:
                s.close()
            except OSError:
                pass


def feed(proc, n, pace_ms):
    try:
        if pace_ms:
            for i in range(1, n + 1):
                proc.stdin.write(b'{"n":%d}\n' % i)
                proc.stdin.flush()
                time.sleep(pace_ms / 1000.0)
        else:
            proc.stdin.write(b"".join(b'{"n":%d}\n' % i for i in range(1, n + 1)))
        proc.stdin.close()
    except BrokenPipeError:
        pass


def parse_reported(stderr):
    """Line numbers wsc reported as possibly lost (or discarded)."""
    lost = set()
    for m in re.finditer(r"possibly lost.*?: lines? ([0-9,\-]+)", stderr):
        for part in m.group(1).split(","):
            a, _, b = part.partition("-")
            lost.update(range(int(a), int(b or a) + 1))
    for m in re.finditer(r"discarded.*\(not sent: lines? ([0-9,\-]+)\)", stderr):
        for part in m.group(1).split(","):
            a, _, b = part.partition("-")
            lost.update(range(int(a), int(b or a) + 1))
    return lost


def run_chaos(args, mode, at_least_once):
    srv = ChaosServer(args.seed, args.max_after)
    cmd = [args.wsc, "--json", "--timeout", "5", "--max", "0", "--no-store", "-w", "0",
           "ws://127.0.0.1:%d/" % srv.port]
    if at_least_once:
        cmd.insert(1, "--at-least-once")
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    err_chunks = []
    t = threading.Thread(target=lambda: err_chunks.append(p.stderr.read()), daemon=True)
    t.start()
    feed(p, args.messages, args.pace_ms if mode == "paced" else 0)
    try:
        rc = p.wait(timeout=args.timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        rc = "timeout"
    t.join(5)
    secs = time.monotonic() - t0
    srv.stop()
    stderr = (err_chunks[0] if err_chunks else b"").decode("utf-8", "replace")
    with srv.lock:
        nums = [json.loads(d)["n"] for d in srv.received]
        conns, drops = srv.conns, dict(srv.drops)
    seen, first, dups = set(), [], 0
    for n in nums:
        if n in seen:
            dups += 1
        else:
            seen.add(n)
            first.append(n)
    missing = sorted(set(range(1, args.messages + 1)) - seen)
    reported = parse_reported(stderr)
    in_order = first == sorted(first)
    r = {
        "mode": mode, "delivery": "at-least-once" if at_least_once else "default", "exit": rc,
        "seconds": round(secs, 2), "connections": conns, "reconnects": max(conns - 1, 0), "drops": drops,
        "delivered_distinct": len(seen), "duplicates": dups, "missing": len(missing),
        "reported_lost": len(reported), "missing_unreported": len(set(missing) - reported),
        "first_delivery_in_order": in_order,
    }
    # The reconnect floor applies where the input keeps the client going:
    # at-least-once, and paced input. With burst input and the default
    # mode, each drop reports a whole batch (hundreds of lines) at once, so
    # the input runs out after a few connections.
    enough = conns - 1 >= args.min_reconnects or (mode == "burst" and not at_least_once)
    if at_least_once:
        r["pass"] = rc == 0 and not missing and in_order and enough
    else:
        r["pass"] = (not set(missing) - reported) and (rc != 0 if reported or missing else rc == 0) and enough
    return r


def cost(args):
    serve = subprocess.Popen([args.wsc, "serve", "--echo", "--port", "0"], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL)
    url = serve.stdout.readline().decode().strip()
    res = {}
    try:
        for size, total in ((1024, args.total_1k), (65536, args.total_64k)):
            for rep in range(args.reps):
                for mode in ("off", "on"):
                    out = subprocess.run([args.bench, mode, url, str(total), str(size)], stdout=subprocess.PIPE,
                                         timeout=120).stdout.decode()
                    m = re.search(r"MBps=([0-9.]+)", out)
                    if m:
                        res.setdefault((size, mode), []).append(float(m.group(1)))
    finally:
        serve.terminate()
        serve.wait(5)
    print("| size | without confirmation MB/s (median / best) | with confirmation MB/s (median / best) | "
          "change of the median | change of the best |")
    print("|---|---|---|---|---|")
    for size in (1024, 65536):
        off, on = res.get((size, "off"), [0]), res.get((size, "on"), [0])
        mo, mn = statistics.median(off), statistics.median(on)
        bo, bn = max(off), max(on)
        print("| %d | %.0f / %.0f | %.0f / %.0f | %+.1f%% | %+.1f%% |" % (
            size, mo, bo, mn, bn, (mn / mo - 1) * 100 if mo else 0, (bn / bo - 1) * 100 if bo else 0))
    print("(%d alternating runs of each; MB/s = echoed bytes per second)" % args.reps)
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=["chaos", "cost"])
    ap.add_argument("--wsc", default=os.path.join(ROOT, "build", "wsc"))
    ap.add_argument("--bench", default=os.path.join(ROOT, "build", "bench_delivery"))
    ap.add_argument("--messages", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--max-after", type=int, default=80)
    ap.add_argument("--pace-ms", type=float, default=2)
    ap.add_argument("--modes", default="burst,paced")
    ap.add_argument("--min-reconnects", type=int, default=200)
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--reps", type=int, default=9)
    ap.add_argument("--total-1k", type=int, default=300_000_000, help="cost: bytes per 1 KiB run")
    ap.add_argument("--total-64k", type=int, default=2_000_000_000, help="cost: bytes per 64 KiB run")
    ap.add_argument("--json", action="store_true", help="one JSON object per run instead of the table")
    args = ap.parse_args()
    if args.what == "cost":
        return cost(args)
    ok = True
    rows = []
    for mode in args.modes.split(","):
        for alo in (True, False):
            r = run_chaos(args, mode, alo)
            rows.append(r)
            ok &= r["pass"]
            if args.json:
                print(json.dumps(r), flush=True)
    if not args.json:
        print("| input | delivery | exit | reconnects (FIN/RST) | delivered | duplicates | missing | "
              "reported lost | missing not reported | in order | seconds | pass |")
        print("|---|---|---|---|---|---|---|---|---|---|---|---|")
        for r in rows:
            print("| %s | %s | %s | %d (%d/%d) | %d/%d | %d | %d | %d | %d | %s | %s | %s |" % (
                r["mode"], r["delivery"], r["exit"], r["reconnects"], r["drops"]["fin"], r["drops"]["rst"],
                r["delivered_distinct"], args.messages, r["duplicates"], r["missing"], r["reported_lost"],
                r["missing_unreported"], "yes" if r["first_delivery_in_order"] else "NO", r["seconds"],
                "yes" if r["pass"] else "NO"))
        print("(seed %d, %d messages, drop after 1-%d messages)" % (args.seed, args.messages, args.max_after))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
