#!/bin/bash
# bench/delivery_cost.sh - the cost of confirmed delivery (issue 12: at most
# 5%), in client instructions per message, so that it does not depend on the
# machine's load: bench_delivery (the reconnecting client, 1 KiB binary
# messages, 64 in flight) runs under callgrind against `wsc serve --echo`
# (not instrumented), with confirmation off (WSC_DELIVERY_OFF) and on (the
# default, at-most-once: every message kept until a Pong). Per message =
# (Ir at N2 messages - Ir at N1) / (N2 - N1), so that start-up, connect and
# close cancel; each figure is the median of REPS such differences (how many
# messages share a write batch, and so a Ping, depends a little on timing).
#
#   bench/delivery_cost.sh [build-dir] [size]     (default: build, 1024)
#   env: N1=2000 N2=12000 REPS=3 SIZE
#
# Output: one line per mode and the ratio on/off. Needs valgrind. Only
# 127.0.0.1 is used; the server it starts is stopped on exit.
set -eu
build=${1:-build}
size=${2:-${SIZE:-1024}}
n1=${N1:-2000} n2=${N2:-12000} reps=${REPS:-3}
wsc=$build/wsc bd=$build/bench_delivery
[ -x "$wsc" ] && [ -x "$bd" ] || { echo "delivery_cost.sh: no $wsc or $bd (build first)" >&2; exit 2; }
dir=$(mktemp -d)
sp=
cleanup() { [ -n "$sp" ] && kill "$sp" 2>/dev/null && wait "$sp" 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT
"$wsc" serve --echo --port 0 >"$dir/serve.out" 2>/dev/null &
sp=$!
for _ in $(seq 100); do grep -q "ws://" "$dir/serve.out" 2>/dev/null && break; sleep 0.1; done
url=$(grep -o "ws://[0-9.:]*" "$dir/serve.out" | head -1)
[ -n "$url" ] || { echo "delivery_cost.sh: the server did not start" >&2; exit 1; }

ir() { # mode messages -> client instructions for the whole run
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bd" "$1" "$url" $(($2 * size)) "$size" \
        >"$dir/out" 2>"$dir/err" || { cat "$dir/err" >&2; exit 1; }
    grep -o "Collected : [0-9]*" "$dir/err" | awk '{print $3}'
}
per_msg() { # mode -> median over reps of (Ir(n2) - Ir(n1)) / (n2 - n1)
    for _ in $(seq "$reps"); do
        a=$(ir "$1" "$n1")
        b=$(ir "$1" "$n2")
        echo $(((b - a) / (n2 - n1)))
    done | sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'
}
off=$(per_msg off)
on=$(per_msg on)
echo "size $size: delivery off: $off client instructions per message"
echo "size $size: delivery on:  $on client instructions per message"
awk -v a="$off" -v b="$on" 'BEGIN {printf "on/off: %.3f (%+.1f%%)\n", b / a, (b / a - 1) * 100}'
