#!/bin/bash
# bench/instructions.sh - instructions per 1 KiB echo round trip, for the
# client (`wsc bench latency`) and the server (`wsc serve --lean`), each under
# callgrind: (Ir at 12000 round trips - Ir at 2000) / 10000, so that start-up
# costs cancel. Deterministic (instruction counts, not time), so two builds
# can be compared on a loaded machine:
#
#   bench/instructions.sh build/wsc [other-build/wsc ...]
#
# Needs valgrind. Only 127.0.0.1 is used; every process it starts is stopped.
set -eu
one() { # bin n -> "clientIr serverIr"
    local bin=$1 n=$2 dir
    dir=$(mktemp -d)
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" serve --lean --port 0 >"$dir/serve.out" 2>"$dir/serve.err" &
    local sp=$!
    for _ in $(seq 200); do grep -q "ws://" "$dir/serve.out" 2>/dev/null && break; sleep 0.1; done
    local url
    url=$(grep -o "ws://[0-9.:]*" "$dir/serve.out" | head -1)
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" bench latency "$url" "$n" 1024 >/dev/null 2>"$dir/client.err"
    kill -INT $sp; wait $sp 2>/dev/null || true
    echo "$(grep -o "Collected : [0-9]*" "$dir/client.err" | awk '{print $3}') $(grep -o "Collected : [0-9]*" "$dir/serve.err" | awk '{print $3}')"
    rm -rf "$dir"
}
for bin in "$@"; do
    read -r c1 s1 <<<"$(one "$bin" 2000)"
    read -r c2 s2 <<<"$(one "$bin" 12000)"
    echo "$bin: client $(( (c2 - c1) / 10000 )) instructions per round trip, server $(( (s2 - s1) / 10000 ))"
done
