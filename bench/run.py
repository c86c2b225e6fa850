#!/usr/bin/python3
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
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from runner.cli import main  # noqa: E402

if __name__ == "__main__":
    main()
