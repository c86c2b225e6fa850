#!/usr/bin/env node
// WebSocket test client for wsc's integration tests (node `ws` 8). Same command
// line as py_client.py:
//   node_client.js URL [actions...] [options...]
// Actions, run in command-line order: --send TEXT, --send-binary HEX,
// --send-pattern N, --expect TEXT, --expect-binary HEX, --expect-pattern N,
// --expect-match REGEX, --recv N, --ping TEXT. Then --echo (echo until the
// server closes, exit 0 however it closes), or --expect-close CODE[:REASON], or
// close with --close CODE[:REASON] (default 1000). See README.md.
// Exit status: 0 success, 1 failure (what differed goes to stderr), 2 usage.
'use strict';

const http = require('http');
const net = require('net');
const path = require('path');
const tls = require('tls');
const fs = require('fs');
const WebSocket = require(path.join(__dirname, 'node_modules', 'ws'));

const PROG = 'node_client';

function usage(msg) {
  process.stderr.write(`${PROG}: ${msg}\n` +
    'usage: node_client.js URL [--send TEXT] [--send-binary HEX] [--send-pattern N]\n' +
    '  [--expect TEXT] [--expect-binary HEX] [--expect-pattern N] [--expect-match RE]\n' +
    '  [--recv N] [--ping TEXT] [--echo] [--expect-close CODE[:REASON]] [--close CODE[:REASON]]\n' +
    '  [--expect-status NNN] [--expect-error SUBSTR] [--expect-protocol P]\n' +
    '  [--expect-extensions HDR] [--protocol P]... [--cookie C]... [--header "N: V"]...\n' +
    '  [--origin O] [--user-agent UA] [--no-deflate] [--max-size N] [--timeout S]\n' +
    '  [--cafile F] [--insecure] [--cert F --key F] [--unix PATH] [--proxy URL]\n' +
    '  [--follow-redirects]\n');
  process.exit(2);
}

const ACTIONS = new Set(['--send', '--send-binary', '--send-pattern', '--expect', '--expect-binary',
  '--expect-pattern', '--expect-match', '--recv', '--ping']);

function parseArgs(argv) {
  const a = {
    url: null, actions: [], echo: false, expectClose: null, close: '1000', expectStatus: null,
    expectError: null, expectProtocol: null, expectExtensions: null, protocol: [], cookie: [],
    header: [], origin: null, userAgent: 'wsc-test-node_client', noDeflate: false,
    maxSize: 64 * 1024 * 1024, timeout: 10, cafile: null, insecure: false, cert: null, key: null,
    unix: null, proxy: null, followRedirects: false,
  };
  const valued = {
    '--expect-close': (v) => { a.expectClose = v; },
    '--close': (v) => { a.close = v; },
    '--expect-status': (v) => { a.expectStatus = Number(v); },
    '--expect-error': (v) => { a.expectError = v; },
    '--expect-protocol': (v) => { a.expectProtocol = v; },
    '--expect-extensions': (v) => { a.expectExtensions = v; },
    '--protocol': (v) => { a.protocol.push(v); },
    '--cookie': (v) => { a.cookie.push(v); },
    '--header': (v) => { a.header.push(v); },
    '--origin': (v) => { a.origin = v; },
    '--user-agent': (v) => { a.userAgent = v; },
    '--max-size': (v) => { a.maxSize = Number(v); },
    '--timeout': (v) => { a.timeout = Number(v); },
    '--cafile': (v) => { a.cafile = v; },
    '--cert': (v) => { a.cert = v; },
    '--key': (v) => { a.key = v; },
    '--unix': (v) => { a.unix = v; },
    '--proxy': (v) => { a.proxy = v; },
  };
  const flags = {
    '--echo': () => { a.echo = true; },
    '--no-deflate': () => { a.noDeflate = true; },
    '--insecure': () => { a.insecure = true; },
    '--follow-redirects': () => { a.followRedirects = true; },
    '--verbose': () => {},
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '-h' || arg === '--help') usage('help');
    else if (ACTIONS.has(arg) || valued[arg]) {
      if (i + 1 >= argv.length) usage(`${arg} needs a value`);
      const v = argv[++i];
      if (ACTIONS.has(arg)) a.actions.push([arg.slice(2), v]);
      else valued[arg](v);
    } else if (flags[arg]) flags[arg]();
    else if (!arg.startsWith('--') && a.url === null) a.url = arg;
    else usage(`unknown argument ${arg}`);
  }
  if (a.url === null) usage('URL missing');
  return a;
}

const args = parseArgs(process.argv.slice(2));

class Failure extends Error {}
class HandshakeStatus extends Error {
  constructor(status, where) { super(`${where} answered HTTP ${status}`); this.status = status; }
}

function pattern(n) {
  const buf = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) buf[i] = i & 0xff;
  return buf;
}

function show(data, isBinary, limit = 80) {
  if (!isBinary) {
    const s = data.toString('utf8');
    return `text ${JSON.stringify(s.length <= limit ? s : s.slice(0, limit) + `...(${s.length} chars)`)}`;
  }
  const h = data.subarray(0, limit / 2).toString('hex');
  return `binary (${data.length} bytes) ${h}${data.length > limit / 2 ? '...' : ''}`;
}

function parseCode(spec) {
  const i = spec.indexOf(':');
  return i < 0 ? [Number(spec), '', false] : [Number(spec.slice(0, i)), spec.slice(i + 1), true];
}

let ws = null;
function finish(code, msg) {
  if (msg) process.stderr.write(`${PROG}: ${msg}\n`);
  if (ws) { try { ws.terminate(); } catch (e) { /* ignore */ } }
  process.exitCode = code;
  // Let stderr drain, then leave whatever is still pending.
  setImmediate(() => process.exit(code));
}

const timer = setTimeout(() => finish(1, `timed out after ${args.timeout} s`), args.timeout * 1000);

function onError(err) {
  if (err instanceof HandshakeStatus) {
    if (args.expectStatus === err.status) finish(0);
    else finish(1, err.message);
    return;
  }
  if (err instanceof Failure) { finish(1, err.message); return; }
  const text = `${err.code ? err.code + ': ' : ''}${err.message}`;
  if (args.expectError !== null && text.includes(args.expectError)) finish(0);
  else finish(1, text);
}

// CONNECT through an HTTP proxy; resolves with the tunnelled socket.
function openTunnel(proxyUrl, host, port) {
  return new Promise((resolve, reject) => {
    const p = new URL(proxyUrl);
    const target = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
    const headers = { Host: target };
    if (p.username) {
      const cred = `${decodeURIComponent(p.username)}:${decodeURIComponent(p.password)}`;
      headers['Proxy-Authorization'] = 'Basic ' + Buffer.from(cred).toString('base64');
    }
    const req = http.request({
      host: p.hostname.replace(/^\[|\]$/g, ''), port: Number(p.port) || 8080, method: 'CONNECT',
      path: target, headers, agent: false,
    });
    req.on('connect', (res, socket, head) => {
      if (res.statusCode !== 200) { socket.destroy(); reject(new HandshakeStatus(res.statusCode, 'proxy')); return; }
      if (head && head.length) socket.unshift(head);
      resolve(socket);
    });
    req.on('response', (res) => { res.resume(); reject(new HandshakeStatus(res.statusCode, 'proxy')); });
    req.on('error', reject);
    req.end();
  });
}

async function connect() {
  const url = new URL(args.url);
  const secure = url.protocol === 'wss:';
  const opts = {
    perMessageDeflate: args.noDeflate ? false : { threshold: 0 },
    maxPayload: args.maxSize,
    handshakeTimeout: args.timeout * 1000,
    followRedirects: args.followRedirects,
    headers: { 'User-Agent': args.userAgent },
  };
  if (args.cookie.length) opts.headers.Cookie = args.cookie.join('; ');
  for (const h of args.header) {
    const i = h.indexOf(':');
    opts.headers[h.slice(0, i).trim()] = h.slice(i + 1).trim();
  }
  if (args.origin) opts.origin = args.origin;
  const tlsOpts = {};
  if (args.cafile) tlsOpts.ca = fs.readFileSync(args.cafile);
  if (args.insecure) tlsOpts.rejectUnauthorized = false;
  if (args.cert) {
    tlsOpts.cert = fs.readFileSync(args.cert);
    tlsOpts.key = fs.readFileSync(args.key || args.cert);
  }
  Object.assign(opts, tlsOpts);

  let address = args.url;
  if (args.unix) {
    address = `${secure ? 'wss' : 'ws'}+unix://${args.unix}:${url.pathname}${url.search}`;
  } else if (args.proxy) {
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const port = Number(url.port) || (secure ? 443 : 80);
    const sock = await openTunnel(args.proxy, host, port);
    opts.createConnection = secure
      ? () => tls.connect({ socket: sock, servername: net.isIP(host) ? undefined : host, ...tlsOpts })
      : () => sock;
  }

  return new Promise((resolve, reject) => {
    ws = new WebSocket(address, args.protocol, opts);
    // Listeners go on before 'open': frames that came with the 101 response
    // are delivered (process.nextTick) before a promise continuation runs.
    ws.on('message', (data, isBinary) => {
      if (args.echo && echoing) { ws.send(data, { binary: isBinary }); return; }
      inbox.push([data, isBinary]);
      if (wake) wake();
    });
    ws.on('pong', (data) => { pongs.push(data.toString('utf8')); if (wake) wake(); });
    ws.on('close', (code, reason) => {
      closed = [code, reason.toString('utf8')];
      reject(new Failure('connection closed during the handshake'));
      if (wake) wake();
    });
    ws.on('unexpected-response', (req, res) => {
      res.resume();
      reject(new HandshakeStatus(res.statusCode, 'server'));
      req.destroy();
    });
    ws.once('open', () => resolve(ws));
    ws.on('error', reject); // after 'open': a no-op, reported through 'close'
  });
}

// Connection state, filled by the listeners set up in connect().
const inbox = [];
const pongs = [];
let echoing = false;
let closed = null;
let wake = null;

async function main() {
  await connect();

  const waitFor = (pred) => new Promise((resolve) => {
    const check = () => { const v = pred(); if (v) { wake = null; resolve(v); } else wake = check; };
    check();
  });
  const nextMessage = async () => {
    const v = await waitFor(() => (inbox.length ? ['msg', inbox.shift()] : closed ? ['closed'] : null));
    if (v[0] === 'closed') throw new Failure(`connection closed while waiting for a message (code ${closed[0]})`);
    return v[1];
  };
  const send = (data, binary) => new Promise((resolve, reject) => {
    ws.send(data, { binary }, (err) => (err ? reject(err) : resolve()));
  });

  if (args.expectProtocol !== null && ws.protocol !== args.expectProtocol) {
    throw new Failure(`subprotocol: expected ${JSON.stringify(args.expectProtocol)}, got ${JSON.stringify(ws.protocol)}`);
  }
  if (args.expectExtensions !== null) {
    // ws does not keep the response header; rebuild it from the negotiated parameters.
    const pmd = ws._extensions['permessage-deflate'];
    let got = '';
    if (pmd) {
      got = 'permessage-deflate' + Object.entries(pmd.params)
        .map(([k, v]) => (v === true ? `; ${k}` : `; ${k}=${v}`)).join('');
    }
    if (got !== args.expectExtensions) {
      throw new Failure(`extensions: expected ${JSON.stringify(args.expectExtensions)}, got ${JSON.stringify(got)}`);
    }
  }

  for (const [kind, value] of args.actions) {
    if (kind === 'send') await send(Buffer.from(value, 'utf8'), false);
    else if (kind === 'send-binary') await send(Buffer.from(value, 'hex'), true);
    else if (kind === 'send-pattern') await send(pattern(Number(value)), true);
    else if (kind === 'ping') {
      ws.ping(value);
      const v = await waitFor(() => (pongs.includes(value) ? ['pong'] : closed ? ['closed'] : null));
      if (v[0] === 'closed') throw new Failure('connection closed while waiting for a pong');
    } else if (kind === 'recv') {
      for (let i = 0; i < Number(value); i++) {
        const [data, isBinary] = await nextMessage();
        process.stdout.write((isBinary ? 'binary:' + data.toString('hex') : data.toString('utf8')) + '\n');
      }
    } else {
      const [data, isBinary] = await nextMessage();
      let ok;
      let want;
      if (kind === 'expect') {
        ok = !isBinary && data.equals(Buffer.from(value, 'utf8'));
        want = `text ${JSON.stringify(value)}`;
      } else if (kind === 'expect-binary') {
        ok = isBinary && data.equals(Buffer.from(value, 'hex'));
        want = `binary ${value}`;
      } else if (kind === 'expect-pattern') {
        ok = isBinary && data.equals(pattern(Number(value)));
        want = `binary pattern of ${value} bytes`;
      } else {
        ok = !isBinary && new RegExp(value).test(data.toString('utf8'));
        want = `text matching ${JSON.stringify(value)}`;
      }
      if (!ok) throw new Failure(`expected ${want}, got ${show(data, isBinary)}`);
    }
  }

  if (args.echo) {
    echoing = true;
    for (const [data, isBinary] of inbox.splice(0)) ws.send(data, { binary: isBinary });
    await waitFor(() => (closed ? ['closed'] : null));
    return;
  }

  if (args.expectClose !== null) {
    const [code, reason, withReason] = parseCode(args.expectClose);
    const v = await waitFor(() => (inbox.length ? ['msg', inbox.shift()] : closed ? ['closed'] : null));
    if (v[0] === 'msg') throw new Failure(`expected the server to close, got ${show(v[1][0], v[1][1])}`);
    if (closed[0] !== code || (withReason && closed[1] !== reason)) {
      throw new Failure(`close: expected ${code} ${JSON.stringify(reason)}, got ${closed[0]} ${JSON.stringify(closed[1])}`);
    }
    return;
  }

  const [code, reason] = parseCode(args.close);
  ws.close(code, reason);
  await waitFor(() => (closed ? ['closed'] : null));
}

main().then(() => {
  clearTimeout(timer);
  if (args.expectStatus !== null) finish(1, `expected HTTP status ${args.expectStatus}, but connected`);
  else if (args.expectError !== null) finish(1, `expected an error containing ${JSON.stringify(args.expectError)}, but connected`);
  else finish(0);
}, onError);
