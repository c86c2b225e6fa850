#!/usr/bin/python3
"""An Autobahn|Testsuite-style fuzzing client (server mode) on raw TCP.

Autobahn's *fuzzingclient* connects to the server under test once per case,
plays the case and grades what the server does.  The cases are the
client-mode ones of cases.py with the roles swapped, as in Autobahn (its
cases are the same classes in both modes; only the WebSocket protocol under
them changes role):

* every frame the fuzzing client sends is masked with a fresh random key
  (also the streamed frames of 6.4.3/6.4.4), malformed otherwise exactly as
  in client mode; a frame from the server that is masked is a protocol
  violation ("masked server-to-client frame");
* the opening handshake is the client's: an HTTP/1.1 Upgrade request
  (permessage-deflate offers in 12.x/13.x, Autobahn's PerMessageDeflateOffer
  strings), the 101 response is checked (status, Upgrade, Connection,
  Sec-WebSocket-Accept, no extension or subprotocol that was not asked for)
  and a refused or malformed response fails the case;
* closing: the server is expected to close the TCP connection.  When the
  fuzzing client started the closing handshake and got the server's close
  frame, it waits 1 s (Autobahn's serverConnectionDropTimeout) for the server
  to drop the TCP connection, else drops it itself and the close is unclean.
  When the server started it, the client replies and waits for the server to
  drop the TCP connection; if the client ends up dropping it (a case timer, or
  after 1 s, see README), the close is graded FAILED BY CLIENT ("It is
  preferred that the server close the TCP connection"), as Autobahn's case.py
  does in this mode;
* permessage-deflate: the client compresses with the client_* parameters of
  the server's response and decompresses with exactly the server_* window the
  response allows.

The grading (cases.py) is Autobahn's case.py; the only role-dependent rule,
FAILED BY CLIENT, is switched on by IS_SERVER = False.

A few extra cases (category M, not in Autobahn, whose fuzzing client always
masks) send unmasked frames, which a server must reject (RFC 6455, 5.1).

Standalone: fuzzingclient.py --url ws://127.0.0.1:9001/ [--cases 1.*,2.*]
            [--exclude 12.*] [--agent NAME]   (cases run one after another)
"""

import argparse
import asyncio
import base64
import hashlib
import os
import struct
import sys
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import cases as C  # noqa: E402
import fuzzingserver as FS  # noqa: E402

USER_AGENT = "wsc-fuzzingclient/1.0 (AutobahnTestSuite-compatible)"
SERVER_CONNECTION_DROP_TIMEOUT = 1.0    # Autobahn's serverConnectionDropTimeout
CONNECT_TIMEOUT = 10.0                   # TCP connect
STATE_CLOSED, STATE_CONNECTING, STATE_CLOSING, STATE_OPEN = (FS.STATE_CLOSED, FS.STATE_CONNECTING,
                                                             FS.STATE_CLOSING, FS.STATE_OPEN)
LOOPBACK = ("127.0.0.1", "localhost", "::1")


# --------------------------------------------------------------------------
# permessage-deflate, client side
class ClientOffer:
    """One permessage-deflate offer of the fuzzing client (the parameters of
    Autobahn's PerMessageDeflateOffer: it accepts no_context_takeover and
    max_window_bits, and requests what the case asks)."""

    def __init__(self, request_no_context_takeover=False, request_max_window_bits=0):
        self.accept_no_context_takeover = True
        self.accept_max_window_bits = True
        self.request_no_context_takeover = request_no_context_takeover
        self.request_max_window_bits = request_max_window_bits

    def extension_string(self):
        s = "permessage-deflate"
        if self.accept_no_context_takeover:
            s += "; client_no_context_takeover"
        if self.accept_max_window_bits:
            s += "; client_max_window_bits"
        if self.request_no_context_takeover:
            s += "; server_no_context_takeover"
        if self.request_max_window_bits:
            s += "; server_max_window_bits=%d" % self.request_max_window_bits
        return s


def parse_deflate_response(params):
    """The server's permessage-deflate response -> dict; ValueError if invalid."""
    r = {"client_max_window_bits": 0, "client_no_context_takeover": False,
         "server_max_window_bits": 0, "server_no_context_takeover": False}
    for p, vals in params.items():
        if len(vals) > 1:
            raise ValueError("multiple occurrence of extension parameter '%s' for extension "
                             "'permessage-deflate'" % p)
        val = vals[0]
        if p in ("client_max_window_bits", "server_max_window_bits"):
            try:
                v = int(val)
            except (TypeError, ValueError):
                raise ValueError("illegal extension parameter value '%s' for parameter '%s' of extension "
                                 "'permessage-deflate'" % (val, p))
            if v not in range(8, 16):
                raise ValueError("illegal extension parameter value '%s' for parameter '%s' of extension "
                                 "'permessage-deflate'" % (val, p))
            r[p] = v
        elif p in ("client_no_context_takeover", "server_no_context_takeover"):
            if val is not True:
                raise ValueError("illegal extension parameter value '%s' for parameter '%s' of extension "
                                 "'permessage-deflate'" % (val, p))
            r[p] = True
        else:
            raise ValueError("illegal extension parameter '%s' for extension 'permessage-deflate'" % p)
    return r


# --------------------------------------------------------------------------
class FuzzClientConn(FS.FuzzConn):
    """Client side of one connection: the fuzzing server's connection with the
    roles swapped (handshake, masking, close bookkeeping)."""

    IS_SERVER = False

    def __init__(self, owner, case_cls, index, agent, host, port, resource, result_future):
        super().__init__(owner)
        self.case_cls = case_cls
        self.case_index = index
        self.agent = agent
        self.host, self.port, self.resource = host, port, resource
        self.result_future = result_future
        self.key = None
        self.offers = []
        self.server_drop_timer = None
        self.was_server_connection_drop_timeout = False
        self.stream_mask = None
        self.stream_pos = 0
        self.server_header = None
        self.case = case_cls(self)
        if case_cls.HEAVY:
            self.wirelog.head, self.wirelog.tail = 40, 20
        offers = getattr(case_cls, "CLIENT_OFFERS", None)
        if offers:
            self.offers = [ClientOffer(nct, mwb) for nct, mwb in offers]

    # ------------------------------------------------------------ handshake
    def connection_made(self, transport):
        super().connection_made(transport)
        self.key = base64.b64encode(os.urandom(16)).decode("ascii")
        host = self.host if ":" not in self.host else "[%s]" % self.host
        req = ("GET %s HTTP/1.1\r\nUser-Agent: %s\r\nHost: %s:%d\r\nUpgrade: WebSocket\r\n"
               "Connection: Upgrade\r\nPragma: no-cache\r\nCache-Control: no-cache\r\n"
               "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n" % (
                   self.resource, USER_AGENT, host, self.port, self.key))
        if self.offers:
            req += "Sec-WebSocket-Extensions: %s\r\n" % ", ".join(o.extension_string() for o in self.offers)
        req += "\r\n"
        self.http_request = req
        self._write(req.encode("ascii"))

    def _handshake_failed(self, reason):
        self.was_not_clean_reason = reason
        self.wirelog.add("handshake_failed", reason=reason)
        self.violations.append("opening handshake failed: %s" % reason)
        self.drop_connection(abort=True)

    def _process_handshake(self):
        end = self.buf.find(b"\r\n\r\n")
        if end < 0:
            if len(self.buf) > FS.MAX_HEAD:
                self._handshake_failed("HTTP response head too large")
            return
        head = bytes(self.buf[:end + 4])
        del self.buf[:end + 4]
        self.http_response = head.decode("iso-8859-1")
        lines = self.http_response.split("\r\n")
        sl = lines[0].split(" ", 2)
        if len(sl) < 2 or sl[0] != "HTTP/1.1":
            return self._handshake_failed("bad HTTP response status line '%s'" % lines[0])
        try:
            status = int(sl[1])
        except ValueError:
            return self._handshake_failed("bad HTTP status code '%s'" % sl[1])
        if status != 101:
            return self._handshake_failed("WebSocket connection upgrade failed (%d - %s)" % (
                status, sl[2] if len(sl) > 2 else ""))
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
        self.server_header = headers.get("server")
        if "upgrade" not in headers:
            return self._handshake_failed("HTTP Upgrade header missing")
        if headers["upgrade"].strip().lower() != "websocket":
            return self._handshake_failed("HTTP Upgrade header different from 'websocket' (case-insensitive): "
                                          "%s" % headers["upgrade"])
        if "connection" not in headers:
            return self._handshake_failed("HTTP Connection header missing")
        if "upgrade" not in [x.strip().lower() for x in headers["connection"].split(",")]:
            return self._handshake_failed("HTTP Connection header does not include 'upgrade' value "
                                          "(case-insensitive): %s" % headers["connection"])
        if "sec-websocket-accept" not in headers:
            return self._handshake_failed("HTTP Sec-WebSocket-Accept header missing")
        if counts["sec-websocket-accept"] > 1:
            return self._handshake_failed("HTTP Sec-WebSocket-Accept header appears more than once")
        want = base64.b64encode(hashlib.sha1(self.key.encode("ascii") + FS.WS_MAGIC).digest()).decode()
        if headers["sec-websocket-accept"].strip() != want:
            return self._handshake_failed("HTTP Sec-WebSocket-Accept bogus value: expected %s, got %s" % (
                want, headers["sec-websocket-accept"]))
        if "sec-websocket-protocol" in headers:
            return self._handshake_failed("subprotocol selected by server (%s) not in subprotocol list requested "
                                          "by client ([])" % headers["sec-websocket-protocol"])
        if "sec-websocket-extensions" in headers:
            for name, prm in FS.parse_extensions(headers["sec-websocket-extensions"]):
                if name == "permessage-deflate" and self.offers:
                    if self.pmce is not None:
                        return self._handshake_failed("multiple occurrence of a permessage-compress extension in "
                                                      "server response")
                    try:
                        r = parse_deflate_response(prm)
                        self.pmce = FS.PerMessageDeflate(
                            r["server_no_context_takeover"], r["client_no_context_takeover"],
                            r["server_max_window_bits"], r["client_max_window_bits"], server_side=False)
                    except ValueError as e:
                        return self._handshake_failed(str(e))
                else:
                    return self._handshake_failed("server wants to use extension '%s' we did not request, haven't "
                                                  "implemented or did not enable" % name)
        self.state = STATE_OPEN
        self.connection_was_open = True
        self.t_open = time.monotonic()
        self.wirelog.add("open", offers=[o.extension_string() for o in self.offers],
                         extension=headers.get("sec-websocket-extensions"))
        self.case.on_open()

    # -------------------------------------------------------------- sending
    def send_frame(self, opcode, payload=b"", fin=True, rsv=0, mask=None, payload_len=None, chopsize=None,
                   sync=False):
        # a client masks every frame with a fresh key; mask=False sends it
        # unmasked (the extra M.x cases)
        if mask is None:
            mask = os.urandom(4)
        super().send_frame(opcode, payload, fin=fin, rsv=rsv, mask=mask or None, payload_len=payload_len,
                           chopsize=chopsize, sync=sync)

    def begin_message_frame(self, length):
        if self.state != STATE_OPEN:
            return
        opcode = self.send_state[1] if self.send_state[0] == "begin" else 0
        if length <= 125:
            hdr = bytes([opcode, 0x80 | length])
        elif length <= 0xFFFF:
            hdr = bytes([opcode, 0x80 | 126]) + struct.pack("!H", length)
        else:
            hdr = bytes([opcode, 0x80 | 127]) + struct.pack("!Q", length)
        self.stream_mask = os.urandom(4)
        self.stream_pos = 0
        self.tx_frame_stats[opcode] = self.tx_frame_stats.get(opcode, 0) + 1
        self.wirelog.add("tx", op=opcode, fin=False, rsv=0, len=length, streaming=True)
        self.send_state = ("inside", None)
        self.send_data(hdr + self.stream_mask)

    def send_message_frame_data(self, data, sync=False):
        if self.state != STATE_OPEN:
            return
        self.wirelog.add("tx_data", len=len(data), payload=FS.preview(data))
        masked = FS.xor_mask(data, self.stream_mask, self.stream_pos)
        self.stream_pos += len(data)
        self.send_data(masked, sync=sync)

    # ------------------------------------------------------------ receiving
    def eof_received(self):
        # the server closed (its side of) the TCP connection: what we still
        # have to write (a close reply) goes out before the transport closes
        self._flush()
        return False

    def _check_masking(self, masked):
        if masked:
            self.protocol_violation("masked server-to-client frame")

    def _on_close_frame(self, code, reason_raw):
        self.wirelog.add("close_received", code=code, reason=FS.preview(reason_raw) if reason_raw else None)
        self.remote_close_code = None
        self.remote_close_reason = None
        if code is not None and (code < 1000 or (code <= 2999 and code not in FS.CLOSE_CODES_ALLOWED)
                                 or code >= 5000):
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
            # the server's reply to our close: now the server drops the TCP
            # connection; if it does not in time, we do and it is unclean
            if self.close_handshake_timer is not None:
                self.close_handshake_timer.cancel()
                self.close_handshake_timer = None
            self.was_clean = True
            if self.server_drop_timer is None:
                self.server_drop_timer = self._later(SERVER_CONNECTION_DROP_TIMEOUT, self._server_drop_timeout)
        elif self.state == STATE_OPEN:
            # the server started the closing handshake: reply, then the
            # server drops the TCP connection
            self.was_clean = True
            self.send_close_frame(C.CLOSE_NORMAL, is_reply=True)
            if self.server_drop_timer is None:
                self.server_drop_timer = self._later(SERVER_CONNECTION_DROP_TIMEOUT, self._server_drop_after_reply)
        else:
            self.was_clean = False

    def _server_drop_timeout(self):
        self.server_drop_timer = None
        if self.state != STATE_CLOSED:
            self.wirelog.add("server_connection_drop_timeout")
            self.was_clean = False
            self.was_not_clean_reason = "server did not drop TCP connection (in time)"
            self.was_server_connection_drop_timeout = True
            self.drop_connection(abort=True)

    def _server_drop_after_reply(self):
        # (Autobahn waits for the case's own timers here; bounded, the same
        # outcome: the client drops the connection, FAILED BY CLIENT)
        self.server_drop_timer = None
        if self.state != STATE_CLOSED:
            self.wirelog.add("server_connection_drop_timeout", after="close reply")
            self.was_server_connection_drop_timeout = True
            self.drop_connection(abort=True)

    # -------------------------------------------------------------- results
    def case_result(self):
        res = super().case_result()
        if res["behavior"] == C.UNIMPLEMENTED:
            res["result"] = "The server did not accept permessage-deflate."
        res["isServer"] = False
        res["wasServerConnectionDropTimeout"] = self.was_server_connection_drop_timeout
        res["serverHeader"] = self.server_header
        return res


# --------------------------------------------------------------------------
# extra cases (server mode only, not in Autobahn): unmasked client frames
CATEGORIES = dict(C.CATEGORIES)
CATEGORIES["M"] = "Masking (server mode only, not in Autobahn)"
_UNMASKED_FAIL = ("The connection is failed immediately (1002/protocol error), since a server must close the "
                  "connection upon receiving a frame that is not masked (RFC 6455, 5.1).")


def _unmasked_case(cid, description, expectation, frames, ok_echo=None):
    def on_open(c):
        if ok_echo is None:
            c.expected[C.OK] = []
        else:
            c.expected[C.OK] = [("message", ok_echo, False)]
            c.expected[C.NON_STRICT] = []
        # (frames sent with send_frame, a close frame too: the WebSocket
        # close bookkeeping sees the server close first in every case)
        c.expected_close = C.expect_close(False, [C.CLOSE_PROTOCOL_ERROR], False)
        for f in frames:
            c.p.send_frame(**f)
        c.p.kill_after(1)
    return type("Case_" + cid.replace(".", "_"), (C.Case,), dict(
        ID=cid, DESCRIPTION=description, EXPECTATION=expectation, MAX_DURATION=1, on_open=on_open))


EXTRA_CASES = [
    _unmasked_case("M.1", "Send small text message <b>unmasked</b>.", _UNMASKED_FAIL,
                   [dict(opcode=1, payload=b"Hello, world!", mask=False)]),
    _unmasked_case("M.2", "Send small text message, then send it again <b>unmasked</b>, then send Ping.",
                   "Echo for first message is received, but then connection is failed immediately, since a "
                   "client frame must be masked. The Pong is not received.",
                   [dict(opcode=1, payload=b"Hello, world!"), dict(opcode=1, payload=b"Hello, world!", mask=False),
                    dict(opcode=9)], ok_echo=b"Hello, world!"),
    _unmasked_case("M.3", "Send binary message of 16 octets <b>unmasked</b>, octet-wise chops.", _UNMASKED_FAIL,
                   [dict(opcode=2, payload=bytes(range(16)), mask=False, chopsize=1)]),
    _unmasked_case("M.4", "Send Ping with payload <b>unmasked</b>.",
                   "The connection is failed immediately (1002/protocol error); no Pong is received.",
                   [dict(opcode=9, payload=b"unmasked ping", mask=False)]),
    _unmasked_case("M.5", "Send text message fragmented into 2 fragments, the first masked, the continuation "
                   "<b>unmasked</b>.", _UNMASKED_FAIL,
                   [dict(opcode=1, fin=False, payload=b"fragment1"),
                    dict(opcode=0, fin=True, payload=b"fragment2", mask=False)]),
    _unmasked_case("M.6", "Send close frame (1000) <b>unmasked</b>.",
                   "The server fails the connection (close code 1002) or drops the TCP connection; a normal "
                   "close (1000) in reply means it accepted the unmasked frame (WRONG CODE).",
                   [dict(opcode=8, payload=struct.pack("!H", 1000), mask=False)]),
]
_EXTRA_BY_ID = {c.ID: c for c in EXTRA_CASES}
CASE_IDS = list(C.CASE_IDS) + [c.ID for c in EXTRA_CASES]


def by_id(cid):
    return _EXTRA_BY_ID.get(cid) or C.by_id(cid)


category_of = C.category_of


def select(cases=None, exclude=None):
    """C.select over the server-mode catalogue (Autobahn's cases and M.*)."""
    return C.select(cases, exclude, CASE_IDS)


# --------------------------------------------------------------------------
def parse_url(url):
    """ws://HOST:PORT/PATH -> (host, port, resource); loopback hosts only."""
    u = urllib.parse.urlparse(url)
    if u.scheme != "ws":
        raise ValueError("only ws:// URLs are supported: %s" % url)
    if u.hostname not in LOOPBACK:
        raise ValueError("only loopback hosts (127.0.0.1) are allowed: %s" % url)
    host = "127.0.0.1" if u.hostname == "localhost" else u.hostname
    resource = u.path or "/"
    if u.query:
        resource += "?" + u.query
    return host, u.port or 80, resource


class FuzzingClient:
    """Runs server-mode cases against one server URL, one connection per case."""

    def __init__(self, url, agent="server", verbose=False):
        self.host, self.port, self.resource = parse_url(url)
        self.url = url
        self.agent = agent
        self.verbose = verbose
        self.results = {}
        self.conns = set()

    def safety_limit(self, cls, scale=1.0):
        return (FS.OPEN_HANDSHAKE_TIMEOUT + cls.MAX_DURATION + FS.CLOSE_HANDSHAKE_TIMEOUT +
                SERVER_CONNECTION_DROP_TIMEOUT + FS.GRACEFUL_CLOSE_LIMIT + 5) * scale

    def _failed(self, cls, index, note, conn=None):
        return {"id": cls.ID, "case": index, "agent": self.agent, "description": cls.DESCRIPTION,
                "expectation": cls.EXPECTATION, "behavior": C.FAILED, "behaviorClose": C.FAILED,
                "result": note, "resultClose": note, "expected": {}, "expectedClose": {}, "received": [],
                "remoteCloseCode": None, "connectionWasOpen": bool(conn and conn.connection_was_open),
                "isServer": False, "wirelog": conn.wirelog.export() if conn else []}

    async def run_case(self, cid, index=None, scale=1.0):
        cls = by_id(cid)
        index = index if index is not None else CASE_IDS.index(cid) + 1
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        holder = []

        def factory():
            conn = FuzzClientConn(self, cls, index, self.agent, self.host, self.port, self.resource, fut)
            holder.append(conn)
            self.conns.add(conn)
            return conn
        t0 = time.monotonic()
        try:
            await asyncio.wait_for(loop.create_connection(factory, self.host, self.port), CONNECT_TIMEOUT * scale)
        except (OSError, asyncio.TimeoutError) as e:
            for conn in holder:
                if conn.transport is not None:
                    conn.transport.abort()
            res = self._failed(cls, index, "could not connect to %s: %s" % (self.url, e or type(e).__name__))
            res["duration"] = int((time.monotonic() - t0) * 1000)
            return self._store(res)
        conn = holder[0]
        limit = self.safety_limit(cls, scale)
        try:
            res = await asyncio.wait_for(asyncio.shield(fut), limit)
        except asyncio.TimeoutError:
            note = "case did not finish within %.0f s: connection aborted" % limit
            if conn.transport is not None:
                conn.transport.abort()
            try:
                res = await asyncio.wait_for(asyncio.shield(fut), 2)
                res["note"] = note
            except asyncio.TimeoutError:
                res = self._failed(cls, index, note, conn)
        return self._store(res)

    def _store(self, res):
        self.results[res["id"]] = res
        return res

    # called by FuzzClientConn (FuzzConn's server interface)
    def connection_finished(self, conn):
        self.conns.discard(conn)
        conn.case.on_connection_lost()
        res = conn.case_result()
        if self.verbose:
            print("%s %s / %s" % (res["id"], res["behavior"], res["behaviorClose"]), flush=True)
        if not conn.result_future.done():
            conn.result_future.set_result(res)

    def command_message(self, conn, payload, binary):
        pass

    def handshake_failed(self, conn, reason):
        pass

    def abort_all(self):
        for c in list(self.conns):
            if c.transport is not None:
                c.transport.abort()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", required=True, help="the server under test, ws://127.0.0.1:PORT/PATH")
    ap.add_argument("--cases", default="*", help="comma-separated case patterns (default: all)")
    ap.add_argument("--exclude", default="", help="comma-separated case patterns to leave out")
    ap.add_argument("--agent", default="server")
    args = ap.parse_args()
    try:
        ids = select(args.cases.split(","), args.exclude.split(",") if args.exclude else None)
        client = FuzzingClient(args.url, args.agent, verbose=True)
    except ValueError as e:
        ap.error(str(e))

    async def run():
        for cid in ids:
            print("Running test case ID %s for agent %s at %s" % (cid, args.agent, args.url), flush=True)
            await client.run_case(cid)
        client.abort_all()

    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
