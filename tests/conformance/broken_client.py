#!/usr/bin/python3
"""A WebSocket echo client on raw sockets, broken on purpose to validate the
conformance suite (a suite that cannot catch these is no suite).

  broken_client.py [--ignore-rsv] [--echo-invalid-utf8] [--no-close-reply] [--unmasked] URL

Without flags it is a plain, strict echo client that passes categories 1-7
and 10 strictly (it validates UTF-8 as payload octets arrive, so 6.4.x fail
fast).  Each flag breaks one rule:
  --ignore-rsv         accept (and echo) frames with reserved bits set
  --echo-invalid-utf8  do not validate UTF-8 (text messages, close reasons)
  --no-close-reply     never answer the server's close frame
  --unmasked           send frames unmasked
"""

import argparse
import base64
import codecs
import hashlib
import os
import socket
import struct
import sys
import urllib.parse

ALLOWED_CODES = set([1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014]) | set(range(3000, 5000))


class Closed(Exception):
    pass


class Client:
    def __init__(self, url, args):
        self.args = args
        u = urllib.parse.urlparse(url)
        if u.scheme != "ws":
            raise SystemExit("broken_client: only ws:// URLs")
        host = u.hostname
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise SystemExit("broken_client: loopback hosts only")
        self.sock = socket.create_connection((host, u.port or 80), timeout=30)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.close_sent = False
        self.frame_left = 0
        self.handshake(u)

    # -- I/O
    def recv_exact(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise Closed()
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def handshake(self, u):
        key = base64.b64encode(os.urandom(16)).decode()
        target = u.path or "/"
        if u.query:
            target += "?" + u.query
        req = ("GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % (target, u.hostname, u.port, key))
        self.sock.sendall(req.encode())
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise SystemExit("broken_client: connection closed during handshake")
            self.buf += chunk
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("iso-8859-1").split("\r\n")
        if lines[0].split()[1:2] != ["101"]:
            raise SystemExit("broken_client: handshake refused: %s" % lines[0])
        want = base64.b64encode(hashlib.sha1(key.encode() + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest())
        hdr = {l.split(":", 1)[0].strip().lower(): l.split(":", 1)[1].strip() for l in lines[1:] if ":" in l}
        if hdr.get("sec-websocket-accept", "").encode() != want:
            raise SystemExit("broken_client: bad Sec-WebSocket-Accept")

    def send_frame(self, opcode, payload=b"", fin=True):
        n = len(payload)
        masked = not self.args.unmasked
        b0 = (0x80 if fin else 0) | opcode
        mbit = 0x80 if masked else 0
        if n <= 125:
            hdr = bytes([b0, mbit | n])
        elif n <= 0xFFFF:
            hdr = bytes([b0, mbit | 126]) + struct.pack("!H", n)
        else:
            hdr = bytes([b0, mbit | 127]) + struct.pack("!Q", n)
        if masked:
            mask = os.urandom(4)
            m = (mask * (n // 4 + 1))[:n]
            payload = (int.from_bytes(payload, "big") ^ int.from_bytes(m, "big")).to_bytes(n, "big") if n else b""
            hdr += mask
        self.sock.sendall(hdr + payload)

    def send_close(self, code=None, reason=b""):
        if self.close_sent:
            return
        self.close_sent = True
        self.send_frame(8, b"" if code is None else struct.pack("!H", code) + reason)

    def fail(self, code):
        """Fail the connection: close frame, then wait for the server to end it."""
        self.send_close(code)
        self.sock.settimeout(5)
        try:
            self.recv_exact(self.frame_left)      # the rest of the current frame
            while True:
                op, _, _, _ = self.read_frame(raw=True)
                if op == 8:
                    break
        except (Closed, OSError):
            pass
        raise SystemExit(1)

    def read_frame(self, raw=False, on_chunk=None):
        """One frame; with on_chunk, payload octets are handed over as they
        arrive (so invalid UTF-8 is caught before the frame is complete)."""
        self.frame_left = 0
        b0, b1 = self.recv_exact(2)
        fin, rsv, opcode = bool(b0 & 0x80), (b0 >> 4) & 7, b0 & 0x0F
        masked, n = bool(b1 & 0x80), b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", self.recv_exact(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", self.recv_exact(8))[0]
        mask = self.recv_exact(4) if masked else None
        if raw:
            return opcode, fin, rsv, self.recv_exact(n)
        if rsv and not self.args.ignore_rsv:
            self.fail(1002)
        if masked:
            self.fail(1002)
        if opcode in (3, 4, 5, 6, 7) or opcode > 10:
            self.fail(1002)
        if opcode >= 8 and (not fin or n > 125):
            self.fail(1002)
        if on_chunk is None or opcode >= 8:
            return opcode, fin, rsv, self.recv_exact(n)
        parts = []
        self.frame_left = n
        first = True
        while self.frame_left:
            if not self.buf:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise Closed()
                self.buf = chunk
            piece, self.buf = self.buf[:self.frame_left], self.buf[self.frame_left:]
            self.frame_left -= len(piece)
            on_chunk(opcode, piece, first)
            first = False
            parts.append(piece)
        return opcode, fin, rsv, b"".join(parts)

    def run(self):
        state = {"op": None, "dec": None}
        parts = []

        def on_chunk(opcode, piece, first):
            if first and opcode == 0 and state["op"] is None:
                self.fail(1002)
            if first and opcode != 0 and state["op"] is not None:
                self.fail(1002)
            if first and opcode != 0:
                state["op"] = opcode
                del parts[:]
                state["dec"] = codecs.getincrementaldecoder("utf-8")() if opcode == 1 else None
            if state["dec"] is not None and not self.args.echo_invalid_utf8:
                try:
                    state["dec"].decode(piece, False)
                except UnicodeDecodeError:
                    self.fail(1007)

        while True:
            opcode, fin, rsv, payload = self.read_frame(on_chunk=on_chunk)
            if opcode == 9:
                if not self.close_sent:
                    self.send_frame(10, payload)
            elif opcode == 10:
                pass
            elif opcode == 8:
                self.on_close(payload)
                return
            else:
                if len(payload) == 0:
                    on_chunk(opcode, b"", True)
                parts.append(payload)
                if fin:
                    if state["dec"] is not None and not self.args.echo_invalid_utf8:
                        try:
                            state["dec"].decode(b"", True)
                        except UnicodeDecodeError:
                            self.fail(1007)
                    if not self.close_sent:
                        self.send_frame(state["op"], b"".join(parts))
                    state["op"], state["dec"] = None, None
                    del parts[:]

    def on_close(self, payload):
        code, reason = None, b""
        if len(payload) == 1:
            self.fail(1002)
        if len(payload) >= 2:
            code, reason = struct.unpack("!H", payload[:2])[0], payload[2:]
            if code not in ALLOWED_CODES:
                self.fail(1002)
            if not self.args.echo_invalid_utf8:
                try:
                    reason.decode("utf-8")
                except UnicodeDecodeError:
                    self.fail(1007)
        if not self.args.no_close_reply:
            self.send_close(code)
        # the server ends the TCP connection
        try:
            while self.sock.recv(65536):
                pass
        except OSError:
            pass


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ignore-rsv", action="store_true")
    ap.add_argument("--echo-invalid-utf8", action="store_true")
    ap.add_argument("--no-close-reply", action="store_true")
    ap.add_argument("--unmasked", action="store_true")
    ap.add_argument("url")
    args = ap.parse_args()
    try:
        c = Client(args.url, args)
        c.run()
    except Closed:
        return 1
    except (OSError, socket.timeout) as e:
        print("broken_client: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
