#!/usr/bin/env bash
# selftest.sh - tests the test peers themselves: every feature of each server is
# exercised with the other language's client (py_server <- node_client,
# node_server <- py_client), plus the CONNECT proxy and the test PKI. One line
# per check, then "N passed, M failed"; exit 0 when nothing failed. Everything
# runs on 127.0.0.1 / Unix sockets and every process started here is stopped.
# shellcheck disable=SC2086  # unquoted $C / ports / URLs: command names and numbers
set -u
here=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
NODE=${NODE:-node}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/wsc-peers-selftest.XXXXXX")
pids=()
passed=0
failed=0

cleanup() {
  local p _
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for _ in $(seq 30); do
    local alive=0
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ $alive = 0 ] && break
    sleep 0.1
  done
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ ! -f "$here/node_modules/ws/package.json" ]; then
  echo "selftest: $here/node_modules/ws missing: run scripts/bootstrap" >&2
  exit 1
fi

# start NAME CMD... : start a peer, wait (5 s at most) for its LISTENING line,
# leave the port (or socket path) in $LISTEN.
start() {
  local name=$1 _ line
  shift
  "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
  pids+=($!)
  LASTPID=$!
  LISTEN=
  for _ in $(seq 100); do
    line=$(head -n1 "$tmp/$name.out" 2>/dev/null)
    case $line in
      "LISTENING "*) LISTEN=${line#LISTENING }; return 0 ;;
    esac
    kill -0 "${pids[-1]}" 2>/dev/null || break
    sleep 0.05
  done
  echo "selftest: $name did not start:" >&2
  cat "$tmp/$name.err" >&2
  exit 1
}

ok() { passed=$((passed + 1)); echo "ok   $1"; }
bad() {
  failed=$((failed + 1)); echo "FAIL $1"
  sed 's/^/     | /' "$tmp/check.out" | head -20
}

# check DESC CMD... : the command must exit 0.
check() {
  local desc=$1; shift
  if timeout 30 bash -c '"$@"' _ "$@" >"$tmp/check.out" 2>&1; then ok "$desc"; else bad "$desc"; fi
}

# check_fail DESC SUBSTR CMD... : the command must fail, saying SUBSTR.
check_fail() {
  local desc=$1 want=$2; shift 2
  if timeout 30 bash -c '"$@"' _ "$@" >"$tmp/check.out" 2>&1; then
    echo "(exited 0)" >>"$tmp/check.out"; bad "$desc"
  elif grep -qF -- "$want" "$tmp/check.out"; then ok "$desc"
  else echo "(expected: $want)" >>"$tmp/check.out"; bad "$desc"
  fi
}

pyc() { "$PY" "$here/py_client.py" "$@"; }
nodec() { "$NODE" "$here/node_client.js" "$@"; }
export PY NODE here
export -f pyc nodec
# Servers run as direct children (no wrapper shell), so signals reach them.
pys=("$PY" "$here/py_server.py" --lifetime 90)
nodes=("$NODE" "$here/node_server.js" --lifetime 90)

# --- test PKI ---------------------------------------------------------------
pki=$tmp/pki
check "mkcerts.sh creates the test PKI silently" \
  bash -c "out=\$('$here/mkcerts.sh' '$pki' 2>&1) && [ -z \"\$out\" ]"
check "mkcerts.sh is idempotent (second run keeps the files)" \
  bash -c "a=\$(md5sum '$pki'/*.pem) && '$here/mkcerts.sh' '$pki' && [ \"\$a\" = \"\$(md5sum '$pki'/*.pem)\" ]"
check "server/wrong-host/client certificates verify against the CA" \
  openssl verify -CAfile "$pki/ca.pem" "$pki/server.pem" "$pki/wrong-host.pem" "$pki/client.pem"
check "expired.pem is expired" \
  bash -c "! openssl x509 -in '$pki/expired.pem' -noout -checkend 0 >/dev/null"

# --- servers ----------------------------------------------------------------
start py    "${pys[@]}" --protocols chat,superchat --log "$tmp/py.log";   PY_PORT=$LISTEN; PY_PID=$LASTPID
start node  "${nodes[@]}" --protocols chat,superchat --log "$tmp/node.log"; NODE_PORT=$LISTEN; NODE_PID=$LASTPID
start py_tls   "${pys[@]}" --tls-cert "$pki/server.pem" --tls-key "$pki/server.key" \
  --deflate-params server_no_context_takeover,client_no_context_takeover;  PY_TLS=$LISTEN
start node_tls "${nodes[@]}" --tls-cert "$pki/server.pem" --tls-key "$pki/server.key" \
  --deflate-params server_no_context_takeover,client_no_context_takeover;  NODE_TLS=$LISTEN
start py_mtls   "${pys[@]}" --tls-cert "$pki/server.pem" --tls-key "$pki/server.key" \
  --require-client-cert "$pki/ca.pem";  PY_MTLS=$LISTEN
start node_mtls "${nodes[@]}" --tls-cert "$pki/server.pem" --tls-key "$pki/server.key" \
  --require-client-cert "$pki/ca.pem";  NODE_MTLS=$LISTEN
start py_unix   "${pys[@]}" --unix "$tmp/py.sock" --no-deflate;    PY_UNIX_PID=$LASTPID
start node_unix "${nodes[@]}" --unix "$tmp/node.sock" --no-deflate; NODE_UNIX_PID=$LASTPID
for c in expired wrong-host self-signed; do
  start "py_$c" "${pys[@]}" --tls-cert "$pki/$c.pem" --tls-key "$pki/$c.key"
  eval "PY_BAD_${c//-/_}=\$LISTEN"
  start "node_$c" "${nodes[@]}" --tls-cert "$pki/$c.pem" --tls-key "$pki/$c.key"
  eval "NODE_BAD_${c//-/_}=\$LISTEN"
done

# --- every behaviour, each server with the other language's client ----------
for side in py node; do
  if [ $side = py ]; then
    S=py_server; C=nodec; CN=node_client; port=$PY_PORT; tlsport=$PY_TLS; mtls=$PY_MTLS
    sock=$tmp/py.sock
  else
    S=node_server; C=pyc; CN=py_client; port=$NODE_PORT; tlsport=$NODE_TLS; mtls=$NODE_MTLS
    sock=$tmp/node.sock
  fi
  u=ws://127.0.0.1:$port
  t="$S <- $CN:"

  check "$t echo text incl. multi-byte UTF-8" \
    $C $u/echo --send "héllo wörld €𝄞 日本語" --expect "héllo wörld €𝄞 日本語" --send "" --expect ""
  check "$t echo binary (empty, 2 bytes, 1 MiB)" \
    $C $u/echo --send-binary "" --expect-binary "" --send-binary 00ff --expect-binary 00ff \
      --send-pattern 1048576 --expect-pattern 1048576
  check "$t '/' echoes too, text stays text and binary stays binary" \
    $C $u/ --send 00ff --expect 00ff --send-binary 00ff --expect-binary 00ff
  check "$t permessage-deflate negotiated by default" \
    $C $u/echo --expect-extensions "$([ $side = py ] && echo 'permessage-deflate; server_max_window_bits=12; client_max_window_bits=12' || echo 'permessage-deflate')" \
      --send-pattern 100000 --expect-pattern 100000
  check "$t client --no-deflate: no extension, echo works" \
    $C $u/echo --no-deflate --expect-extensions "" --send-pattern 70000 --expect-pattern 70000
  check "$t subprotocol: first offered that the server supports" \
    $C $u/echo --protocol x --protocol superchat --protocol chat --expect-protocol superchat
  if [ $side = py ]; then
    # ws clients fail the connection when the server picks none of their offers.
    check_fail "$t subprotocol: none in common -> ws client refuses" "Server sent no subprotocol" \
      $C $u/echo --protocol x
    check "py_server <- py_client: subprotocol: none in common, none selected" \
      pyc $u/echo --protocol x --expect-protocol ""
  else
    check "$t subprotocol: none in common, none selected" \
      $C $u/echo --protocol x --expect-protocol ""
  fi
  check "$t /close with code and reason" \
    $C "$u/close?code=4001&reason=bye%20now" --expect-close "4001:bye now"
  check "$t /close after 2 messages with 1000" \
    $C "$u/close?code=1000&after=2" --send a --expect a --send b --expect b --expect-close 1000:
  check "$t /close without status (code 0)" \
    $C "$u/close?after=1" --send a --expect a --expect-close 1005
  check "$t /drop right after the handshake" $C "$u/drop" --expect-close 1006
  check "$t /drop after 1 message" $C "$u/drop?after=1" --send a --expect a --expect-close 1006
  for code in 403 404 408 429 500 301; do
    check "$t /status/$code refuses the handshake" $C $u/status/$code --expect-status $code
  done
  check "$t /status/301 redirects to /echo (client follows)" \
    $C $u/status/301 --follow-redirects --send r --expect r
  check "$t unknown path refused with 404" $C $u/nope --expect-status 404
  rec=(--cookie "sid=abc" --cookie "csrf=xyz" --origin http://localhost:1234 --user-agent "wsc-ua/1.0"
       --protocol chat)
  check "$t /record + __dump__: request headers" \
    $C "$u/record?token=t0k&x=1" "${rec[@]}" --send hi --expect hi \
      --send __dump__ --expect-match '"cookie": ?"sid=abc; csrf=xyz"' \
      --send __dump__ --expect-match '"origin": ?"http://localhost:1234"' \
      --send __dump__ --expect-match '"user-agent": ?"wsc-ua/1.0"' \
      --send __dump__ --expect-match '"sec-websocket-protocol": ?"chat"' \
      --send __dump__ --expect-match '"sec-websocket-extensions": ?"permessage-deflate'
  check "$t /record + __dump__: path, query, messages" \
    $C "$u/record?token=t0k&x=1" --send "hé" --expect "hé" --send-binary 0102ff --expect-binary 0102ff \
      --send __dump__ --expect-match '"path": ?"/record", ?"query": ?"token=t0k&x=1"' \
      --send __dump__ --expect-match '"messages": ?\[\{"type": ?"text", ?"len": ?3, ?"data": ?"hé"\}, ?\{"type": ?"binary", ?"len": ?3, ?"sha256": ?"[0-9a-f]{64}", ?"hex": ?"0102ff"\}\]'
  if grep -q '"Cookie", *"sid=abc; csrf=xyz"' "$tmp/$side.log"; then ok "$t /record logs the headers (JSON lines)"
  else cp "$tmp/$side.log" "$tmp/check.out"; bad "$t /record logs the headers (JSON lines)"; fi
  check "$t /ping?n=3: pongs p0..p2 reported" \
    $C "$u/ping?n=3" --send x --expect x --send __dump__ --expect-match '"pongs": ?\["p0", ?"p1", ?"p2"\]'
  check "$t pings from the client are answered" $C $u/echo --ping hello --send a --expect a
  start_ms=${EPOCHREALTIME/./}
  check "$t /slow?ms=300 delays each reply" \
    $C "$u/slow?ms=300" --send a --expect a --send b --expect b
  el=$(( (${EPOCHREALTIME/./} - start_ms) / 1000 ))
  if [ $el -ge 600 ]; then ok "$t /slow took ${el} ms (>= 600)"; else echo "took $el ms" >"$tmp/check.out"; bad "$t /slow too fast"; fi
  check "$t /big?bytes=1048576 then echo" \
    $C "$u/big?bytes=1048576" --expect-pattern 1048576 --send a --expect a
  check "$t /big?bytes=0" $C "$u/big?bytes=0" --expect-binary ""
  check_fail "$t /silent never answers a ping" "timed out" \
    $C $u/silent --ping x --timeout 1
  check_fail "$t /silent never echoes" "timed out" \
    $C $u/silent --send x --expect x --timeout 1
  check "$t /raw sends raw bytes (a text frame by hand)" \
    $C "$u/raw?hex=8102c3a9" --expect "é" --send a --expect a
  check "$t /raw after 1 message" $C "$u/raw?hex=8102c3a9&after=1" --send a --expect a --expect "é"
  check_fail "$t /close?code=1005 puts an invalid code on the wire" "1006" \
    $C "$u/close?code=1005" --expect-close 1005
  check "$t --echo mode follows the close handshake" \
    $C "$u/close?code=1000&after=2" --send a --send b --echo
  check "$t wss with the test CA (127.0.0.1)" \
    $C wss://127.0.0.1:$tlsport/echo --cafile "$pki/ca.pem" --send s --expect s
  check "$t wss with the test CA (localhost), deflate params" \
    $C wss://localhost:$tlsport/echo --cafile "$pki/ca.pem" --send s --expect s \
      --expect-extensions "permessage-deflate; server_no_context_takeover; client_no_context_takeover"
  check "$t wss: mutual TLS with the client certificate" \
    $C wss://localhost:$mtls/echo --cafile "$pki/ca.pem" --cert "$pki/client.pem" --key "$pki/client.key" \
      --send m --expect m
  check_fail "$t wss: mutual TLS refuses a client without certificate" "" \
    $C wss://localhost:$mtls/echo --cafile "$pki/ca.pem" --send m --expect m --timeout 3
  check "$t Unix-domain socket (server --no-deflate)" \
    $C ws://localhost/echo --unix "$sock" --expect-extensions "" --send u --expect u \
      --send-pattern 300000 --expect-pattern 300000
  check "$t Unix-domain socket: /record sees the path" \
    $C "ws://localhost/record?via=unix" --unix "$sock" --send __dump__ --expect-match '"query": ?"via=unix"'
done

# --- certificate rejection by verifying clients -------------------------------
for c in expired wrong-host self-signed; do
  v=PY_BAD_${c//-/_}; pyport=${!v}
  v=NODE_BAD_${c//-/_}; nodeport=${!v}
  case $c in
    expired) pywant="certificate has expired"; nodewant=CERT_HAS_EXPIRED ;;
    wrong-host) pywant="Hostname mismatch"; nodewant=ERR_TLS_CERT_ALTNAME_INVALID ;;
    self-signed) pywant="self-signed certificate"; nodewant=DEPTH_ZERO_SELF_SIGNED_CERT ;;
  esac
  check_fail "py ssl rejects the $c certificate (node_server)" "$pywant" \
    pyc wss://localhost:$nodeport/echo --cafile "$pki/ca.pem" --send x --expect x --timeout 3
  check_fail "node tls rejects the $c certificate (py_server)" "$nodewant" \
    nodec wss://localhost:$pyport/echo --cafile "$pki/ca.pem" --send x --expect x --timeout 3
  check "py client --insecure accepts the $c certificate" \
    pyc wss://localhost:$nodeport/echo --insecure --send x --expect x --timeout 3
done

# --- CONNECT proxy ------------------------------------------------------------
start proxy "$PY" "$here/connect_proxy.py" --lifetime 90 --log "$tmp/proxy.log"; PROXY=$LISTEN
start proxy_auth "$PY" "$here/connect_proxy.py" --lifetime 90 --auth "user:s3cret"; PROXY_AUTH=$LISTEN
start proxy_refuse "$PY" "$here/connect_proxy.py" --lifetime 90 --refuse; PROXY_REFUSE=$LISTEN
check "proxy: py_client -> node_server through CONNECT" \
  pyc ws://127.0.0.1:$NODE_PORT/echo --proxy http://127.0.0.1:$PROXY --send-pattern 200000 --expect-pattern 200000
check "proxy: node_client -> py_server through CONNECT" \
  nodec ws://127.0.0.1:$PY_PORT/echo --proxy http://127.0.0.1:$PROXY --send p --expect p
check "proxy: target 'localhost'" \
  pyc ws://localhost:$NODE_PORT/echo --proxy http://127.0.0.1:$PROXY --send p --expect p
check "proxy: wss through the tunnel (py_client -> node_server)" \
  pyc wss://localhost:$NODE_TLS/echo --cafile "$pki/ca.pem" --proxy http://127.0.0.1:$PROXY --send p --expect p
check "proxy: wss through the tunnel (node_client -> py_server)" \
  nodec wss://localhost:$PY_TLS/echo --cafile "$pki/ca.pem" --proxy http://127.0.0.1:$PROXY --send p --expect p
check "proxy: server close code passes through" \
  nodec "ws://127.0.0.1:$PY_PORT/close?code=4002&reason=x" --proxy http://127.0.0.1:$PROXY --expect-close 4002:x
check "proxy: logs each CONNECT target" \
  grep -qE "\"status\": 200, \"conn\": [0-9]+, \"target\": \"127.0.0.1:$NODE_PORT\"" "$tmp/proxy.log"
check "proxy: non-loopback target refused with 403 (py_client)" \
  pyc ws://example.invalid/echo --proxy http://127.0.0.1:$PROXY --expect-status 403
check "proxy: non-loopback target refused with 403 (node_client)" \
  nodec ws://192.0.2.1:80/echo --proxy http://127.0.0.1:$PROXY --expect-status 403
check "proxy --auth: right credentials (py_client)" \
  pyc ws://127.0.0.1:$NODE_PORT/echo --proxy http://user:s3cret@127.0.0.1:$PROXY_AUTH --send a --expect a
check "proxy --auth: right credentials (node_client)" \
  nodec ws://127.0.0.1:$PY_PORT/echo --proxy http://user:s3cret@127.0.0.1:$PROXY_AUTH --send a --expect a
check "proxy --auth: no credentials -> 407 (py_client)" \
  pyc ws://127.0.0.1:$NODE_PORT/echo --proxy http://127.0.0.1:$PROXY_AUTH --expect-status 407
check "proxy --auth: wrong credentials -> 407 (node_client)" \
  nodec ws://127.0.0.1:$PY_PORT/echo --proxy http://user:wrong@127.0.0.1:$PROXY_AUTH --expect-status 407
check "proxy --auth: 407 carries Proxy-Authenticate: Basic realm=\"wsc\"" \
  "$PY" -c "
import socket,sys
s=socket.create_connection(('127.0.0.1',$PROXY_AUTH),timeout=5)
s.sendall(b'CONNECT 127.0.0.1:1 HTTP/1.1\r\nHost: 127.0.0.1:1\r\n\r\n')
d=b''
while b'\r\n\r\n' not in d:
    c=s.recv(4096)
    if not c: break
    d+=c
sys.exit(0 if d.startswith(b'HTTP/1.1 407') and b'Proxy-Authenticate: Basic realm=\"wsc\"' in d else 1)"
check "proxy --refuse: 502 (py_client)" \
  pyc ws://127.0.0.1:$NODE_PORT/echo --proxy http://127.0.0.1:$PROXY_REFUSE --expect-status 502
check "proxy --refuse: 502 (node_client)" \
  nodec ws://127.0.0.1:$PY_PORT/echo --proxy http://127.0.0.1:$PROXY_REFUSE --expect-status 502

# --- lifetimes and signals ------------------------------------------------------
exits_by_itself() {  # CMD... : starts with --lifetime 1, must be gone within 4 s with status 0
  "$@" --lifetime 1 >/dev/null 2>&1 &
  local p=$! _
  pids+=("$p")
  for _ in $(seq 40); do kill -0 $p 2>/dev/null || break; sleep 0.1; done
  if kill -0 $p 2>/dev/null; then echo "still running" >"$tmp/check.out"; return 1; fi
  wait $p
}
sigterm_exits() {  # NAME : SIGTERM must end the peer within 3 s with status 0
  local p=$2 _
  kill -TERM $p
  for _ in $(seq 30); do kill -0 $p 2>/dev/null || break; sleep 0.1; done
  if kill -0 $p 2>/dev/null; then echo "still running" >"$tmp/check.out"; return 1; fi
  wait $p
}
if exits_by_itself "$PY" "$here/py_server.py" --port 0; then ok "py_server exits by itself after --lifetime"; else bad "py_server exits by itself after --lifetime"; fi
if exits_by_itself "$NODE" "$here/node_server.js" --port 0; then ok "node_server exits by itself after --lifetime"; else bad "node_server exits by itself after --lifetime"; fi
if exits_by_itself "$PY" "$here/connect_proxy.py" --port 0; then ok "connect_proxy exits by itself after --lifetime"; else bad "connect_proxy exits by itself after --lifetime"; fi
# SIGTERM with a connection open (a silent one: the hardest to close).
"$PY" "$here/py_client.py" ws://127.0.0.1:$PY_PORT/silent --expect x --timeout 20 >/dev/null 2>&1 &
pids+=("$!")
"$NODE" "$here/node_client.js" ws://127.0.0.1:$NODE_PORT/silent --expect x --timeout 20 >/dev/null 2>&1 &
pids+=("$!")
sleep 0.5
if sigterm_exits py "$PY_PID"; then ok "py_server exits with 0 on SIGTERM (connection open)"; else bad "py_server exits with 0 on SIGTERM (connection open)"; fi
if sigterm_exits node "$NODE_PID"; then ok "node_server exits with 0 on SIGTERM (connection open)"; else bad "node_server exits with 0 on SIGTERM (connection open)"; fi
sigterm_exits py_unix "$PY_UNIX_PID" >/dev/null 2>&1
if [ ! -e "$tmp/py.sock" ]; then ok "py_server removes its Unix socket on exit"; else echo "socket left" >"$tmp/check.out"; bad "py_server removes its Unix socket on exit"; fi
sigterm_exits node_unix "$NODE_UNIX_PID" >/dev/null 2>&1
if [ ! -e "$tmp/node.sock" ]; then ok "node_server removes its Unix socket on exit"; else echo "socket left" >"$tmp/check.out"; bad "node_server removes its Unix socket on exit"; fi

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
