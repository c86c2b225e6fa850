#!/usr/bin/python3
"""bench/deflate_floor.py - what permessage-deflate costs wsc, against
zlib's own deflate+inflate speed on the same bytes in the same run.

    /usr/bin/python3 bench/deflate_floor.py            # 5 reps, ~0.5 s per run (~2 min)
    /usr/bin/python3 bench/deflate_floor.py --quick    # smoke run (~10 s)

For each payload (bench/payload.h: json = json_msg.h's 880-byte message and
64 KiB document, sent as text; random = seeded incompressible bytes, 1 KiB
and 64 KiB, binary), interleaved over the repetitions:
  zlib floor  bench/zlib_floor: one client deflate + server inflate + server
              deflate + client inflate per message (raw, windowBits 15,
              level 6, memLevel 8, context takeover: wsc's defaults), no I/O
  wsc off     `wsc bench --payload P throughput` against `wsc serve --lean`
  wsc on      the same with --deflate, against `wsc serve -q` (accepts
              permessage-deflate with its defaults, as bench/runner's
              deflate section)
Everything on CPU 0 (taskset; the echo server and the client share it, as
bench/run.py's pinned runs do), so each figure is the whole round trip's
CPU: both ends' zlib work plus, for wsc, framing, masking, system calls.
MB/s are of payload (message bytes echoed per second); medians of the
repetitions; ratios wsc-on / zlib floor and wsc-on / wsc-off. The machine
is shared: the load average is printed with the table.

Builds nothing: it uses BUILD/wsc and BUILD/bench/zlib_floor
(`cmake --build build --target wsc_cli zlib_floor`), or --wsc and
--zlib-floor. bench/run.py runs it as its deflate-floor section. Only
127.0.0.1.
"""
import argparse
import os
import re
import select
import signal
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CASES = [("json", 880), ("json", 65536), ("random", 1024), ("random", 65536)]
RESULT = re.compile(r"^RESULT (\w+) msgs=(\d+) bytes=(\d+) seconds=([0-9.eE+-]+)(?: wire=(\d+))?$")
PROCS = []


def pin(argv):
    return ["taskset", "-c", "0"] + argv


class Server:
    def __init__(self, argv):
        self.p = subprocess.Popen(pin(argv), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                  stdin=subprocess.DEVNULL, start_new_session=True)
        PROCS.append(self.p)
        ready, _, _ = select.select([self.p.stdout], [], [], 10)
        self.url = self.p.stdout.readline().decode().strip() if ready else ""
        if not self.url:
            raise RuntimeError(f"{' '.join(argv)} printed no URL within 10 s")


def stop_all():
    for p in PROCS:
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGTERM)
                p.wait(timeout=3)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass


def run(argv, timeout=120):
    """One RESULT line -> (MB/s, wire or None); raises on any failure."""
    r = subprocess.run(pin(argv), capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)
    lines = [ln for ln in r.stdout.decode().splitlines() if ln.strip()]
    m = RESULT.match(lines[0]) if r.returncode == 0 and len(lines) == 1 else None
    if not m:
        raise RuntimeError(f"{' '.join(argv)}: exit {r.returncode}: {r.stderr.decode()[-300:]}")
    return int(m.group(3)) / float(m.group(4)) / 1e6, (int(m.group(5)) if m.group(5) else None)


def size_name(n):
    return f"{n // 1024} KiB" if n % 1024 == 0 else f"{n} B"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"), help="CMake build directory (default build/)")
    ap.add_argument("--reps", type=int, help="repetitions (default 5; --quick 1)")
    ap.add_argument("--secs", type=float, help="target seconds per run (default 0.5; --quick 0.1)")
    ap.add_argument("--quick", action="store_true", help="smoke run")
    ap.add_argument("--wsc", help="the wsc CLI (default BUILD/wsc)")
    ap.add_argument("--zlib-floor", help="the zlib_floor program (default BUILD/bench/zlib_floor)")
    args = ap.parse_args()
    reps = args.reps or (1 if args.quick else 5)
    secs = args.secs or (0.1 if args.quick else 0.5)
    wsc = args.wsc or os.path.join(args.build, "wsc")
    floor = args.zlib_floor or os.path.join(args.build, "bench", "zlib_floor")
    for exe in (wsc, floor):
        if not os.access(exe, os.X_OK):
            sys.exit(f"deflate_floor: {exe} not built (cmake --build {args.build} --target wsc_cli zlib_floor)")
    load0 = os.getloadavg()
    signal.signal(signal.SIGTERM, lambda s, f: sys.exit(128 + s))
    res = {}   # (payload, size, kind) -> [MB/s]
    wire = {}  # (payload, size) -> compressed bytes per message, client to server
    try:
        off = Server([wsc, "serve", "--port", "0", "--lean"])
        on = Server([wsc, "serve", "--port", "0", "-q"])

        def wsc_argv(p, n, defl, total):
            return [wsc, "bench", *(["--deflate"] if defl else []), "--payload", p, "throughput",
                    on.url if defl else off.url, str(total), str(n)]

        # Calibrate each wsc run to about `secs` seconds (rates differ 100x).
        total = {}
        for p, n in CASES:
            for defl in (False, True):
                r, _ = run(wsc_argv(p, n, defl, 64 * n))
                total[(p, n, defl)] = max(8 * n, min(4 << 30, int(r * 1e6 * secs)))
        for rep in range(reps):
            for p, n in CASES:
                r, w = run([floor, "--secs", str(secs), p, str(n)])
                res.setdefault((p, n, "floor"), []).append(r)
                wire[(p, n)] = w
                for defl in (False, True):
                    r, _ = run(wsc_argv(p, n, defl, total[(p, n, defl)]))
                    res.setdefault((p, n, "on" if defl else "off"), []).append(r)
            print(f"rep {rep + 1}/{reps} done", file=sys.stderr, flush=True)
    finally:
        stop_all()
    load1 = os.getloadavg()

    def m(k):
        return statistics.median(res[k])

    print(f"Pinned to CPU 0 (server and client share it), medians of {reps} interleaved repetitions, "
          f"~{secs:g} s per run; MB/s of payload echoed. Load average {load0[0]:.2f} before, "
          f"{load1[0]:.2f} after (2 CPUs, shared).\n")
    print("| payload | message | deflated (bytes) | zlib floor MB/s | wsc off MB/s | wsc on MB/s "
          "| on / zlib floor | on / off |")
    print("|---|---|---|---|---|---|---|---|")
    for p, n in CASES:
        fl, of, dn = m((p, n, "floor")), m((p, n, "off")), m((p, n, "on"))
        name = "JSON text" if p == "json" else "random (seeded)"
        print(f"| {name} | {size_name(n)} | {wire[(p, n)]:,} | {fl:,.1f} | {of:,.0f} | {dn:,.1f} "
              f"| {dn / fl:.2f} | {dn / of:.3f} |")


if __name__ == "__main__":
    main()
