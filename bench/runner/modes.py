"""bench/runner/modes.py - the sections of bench/run.py that run the clients
of the contract: check, the pinned and unpinned matrix (calibrated,
interleaved), callgrind, strace, idle connections, the size sweep, wss and
permessage-deflate."""
import os
import re
import resource
import time

from .common import *  # noqa: F401,F403


# --------------------------------------------------------------------------
# the sections


def tests(args):
    """(key, title, mode, nums, unit)"""
    return [
        ("lat", f"round trips of {args.latency_size} B text", "latency", (args.latency_count, args.latency_size), "msgs"),
        ("tpL", f"{size_name(args.large_size)} binary echo", "throughput", (args.large_total, args.large_size), "MB"),
        ("tpS", f"{size_name(args.small_size)} binary echo", "throughput", (args.small_total, args.small_size), "MB"),
        ("tpH", f"{size_name(args.huge_size)} binary echo", "throughput", (args.huge_total, args.huge_size), "MB"),
    ]


def scaled(B, c, mode, nums, key):
    """The work one run of client c does. Calibrated (see calibrate()) so that
    each run takes about --target-seconds; before that, or without
    calibration, the slow interpreted clients get a fixed fraction. The rate
    is per second either way, so the figures stay comparable."""
    args = B.args
    f = B.work.get((key, c))
    if f is None:
        f = args.python_work if c == "python" else args.node_work if c == "node" else 1.0
    a, b = nums
    if mode == "throughput":
        a = max(b * 8, int(a * f) // b * b)
    else:
        a = max(64, int(a * f))
    return (a, b)


def calibrate(B, c, key, mode, nums, srv, pin, target):
    """One run at the base work, then a factor so that a run takes ~target s."""
    if not target or (key, c) in B.work:
        return
    n = scaled(B, c, mode, nums, key)
    rec = B.run_client(c, mode, srv.url, n, pin=pin, server=srv, expect_msgs=expected_msgs(mode, n))
    if "error" in rec or rec.get("seconds", 0) <= 0:
        return
    f0 = n[0] / nums[0]
    B.work[(key, c)] = f0 * min(64.0, max(1 / 16, target / rec["seconds"]))


def expected_msgs(mode, nums):
    return nums[0] if mode == "latency" else -(-nums[0] // nums[1])


def section_matrix(B, clients, pinned):
    args = B.args
    name = "pinned" if pinned else "unpinned"
    ws = B.start("lean", pinned)
    raw = B.start("raw", pinned)
    try:
        # calibrated per mode: unpinned round trips can be several times slower (cross-CPU wake-ups)
        for key, title, mode, nums, unit in tests(args):
            for c in clients:
                calibrate(B, c, (name, key), mode, nums, raw if c == "raw" else ws, pinned, args.target_seconds)
        for rep in range(args.reps):
            for key, title, mode, nums, unit in tests(args):
                for c in clients:
                    srv = raw if c == "raw" else ws
                    url = srv.url
                    n = scaled(B, c, mode, nums, (name, key))
                    rec = B.run_client(c, mode, url, n, pin=pinned, server=srv, expect_msgs=expected_msgs(mode, n))
                    B.add((name, key, c), rec)
                log(f"  {name} rep {rep + 1}/{args.reps} {key}: " + ", ".join(
                    f"{c}={fmt(rate(B.data[(name, key, c)][-1], unit), 1 if unit == 'MB' else 0)}" for c in clients))
    finally:
        ws.stop()
        raw.stop()


def section_callgrind(B, clients):
    args = B.args
    n1, n2 = args.cg_counts
    ws = B.start("lean", False)
    raw = B.start("raw", False)
    try:
        for c in clients:
            if args.quick and c in INTERPRETED:
                continue
            irs = []
            for n in (n1, n2):
                srv = raw if c == "raw" else ws
                rec = B.run_client(c, "latency", srv.url, (n, args.latency_size), server=srv,
                                   wrap=["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
                                         "--trace-children=no"], timeout=600)
                m = re.findall(r"Collected : (\d+)", rec["stderr"])
                irs.append(int(m[-1]) if m and rec["rc"] == 0 else None)
                if rec["rc"] != 0:
                    ERRORS.append(f"callgrind {c} {n}: exit {rec['rc']}: {rec['stderr'][-300:]}")
            per = (irs[1] - irs[0]) / (n2 - n1) if None not in irs else None
            B.add(("callgrind", c), {"ir": irs, "per_rt": per})
            log(f"  callgrind {c}: {fmt(per)} instructions per round trip")
    finally:
        ws.stop()
        raw.stop()


def parse_strace(path):
    calls = {}
    try:
        with open(path) as f:
            for line in f:
                t = line.split()
                if len(t) >= 5 and re.match(r"^\d+\.\d+$", t[0]) and t[-1] != "total":
                    calls[t[-1]] = int(t[3])
    except OSError:
        pass
    return calls


def section_syscalls(B, clients):
    args = B.args
    n1, n2 = args.cg_counts
    ws = B.start("lean", False)
    raw = B.start("raw", False)
    try:
        for c in clients:
            counts = []
            for n in (n1, n2):
                srv = raw if c == "raw" else ws
                out = os.path.join(BB, f"strace-{c}-{n}.txt")
                if os.path.exists(out):
                    os.unlink(out)
                B.run_client(c, "latency", srv.url, (n, args.latency_size), server=srv,
                             wrap=["strace", "-f", "-c", "-o", out], timeout=300)
                counts.append(parse_strace(out))
            if counts[0] and counts[1]:
                names = set(counts[0]) | set(counts[1])
                diff = {k: (counts[1].get(k, 0) - counts[0].get(k, 0)) / (n2 - n1) for k in names}
                per = sum(diff.values())
                top = sorted(((v, k) for k, v in diff.items() if v >= 0.05), reverse=True)[:4]
                B.add(("syscalls", c), {"per_rt": per, "top": [(k, v) for v, k in top]})
                log(f"  strace {c}: {per:.2f} system calls per round trip ({', '.join(f'{k} {v:.2f}' for v, k in top)})")
            else:
                B.add(("syscalls", c), {"per_rt": None, "top": []})
    finally:
        ws.stop()
        raw.stop()


def fd_cap():
    """The most connections one process can hold here: the descriptor limit
    less a margin for the process's other descriptors."""
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0] - 64


def section_conns(B, clients, ns, kind="lean", tag="conns"):
    for n0 in ns:
        n = min(n0, fd_cap())
        if n != n0:
            B.notes.append(f"N={n0} connections asked for, {n} measured: the descriptor limit here is "
                           f"{resource.getrlimit(resource.RLIMIT_NOFILE)[1]} and cannot be raised (no "
                           "CAP_SYS_RESOURCE); every process needs a few descriptors besides its sockets.")
            B.conns_actual[n0] = n
        for c in clients:
            srv = B.start(("rawtls" if kind == "tls" else "raw") if c == "raw" else kind, False)
            try:
                base = srv.mem_kb()
                rec = B.run_client(c, "conns", srv.url, (n,), server=srv, deflate=(kind == "deflate"),
                                   tls=(kind == "tls"), expect_msgs=0, timeout=max(120, n / 50))
                # the server role's cost: its peak resident memory (all N open
                # at once, idle) over its memory before the first connection
                peak = srv.mem_kb("VmHWM")
                if base is not None and peak is not None and "error" not in rec:
                    rec["server_bytes_per_conn"] = (peak - base) * 1024 // n
            finally:
                srv.stop()
            B.add((tag, n0, c), rec)
            log(f"  {tag} N={n} {c}: {fmt(rec.get('bytes_per_conn'))} bytes per connection")


def sweep_sizes(args):
    return args.sweep_sizes


def sweep_total(args, size):
    """Bytes to move at one size: ~0.3-1 s for the fastest clients."""
    return min(args.sweep_max_total, max(size * args.sweep_min_msgs, args.sweep_min_total))


def section_sweep(B, clients):
    args = B.args
    ws = B.start("lean", True)
    raw = B.start("raw", True)
    try:
        for size in sweep_sizes(args):
            for c in clients:
                calibrate(B, c, ("sweep", size), "throughput", (sweep_total(args, size), size),
                          raw if c == "raw" else ws, True, args.sweep_target)
        for rep in range(args.sweep_reps):
            for size in sweep_sizes(args):
                total = sweep_total(args, size)
                for c in clients:
                    srv = raw if c == "raw" else ws
                    n = scaled(B, c, "throughput", (total, size), ("sweep", size))
                    rec = B.run_client(c, "throughput", srv.url, n, pin=True, server=srv,
                                       expect_msgs=expected_msgs("throughput", n))
                    B.add(("sweep", size, c), rec)
                log(f"  sweep rep {rep + 1} {size_name(size)}: " + ", ".join(
                    f"{c}={fmt(rate(B.data[('sweep', size, c)][-1], 'MB'), 1)}" for c in clients))
    finally:
        ws.stop()
        raw.stop()


def idle_spin(srv, seconds=0.3):
    """The fraction of a CPU an echo server uses with no client connected:
    anything well above 0 is a server stuck in a loop."""
    c0 = srv.cpu()
    time.sleep(seconds)
    return (srv.cpu() - c0) / seconds


def section_tls(B, clients):
    """wss beside ws. The wss server is started afresh for every run and
    checked for idle CPU afterwards: a server left spinning by one client's
    closing handshake must neither slow down nor hang the next client."""
    args = B.args
    ws = B.start("lean", True)
    raw = B.start("raw", True)
    spun = []
    try:
        for rep in range(args.side_reps):
            for key, title, mode, nums, unit in tests(args):
                for c in clients:
                    n = scaled(B, c, mode, nums, ("pinned", key))
                    for tls in (False, True):
                        if c == "raw":
                            srv = B.start("rawtls", True) if tls else raw
                        else:
                            srv = B.start("tls", True) if tls else ws
                        try:
                            rec = B.run_client(c, mode, srv.url, n, pin=True, server=srv, tls=tls,
                                               expect_msgs=expected_msgs(mode, n))
                            if tls and idle_spin(srv) > 0.5:
                                spun.append(f"{c} {key}")
                        finally:
                            if tls:
                                srv.stop()
                        B.add(("tls", key, c, tls), rec)
            log(f"  tls rep {rep + 1} done")
    finally:
        ws.stop()
        raw.stop()
    if spun:
        B.notes.append(f"The wss echo server kept a CPU busy with no client connected after {len(spun)} of the wss "
                       f"runs ({', '.join(sorted(set(spun)))}): a server bug, see docs/PERFORMANCE.md. Each wss run "
                       "has a fresh server, so it did not affect the figures.")
        log(f"  warning: the wss server spun after {', '.join(spun)}")


def section_deflate(B, clients):
    args = B.args
    ws = B.start("lean", True)
    dws = B.start("deflate", True)
    try:
        for rep in range(args.side_reps):
            for key, title, mode, nums, unit in tests(args):
                for c in clients:
                    if c == "lws" and key == "lat":
                        # lws 4.1.6 drops uncompressed frames (RSV1 = 0) that arrive on a
                        # deflate connection (RFC 7692 allows them; wsc's server sends
                        # messages under 64 bytes uncompressed): the run would only time out.
                        continue
                    n = scaled(B, c, mode, nums, ("pinned", key))
                    for defl, srv in ((False, ws), (True, dws)):
                        rec = B.run_client(c, mode, srv.url, n, pin=True, server=srv, deflate=defl,
                                           expect_msgs=expected_msgs(mode, n))
                        B.add(("deflate", key, c, defl), rec)
            log(f"  deflate rep {rep + 1} done")
    finally:
        ws.stop()
        dws.stop()


def section_deflate_floor(B):
    """bench/deflate_floor.py (zlib alone against wsc without and with
    permessage-deflate, on JSON and random payloads): its Markdown table."""
    argv = [PY, os.path.join(ROOT, "bench", "deflate_floor.py"), "--wsc", B.wsc,
            "--zlib-floor", os.path.join(BIN, "zlib_floor")] + (["--quick"] if B.args.quick else [])
    rc, out, err, _ = run(argv, 900)
    if rc != 0:
        ERRORS.append(f"deflate-floor: exit {rc}: {err.decode(errors='replace').strip()[-300:]}")
        log(f"  ERROR deflate-floor: exit {rc}")
    B.add(("deflate-floor",), out.decode(errors="replace").strip() if rc == 0 else None)


CORRUPT_SERVER = r'''
import asyncio, sys, websockets
K = int(sys.argv[1])
async def echo(ws, path=None):
    i = 0
    async for m in ws:
        if i == K:
            if isinstance(m, str):
                m = m[:-1] + chr(ord(m[-1]) ^ 1)
            else:
                m = m[:-1] + bytes([m[-1] ^ 1])
        i += 1
        await ws.send(m)
async def main():
    async with websockets.serve(echo, "127.0.0.1", 0, compression=None, max_size=None) as s:
        port = s.sockets[0].getsockname()[1]
        print(f"ws://127.0.0.1:{port}/", flush=True)
        await asyncio.sleep(600)
asyncio.run(main())
'''


def section_check(B, clients):
    """Each client must fail (non-zero exit) when one echo comes back corrupted."""
    results = {}
    raw = Server("raw-corrupt", [os.path.join(BIN, "raw_server"), "--corrupt", "5"])
    bad = Server("ws-corrupt", [PY, "-c", CORRUPT_SERVER, "5"])
    try:
        for c in clients:
            srv = raw if c == "raw" else bad
            outcome = []
            for mode, nums in (("latency", (20, 32)), ("throughput", (200 * 1024, 1024))):
                argv = B.client_argv(c, mode, srv.url, nums)
                rc, out, err, _ = run(argv, 60)
                caught = rc != 0 and rc != -999 and not out.strip()
                outcome.append((mode, rc, caught, err.decode(errors="replace").strip().splitlines()[-1:]))
                if not caught:
                    ERRORS.append(f"check {c} {mode}: a corrupted echo was NOT detected (exit {rc}, stdout {out!r})")
            results[c] = outcome
            log(f"  check {c}: " + ", ".join(f"{m} {'detected' if ok else 'NOT DETECTED'} (exit {rc})"
                                             for m, rc, ok, _ in outcome))
    finally:
        raw.stop()
        bad.stop()
    B.add(("check",), results)
