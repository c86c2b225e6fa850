"""bench/run.py - wsc side by side with every peer client, in one command.

    /usr/bin/python3 bench/run.py            # everything (about 12-15 minutes)
    /usr/bin/python3 bench/run.py --quick    # smoke test (< 60 s)
    /usr/bin/python3 bench/run.py --help     # every option

Builds what it needs (scripts/bootstrap bench, wsc with CMake, the C clients
with cc into build-bench/), starts the echo servers (`wsc serve --lean` for
every WebSocket client, bench/clients/raw_server for the raw-TCP floor), and
runs each client of the `bench` contract (bench/README.md) interleaved, over
several repetitions, unpinned and pinned to one CPU; then instructions per
round trip (callgrind), system calls per round trip (strace), memory per idle
connection, a throughput sweep over message sizes (chart with gnuplot), wss
beside ws, the cost of permessage-deflate and the same against zlib alone
(bench/deflate_floor.py). Writes Markdown to
bench/results/latest.md (and raw figures to build-bench/results.json), prints
it, and with --update-docs puts it into docs/PERFORMANCE.md.

Only 127.0.0.1 is used. Every wait is bounded and every process this script
starts is stopped when it exits (normally, on error or on a signal).
"""
import argparse
import atexit
import json
import os
import re
import resource
import shutil
import signal
import sys
import time

from . import common
from .common import *  # noqa: F401,F403
from .clients import Bench, build, versions
from .modes import (section_callgrind, section_check, section_conns, section_deflate, section_deflate_floor,
                    section_matrix,
                    section_sweep, section_syscalls, section_tls)
from .servers import BROADCAST_SERVERS, section_broadcast
from .report import report
from .charts import write_chart, write_tls_chart, update_docs, machine_line


# --------------------------------------------------------------------------


def size_arg(s):
    m = re.match(r"^(\d+)\s*([KMG]i?B?|B)?$", s.strip(), re.I)
    if not m:
        raise argparse.ArgumentTypeError(f"bad size '{s}'")
    mult = {"": 1, "b": 1, "k": 1024, "m": MiB, "g": 1 << 30}[(m.group(2) or "")[:1].lower()]
    return int(m.group(1)) * mult


SECTIONS = ["check", "unpinned", "pinned", "callgrind", "syscalls", "conns", "sweep", "tls", "deflate", "deflate-floor",
            "broadcast"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="Sections: " + ", ".join(SECTIONS))
    ap.add_argument("--quick", action="store_true", help="smoke test: 1 repetition, small counts (< 60 s)")
    ap.add_argument("--reps", type=int, help="repetitions of the main matrix (default 5)")
    ap.add_argument("--clients", default=",".join(ALL_CLIENTS), help="comma list (default: all)")
    ap.add_argument("--sections", default=",".join(SECTIONS), help="comma list (default: all)")
    ap.add_argument("--skip", default="", help="comma list of sections to leave out")
    ap.add_argument("--latency-count", type=int, help="round trips per latency run (default 20000)")
    ap.add_argument("--latency-size", type=size_arg, default=32)
    ap.add_argument("--large-size", type=size_arg, default=64 * 1024)
    ap.add_argument("--large-total", type=size_arg, help="bytes per large-message run (default 256 MiB)")
    ap.add_argument("--small-size", type=size_arg, default=1024)
    ap.add_argument("--small-total", type=size_arg, help="bytes per small-message run (default 64 MiB)")
    ap.add_argument("--huge-size", type=size_arg, default=1024 * 1024)
    ap.add_argument("--huge-total", type=size_arg, help="bytes per huge-message run (default 512 MiB)")
    ap.add_argument("--target-seconds", type=float,
                    help="calibrate each client's work so one run takes about this long (default 1.5; 0: no calibration)")
    ap.add_argument("--sweep-target", type=float, help="the same for the sweep (default 0.5)")
    ap.add_argument("--python-work", type=float, help="work factor for Python without calibration (default 0.25)")
    ap.add_argument("--node-work", type=float, help="work factor for node without calibration (default 0.5)")
    ap.add_argument("--cg-counts", help="two round-trip counts for callgrind/strace differencing (default 1000,2000)")
    ap.add_argument("--conns", help="connection counts for idle memory (default 2000,20000)")
    ap.add_argument("--side-conns", type=int, help="N for the TLS and deflate memory figures (default 2000)")
    ap.add_argument("--sweep-sizes", help="comma list of sizes for the chart (default 64 B .. 1 MiB, x4)")
    ap.add_argument("--sweep-reps", type=int, help="repetitions of the sweep (default 3)")
    ap.add_argument("--side-reps", type=int, help="repetitions of the TLS and deflate runs (default 3)")
    ap.add_argument("--broadcast", action="store_true", help="run only the server benchmark (--sections broadcast)")
    ap.add_argument("--broadcast-conns", help="connection counts for the broadcast section (default 1000,10000)")
    ap.add_argument("--broadcast-size", type=size_arg, default=64, help="broadcast message size (default 64)")
    ap.add_argument("--broadcast-deliveries", type=int,
                    help="deliveries per broadcast run, N x M (default 2,000,000; node 1/4, Python 1/8)")
    ap.add_argument("--broadcast-reps", type=int, help="repetitions of the broadcast runs (default 3)")
    ap.add_argument("--broadcast-servers", default=",".join(BROADCAST_SERVERS), help="comma list (default: all)")
    ap.add_argument("--timeout", type=float, help="seconds any one client run may take (default 180)")
    ap.add_argument("--wsc", help="the wsc binary (default: build/wsc, built with CMake)")
    ap.add_argument("--ws-server", help=argparse.SUPPRESS)  # experiments only: another echo server command
    ap.add_argument("--no-bootstrap", action="store_true", help="do not run scripts/bootstrap bench")
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "results", "latest.md"))
    ap.add_argument("--chart", default=os.path.join(ROOT, "docs", "perf-throughput.png"))
    ap.add_argument("--tls-chart", default=os.path.join(ROOT, "docs", "perf-tls.png"))
    ap.add_argument("--update-docs", action="store_true", help="put the tables into docs/PERFORMANCE.md")
    ap.add_argument("--docs-only", action="store_true",
                    help="run nothing: put the existing --out report into docs/PERFORMANCE.md")
    args = ap.parse_args()
    if args.docs_only:
        with open(args.out) as f:
            update_docs(f.read())
        return

    q = args.quick
    dflt = lambda v, full, quick: v if v is not None else (quick if q else full)  # noqa: E731
    args.reps = dflt(args.reps, 5, 1)
    args.timeout = dflt(args.timeout, 180, 60)
    args.target_seconds = dflt(args.target_seconds, 1.5, 0)
    args.sweep_target = dflt(args.sweep_target, 0.5, 0)
    args.latency_count = dflt(args.latency_count, 20000, 2000)
    args.large_total = dflt(args.large_total, 256 * MiB, 16 * MiB)
    args.small_total = dflt(args.small_total, 64 * MiB, 4 * MiB)
    args.huge_total = dflt(args.huge_total, 512 * MiB, 32 * MiB)
    args.python_work = dflt(args.python_work, 0.25, 0.25)
    args.node_work = dflt(args.node_work, 0.5, 0.5)
    args.cg_counts = [int(x) for x in dflt(args.cg_counts, "1000,2000", "200,400").split(",")]
    args.conns = [int(x) for x in dflt(args.conns, "2000,20000", "200").split(",")]
    args.side_conns = dflt(args.side_conns, 2000, 200)
    args.sweep_sizes = [size_arg(x) for x in dflt(args.sweep_sizes, "64,256,1K,4K,16K,64K,256K,1M",
                                                  "64,4K,1M").split(",")]
    args.sweep_reps = dflt(args.sweep_reps, 3, 1)
    args.side_reps = dflt(args.side_reps, 3, 1)
    args.broadcast_conns = [int(x) for x in dflt(args.broadcast_conns, "1000,10000", "200,1000").split(",")]
    args.broadcast_deliveries = dflt(args.broadcast_deliveries, 2000000, 100000)
    args.broadcast_reps = dflt(args.broadcast_reps, 3, 1)
    args.broadcast_work = {"node": 0.25, "python": 0.125}
    args.broadcast_servers = [x for x in args.broadcast_servers.split(",") if x]
    for x in args.broadcast_servers:
        if x not in BROADCAST_SERVERS:
            ap.error(f"unknown broadcast server '{x}' (known: {', '.join(BROADCAST_SERVERS)})")
    if args.broadcast:
        args.sections = "broadcast"
    args.sweep_min_msgs = 2000 if q else 40000
    args.sweep_min_total = 2 * MiB if q else 16 * MiB
    args.sweep_max_total = 8 * MiB if q else 128 * MiB
    if len(args.cg_counts) != 2 or args.cg_counts[1] <= args.cg_counts[0]:
        ap.error("--cg-counts wants two increasing numbers")
    clients = [c for c in args.clients.split(",") if c]
    for c in clients:
        if c not in ALL_CLIENTS:
            ap.error(f"unknown client '{c}' (known: {', '.join(ALL_CLIENTS)})")
    for i, f in enumerate(FLOORS):  # every ratio needs the floors
        if f in clients:
            clients.remove(f)
        clients.insert(i, f)
    skip = set(args.skip.split(","))
    sections = [s for s in args.sections.split(",") if s and s not in skip]
    for s in sections:
        if s not in SECTIONS:
            ap.error(f"unknown section '{s}' (known: {', '.join(SECTIONS)})")

    os.makedirs(BB, exist_ok=True)
    common.LOG = open(os.path.join(BB, "run.log"), "a")
    atexit.register(cleanup)
    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, on_signal)
    started = time.monotonic()

    # enough descriptors for the largest connection count, in server and client
    need = max(args.conns + [args.side_conns] + args.broadcast_conns) + 1024
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, need), max(hard, need)))
    except (ValueError, OSError):
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError):
            pass
        if hard < need:
            log(f"warning: the descriptor limit is {hard}, below the {need} that N={max(args.conns)} needs")

    wsc, caps, certs = build(args)
    B = Bench(args, wsc, caps, certs)
    B.v = versions()
    if not caps["serve"] and not args.ws_server:
        sys.exit(f"{wsc} has no `serve --lean`: the WebSocket echo server is missing")
    if not B.usable("wsc"):
        log("wsc has no `bench` command yet: the wsc rows stay empty")
    # a section whose tool is missing is left out (with a warning), not fatal
    needs = {"callgrind": "valgrind", "syscalls": "strace", "pinned": "taskset", "sweep": "taskset",
             "tls": "taskset", "deflate": "taskset", "deflate-floor": "taskset"}
    for sec, tool in needs.items():
        if sec in sections and not shutil.which(tool):
            log(f"warning: {tool} is missing: section {sec} left out (scripts/bootstrap bench installs it)")
            ERRORS.append(f"{tool} missing: section {sec} not run")
            sections.remove(sec)
    if "node" in clients and not shutil.which("node"):
        log("warning: node is missing: its client left out")
        clients.remove("node")
    if "websocketpp" in clients and not os.access(os.path.join(BIN, "websocketpp_client"), os.X_OK):
        clients.remove("websocketpp")
    run_clients = [c for c in clients if B.usable(c)]
    log(f"clients: {', '.join(run_clients)}; sections: {', '.join(sections)}")

    for s in sections:
        log(f"section {s}")
        if s == "check":
            section_check(B, run_clients)
        elif s in ("unpinned", "pinned"):
            section_matrix(B, run_clients, s == "pinned")
        elif s == "callgrind":
            section_callgrind(B, run_clients)
        elif s == "syscalls":
            section_syscalls(B, run_clients)
        elif s == "conns":
            section_conns(B, [c for c in run_clients if c not in NO_CONNS], args.conns)
            section_conns(B, [c for c in run_clients if c in TLS_CLIENTS], [args.side_conns], "tls", "conns-tls")
            section_conns(B, [c for c in run_clients if c in DEFLATE_CLIENTS], [args.side_conns], "deflate",
                          "conns-deflate")
        elif s == "sweep":
            section_sweep(B, run_clients)
        elif s == "tls":
            section_tls(B, [c for c in run_clients if c in TLS_CLIENTS])
        elif s == "deflate":
            section_deflate(B, [c for c in run_clients if c in DEFLATE_CLIENTS])
        elif s == "deflate-floor":
            section_deflate_floor(B)
        elif s == "broadcast":
            section_broadcast(B, [x for x in args.broadcast_servers if x != "node" or shutil.which("node")])

    if "sweep" in sections:
        write_chart(B, clients, args.chart)
    if "tls" in sections:
        write_tls_chart(B, clients, args.tls_chart)
    md = report(B, clients, sections, started, machine_line())
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        f.write(md)
    with open(os.path.join(BB, "results.json"), "w") as f:
        json.dump({" ".join(map(str, k)): v for k, v in B.data.items()}, f, indent=1, default=str)
    print(md)
    if args.update_docs:
        update_docs(md)
    log(f"wrote {os.path.relpath(args.out, ROOT)} in {(time.monotonic() - started) / 60:.1f} min")
    if ERRORS:
        log(f"{len(ERRORS)} error(s): see the Errors section")
        sys.exit(1)
