#!/usr/bin/python3
"""json_run.py - the JSON benchmark (bench/README.md, "json"): wsc's client
paths against node ws + JSON.parse, Python websockets + json.loads and
Boost.Beast + Boost.JSON, on one `wsc serve --lean` echo server, interleaved
repetitions, medians, and ratios to wsc's raw path. Prints a markdown table
per message size.

  /usr/bin/python3 bench/json_run.py [--pinned] [--reps 3] [--sizes 880,65536] [--wsc build/wsc]

Needs build/wsc (make build; another build with --wsc), node's ws and
Boost 1.81 with Boost.JSON (scripts/bootstrap bench). Builds
build-bench/bin/beast_json_client from bench/clients/beast_json_client.cpp
when it is missing or older than its sources. Everything on 127.0.0.1;
every process is bounded (60 s) and stopped at exit.
"""
import argparse
import os
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WSC = os.path.join(ROOT, "build", "wsc")
CLIENTS = os.path.join(ROOT, "bench", "clients")
BIN = os.path.join(ROOT, "build-bench", "bin")
BEAST = os.path.join(BIN, "beast_json_client")

def paths(wsc):
    """name, argv prefix, messages for 880 bytes (scaled by size)"""
    return [
        ("wsc raw (no_json, send_text)", [wsc, "bench", "--recv", "raw"], 400000),
        ("wsc view (json_view_only, send_text)", [wsc, "bench", "--recv", "view"], 400000),
        ("wsc json_t (default: view + json_t)", [wsc, "bench", "--recv", "dom"], 100000),
        ("wsc send_json_text, raw receive", [wsc, "bench", "--recv", "raw", "--send", "json-text"], 400000),
        ("wsc send_json_text, view receive", [wsc, "bench", "--recv", "view", "--send", "json-text"], 400000),
        ("wsc send_json (json_t), raw receive", [wsc, "bench", "--recv", "raw", "--send", "json-t"], 50000),
        ("node ws + JSON.parse", ["node", os.path.join(CLIENTS, "ws_client.js")], 100000),
        ("Python websockets + json.loads", ["/usr/bin/python3", os.path.join(CLIENTS, "websockets_client.py")], 20000),
        ("Boost.Beast 1.81, no parse (seq compared as bytes)", [BEAST, "--raw"], 400000),
        ("Boost.Beast + boost::json::parse", [BEAST], 100000),
        ("Boost.Beast + boost::json::parser reused, monotonic_resource", [BEAST, "--reuse"], 100000),
    ]


def run(argv, pin):
    if pin:
        argv = ["taskset", "-c", "0"] + argv
    out = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    line = [l for l in out.stdout.splitlines() if l.startswith("RESULT")]
    if out.returncode or not line:
        sys.exit("failed: %s: %s" % (" ".join(argv), out.stderr.strip()))
    f = dict(kv.split("=") for kv in line[0].split()[2:])
    return int(f["msgs"]) / float(f["seconds"])


def build_beast():
    """beast_json_client, with plain c++ as bench/run.py builds beast_client."""
    src = os.path.join(CLIENTS, "beast_json_client.cpp")
    deps = [src, os.path.join(CLIENTS, "bench_util.h"), os.path.join(ROOT, "bench", "json_msg.h")]
    if os.path.exists(BEAST) and os.path.getmtime(BEAST) > max(os.path.getmtime(d) for d in deps):
        return
    os.makedirs(BIN, exist_ok=True)
    out = subprocess.run(["c++", "-std=c++17", "-O2", "-g", "-Wall", "-Wextra", "-o", BEAST, src, "-lboost_json",
                          "-pthread"], capture_output=True, text=True, timeout=600)
    if out.returncode:
        sys.exit("building beast_json_client failed (scripts/bootstrap bench installs Boost.JSON):\n" + out.stderr)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pinned", action="store_true", help="server and client on CPU 0")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--sizes", default="880,65536")
    ap.add_argument("--wsc", default=WSC, help="the wsc binary (default build/wsc)")
    a = ap.parse_args()
    PATHS = paths(os.path.abspath(a.wsc))
    build_beast()
    srv = subprocess.Popen((["taskset", "-c", "0"] if a.pinned else []) + [PATHS[0][1][0], "serve", "--port", "0", "--lean"],
                           stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        url = srv.stdout.readline().strip()
        for size in [int(s) for s in a.sizes.split(",")]:
            rates = {name: [] for name, _, _ in PATHS}
            for _ in range(a.reps):
                for name, argv, n880 in PATHS:
                    count = max(50, n880 * 880 // size)
                    rates[name].append(run(argv + ["json", url, str(count), str(size)], a.pinned))
            raw = statistics.median(rates[PATHS[0][0]])
            print("\n%d-byte messages, %s, median of %d:\n" % (size, "pinned (one CPU)" if a.pinned else "unpinned",
                                                               a.reps))
            print("| path | messages/s | x raw |\n| --- | ---: | ---: |")
            for name, _, _ in PATHS:
                m = statistics.median(rates[name])
                print("| %s | %.0f | %.2f |" % (name, m, m / raw))
            sys.stdout.flush()
    finally:
        os.killpg(srv.pid, 15)
        srv.wait()


if __name__ == "__main__":
    main()
