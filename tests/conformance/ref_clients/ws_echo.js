#!/usr/bin/env node
// Reference echo client on node's `ws` (tests/peers/node_modules, or
// ref_clients/node_modules for experiments).
//
// ws_echo.js URL: connect (ws offers permessage-deflate by default), echo
// every message with its type, exit when the connection ends.
'use strict';
const path = require('path');

function loadWs() {
  const places = [path.join(__dirname, '..', '..', 'peers', 'node_modules', 'ws'),
                  path.join(__dirname, 'node_modules', 'ws')];
  for (const p of places) {
    try { return require(p); } catch (e) { /* next */ }
  }
  console.error('ws_echo: node module "ws" not found (run scripts/bootstrap)');
  process.exit(77);
}

const WebSocket = loadWs();
if (process.argv.length !== 3) {
  console.error('usage: ws_echo.js URL');
  process.exit(2);
}
// no payload or fragment limits: 9.x sends 16 MiB messages and 65536 fragments
const ws = new WebSocket(process.argv[2], { maxPayload: 0, maxFragments: 0 });
let status = 1;
ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
ws.on('close', (code) => { status = 0; });
ws.on('error', (err) => { console.error('ws_echo: ' + err.message); });
process.on('exit', () => { process.exitCode = status; });
