#!/usr/bin/env node
// ws_client.js - the `bench` contract on node's `ws` (8.23, tests/peers/node_modules).
//
//   node ws_client.js [--deflate] latency    ws[s]://127.0.0.1:PORT/ COUNT SIZE
//   node ws_client.js [--deflate] throughput ws[s]://127.0.0.1:PORT/ TOTAL_BYTES SIZE
//   node ws_client.js [--deflate] conns      ws[s]://127.0.0.1:PORT/ N
//   node ws_client.js [--deflate] json       ws[s]://127.0.0.1:PORT/ COUNT SIZE
//
// json: the messages of bench/json_msg.h, 64 in flight, every echo given to
// JSON.parse and its "seq" and "items" length checked, in order (what the
// seed's client does with every message it receives).
//
// Plain `ws` usage: new WebSocket(url, {perMessageDeflate: false}), send()
// and the 'message' event (binary echoes arrive as one Buffer each). wss:
// node trusts the CA in NODE_EXTRA_CA_CERTS. --deflate turns permessage-deflate
// on (off by default, as the contract says).
'use strict';
const path = require('path');
const fs = require('fs');

let WebSocket;
try {
  WebSocket = require('ws');
} catch (e) {
  WebSocket = require(path.join(__dirname, '..', '..', 'tests', 'peers', 'node_modules', 'ws'));
}

const MAX_IN_FLIGHT = 64;
const CONNS_IN_FLIGHT = 128;

function die(msg) {
  process.stderr.write(`ws_client: ${msg}\n`);
  process.exit(1);
}

function rssKb() {
  const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) : -1;
}

function num(s) {
  if (!/^\d+$/.test(s)) { process.stderr.write(`ws_client: bad number '${s}'\n`); process.exit(2); }
  return Number(s);
}

const now = () => Number(process.hrtime.bigint()) / 1e9;

// Every wait is bounded: no echo for 30 s fails the run (checked every 5 s).
let progress = 0;
{
  let last = -1, idle = 0;
  setInterval(() => {
    idle = progress === last ? idle + 5 : 0;
    last = progress;
    if (idle >= 30) die('timed out waiting for the server');
  }, 5000).unref();
}

const args = process.argv.slice(2);
let deflate = false;
if (args[0] === '--deflate') { deflate = true; args.shift(); }
const [mode, url] = args;
if (!url || !/^wss?:\/\//.test(url)) {
  process.stderr.write('usage: ws_client.js [--deflate] latency|throughput URL COUNT|TOTAL SIZE | conns URL N\n');
  process.exit(2);
}
const options = { perMessageDeflate: deflate, maxPayload: 0 };

function open(onOpen) {
  const ws = new WebSocket(url, options);
  ws.binaryType = 'nodebuffer';
  ws.on('error', (e) => die(e.message));
  ws.on('unexpected-response', (req, res) => die(`handshake refused: HTTP ${res.statusCode}`));
  ws.once('open', () => onOpen(ws));
  return ws;
}

function finish(ws, line) {
  ws.removeAllListeners('close');
  ws.on('close', () => { process.stdout.write(line + '\n'); process.exit(0); });
  ws.close(1000);
  // bounded: the closing handshake gets 2 s, then we go anyway
  setTimeout(() => { process.stdout.write(line + '\n'); process.exit(0); }, 2000).unref();
}

function latency(count, size) {
  if (size < 8) die('SIZE must be >= 8');
  const tail = Buffer.alloc(size - 8);
  for (let j = 8; j < size; j++) tail[j - 8] = 97 + (j % 26);
  const tailStr = tail.toString('latin1');
  let i = 0, t0 = 0, expected = '';
  open((ws) => {
    ws.on('close', () => die('the server closed the connection early'));
    const sendNext = () => {
      expected = i.toString(16).padStart(8, '0').slice(-8) + tailStr;
      ws.send(expected);
    };
    ws.on('message', (data, isBinary) => {
      if (isBinary) die('echo has the wrong type');
      if (data.length !== size || data.toString() !== expected) die('echo mismatch');
      progress++;
      i++;
      if (i < count) sendNext();
      else finish(ws, `RESULT latency msgs=${count} bytes=${count * size} seconds=${(now() - t0).toFixed(6)}`);
    });
    t0 = now();
    if (count === 0) finish(ws, 'RESULT latency msgs=0 bytes=0 seconds=0.000000');
    else sendNext();
  });
}

function throughput(total, size) {
  if (size < 8) die('SIZE must be >= 8');
  const count = Math.ceil(total / size);
  const tmpl = Buffer.alloc(size);
  for (let j = 8; j < size; j++) tmpl[j] = (j * 31 + 7) & 0xff;
  const tail = tmpl.subarray(8);
  let sent = 0, received = 0, t0 = 0;
  open((ws) => {
    ws.on('close', () => die('the server closed the connection early'));
    const pump = () => {
      while (sent < count && sent - received < MAX_IN_FLIGHT) {
        const m = Buffer.from(tmpl); // ws may hold on to the buffer until it is written
        m.writeBigUInt64LE(BigInt(sent), 0);
        ws.send(m, { binary: true });
        sent++;
      }
    };
    ws.on('message', (data, isBinary) => {
      if (!isBinary) die('echo has the wrong type');
      if (data.length !== size) die('echo has the wrong length');
      if (data.readBigUInt64LE(0) !== BigInt(received) || !data.subarray(8).equals(tail)) die('echo mismatch');
      received++;
      progress++;
      if (received === count) {
        finish(ws, `RESULT throughput msgs=${count} bytes=${count * size} seconds=${(now() - t0).toFixed(6)}`);
      } else pump();
    });
    t0 = now();
    if (count === 0) finish(ws, 'RESULT throughput msgs=0 bytes=0 seconds=0.000000');
    else pump();
  });
}

// bench/json_msg.h, byte for byte.
function jsonMessage(size) {
  if (size < 128) die('SIZE must be >= 128');
  const n = Math.max(1, Math.floor((size - 56) / 66));
  let s = '{"seq":1000000000,"type":"update","items":[';
  for (let k = 0; k < n; k++) {
    s += (k ? ',' : '') + `{"id":${1000 + k % 9000},"sym":"SYM${String(k % 10000).padStart(4, '0')}",` +
      `"px":${1000 + k % 9000}.${String(k * 7 % 100).padStart(2, '0')},"qty":${100000 + k * 3 % 900000},"live":true}`;
  }
  s += '],"pad":"';
  if (s.length + 2 > size) die('SIZE too small');
  s += 'x'.repeat(size - 2 - s.length) + '"}';
  return { text: s, items: n };
}

function json(count, size) {
  const { text, items } = jsonMessage(size);
  const head = text.slice(0, 7), tail = text.slice(17);
  let sent = 0, received = 0, t0 = 0;
  open((ws) => {
    ws.on('close', () => die('the server closed the connection early'));
    const pump = () => {
      while (sent < count && sent - received < MAX_IN_FLIGHT) {
        ws.send(head + String(1000000000 + sent) + tail);
        sent++;
      }
    };
    ws.on('message', (data, isBinary) => {
      if (isBinary) die('echo has the wrong type');
      const v = JSON.parse(data.toString());
      if (v.seq !== 1000000000 + received || v.items.length !== items) die('echo mismatch');
      received++;
      progress++;
      if (received === count) {
        finish(ws, `RESULT json msgs=${count} bytes=${count * size} seconds=${(now() - t0).toFixed(6)}`);
      } else pump();
    });
    t0 = now();
    pump();
  });
}

function conns(n) {
  if (n <= 0) die('N must be > 0');
  const all = [];
  let started = 0, opened = 0;
  const base = rssKb();
  const t0 = now();
  const startOne = () => {
    started++;
    all.push(open(() => {
      opened++;
      progress++;
      if (started < n) startOne();
      if (opened === n) {
        const t = now() - t0;
        const rss = rssKb();
        process.stdout.write(`RESULT conns msgs=0 bytes=0 seconds=${t.toFixed(6)} conns=${n} rss_base_kb=${base} ` +
          `rss_kb=${rss} bytes_per_conn=${Math.floor((rss - base) * 1024 / n)}\n`);
        process.exit(0);
      }
    }));
  };
  while (started < n && started < CONNS_IN_FLIGHT) startOne();
}

if (mode === 'latency' && args.length === 4) latency(num(args[2]), num(args[3]));
else if (mode === 'throughput' && args.length === 4) throughput(num(args[2]), num(args[3]));
else if (mode === 'conns' && args.length === 3) conns(num(args[2]));
else if (mode === 'json' && args.length === 4) json(num(args[2]), num(args[3]));
else { process.stderr.write(`ws_client: bad arguments for mode '${mode}'\n`); process.exit(2); }
