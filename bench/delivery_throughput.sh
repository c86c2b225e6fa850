#!/bin/bash
# bench/delivery_throughput.sh - throughput of the reconnecting client with
# confirmed delivery off and on (issue 12: at most 5% lower), at 1 KiB and
# 64 KiB, in the same run: bench_delivery against `wsc serve --echo`, the
# server pinned to CPU 1 and every client run to CPU 0 (the machine is
# shared: pinning keeps the two from competing for one core), repetitions
# interleaved (off, on, off, on ... for each size and each binary), medians.
#
#   bench/delivery_throughput.sh [reps] [bench_delivery ...]
#       (default: 9, build/bench_delivery; several binaries: an A/B in one run)
#   env: WSC=build/wsc TOTAL_1K=100000000 TOTAL_64K=1000000000
#
# Output: one line per binary and size: median MB/s off and on, on/off.
# Only 127.0.0.1 is used; the server it starts is stopped on exit.
set -eu
reps=${1:-9}
shift || true
[ $# -gt 0 ] || set -- build/bench_delivery
wsc=${WSC:-build/wsc}
t1k=${TOTAL_1K:-100000000} t64k=${TOTAL_64K:-1000000000}
dir=$(mktemp -d)
sp=
cleanup() { [ -n "$sp" ] && kill "$sp" 2>/dev/null && wait "$sp" 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT
taskset -c 1 "$wsc" serve --echo --port 0 >"$dir/serve.out" 2>/dev/null &
sp=$!
for _ in $(seq 100); do grep -q "ws://" "$dir/serve.out" 2>/dev/null && break; sleep 0.1; done
url=$(grep -o "ws://[0-9.:]*" "$dir/serve.out" | head -1)
[ -n "$url" ] || { echo "delivery_throughput.sh: the server did not start" >&2; exit 1; }
for _ in $(seq "$reps"); do
    for size in 1024 65536; do
        total=$t1k
        [ "$size" = 65536 ] && total=$t64k
        for b in "$@"; do
            for mode in off on; do
                v=$(taskset -c 0 timeout 120 "$b" "$mode" "$url" "$total" "$size" | grep -o 'MBps=[0-9.]*' | cut -d= -f2)
                echo "$b $size $mode ${v:-0}"
            done
        done
    done
done >"$dir/runs"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
awk '{k = $1 " " $2; v[k " " $3] = v[k " " $3] " " $4; keys[k] = 1}
function med(s,  a, n, i, j, t) {
    n = split(s, a, " ")
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
END {
    for (k in keys) {
        off = med(v[k " off"]); on = med(v[k " on"])
        printf "%s: off %.0f MB/s, on %.0f MB/s (medians), on/off %.3f\n", k, off, on, off ? on / off : 0
    }
}' "$dir/runs" | sort
