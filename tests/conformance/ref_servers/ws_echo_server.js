#!/usr/bin/env node
// Reference echo server on node's `ws` (tests/peers/node_modules, or
// ref_servers/node_modules for experiments), for the server-mode
// conformance suite (run_server.py).
//
// ws_echo_server.js [PORT]: listen on 127.0.0.1 (port 0: a free one), print
// ws://127.0.0.1:PORT/ as the first line of stdout, echo every message with
// its type; permessage-deflate on (ws's defaults); exit on SIGTERM/SIGINT.
'use strict';
const path = require('path');

function loadWs() {
  const places = [path.join(__dirname, '..', '..', 'peers', 'node_modules', 'ws'),
                  path.join(__dirname, 'node_modules', 'ws')];
  for (const p of places) {
    try { return require(p); } catch (e) { /* next */ }
  }
  console.error('ws_echo_server: node module "ws" not found (run scripts/bootstrap)');
  process.exit(77);
}

const WebSocket = loadWs();
const port = process.argv.length > 2 ? Number(process.argv[2]) : 0;
// no payload or fragment limits: 9.x sends 16 MiB messages and 65536 fragments
const wss = new WebSocket.WebSocketServer({ host: '127.0.0.1', port, perMessageDeflate: true, maxPayload: 0,
                                            maxFragments: 0 });
wss.on('listening', () => {
  process.stdout.write('ws://127.0.0.1:' + wss.address().port + '/\n');
});
wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  ws.on('error', () => { /* the protocol errors are the point of the tests */ });
});
wss.on('error', (err) => { console.error('ws_echo_server: ' + err.message); process.exit(1); });
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
