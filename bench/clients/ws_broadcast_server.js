// ws_broadcast_server.js - node `ws` doing what `wsc serve --broadcast` does,
// for the server benchmark (bench/run.py --sections broadcast): every message
// from any client goes to every connected client, the sender included, as in
// the "Server broadcast" example of ws's README (wss.clients.forEach ...
// client.send(data, {binary})). No permessage-deflate, no logging.
//
//   node ws_broadcast_server.js        (prints ws://127.0.0.1:PORT/ first)
'use strict';
const { WebSocketServer, WebSocket } = require('ws');

const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, clientTracking: true,
                                  maxPayload: 1 << 30, backlog: 4096 });
wss.on('listening', () => {
    process.stdout.write(`ws://127.0.0.1:${wss.address().port}/\n`);
});
wss.on('connection', (ws) => {
    ws.on('message', (data, isBinary) => {
        for (const client of wss.clients)
            if (client.readyState === WebSocket.OPEN) client.send(data, { binary: isBinary });
    });
    ws.on('error', () => {});
});
process.on('SIGTERM', () => process.exit(0));
