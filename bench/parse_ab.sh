#!/bin/bash
# parse_ab.sh MODE SIZE CALLS BENCH_JSON... - the JSON parser's time, A/B.
#
# Runs `taskset -c 1 BIN --calls CALLS MODE SIZE` (bench_json: MODE view =
# the parse alone, validate = with UTF-8, send = the send path's parse,
# duplicate filter and splice) for each binary in turn, 7 rounds
# alternating them, and prints each binary's smallest task-clock in ms
# (perf stat). The smallest of alternating runs is the figure least moved
# by other load; compare binaries of one run only. Needs perf (linux-perf)
# and a second CPU.
#
#   bench/parse_ab.sh view 65536 30000 /tmp/before/bench_json build/bench_json
set -eu
if [ $# -lt 4 ]; then
    sed -n '2,13p' "$0" >&2
    exit 2
fi
mode=$1 size=$2 calls=$3
shift 3
declare -A best
for _ in 1 2 3 4 5 6 7; do
    for b in "$@"; do
        ms=$(taskset -c 1 perf stat -x, -e task-clock "$b" --calls "$calls" "$mode" "$size" 2>&1 >/dev/null |
            awk -F, '/task-clock/ {print $1}')
        [ -n "$ms" ] || { echo "parse_ab: $b failed" >&2; exit 1; }
        if [ -z "${best[$b]:-}" ] || awk "BEGIN {exit !($ms < ${best[$b]})}"; then best[$b]=$ms; fi
    done
done
for b in "$@"; do printf '%s %s ms\n' "$b" "${best[$b]}"; done
