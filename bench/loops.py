#!/usr/bin/python3
"""bench/loops.py - wsc's loop backends and the foreign-loop adapters side by
side (issue 13): bench_loops (bench/bench_loops.c) on each driver -- epoll,
poll (wsc's own loop), libuv, libevent, glib, libev (through
<wsc/adapters/>) -- plus `wsc bench` itself (the figure docs/PERFORMANCE.md
recorded before the backends existed), against one `wsc serve --lean` on
127.0.0.1. Server pinned to CPU 0, clients to CPU 1 (taskset, when there
are two CPUs and taskset exists; --pin same puts both on CPU 0, where the
loop's own CPU cost weighs more in the rates).

  bench/loops.py [--build build] [--reps 5] [--quick] [--pin split|same|none]
                 [--sections rates,callgrind,strace]

Sections:
  rates      latency (COUNT=20000 round trips of 32 B text) and throughput
             (256 MiB of 64 KiB binary messages, 64 in flight), every driver
             once per repetition, interleaved (the order rotates from one
             repetition to the next), --reps repetitions; medians, and ratios
             to epoll's median of the same repetitions; and the client's CPU
             time per message (getrusage), less sensitive to a shared
             machine than the rates.
  callgrind  instructions per round trip, client only:
             (Ir(latency 2000) - Ir(latency 1000)) / 1000 under callgrind.
  strace     system calls per round trip, the same differencing under
             strace -f -c, with the calls that make them up.

Prints a Markdown report and writes it to bench/results/loops.md. Every
process it starts runs in its own process group and is stopped at exit.
"""
import argparse
import datetime
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULT = re.compile(r"^RESULT (\w+) msgs=(\d+) bytes=(\d+) seconds=([0-9.]+)(?: cpu_seconds=([0-9.]+))?", re.M)
REFERENCE = "wsc bench"  # the CLI: wsc's own loop, default backend (epoll)

procs = []


def stop_all(*_):
    for p in procs:
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    for p in procs:
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)


def die(msg):
    print("loops.py: " + msg, file=sys.stderr)
    stop_all()
    sys.exit(1)


def start_server(wsc, pin):
    out = tempfile.NamedTemporaryFile(prefix="loops-serve-", delete=False)
    p = subprocess.Popen(pin + [wsc, "serve", "--port", "0", "--lean"], stdout=out, stderr=subprocess.STDOUT,
                         start_new_session=True)
    procs.append(p)
    deadline = time.time() + 10
    while time.time() < deadline:
        with open(out.name) as f:
            m = re.search(r"ws://127\.0\.0\.1:\d+/", f.read())
        if m:
            os.unlink(out.name)
            return p, m.group(0)
        if p.poll() is not None:
            break
        time.sleep(0.05)
    die("the server did not print its URL within 10 s")


def client_cmd(args, drv, mode, url, n, size):
    if drv == REFERENCE:
        # --api loop: the reference is wsc's own loop (latency would otherwise
        # run on the blocking API, sync.h, which is no loop at all).
        return [args.wsc, "bench", "--api", "loop", mode, url, str(n), str(size)]
    return [args.binaries[drv], drv, mode, url, str(n), str(size)]


def run(cmd, timeout):
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    procs.append(p)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.communicate()
        die("timed out: " + " ".join(cmd))
    procs.remove(p)
    if p.returncode != 0:
        die("failed (%d): %s\n%s" % (p.returncode, " ".join(cmd), err[-2000:]))
    return out, err


def rate(args, drv, mode, url, n, size):
    """(rate, client CPU microseconds per message, or None). The CPU time is
    bench_loops' own over the exchange (cpu_seconds); `wsc bench` does not
    report one."""
    out, _ = run(args.pin_client + client_cmd(args, drv, mode, url, n, size), args.timeout)
    m = RESULT.search(out)
    if not m:
        die("no RESULT line from %s: %r" % (drv, out))
    msgs, nbytes, secs = int(m.group(2)), int(m.group(3)), float(m.group(4))
    cpu = float(m.group(5)) / msgs * 1e6 if m.group(5) else None
    return (msgs / secs if mode == "latency" else nbytes / secs / 1e6), cpu


def instructions(args, drv, url, mode, n, size):
    cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"] + client_cmd(
        args, drv, mode, url, n, size)
    _, err = run(args.pin_client + cmd, args.timeout * 4)
    m = re.search(r"Collected : (\d+)", err)
    if not m:
        die("no callgrind total for " + drv)
    return int(m.group(1))


def syscalls(args, drv, url, mode, n, size):
    """{name: calls} of the whole client process (all threads)."""
    with tempfile.NamedTemporaryFile(prefix="loops-strace-", delete=False) as f:
        path = f.name
    run(args.pin_client + ["strace", "-f", "-c", "-o", path] +
        client_cmd(args, drv, mode, url, n, size), args.timeout * 2)
    calls = {}
    with open(path) as f:
        for line in f:
            fields = line.split()
            # % time, seconds, usecs/call, calls, [errors], syscall
            if len(fields) in (5, 6) and re.match(r"^[0-9.]+$", fields[0]) and fields[-1] != "total":
                calls[fields[-1]] = int(fields[3])
    os.unlink(path)
    return calls


def fmt(x, digits=0):
    return "{:,.{d}f}".format(x, d=digits)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"), help="CMake build directory (default build/)")
    ap.add_argument("--wsc", help="wsc binary (default BUILD/wsc)")
    ap.add_argument("--drivers", help="comma-separated subset (default: every driver built, and 'wsc bench')")
    ap.add_argument("--sections", default="rates,callgrind,strace")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--latency-count", type=int, default=20000)
    ap.add_argument("--latency-size", type=int, default=32)
    ap.add_argument("--large-total", type=int, default=256 << 20)
    ap.add_argument("--large-size", type=int, default=64 << 10)
    ap.add_argument("--cg-counts", default="1000,2000", help="round trips, for instructions and system calls")
    ap.add_argument("--cg-large", default="256,512", help="64 KiB messages, the same")
    ap.add_argument("--timeout", type=int, default=120, help="seconds per client run (callgrind: x4)")
    ap.add_argument("--pin", choices=("split", "same", "none"), default="split",
                    help="split: server on CPU 0, clients on CPU 1 (default); same: both on CPU 0; none")
    ap.add_argument("--quick", action="store_true", help="1 repetition, small amounts: a smoke test")
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "results", "loops.md"))
    args = ap.parse_args()
    if args.quick:
        args.reps, args.latency_count, args.large_total, args.cg_counts, args.cg_large = 1, 2000, 16 << 20, "200,400", "64,128"
    args.wsc = args.wsc or os.path.join(args.build, "wsc")
    sections = set(args.sections.split(","))
    signal.signal(signal.SIGTERM, lambda *_: (stop_all(), sys.exit(1)))

    # Which driver runs in which program (libev has a program of its own:
    # bench/CMakeLists.txt says why).
    args.binaries, mechanisms = {}, {}
    for prog in ("bench_loops", "bench_loops_libev"):
        path = os.path.join(args.build, "bench", prog)
        if not os.access(path, os.X_OK):
            continue
        for line in subprocess.run([path, "--list"], capture_output=True, text=True, check=True).stdout.splitlines():
            name, mech = line.split(" ", 1)
            if name not in args.binaries:
                args.binaries[name], mechanisms[name] = path, mech
    if "epoll" not in args.binaries:
        die("no %s/bench/bench_loops with the epoll driver (needs libuv and libevent: libuv1-dev, libevent-dev)"
            % args.build)
    if not os.access(args.wsc, os.X_OK):
        die("no wsc binary at " + args.wsc)
    drivers = list(args.binaries) + [REFERENCE]
    if args.drivers:
        want = args.drivers.split(",")
        drivers = [d for d in drivers if d in want or d == "epoll"]
    mechanisms[REFERENCE] = "epoll"
    for sec, tool in (("callgrind", "valgrind"), ("strace", "strace")):
        if sec in sections and not shutil.which(tool):
            die("%s is not installed (apt-get install %s), or leave it out: --sections rates" % (tool, tool))

    if args.pin != "none" and not shutil.which("taskset"):
        args.pin = "none"
    if args.pin == "split" and (os.cpu_count() or 1) < 2:
        args.pin = "same"
    pin_server = [] if args.pin == "none" else ["taskset", "-c", "0"]
    args.pin_client = {"none": [], "same": ["taskset", "-c", "0"], "split": ["taskset", "-c", "1"]}[args.pin]
    where = {"none": ("unpinned", "unpinned"), "same": ("on CPU 0", "on CPU 0 too"),
             "split": ("on CPU 0", "on CPU 1")}[args.pin]
    load0 = os.getloadavg()
    started = datetime.datetime.now()
    _, url = start_server(args.wsc, pin_server)
    print("server %s (%s), drivers: %s" % (url, where[0], ", ".join(drivers)), file=sys.stderr)

    lat, thr = {d: [] for d in drivers}, {d: [] for d in drivers}
    lat_cpu, thr_cpu = {d: [] for d in drivers}, {d: [] for d in drivers}
    if "rates" in sections:
        for rep in range(args.reps):
            order = drivers[rep % len(drivers):] + drivers[:rep % len(drivers)]
            for d in order:
                r, c = rate(args, d, "latency", url, args.latency_count, args.latency_size)
                lat[d].append(r)
                if c is not None:
                    lat_cpu[d].append(c)
            for d in order:
                r, c = rate(args, d, "throughput", url, args.large_total, args.large_size)
                thr[d].append(r)
                if c is not None:
                    thr_cpu[d].append(c)
            print("rep %d/%d done" % (rep + 1, args.reps), file=sys.stderr)

    # Differenced between two amounts of work, so start-up and the handshake
    # cancel: per round trip of latency, and per 64 KiB message of
    # throughput (where the window makes interest changes, so the hooks run).
    ir, irl = {}, {}
    lo, hi = (int(x) for x in args.cg_counts.split(","))
    llo, lhi = (int(x) for x in args.cg_large.split(","))
    big = args.large_size
    if "callgrind" in sections:
        for d in drivers:
            ir[d] = (instructions(args, d, url, "latency", hi, args.latency_size) -
                     instructions(args, d, url, "latency", lo, args.latency_size)) / (hi - lo)
            irl[d] = (instructions(args, d, url, "throughput", lhi * big, big) -
                      instructions(args, d, url, "throughput", llo * big, big)) / (lhi - llo)
            print("callgrind %s: %.0f, %.0f" % (d, ir[d], irl[d]), file=sys.stderr)

    sc, scl, sc_detail, scl_detail = {}, {}, {}, {}

    def diff(a, b, n):
        per = {k: (b.get(k, 0) - a.get(k, 0)) / n for k in set(a) | set(b)}
        return (sum(b.values()) - sum(a.values())) / n, sorted(((v, k) for k, v in per.items() if v >= 0.005),
                                                               reverse=True)
    if "strace" in sections:
        for d in drivers:
            sc[d], sc_detail[d] = diff(syscalls(args, d, url, "latency", lo, args.latency_size),
                                       syscalls(args, d, url, "latency", hi, args.latency_size), hi - lo)
            scl[d], scl_detail[d] = diff(syscalls(args, d, url, "throughput", llo * big, big),
                                         syscalls(args, d, url, "throughput", lhi * big, big), lhi - llo)
    stop_all()
    load1 = os.getloadavg()

    # ---- the report -------------------------------------------------------
    L = []
    L.append("Made by `bench/loops.py %s` on %s (%.1f min); machine: %d CPUs, load average %.1f at the start, "
             "%.1f at the end (shared with other work)." % (" ".join(sys.argv[1:]), started.strftime("%Y-%m-%d %H:%M"),
                                                            (datetime.datetime.now() - started).total_seconds() / 60,
                                                            os.cpu_count() or 1, load0[0], load1[0]))
    L.append("Server `wsc serve --port 0 --lean` %s, clients %s. Rates: %d repetitions, medians, interleaved; "
             "latency %d round trips of %d B text, throughput %s MiB of %d KiB binary messages, 64 in flight. "
             "Instructions and system calls: client only, (x(%d) - x(%d)) / %d round trips of %d B, "
             "and (x(%d) - x(%d)) / %d messages of 64 KiB (throughput, 64 in flight)."
             % (where[0], where[1], args.reps, args.latency_count,
                args.latency_size, fmt(args.large_total / (1 << 20)), args.large_size >> 10, hi, lo, hi - lo,
                args.latency_size, lhi, llo, lhi - llo))
    L.append("")
    L.append("| driver | kernel mechanism | round trips/s | x epoll | 64 KiB MB/s | x epoll "
             "| client CPU µs per round trip | per 64 KiB message "
             "| instructions per round trip | per 64 KiB message | system calls per round trip | per 64 KiB message |")
    L.append("|---|---|---|---|---|---|---|---|---|---|---|---|")
    med = lambda v: statistics.median(v) if v else None
    e_lat, e_thr = med(lat["epoll"]), med(thr["epoll"])
    for d in drivers:
        ml, mt = med(lat[d]), med(thr[d])
        name = "`wsc bench` (cli/bench.c, for reference)" if d == REFERENCE else (
            "**%s**" % d if d in ("epoll", "poll") else "%s adapter" % d)
        cl, ct = med(lat_cpu[d]), med(thr_cpu[d])
        L.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            name, mechanisms.get(d, "?"),
            fmt(ml) if ml else "-", "%.2f" % (ml / e_lat) if ml else "-",
            fmt(mt, 1) if mt else "-", "%.2f" % (mt / e_thr) if mt else "-",
            "%.2f" % cl if cl else "-", "%.1f" % ct if ct else "-",
            fmt(ir[d]) if d in ir else "-", fmt(irl[d]) if d in irl else "-",
            "%.2f" % sc[d] if d in sc else "-", "%.2f" % scl[d] if d in scl else "-"))
    if "rates" in sections and args.reps > 1:
        # On a shared machine the fastest run is the least disturbed one:
        # the best of the repetitions is a second view beside the medians.
        b_lat, b_thr = max(lat["epoll"]), max(thr["epoll"])
        L.append("")
        L.append("Best of the %d repetitions (the least disturbed run of each):" % args.reps)
        L.append("")
        L.append("| driver | round trips/s | x epoll | 64 KiB MB/s | x epoll |")
        L.append("|---|---|---|---|---|")
        for d in drivers:
            L.append("| %s | %s | %.2f | %s | %.2f |" % (d, fmt(max(lat[d])), max(lat[d]) / b_lat,
                                                       fmt(max(thr[d]), 1), max(thr[d]) / b_thr))
    if sc_detail:
        L.append("")
        L.append("System calls by name:")
        L.append("")
        L.append("| driver | per round trip | per 64 KiB message |")
        L.append("|---|---|---|")
        for d in drivers:
            L.append("| %s | %s | %s |" % (d, ", ".join("%s %.2f" % (k, v) for v, k in sc_detail[d]) or "-",
                                          ", ".join("%s %.2f" % (k, v) for v, k in scl_detail[d]) or "-"))
    if "rates" in sections:
        L.append("")
        L.append("Client CPU: bench_loops' user + system time over the exchange (getrusage), per message. "
                 "Every repetition (round trips/s; MB/s):")
        L.append("")
        for d in drivers:
            L.append("- %s: %s; %s" % (d, " ".join(fmt(x) for x in lat[d]), " ".join(fmt(x, 1) for x in thr[d])))
    report = "\n".join(L) + "\n"
    print(report)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        f.write(report)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        stop_all()
        sys.exit(130)
    finally:
        stop_all()
