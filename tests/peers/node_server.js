#!/usr/bin/env node
// WebSocket test server for wsc's integration tests (node `ws` 8, pinned by
// package-lock.json). Same command line and the same request paths as
// py_server.py: see README.md. The first line on stdout is exactly
// `LISTENING <port>` (or `LISTENING <path>` with --unix); everything else goes
// to the JSON-lines log (--log FILE, default stderr).
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const https = require('https');
const path = require('path');
const { WebSocketServer, WebSocket } = require(path.join(__dirname, 'node_modules', 'ws'));

const HEX_LIMIT = 4096;
const ROUTES = new Set(['/', '/echo', '/close', '/drop', '/raw', '/silent', '/ping', '/record',
  '/slow', '/big']);
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

function usage(msg) {
  process.stderr.write(`node_server: ${msg}\n` +
    'usage: node_server.js [--host H] [--port N] [--unix PATH] [--tls-cert F --tls-key F]\n' +
    '  [--require-client-cert CA] [--protocols a,b] [--no-deflate] [--deflate-params P]\n' +
    '  [--max-size N] [--close-timeout S] [--lifetime S] [--log FILE]\n');
  process.exit(2);
}

function parseArgs(argv) {
  const a = {
    host: '127.0.0.1', port: 0, unix: null, tlsCert: null, tlsKey: null, requireClientCert: null,
    protocols: [], noDeflate: false, deflateParams: null, maxSize: 64 * 1024 * 1024,
    closeTimeout: 5, lifetime: 120, log: null,
  };
  const valued = {
    '--host': (v) => { a.host = v; },
    '--port': (v) => { a.port = Number(v); },
    '--unix': (v) => { a.unix = v; },
    '--tls-cert': (v) => { a.tlsCert = v; },
    '--tls-key': (v) => { a.tlsKey = v; },
    '--require-client-cert': (v) => { a.requireClientCert = v; },
    '--protocols': (v) => { a.protocols = v.split(',').filter(Boolean); },
    '--deflate-params': (v) => { a.deflateParams = v; },
    '--max-size': (v) => { a.maxSize = Number(v); },
    '--close-timeout': (v) => { a.closeTimeout = Number(v); },
    '--lifetime': (v) => { a.lifetime = Number(v); },
    '--log': (v) => { a.log = v; },
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--no-deflate') a.noDeflate = true;
    else if (arg === '-h' || arg === '--help') usage('help');
    else if (valued[arg]) {
      if (i + 1 >= argv.length) usage(`${arg} needs a value`);
      valued[arg](argv[++i]);
    } else usage(`unknown argument ${arg}`);
  }
  if (!LOOPBACK.has(a.host) && !a.host.startsWith('127.')) usage('--host must be a loopback address');
  if (!a.tlsCert !== !a.tlsKey) usage('--tls-cert and --tls-key go together');
  return a;
}

const args = parseArgs(process.argv.slice(2));
const logFd = args.log ? fs.openSync(args.log, 'a') : 2;

function log(event, fields) {
  const rec = { ts: Date.now() / 1000, peer: 'node_server', event, ...fields };
  try { fs.writeSync(logFd, JSON.stringify(rec) + '\n'); } catch (e) { /* ignore */ }
}

function describe(data, isBinary) {
  if (!isBinary) return { type: 'text', len: data.length, data: data.toString('utf8') };
  const rec = { type: 'binary', len: data.length,
    sha256: crypto.createHash('sha256').update(data).digest('hex') };
  if (data.length <= HEX_LIMIT) rec.hex = data.toString('hex');
  return rec;
}

function payloadText(buf) {
  const s = buf.toString('utf8');
  return Buffer.from(s, 'utf8').equals(buf) ? s : 'hex:' + buf.toString('hex');
}

function headerDict(pairs) {
  const out = {};
  for (const [name, value] of pairs) {
    const key = name.toLowerCase();
    if (key in out) out[key] += (key === 'cookie' ? '; ' : ', ') + value;
    else out[key] = value;
  }
  return out;
}

function rawPairs(raw) {
  const pairs = [];
  for (let i = 0; i + 1 < raw.length; i += 2) pairs.push([raw[i], raw[i + 1]]);
  return pairs;
}

function intParam(params, name, dflt) {
  const v = params.get(name);
  if (v === null || v === '') return dflt;
  const n = parseInt(v, 10);
  return Number.isNaN(n) ? dflt : n;
}

function pattern(n) {
  const buf = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) buf[i] = i & 0xff;
  return buf;
}

function deflateOptions() {
  if (args.noDeflate) return false;
  // threshold 0: compress every message (ws' default leaves < 1 KiB alone).
  const o = { threshold: 0 };
  if (args.deflateParams !== null) {
    for (const item of args.deflateParams.split(',').map((s) => s.trim()).filter(Boolean)) {
      const [name, value] = item.split('=');
      if (name === 'server_no_context_takeover') o.serverNoContextTakeover = true;
      else if (name === 'client_no_context_takeover') o.clientNoContextTakeover = true;
      else if (name === 'server_max_window_bits') o.serverMaxWindowBits = Number(value);
      else if (name === 'client_max_window_bits') o.clientMaxWindowBits = Number(value);
      else usage(`unknown deflate parameter ${name}`);
    }
  }
  return o;
}

// A raw HTTP response for /status/NNN and unknown paths.
function refuse(socket, code, reqUrl, params) {
  const phrase = http.STATUS_CODES[code] || 'Custom Status';
  const body = `status ${code}\n`;
  let head = `HTTP/1.1 ${code} ${phrase}\r\nServer: wsc-test-node_server\r\n` +
    `Content-Type: text/plain\r\nContent-Length: ${body.length}\r\nConnection: close\r\n`;
  if (code >= 300 && code < 400) head += `Location: ${params.get('location') || '/echo'}\r\n`;
  if (code === 401) head += 'WWW-Authenticate: Basic realm="wsc"\r\n';
  if (code === 429 || code === 503) head += 'Retry-After: 1\r\n';
  log('refused', { path: reqUrl, status: code });
  socket.end(head + '\r\n' + body);
  setTimeout(() => socket.destroy(), 1000).unref();
}

function closeFrame(code, reason) {
  const payload = code === 0 ? Buffer.alloc(0)
    : Buffer.concat([Buffer.from([code >> 8, code & 0xff]), Buffer.from(reason, 'utf8')]);
  if (payload.length > 125) return null;
  return Buffer.concat([Buffer.from([0x88, payload.length]), payload]);
}

let connCounter = 0;

const wss = new WebSocketServer({
  noServer: true,
  perMessageDeflate: deflateOptions(),
  maxPayload: args.maxSize,
  closeTimeout: args.closeTimeout * 1000,
  handleProtocols: (offered) => {
    for (const p of offered) if (args.protocols.includes(p)) return p;
    return false;
  },
});
wss.on('headers', (headers, req) => { req.wscResponseHeaders = headers; });

function onConnection(ws, req, url) {
  const id = ++connCounter;
  const route = url.pathname;
  const params = url.searchParams;
  const rawHeaders = rawPairs(req.rawHeaders);
  const respPairs = (req.wscResponseHeaders || []).slice(1).map((line) => {
    const i = line.indexOf(':');
    return [line.slice(0, i), line.slice(i + 1).trim()];
  });
  const extensions = headerDict(respPairs)['sec-websocket-extensions'] || null;
  const rec = { messages: [], pings: [], pongs: [] };
  const query = url.search.startsWith('?') ? url.search.slice(1) : url.search;
  log('open', { conn: id, path: req.url, subprotocol: ws.protocol || null, extensions });

  ws.on('error', (err) => log('error', { conn: id, error: String(err) }));
  ws.on('close', (code, reason) => log('closed', { conn: id, code, reason: reason.toString() }));
  ws.on('ping', (data) => { const t = payloadText(data); rec.pings.push(t); log('ping', { conn: id, data: t }); });
  ws.on('pong', (data) => { const t = payloadText(data); rec.pongs.push(t); log('pong', { conn: id, data: t }); });

  const send = (data, binary) => new Promise((resolve) => {
    if (ws.readyState !== WebSocket.OPEN) { resolve(); return; }
    ws.send(data, { binary }, () => resolve());
  });
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

  // Sends close frames websockets-style libraries refuse (1005, 999, long reasons) raw.
  const closeWith = (code, reason) => {
    log('close_sent', { conn: id, code, reason });
    let ok = false;
    try {
      if (code === 0) { ws.close(); ok = true; } else { ws.close(code, reason); ok = true; }
    } catch (e) { ok = false; }
    if (ok) return;
    const frame = closeFrame(code, reason);
    if (frame === null) { ws.terminate(); return; }
    ws._socket.write(frame);
    ws._closeFrameSent = true; // internal to ws 8: so it answers the peer's close by ending
    ws._readyState = WebSocket.CLOSING;
    setTimeout(() => ws.terminate(), args.closeTimeout * 1000).unref();
  };

  const after = intParam(params, 'after', 0);
  let action = null;
  let dump = false;
  let record = false;
  let delay = 0;
  let pre = Promise.resolve();

  if (route === '/close') {
    const code = intParam(params, 'code', 0);
    const reason = params.get('reason') || '';
    action = () => { closeWith(code, reason); return true; };
  } else if (route === '/drop') {
    action = () => { log('drop', { conn: id }); ws._socket.destroy(); return true; };
  } else if (route === '/raw') {
    let raw = Buffer.alloc(0);
    if (/^([0-9a-fA-F]{2})*$/.test(params.get('hex') || '')) raw = Buffer.from(params.get('hex') || '', 'hex');
    action = () => { log('raw_sent', { conn: id, hex: raw.toString('hex') }); ws._socket.write(raw); return false; };
  } else if (route === '/silent') {
    // Discard everything from now on: no pong, no close reply, nothing sent.
    ws._socket.removeAllListeners('data');
    ws._socket.on('data', () => {});
    ws._socket.resume();
    log('silent', { conn: id });
    return;
  } else if (route === '/ping') {
    dump = true;
    const n = intParam(params, 'n', 1);
    for (let i = 0; i < n; i++) { log('ping_sent', { conn: id, data: `p${i}` }); ws.ping(`p${i}`); }
  } else if (route === '/record') {
    dump = true;
    record = true;
    log('handshake', { conn: id, path: route, query, headers: rawHeaders });
  } else if (route === '/slow') {
    delay = intParam(params, 'ms', 100);
  } else if (route === '/big') {
    const n = intParam(params, 'bytes', 0);
    log('big_sent', { conn: id, bytes: n });
    pre = send(pattern(n), true);
  }

  let done = false;
  if (action && after === 0) {
    done = action();
    action = null;
    if (done) return;
  }

  let count = 0;
  let chain = pre;
  ws.on('message', (data, isBinary) => {
    chain = chain.then(async () => {
      if (done) return;
      if (dump && !isBinary && data.toString('utf8') === '__dump__') {
        await send(JSON.stringify({
          path: route, query, params: Object.fromEntries(params), headers: headerDict(rawHeaders),
          raw_headers: rawHeaders, subprotocol: ws.protocol || null, extensions,
          messages: rec.messages, pings: rec.pings, pongs: rec.pongs,
        }), false);
        return;
      }
      if (record) {
        const d = describe(data, isBinary);
        rec.messages.push(d);
        log('message', { conn: id, ...d });
      }
      if (delay) await sleep(delay);
      await send(data, isBinary);
      count += 1;
      if (action && count === after) {
        done = action();
        action = null;
      }
    }).catch((err) => log('error', { conn: id, error: String(err) }));
  });
}

function onUpgrade(req, socket, head) {
  socket.on('error', () => {});
  let url;
  try { url = new URL(req.url, 'http://127.0.0.1'); } catch (e) { socket.destroy(); return; }
  if (url.pathname.startsWith('/status/')) {
    let code = parseInt(url.pathname.slice('/status/'.length), 10);
    if (!(code >= 100 && code <= 999)) code = 400;
    refuse(socket, code, req.url, url.searchParams);
    return;
  }
  if (!ROUTES.has(url.pathname)) { refuse(socket, 404, req.url, url.searchParams); return; }
  wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws, req, url));
}

let server;
if (args.tlsCert) {
  const opts = { cert: fs.readFileSync(args.tlsCert), key: fs.readFileSync(args.tlsKey) };
  if (args.requireClientCert) {
    opts.ca = fs.readFileSync(args.requireClientCert);
    opts.requestCert = true;
    opts.rejectUnauthorized = true;
  }
  server = https.createServer(opts);
  server.on('tlsClientError', (err) => log('tls_error', { error: String(err) }));
} else {
  server = http.createServer();
}
server.on('request', (req, res) => {
  res.writeHead(426, { 'Content-Type': 'text/plain', Upgrade: 'websocket', Connection: 'close' });
  res.end('WebSocket only\n');
});
server.on('upgrade', onUpgrade);
server.on('clientError', (err, socket) => socket.destroy());

let stopping = false;
function shutdown(why) {
  if (stopping) return;
  stopping = true;
  log('exit', { why });
  server.close();
  for (const ws of wss.clients) { try { ws.close(1001, 'server shutdown'); } catch (e) { ws.terminate(); } }
  const finish = () => {
    if (args.unix) { try { fs.unlinkSync(args.unix); } catch (e) { /* gone */ } }
    process.exit(0);
  };
  if (wss.clients.size === 0) finish();
  const t = setInterval(() => { if (wss.clients.size === 0) finish(); }, 20);
  t.unref();
  setTimeout(finish, 500);
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
process.on('SIGHUP', () => shutdown('SIGHUP'));
process.stdout.on('error', () => {});
setTimeout(() => shutdown('lifetime'), args.lifetime * 1000);

function listening() {
  const where = args.unix ? args.unix : server.address().port;
  process.stdout.write(`LISTENING ${where}\n`);
  log('listening', { where, tls: !!args.tlsCert, pid: process.pid });
}
server.on('error', (err) => { process.stderr.write(`node_server: ${err}\n`); process.exit(1); });
if (args.unix) {
  try { if (fs.statSync(args.unix).isSocket()) fs.unlinkSync(args.unix); } catch (e) { /* none */ }
  server.listen(args.unix, listening);
} else {
  server.listen(args.port, args.host, listening);
}
