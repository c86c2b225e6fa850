#!/usr/bin/python3
"""An Autobahn|Testsuite-style fuzzing server (client mode) on raw TCP.

The server side of the opening handshake and the framing are done here, so
frames can be malformed on purpose (reserved bits and opcodes, fragmented or
oversized control frames, invalid UTF-8, payloads written in chops with
pauses ...).  Frames from the client are parsed strictly (masking, minimal
length encoding, reserved bits, opcodes, fragmentation, UTF-8 of text
messages, close codes and reasons).  The connection's close bookkeeping
(closed_by_me, failed_by_me, dropped_by_me, was_clean, remote close code,
the 1 s closing handshake timeout, the 5 s opening handshake timeout) follows
Autobahn's WebSocket protocol with failByDrop = False, since that is what the
grading in cases.py looks at.

URLs (as Autobahn's fuzzingserver):
  GET /runCase?case=N&agent=NAME     play case N (1-based index in the case list)
  GET /getCaseCount                  a text message with the number of cases, then close
  GET /getCaseInfo?case=N            a text message {"id": ..., "description": ...}, then close
  GET /updateReports?agent=NAME      write the reports (standalone mode), then close

Standalone: fuzzingserver.py --port 9001 [--cases 1.*,2.*] [--exclude 12.*]
            [--outdir reports/clients]
"""

import argparse
import asyncio
import base64
import codecs
import hashlib
import json
import os
import struct
import sys
import time
import urllib.parse
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cases as C  # noqa: E402

SERVER_NAME = "wsc-fuzzingserver/1.0 (AutobahnTestSuite-compatible)"
WS_MAGIC = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

STATE_CLOSED, STATE_CONNECTING, STATE_CLOSING, STATE_OPEN = 0, 1, 2, 3

# close codes a peer may put in a close frame (Autobahn's list)
CLOSE_CODES_ALLOWED = (1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013)

QUEUED_WRITE_DELAY = 0.00001     # reactor re-entry between chopped / "sync" writes
OPEN_HANDSHAKE_TIMEOUT = 5.0
CLOSE_HANDSHAKE_TIMEOUT = 1.0
GRACEFUL_CLOSE_LIMIT = 5.0       # a graceful close whose buffer never drains is aborted
MAX_HEAD = 16384


def xor_mask(data, mask, offset=0):
    """Unmask data whose first byte is at position `offset` of the payload."""
    n = len(data)
    if n == 0:
        return b""
    k = offset % 4
    m = (mask[k:] + mask[:k]) * (n // 4 + 1)
    return (int.from_bytes(data, "big") ^ int.from_bytes(m[:n], "big")).to_bytes(n, "big")


def truncate_utf8(s, limit=123):
    b = s.encode("utf-8")
    if len(b) <= limit:
        return b
    b = b[:limit]
    while b:
        try:
            b.decode("utf-8")
            return b
        except UnicodeDecodeError:
            b = b[:-1]
    return b


def preview(b, limit=64):
    """Render a payload for reports: text if it is UTF-8, else hex."""
    if isinstance(b, str):
        return b
    tail = " ..." if len(b) > limit else ""
    try:
        return b[:limit].decode("utf-8") + tail
    except UnicodeDecodeError:
        return "0x" + b[:limit].hex() + tail


class WireLog:
    """Frames and timer events of one connection, bounded in size."""

    def __init__(self, head=300, tail=100):
        self.t0 = time.monotonic()
        self.head, self.tail = head, tail
        self.items = []
        self.last = []
        self.dropped = 0

    def add(self, kind, **kw):
        kw["t"] = round((time.monotonic() - self.t0) * 1000, 1)
        kw["ev"] = kind
        if len(self.items) < self.head:
            self.items.append(kw)
        else:
            self.last.append(kw)
            if len(self.last) > self.tail:
                self.last.pop(0)
                self.dropped += 1

    def export(self):
        out = list(self.items)
        if self.dropped:
            out.append({"ev": "...", "omitted": self.dropped})
        return out + self.last


class PerMessageDeflate:
    """One side of a negotiated permessage-deflate (Autobahn's semantics):
    the fuzzing server's, or with server_side=False the fuzzing client's.
    Each side compresses with its own parameters and decompresses with
    exactly the peer's, so a peer that ignores its window limit is caught."""

    def __init__(self, server_no_context_takeover, client_no_context_takeover,
                 server_max_window_bits, client_max_window_bits, server_side=True):
        self.server_no_context_takeover = server_no_context_takeover
        self.client_no_context_takeover = client_no_context_takeover
        self.server_max_window_bits = server_max_window_bits or 15
        self.client_max_window_bits = client_max_window_bits or 15
        if server_side:
            self._own = (self.server_no_context_takeover, self.server_max_window_bits)
            self._peer = (self.client_no_context_takeover, self.client_max_window_bits)
        else:
            self._own = (self.client_no_context_takeover, self.client_max_window_bits)
            self._peer = (self.server_no_context_takeover, self.server_max_window_bits)
        self._comp = None
        self._decomp = None

    @classmethod
    def from_accept(cls, accept):
        o = accept.offer
        return cls(o.request_no_context_takeover, accept.request_no_context_takeover,
                   o.request_max_window_bits, accept.request_max_window_bits)

    def params(self):
        return {"server_no_context_takeover": self.server_no_context_takeover,
                "client_no_context_takeover": self.client_no_context_takeover,
                "server_max_window_bits": self.server_max_window_bits,
                "client_max_window_bits": self.client_max_window_bits}

    def compress(self, data):
        no_context_takeover, max_window_bits = self._own
        if self._comp is None or no_context_takeover:
            # zlib cannot make 256-byte windows; a 9-bit window never refers
            # farther back than 250 octets, so it serves for 8 as well
            wbits = max(9, max_window_bits)
            self._comp = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -wbits, 8)
        out = self._comp.compress(data) + self._comp.flush(zlib.Z_SYNC_FLUSH)
        return out[:-4]

    def start_decompress(self):
        no_context_takeover, max_window_bits = self._peer
        if self._decomp is None or no_context_takeover:
            self._decomp = zlib.decompressobj(-max_window_bits)

    def decompress(self, data):
        return self._decomp.decompress(data)

    def end_decompress(self):
        return self._decomp.decompress(b"\x00\x00\xff\xff")


def parse_extensions(header):
    """Sec-WebSocket-Extensions -> [(name, {param: [values]})] (Autobahn's parser)."""
    out = []
    for e in header.split(","):
        e = e.strip()
        if not e:
            continue
        parts = [x.strip() for x in e.split(";")]
        params = {}
        for p in parts[1:]:
            kv = [x.strip() for x in p.split("=")]
            key = kv[0].lower()
            if len(kv) > 1:
                val = "=".join(kv[1:])
                if val[:1] == '"':
                    val = val[1:]
                if val[-1:] == '"':
                    val = val[:-1]
            else:
                val = True
            params.setdefault(key, []).append(val)
        out.append((parts[0].lower(), params))
    return out


def parse_deflate_offer(params):
    """One permessage-deflate offer -> cases.Offer; raises ValueError if invalid."""
    o = C.Offer(accept_no_context_takeover=True, accept_max_window_bits=False,
                request_no_context_takeover=False, request_max_window_bits=0)
    for p, vals in params.items():
        if len(vals) > 1:
            raise ValueError("multiple occurrence of extension parameter '%s'" % p)
        val = vals[0]
        if p == "client_max_window_bits":
            if val is not True:
                try:
                    v = int(val)
                except ValueError:
                    raise ValueError("illegal value '%s' for parameter '%s'" % (val, p))
                if v not in range(8, 16):
                    raise ValueError("illegal value '%s' for parameter '%s'" % (val, p))
            o.accept_max_window_bits = True
        elif p == "client_no_context_takeover":
            if val is not True:
                raise ValueError("illegal value '%s' for parameter '%s'" % (val, p))
            o.accept_no_context_takeover = True
        elif p == "server_max_window_bits":
            try:
                v = int(val)
            except (TypeError, ValueError):
                raise ValueError("illegal value '%s' for parameter '%s'" % (val, p))
            if v not in range(8, 16):
                raise ValueError("illegal value '%s' for parameter '%s'" % (val, p))
            o.request_max_window_bits = v
        elif p == "server_no_context_takeover":
            if val is not True:
                raise ValueError("illegal value '%s' for parameter '%s'" % (val, p))
            o.request_no_context_takeover = True
        else:
            raise ValueError("illegal extension parameter '%s' for extension 'permessage-deflate'" % p)
    return o


class Frame:
    __slots__ = ("opcode", "fin", "rsv", "length", "mask", "pos")

    def __init__(self, opcode, fin, rsv, length, mask):
        self.opcode, self.fin, self.rsv, self.length, self.mask = opcode, fin, rsv, length, mask
        self.pos = 0


class FuzzConn(asyncio.Protocol):
    """Server side of one connection: handshake, framing, close bookkeeping."""

    STATE_CLOSED, STATE_CONNECTING, STATE_CLOSING, STATE_OPEN = STATE_CLOSED, STATE_CONNECTING, STATE_CLOSING, \
        STATE_OPEN
    IS_SERVER = True        # the fuzzing client (server mode) subclasses this

    def __init__(self, server):
        self.server = server
        self.loop = asyncio.get_event_loop()
        self.transport = None
        self.state = STATE_CONNECTING
        self.buf = bytearray()
        self.wirelog = WireLog()
        self.timers = []
        self.case = None
        self.case_index = None
        self.case_cls = None
        self.agent = None
        self.path = None
        self.peer = None
        self.http_request = None
        self.http_response = None
        # close bookkeeping (Autobahn's names)
        self.connection_was_open = False
        self.closed_by_me = False
        self.failed_by_me = False
        self.dropped_by_me = False
        self.was_clean = False
        self.was_not_clean_reason = None
        self.was_close_handshake_timeout = False
        self.was_open_handshake_timeout = False
        self.local_close_code = None
        self.local_close_reason = None
        self.remote_close_code = None
        self.remote_close_reason = None
        self.close_handshake_timer = None
        self.violations = []
        # framing
        self.cur = None
        self.inside_message = False
        self.msg_binary = False
        self.msg_compressed = False
        self.msg_data = []
        self.utf8 = None
        self.ctrl_data = []
        self.send_queue = []
        self.sending = False
        self.pending = []
        self.flush_scheduled = False
        self.pmce = None
        self.auto_fragment_size = 0
        self.tx_frame_stats = {}
        self.rx_frame_stats = {}
        self.traffic = {"incomingOctetsWireLevel": 0, "outgoingOctetsWireLevel": 0,
                        "incomingOctetsWebSocketLevel": 0, "incomingOctetsAppLevel": 0,
                        "outgoingOctetsWebSocketLevel": 0, "outgoingOctetsAppLevel": 0}
        self.send_state = None
        self.t_open = None
        self.t_end = None

    # ------------------------------------------------------------------ I/O
    def connection_made(self, transport):
        self.transport = transport
        self.peer = transport.get_extra_info("peername")
        sock = transport.get_extra_info("socket")
        if sock is not None:
            import socket
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:
                pass
        self._later(OPEN_HANDSHAKE_TIMEOUT, self._open_handshake_timeout)

    def data_received(self, data):
        if self.state == STATE_OPEN:
            self.traffic["incomingOctetsWireLevel"] += len(data)
        self.buf += data
        if self.state == STATE_CONNECTING:
            self._process_handshake()
        if self.state in (STATE_OPEN, STATE_CLOSING):
            try:
                while self.state != STATE_CLOSED and self._process_data():
                    pass
            except Exception as e:       # a bug in a case or in the parser: end the case
                self.wirelog.add("error", what=repr(e))
                self.violations.append("server error: %r" % e)
                self.drop_connection(abort=True)
                raise

    def eof_received(self):
        return False

    def connection_lost(self, exc):
        for t in self.timers:
            t.cancel()
        self.timers = []
        self.state = STATE_CLOSED
        self.t_end = time.monotonic()
        if not self.was_clean and not self.dropped_by_me and self.was_not_clean_reason is None:
            self.was_not_clean_reason = "peer dropped the TCP connection without previous WebSocket closing handshake"
        self.wirelog.add("tcp_closed", by="me" if self.dropped_by_me else "peer")
        self.server.connection_finished(self)

    def _later(self, delay, fn, *args):
        h = self.loop.call_later(delay, fn, *args)
        self.timers.append(h)
        return h

    def _write(self, data, sync=False):
        # Like a Twisted transport, writes made in one turn of the event loop
        # leave together (one send); chopped and "sync" writes are spread over
        # separate turns by send_data().
        if self.transport is None or self.transport.is_closing():
            return
        if self.state == STATE_OPEN:
            self.traffic["outgoingOctetsWireLevel"] += len(data)
        self.pending.append(data)
        if not self.flush_scheduled:
            self.flush_scheduled = True
            self.loop.call_soon(self._flush)

    def _flush(self):
        self.flush_scheduled = False
        if self.pending:
            data = b"".join(self.pending)
            self.pending = []
            if self.transport is not None and not self.transport.is_closing():
                self.transport.write(data)

    def send_data(self, data, sync=False, chopsize=None):
        """Write octets; chopped and "sync" writes each re-enter the loop, and
        keep their order with writes made meanwhile."""
        if chopsize and chopsize > 0:
            for i in range(0, len(data), chopsize):
                self.send_queue.append((data[i:i + chopsize], True))
            self._trigger()
        elif sync or self.send_queue:
            self.send_queue.append((data, sync))
            self._trigger()
        else:
            self._write(data)

    def _trigger(self):
        if not self.sending:
            self.sending = True
            self._send_next()

    def _send_next(self):
        if self.send_queue:
            data, sync = self.send_queue.pop(0)
            if self.state != STATE_CLOSED:
                self._write(data, sync)
            self.loop.call_later(QUEUED_WRITE_DELAY, self._send_next)
        else:
            self.sending = False

    # ------------------------------------------------------------ handshake
    def _http_error(self, code, reason, extra=""):
        self.was_not_clean_reason = reason
        self.wirelog.add("handshake_failed", code=code, reason=reason)
        self.violations.append("opening handshake failed: %s" % reason)
        resp = "HTTP/1.1 %d %s\r\n%s\r\n" % (code, reason.replace("\r", " ").replace("\n", " "), extra)
        self.http_response = resp
        self._write(resp.encode("utf-8", "replace"))
        self.drop_connection(abort=False)
        self.server.handshake_failed(self, reason)

    def _process_handshake(self):
        end = self.buf.find(b"\r\n\r\n")
        if end < 0:
            if len(self.buf) > MAX_HEAD:
                self._http_error(400, "HTTP request head too large")
            return
        head = bytes(self.buf[:end + 4])
        del self.buf[:end + 4]
        self.http_request = head.decode("iso-8859-1")
        lines = self.http_request.split("\r\n")
        headers, counts = {}, {}
        for h in lines[1:]:
            i = h.find(":")
            if i > 0:
                k, v = h[:i].strip().lower(), h[i + 1:].strip()
                if k in headers:
                    headers[k] += ", " + v
                    counts[k] += 1
                else:
                    headers[k], counts[k] = v, 1
        rl = lines[0].split()
        if len(rl) != 3:
            return self._http_error(400, "Bad HTTP request status line '%s'" % lines[0])
        if rl[0] != "GET":
            return self._http_error(405, "HTTP method '%s' not allowed" % rl[0])
        if rl[2] != "HTTP/1.1":
            return self._http_error(505, "Unsupported HTTP version '%s'" % rl[2])
        url = urllib.parse.urlparse(rl[1])
        self.request_target = rl[1]
        if url.fragment:
            return self._http_error(400, "HTTP requested resource contains a fragment identifier")
        path, params = url.path, urllib.parse.parse_qs(url.query)
        if "host" not in headers:
            return self._http_error(400, "HTTP Host header missing in opening handshake request")
        if counts["host"] > 1:
            return self._http_error(400, "HTTP Host header appears more than once in opening handshake request")
        if "upgrade" not in headers:
            return self._http_error(426, "HTTP Upgrade header missing")
        if "websocket" not in [u.strip().lower() for u in headers["upgrade"].split(",")]:
            return self._http_error(400, "HTTP Upgrade headers do not include 'websocket' value")
        if "connection" not in headers:
            return self._http_error(400, "HTTP Connection header missing")
        if "upgrade" not in [u.strip().lower() for u in headers["connection"].split(",")]:
            return self._http_error(400, "HTTP Connection headers do not include 'upgrade' value")
        if "sec-websocket-version" not in headers:
            return self._http_error(400, "WebSocket connection denied - Hixie76 protocol not supported.")
        if counts["sec-websocket-version"] > 1:
            return self._http_error(400, "HTTP Sec-WebSocket-Version header appears more than once")
        try:
            version = int(headers["sec-websocket-version"])
        except ValueError:
            return self._http_error(400, "could not parse HTTP Sec-WebSocket-Version header")
        if version not in (8, 13):
            return self._http_error(400, "WebSocket version %d not supported (supported versions: 13,8)" % version,
                                    "Sec-WebSocket-Version: 13,8\r\n")
        if "origin" in headers and counts["origin"] > 1:
            return self._http_error(400, "HTTP Origin header appears more than once in opening handshake request")
        key = headers.get("sec-websocket-key")
        if key is None:
            return self._http_error(400, "HTTP Sec-WebSocket-Key header missing")
        if counts["sec-websocket-key"] > 1:
            return self._http_error(400, "HTTP Sec-WebSocket-Key header appears more than once")
        key = key.strip()
        if len(key) != 24 or key[-2:] != "==" or any(
                c not in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/" for c in key[:-2]):
            return self._http_error(400, "bad Sec-WebSocket-Key '%s'" % key)
        offers = []
        if "sec-websocket-extensions" in headers:
            if counts["sec-websocket-extensions"] > 1:
                return self._http_error(400, "HTTP Sec-WebSocket-Extensions header appears more than once")
            for name, prm in parse_extensions(headers["sec-websocket-extensions"]):
                if name == "permessage-deflate":
                    try:
                        offers.append(parse_deflate_offer(prm))
                    except ValueError as e:
                        return self._http_error(400, str(e))

        # the resource: which case, which agent
        self.path = path
        err = self.server.resolve_request(self, path, params)
        if err:
            return self._http_error(400, err)

        extension_response = None
        if offers and self.case is not None:
            accept = self.case.pmce_accept(offers)
            if accept is not None:
                self.pmce = PerMessageDeflate.from_accept(accept)
                extension_response = accept.extension_string()
        accept_key = base64.b64encode(hashlib.sha1(key.encode("ascii") + WS_MAGIC).digest()).decode()
        resp = ("HTTP/1.1 101 Switching Protocols\r\nServer: %s\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\n"
                "Sec-WebSocket-Accept: %s\r\n" % (SERVER_NAME, accept_key))
        if extension_response:
            resp += "Sec-WebSocket-Extensions: %s\r\n" % extension_response
        resp += "\r\n"
        self.http_response = resp
        self._write(resp.encode("ascii"))
        self.state = STATE_OPEN
        self.connection_was_open = True
        self.t_open = time.monotonic()
        self.wirelog.add("open", offers=[repr(o) for o in offers], extension=extension_response)
        self.server.connection_opened(self)

    def _open_handshake_timeout(self):
        if self.state == STATE_CONNECTING:
            self.was_clean = False
            self.was_not_clean_reason = "peer did not finish (in time) the opening handshake"
            self.was_open_handshake_timeout = True
            self.drop_connection(abort=True)

    # -------------------------------------------------------------- sending
    def send_frame(self, opcode, payload=b"", fin=True, rsv=0, mask=None, payload_len=None, chopsize=None,
                   sync=False):
        if payload_len is not None:
            if not payload:
                raise ValueError("cannot repeat an empty payload")
            pl = (payload * (payload_len // len(payload) + 1))[:payload_len]
        else:
            pl = payload
        n = len(pl)
        b0 = (0x80 if fin else 0) | ((rsv % 8) << 4) | (opcode % 128)
        if n <= 125:
            hdr = bytes([b0, n | (0x80 if mask else 0)])
        elif n <= 0xFFFF:
            hdr = bytes([b0, 126 | (0x80 if mask else 0)]) + struct.pack("!H", n)
        else:
            hdr = bytes([b0, 127 | (0x80 if mask else 0)]) + struct.pack("!Q", n)
        if mask:
            hdr += mask
            pl = xor_mask(pl, mask)
        self.tx_frame_stats[opcode] = self.tx_frame_stats.get(opcode, 0) + 1
        self.wirelog.add("tx", op=opcode, fin=fin, rsv=rsv, len=n, chop=chopsize, sync=sync,
                         payload=preview(payload if payload_len is None else payload[:64]))
        self.send_data(hdr + pl, sync, chopsize)

    def send_message(self, payload, binary=False, fragment_size=None, sync=False):
        if self.state != STATE_OPEN:
            return
        opcode = 2 if binary else 1
        compressed = self.pmce is not None
        self.traffic["outgoingOctetsAppLevel"] += len(payload)
        if compressed:
            payload = self.pmce.compress(payload)
        self.traffic["outgoingOctetsWebSocketLevel"] += len(payload)
        pfs = fragment_size if fragment_size is not None else (self.auto_fragment_size or None)
        if pfs is None or len(payload) <= pfs:
            self.send_frame(opcode, payload, sync=sync, rsv=4 if compressed else 0)
        else:
            first = True
            for i in range(0, len(payload), pfs):
                chunk = payload[i:i + pfs]
                done = i + pfs >= len(payload)
                if first:
                    self.send_frame(opcode, chunk, fin=done, sync=sync, rsv=4 if compressed else 0)
                    first = False
                else:
                    self.send_frame(0, chunk, fin=done, sync=sync)

    # streaming API (used by 6.4.3 / 6.4.4)
    def begin_message(self, binary=False):
        if self.state != STATE_OPEN:
            return
        self.send_state = ("begin", 2 if binary else 1)

    def begin_message_frame(self, length):
        if self.state != STATE_OPEN:
            return
        opcode = self.send_state[1] if self.send_state[0] == "begin" else 0
        if length <= 125:
            hdr = bytes([opcode, length])
        elif length <= 0xFFFF:
            hdr = bytes([opcode, 126]) + struct.pack("!H", length)
        else:
            hdr = bytes([opcode, 127]) + struct.pack("!Q", length)
        self.tx_frame_stats[opcode] = self.tx_frame_stats.get(opcode, 0) + 1
        self.wirelog.add("tx", op=opcode, fin=False, rsv=0, len=length, streaming=True)
        self.send_state = ("inside", None)
        self.send_data(hdr)

    def send_message_frame_data(self, data, sync=False):
        if self.state != STATE_OPEN:
            return
        self.wirelog.add("tx_data", len=len(data), payload=preview(data))
        self.send_data(data, sync=sync)

    def end_message(self):
        if self.state != STATE_OPEN:
            return
        self.send_frame(0, b"", fin=True)
        self.send_state = None

    def send_pong(self, payload):
        if self.state == STATE_OPEN:
            self.send_frame(10, payload)

    def send_close_frame(self, code=None, reason_utf8=None, is_reply=False):
        if self.state != STATE_OPEN:
            return
        payload = b""
        if code is not None:
            payload += struct.pack("!H", code)
        if reason_utf8 is not None:
            payload += reason_utf8
        self.send_frame(8, payload)
        self.state = STATE_CLOSING
        self.closed_by_me = not is_reply
        self.local_close_code = code
        self.local_close_reason = reason_utf8
        if self.closed_by_me:
            self.close_handshake_timer = self._later(CLOSE_HANDSHAKE_TIMEOUT, self._close_handshake_timeout)

    def send_close(self, code=None, reason=None):
        self.send_close_frame(code, truncate_utf8(reason) if reason is not None else None)

    def _close_handshake_timeout(self):
        self.close_handshake_timer = None
        if self.state != STATE_CLOSED:
            self.wirelog.add("close_handshake_timeout")
            self.was_clean = False
            self.was_not_clean_reason = "peer did not respond (in time) in closing handshake"
            self.was_close_handshake_timeout = True
            self.drop_connection(abort=True)

    def drop_connection(self, abort=False):
        if self.state == STATE_CLOSED:
            return
        self.dropped_by_me = True
        self.state = STATE_CLOSED
        self.wirelog.add("drop", abort=abort)
        if self.transport is None:
            return
        if abort:
            self.pending = []           # unsent octets are discarded
            self.transport.abort()
        else:
            self._flush()
            self.transport.close()
            # a peer that never reads would keep a graceful close pending
            self.loop.call_later(GRACEFUL_CLOSE_LIMIT, self._abort_if_open)

    def _abort_if_open(self):
        if self.t_end is None and self.transport is not None:
            self.transport.abort()

    def fail_connection(self, code=C.CLOSE_GOING_AWAY, reason="Going Away"):
        if self.state == STATE_CLOSED:
            return
        self.failed_by_me = True
        if self.state != STATE_CLOSING:
            self.send_close_frame(code, truncate_utf8(reason), is_reply=False)
        else:
            self.drop_connection(abort=False)

    def protocol_violation(self, reason):
        self.violations.append(reason)
        self.wirelog.add("violation", reason=reason)
        self.fail_connection(C.CLOSE_PROTOCOL_ERROR, reason)

    def invalid_payload(self, reason):
        self.violations.append(reason)
        self.wirelog.add("invalid_payload", reason=reason)
        self.fail_connection(C.CLOSE_INVALID_PAYLOAD, reason)

    # case timers
    def kill_after(self, delay):
        self.wirelog.add("kill_after", delay=delay)
        self._later(delay, self._exec_kill)

    def _exec_kill(self):
        if self.state != STATE_CLOSED:
            self.wirelog.add("kill")
            self.fail_connection()

    def close_after(self, delay):
        self.wirelog.add("close_after", delay=delay)
        self._later(delay, self._exec_close)

    def _exec_close(self):
        if self.state != STATE_CLOSED:
            self.wirelog.add("close_timer")
            self.send_close()

    def continue_later(self, delay, fn, tag=None):
        self.wirelog.add("continue_later", delay=delay, tag=tag)
        self._later(delay, self._exec_continue, fn, tag)

    def _exec_continue(self, fn, tag):
        if self.state != STATE_CLOSED:
            self.wirelog.add("continue", tag=tag)
            fn()

    # ------------------------------------------------------------ receiving
    def _process_data(self):
        """Consume buffered octets; True when more can be processed."""
        buf = self.buf
        if self.cur is None:
            if len(buf) < 2:
                return False
            b0, b1 = buf[0], buf[1]
            fin = bool(b0 & 0x80)
            rsv = (b0 & 0x70) >> 4
            opcode = b0 & 0x0F
            masked = bool(b1 & 0x80)
            len1 = b1 & 0x7F
            hlen = 2 + (4 if masked else 0) + (2 if len1 == 126 else 8 if len1 == 127 else 0)
            if len(buf) < hlen:
                return False
            i = 2
            if len1 == 126:
                length = struct.unpack("!H", bytes(buf[2:4]))[0]
                i = 4
            elif len1 == 127:
                length = struct.unpack("!Q", bytes(buf[2:10]))[0]
                i = 10
            else:
                length = len1
            mask = bytes(buf[i:i + 4]) if masked else None
            del buf[:hlen]
            # the checks (a violation fails the connection; processing goes
            # on so the closing handshake can complete, as failByDrop=False)
            if rsv != 0 and not (self.pmce is not None and rsv == 4):
                self.protocol_violation("RSV = %d and no extension negotiated" % rsv)
            self._check_masking(masked)
            if opcode > 7:
                if not fin:
                    self.protocol_violation("fragmented control frame")
                if len1 > 125:
                    self.protocol_violation("control frame with payload length > 125 octets")
                if opcode not in (8, 9, 10):
                    self.protocol_violation("control frame using reserved opcode %d" % opcode)
                if opcode == 8 and len1 == 1:
                    self.protocol_violation("received close control frame with payload len 1")
                if self.pmce is not None and rsv == 4:
                    self.protocol_violation("received compressed control frame [permessage-deflate]")
            else:
                if opcode not in (0, 1, 2):
                    self.protocol_violation("data frame using reserved opcode %d" % opcode)
                if not self.inside_message and opcode == 0:
                    self.protocol_violation("received continuation data frame outside fragmented message")
                if self.inside_message and opcode != 0:
                    self.protocol_violation("received non-continuation data frame while inside fragmented message")
                if self.pmce is not None and rsv == 4 and self.inside_message:
                    self.protocol_violation("received continuation data frame with compress bit set")
            if len1 == 126 and length < 126:
                self.protocol_violation("invalid data frame length (not using minimal length encoding)")
            if len1 == 127:
                if length >> 63:
                    self.protocol_violation("invalid data frame length (>2^63)")
                if length < 65536:
                    self.protocol_violation("invalid data frame length (not using minimal length encoding)")
            self.cur = Frame(opcode, fin, rsv, length, mask)
            self.rx_frame_stats[opcode] = self.rx_frame_stats.get(opcode, 0) + 1
            self.wirelog.add("rx", op=opcode, fin=fin, rsv=rsv, len=length, masked=masked)
            self._frame_begin()
            if length == 0:
                self._frame_data(b"")
                self._frame_end()
                return True
            return len(buf) > 0
        f = self.cur
        take = min(f.length - f.pos, len(buf))
        chunk = bytes(buf[:take])
        del buf[:take]
        if f.mask is not None:
            chunk = xor_mask(chunk, f.mask, f.pos)
        f.pos += take
        self._frame_data(chunk)
        if f.pos == f.length:
            self._frame_end()
        return len(buf) > 0

    def _check_masking(self, masked):
        # all client-to-server frames must be masked (the fuzzing client of
        # server mode, fuzzingclient.py, checks the opposite)
        if not masked:
            self.protocol_violation("unmasked client-to-server frame")

    def _frame_begin(self):
        f = self.cur
        if f.opcode > 7:
            self.ctrl_data = []
            return
        if not self.inside_message:
            self.inside_message = True
            self.msg_compressed = self.pmce is not None and f.rsv == 4
            if self.msg_compressed:
                self.pmce.start_decompress()
            self.utf8 = codecs.getincrementaldecoder("utf-8")("strict") if f.opcode == 1 else None
            self.msg_binary = f.opcode == 2
            self.msg_data = []

    def _frame_data(self, chunk):
        f = self.cur
        if f.opcode > 7:
            self.ctrl_data.append(chunk)
            return
        if self.state == STATE_OPEN:
            self.traffic["incomingOctetsWebSocketLevel"] += len(chunk)
        if self.msg_compressed:
            try:
                chunk = self.pmce.decompress(chunk)
            except zlib.error as e:
                self.protocol_violation("invalid compressed data: %s" % e)
                self.msg_compressed = False
                chunk = b""
        if self.state == STATE_OPEN:
            self.traffic["incomingOctetsAppLevel"] += len(chunk)
        self._utf8_feed(chunk, False)
        if not self.failed_by_me:
            self.msg_data.append(chunk)

    def _utf8_feed(self, chunk, final):
        if self.utf8 is None:
            return
        try:
            self.utf8.decode(chunk, final)
        except UnicodeDecodeError as e:
            self.utf8 = None
            if final and e.reason == "unexpected end of data":
                self.invalid_payload("UTF-8 text message payload ended within Unicode code point")
            else:
                self.invalid_payload("encountered invalid UTF-8 while processing text message")

    def _frame_end(self):
        f = self.cur
        self.cur = None
        if f.opcode > 7:
            self._control_frame(f, b"".join(self.ctrl_data))
            self.ctrl_data = []
            return
        if f.fin:
            if self.msg_compressed:
                try:
                    tail = self.pmce.end_decompress()
                except zlib.error as e:
                    self.protocol_violation("invalid compressed data: %s" % e)
                    tail = b""
                self._utf8_feed(tail, False)
                if not self.failed_by_me:
                    self.msg_data.append(tail)
            self._utf8_feed(b"", True)
            self.inside_message = False
            if not self.failed_by_me:
                payload = b"".join(self.msg_data)
                self.msg_data = []
                self.wirelog.add("message", binary=self.msg_binary, len=len(payload), payload=preview(payload))
                if self.case is not None:
                    self.case.on_message(payload, self.msg_binary)
                else:
                    self.server.command_message(self, payload, self.msg_binary)

    def _control_frame(self, f, payload):
        if f.opcode == 8:
            code, reason = None, None
            if len(payload) > 1:
                code = struct.unpack("!H", payload[:2])[0]
                if len(payload) > 2:
                    reason = payload[2:]
            self._on_close_frame(code, reason)
        elif f.opcode == 9:
            self.send_pong(payload)
        elif f.opcode == 10:
            if self.case is not None:
                self.case.on_pong(payload)

    def _on_close_frame(self, code, reason_raw):
        self.wirelog.add("close_received", code=code, reason=preview(reason_raw) if reason_raw else None)
        self.remote_close_code = None
        self.remote_close_reason = None
        if code is not None and (code < 1000 or (code <= 2999 and code not in CLOSE_CODES_ALLOWED) or code >= 5000):
            self.protocol_violation("invalid close code %d" % code)
            self.remote_close_code = C.CLOSE_NORMAL
        else:
            self.remote_close_code = code
        if reason_raw is not None:
            try:
                self.remote_close_reason = reason_raw.decode("utf-8")
            except UnicodeDecodeError:
                self.invalid_payload("invalid close reason (non-UTF8 payload)")
        if self.state == STATE_CLOSING:
            if self.close_handshake_timer is not None:
                self.close_handshake_timer.cancel()
                self.close_handshake_timer = None
            self.was_clean = True
            self.drop_connection(abort=True)
        elif self.state == STATE_OPEN:
            self.was_clean = True
            self.send_close_frame(C.CLOSE_NORMAL, is_reply=True)
            self.drop_connection(abort=False)
        else:
            self.was_clean = False

    # -------------------------------------------------------------- results
    def case_result(self):
        c = self.case
        dur = (self.t_end or time.monotonic()) - (self.t_open or self.t_end or time.monotonic())

        def clean(events):
            out = []
            for e in events:
                if e[0] == "message":
                    out.append(["message", preview(e[1]), e[2], len(e[1])])
                elif e[0] in ("ping", "pong"):
                    out.append([e[0], preview(e[1])])
                else:
                    out.append(list(e))
            return out

        return {
            "id": self.case_cls.ID,
            "case": self.case_index,
            "agent": self.agent,
            "description": self.case_cls.DESCRIPTION,
            "expectation": self.case_cls.EXPECTATION,
            "behavior": c.behavior,
            "behaviorClose": c.behavior_close,
            "result": c.result,
            "resultClose": c.result_close,
            "expected": {k: clean(v) for k, v in c.expected.items()},
            "expectedClose": c.expected_close,
            "received": clean(c.received),
            "duration": int(round(dur * 1000)),
            "reportTime": c.report_time,
            "connectionWasOpen": self.connection_was_open,
            "closedByMe": self.closed_by_me,
            "failedByMe": self.failed_by_me,
            "droppedByMe": self.dropped_by_me,
            "wasClean": self.was_clean,
            "wasNotCleanReason": self.was_not_clean_reason,
            "wasCloseHandshakeTimeout": self.was_close_handshake_timeout,
            "wasOpenHandshakeTimeout": self.was_open_handshake_timeout,
            "localCloseCode": self.local_close_code,
            "localCloseReason": preview(self.local_close_reason) if self.local_close_reason else None,
            "remoteCloseCode": self.remote_close_code,
            "remoteCloseReason": self.remote_close_reason,
            "violations": self.violations[:20],
            "permessageDeflate": self.pmce.params() if self.pmce else None,
            "txFrameStats": {str(k): v for k, v in sorted(self.tx_frame_stats.items())},
            "rxFrameStats": {str(k): v for k, v in sorted(self.rx_frame_stats.items())},
            "trafficStats": c.traffic,
            "httpRequest": self.http_request,
            "httpResponse": self.http_response,
            "wirelog": self.wirelog.export(),
        }


class FuzzingServer:
    """Owns the case list and routes connections to cases; results are handed
    to listeners (the driver) and kept for /updateReports."""

    def __init__(self, case_ids=None, outdir=None, verbose=False):
        self.case_ids = list(case_ids) if case_ids is not None else list(C.CASE_IDS)
        self.outdir = outdir
        self.verbose = verbose
        self.results = {}           # (agent, case id) -> result
        self.listeners = {}         # (agent, index) -> future
        self.started = set()        # (agent, index) whose connection opened
        self.server = None
        self.port = None
        self.conns = set()

    async def start(self, host="127.0.0.1", port=0):
        loop = asyncio.get_running_loop()
        self.server = await loop.create_server(lambda: self._new_conn(), host, port, reuse_address=True)
        self.port = self.server.sockets[0].getsockname()[1]
        return self.port

    def _new_conn(self):
        c = FuzzConn(self)
        self.conns.add(c)
        return c

    async def stop(self):
        if self.server:
            self.server.close()
            await self.server.wait_closed()
        for c in list(self.conns):
            if c.transport is not None:
                c.transport.abort()

    def expect(self, agent, index):
        fut = asyncio.get_running_loop().create_future()
        self.listeners[(agent, index)] = fut
        return fut

    def abort_case(self, agent, index):
        for c in list(self.conns):
            if c.agent == agent and c.case_index == index and c.transport is not None:
                c.transport.abort()

    # called by FuzzConn
    def resolve_request(self, conn, path, params):
        def one(name):
            v = params.get(name)
            if v is None:
                return None
            if len(v) > 1:
                raise ValueError("multiple %s values specified" % name)
            return v[0]
        try:
            conn.agent = one("agent")
            case = one("case")
        except ValueError as e:
            return str(e)
        if case is not None:
            try:
                idx = int(case)
            except ValueError:
                return "invalid test case ID %s" % case
            if not 1 <= idx <= len(self.case_ids):
                return "case %s not found" % case
            conn.case_index = idx
            conn.case_cls = C.by_id(self.case_ids[idx - 1])
        if path == "/runCase":
            if conn.case_cls is None:
                return "need case to run"
            if not conn.agent:
                return "need agent to run case"
            conn.case = conn.case_cls(conn)
            if conn.case_cls.HEAVY:
                # (Autobahn turns its wire log off in these cases)
                conn.wirelog.head, conn.wirelog.tail = 40, 20
            if self.verbose:
                print("Running test case ID %s for agent %s from peer %s" % (conn.case_cls.ID, conn.agent,
                                                                               conn.peer), flush=True)
        elif path == "/updateReports":
            if not conn.agent:
                return "need agent to update reports for"
        elif path == "/getCaseInfo":
            if conn.case_cls is None:
                return "need case to get info"
        elif path in ("/getCaseCount", "/getCaseStatus"):
            pass
        return None

    def connection_opened(self, conn):
        if conn.case is not None:
            self.started.add((conn.agent, conn.case_index))
            conn.case.on_open()
        elif conn.path == "/getCaseCount":
            conn.send_message(json.dumps(len(self.case_ids)).encode())
            conn.send_close()
        elif conn.path == "/getCaseInfo":
            conn.send_message(json.dumps({"id": conn.case_cls.ID,
                                          "description": conn.case_cls.DESCRIPTION}).encode())
            conn.send_close()
        elif conn.path == "/updateReports":
            self.write_reports()
            conn.send_close()
        else:
            conn.send_close()

    def command_message(self, conn, payload, binary):
        pass

    def handshake_failed(self, conn, reason):
        """A /runCase request whose opening handshake failed: the case fails
        (Autobahn logs nothing; the driver would otherwise wait in vain)."""
        target = getattr(conn, "request_target", None)
        if not target:
            return
        url = urllib.parse.urlparse(target)
        q = urllib.parse.parse_qs(url.query)
        try:
            agent, idx = q["agent"][0], int(q["case"][0])
            cls = C.by_id(self.case_ids[idx - 1])
        except (KeyError, ValueError, IndexError):
            return
        if url.path != "/runCase" or idx < 1:
            return
        res = {"id": cls.ID, "case": idx, "agent": agent, "description": cls.DESCRIPTION,
               "expectation": cls.EXPECTATION, "behavior": C.FAILED, "behaviorClose": C.FAILED,
               "result": "The opening handshake failed: %s" % reason,
               "resultClose": "The WebSocket opening handshake was never completed!",
               "expected": {}, "expectedClose": {}, "received": [], "duration": 0, "connectionWasOpen": False,
               "remoteCloseCode": None, "httpRequest": conn.http_request, "httpResponse": conn.http_response,
               "wirelog": conn.wirelog.export()}
        self.results[(agent, cls.ID)] = res
        fut = self.listeners.pop((agent, idx), None)
        if fut is not None and not fut.done():
            fut.set_result(res)

    def connection_finished(self, conn):
        self.conns.discard(conn)
        if conn.case is None:
            return
        conn.case.on_connection_lost()
        res = conn.case_result()
        self.results[(conn.agent, conn.case_cls.ID)] = res
        if self.verbose:
            print("%s %s / %s" % (res["id"], res["behavior"], res["behaviorClose"]), flush=True)
        fut = self.listeners.pop((conn.agent, conn.case_index), None)
        if fut is not None and not fut.done():
            fut.set_result(res)

    def write_reports(self):
        if not self.outdir:
            return
        os.makedirs(self.outdir, exist_ok=True)
        index = {}
        for (agent, cid), r in self.results.items():
            index.setdefault(agent, {})[cid] = {k: r[k] for k in (
                "behavior", "behaviorClose", "remoteCloseCode", "duration")}
            fn = "%s_case_%s.json" % ("".join(ch if ch.isalnum() else "_" for ch in agent.lower()),
                                      cid.replace(".", "_"))
            index[agent][cid]["reportfile"] = fn
            with open(os.path.join(self.outdir, fn), "w") as f:
                json.dump(r, f, indent=2, sort_keys=True)
        with open(os.path.join(self.outdir, "index.json"), "w") as f:
            json.dump(index, f, indent=2, sort_keys=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=9001)
    ap.add_argument("--cases", default="*", help="comma-separated case patterns (default: all)")
    ap.add_argument("--exclude", default="", help="comma-separated case patterns to leave out")
    ap.add_argument("--outdir", default="reports/clients")
    args = ap.parse_args()
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        ap.error("only loopback addresses are allowed")
    ids = C.select(args.cases.split(","), args.exclude.split(",") if args.exclude else None)

    async def run():
        srv = FuzzingServer(ids, outdir=args.outdir, verbose=True)
        port = await srv.start(args.host, args.port)
        print("Fuzzing server on ws://%s:%d with %d cases" % (args.host, port, len(ids)), flush=True)
        await asyncio.Event().wait()

    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
