#!/usr/bin/python3
"""A WebSocket echo server on raw sockets, broken on purpose to validate the
server-mode conformance suite (run_server.py): a suite that cannot catch
these is no suite.

  broken_server.py [--ignore-rsv] [--echo-invalid-utf8] [--accept-unmasked]
                   [--no-close-reply] [--keep-tcp] [--mask-frames] [--port N]

It listens on 127.0.0.1 (a free port unless --port), prints
ws://127.0.0.1:PORT/ as the first line of stdout and serves each connection
in a thread until SIGTERM.  Without flags it is a plain, strict echo server
(no extensions) that passes categories 1-7 and 10 strictly: it validates
client frames (masking, reserved bits and opcodes, control frame rules,
fragmentation, minimal length encoding, close codes and reasons), UTF-8 of
text messages as payload octets arrive (so 6.4.x fail fast), fails the
connection with a close frame and closes the TCP connection once the closing
handshake is over.  Each flag breaks one rule:
  --ignore-rsv         accept (and echo) frames with reserved bits set
  --echo-invalid-utf8  do not validate UTF-8 (text messages, close reasons)
  --accept-unmasked    accept unmasked client frames
  --no-close-reply     never answer the client's close frame
  --keep-tcp           after the closing handshake, leave closing the TCP
                       connection to the client
  --mask-frames        mask the frames it sends (a server must not)
"""

import argparse
import base64
import codecs
import hashlib
import os
import socket
import struct
import sys
import threading
import time

WS_MAGIC = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
ALLOWED_CODES = set([1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014]) | set(range(3000, 5000))
IDLE_TIMEOUT = 60.0          # s without any octet from the client: the connection is dropped
CLOSE_WAIT = 2.0             # s to wait for the client's close reply after failing
MAX_HEAD = 16384
LINGER = 5.0                 # s to drain the client's input after our FIN (lingering close)


def unmask(data, mask, offset):
    n = len(data)
    if not n:
        return b""
    k = offset % 4
    m = (mask[k:] + mask[:k]) * (n // 4 + 1)
    return (int.from_bytes(data, "big") ^ int.from_bytes(m[:n], "big")).to_bytes(n, "big")


class Done(Exception):
    """The connection is over: close the TCP connection."""


class Conn:
    def __init__(self, sock, args):
        self.sock = sock
        self.args = args
        self.buf = bytearray()
        self.frame = None            # (fin, rsv, opcode, length, mask) of the frame being read
        self.pos = 0
        self.ctrl = []
        self.inside = False
        self.msg_opcode = None
        self.msg = []
        self.utf8 = None
        self.close_sent = False
        self.failed = False
        self.linger = False          # the handshake is over, waiting for the client to drop TCP

    # ------------------------------------------------------------- plumbing
    def run(self):
        try:
            self.sock.settimeout(10)
            if not self.handshake():
                return
            self.sock.settimeout(IDLE_TIMEOUT)
            while self.step():          # frames that came with the request
                pass
            while True:
                try:
                    data = self.sock.recv(1 << 16)
                except socket.timeout:
                    return
                if not data:
                    return
                if self.linger:
                    continue
                self.buf += data
                while self.step():
                    pass
        except Done:
            if self.args.keep_tcp:
                # leave the TCP close to the client (a broken server)
                self.linger = True
                self.sock.settimeout(IDLE_TIMEOUT)
                try:
                    while self.sock.recv(1 << 16):
                        pass
                except OSError:
                    pass
        except OSError:
            pass
        finally:
            self.lingering_close()

    def lingering_close(self):
        """Closes as Apache's lingering close does: FIN after everything
        written, then read and drop what the client still sends until it
        closes too (bounded by LINGER), then close.

        Closing at once with unread input (the rest of an octet-wise frame
        the server refused, e.g. case 3.4's ping) makes the kernel answer
        the client's next octets with a RST. The fuzzing client (asyncio)
        then fails its write and drops the connection without reading what
        had already arrived: the echo of the message before the bad frame.
        That graded 3.4 NON-STRICT whenever load delayed the client's reads
        (issue 14); with no RST the order on the wire is all that counts."""
        try:
            self.sock.shutdown(socket.SHUT_WR)
            deadline = time.monotonic() + LINGER
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.sock.settimeout(left)
                if not self.sock.recv(1 << 16):
                    break
        except OSError:
            pass
        self.sock.close()

    def send_frame(self, opcode, payload=b""):
        n = len(payload)
        if n <= 125:
            hdr = bytes([0x80 | opcode, n])
        elif n <= 0xFFFF:
            hdr = bytes([0x80 | opcode, 126]) + struct.pack("!H", n)
        else:
            hdr = bytes([0x80 | opcode, 127]) + struct.pack("!Q", n)
        if self.args.mask_frames:
            mask = os.urandom(4)
            hdr = bytes([hdr[0], hdr[1] | 0x80]) + hdr[2:] + mask
            payload = unmask(payload, mask, 0)
        self.sock.sendall(hdr + payload)

    def send_close(self, code):
        if not self.close_sent:
            self.close_sent = True
            self.send_frame(8, struct.pack("!H", code) if code is not None else b"")

    def fail(self, code):
        """Fail the connection: close frame, then wait (bounded) for the
        client's close frame; frames until then are ignored."""
        if self.close_sent:
            raise Done()
        self.failed = True
        self.send_close(code)
        if self.frame is not None and self.pos < self.frame[3]:
            # failed within a frame's payload: the client's close frame
            # would be read as payload, so close the TCP connection now
            raise Done()
        self.sock.settimeout(CLOSE_WAIT)

    # ------------------------------------------------------------ handshake
    def handshake(self):
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk or len(head) > MAX_HEAD:
                return False
            head += chunk
        head, rest = head.split(b"\r\n\r\n", 1)
        lines = head.decode("iso-8859-1").split("\r\n")
        hdr = {}
        for line in lines[1:]:
            if ":" in line:
                k, v = line.split(":", 1)
                hdr[k.strip().lower()] = v.strip()
        ok = (lines[0].startswith("GET ") and "websocket" in hdr.get("upgrade", "").lower()
              and "upgrade" in [x.strip().lower() for x in hdr.get("connection", "").split(",")]
              and hdr.get("sec-websocket-version") == "13" and "sec-websocket-key" in hdr)
        if not ok:
            self.sock.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            return False
        accept = base64.b64encode(hashlib.sha1(hdr["sec-websocket-key"].encode() + WS_MAGIC).digest()).decode()
        self.sock.sendall(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           "Sec-WebSocket-Accept: %s\r\n\r\n" % accept).encode())
        self.buf += rest
        return True

    # --------------------------------------------------------------- frames
    def step(self):
        """Consume buffered octets; True when more can be processed."""
        buf = self.buf
        if self.frame is None:
            if len(buf) < 2:
                return False
            b0, b1 = buf[0], buf[1]
            fin, rsv, opcode = bool(b0 & 0x80), (b0 >> 4) & 7, b0 & 0x0F
            masked, len1 = bool(b1 & 0x80), b1 & 0x7F
            hlen = 2 + (2 if len1 == 126 else 8 if len1 == 127 else 0) + (4 if masked else 0)
            if len(buf) < hlen:
                return False
            if len1 == 126:
                length = struct.unpack("!H", bytes(buf[2:4]))[0]
            elif len1 == 127:
                length = struct.unpack("!Q", bytes(buf[2:10]))[0]
            else:
                length = len1
            mask = bytes(buf[hlen - 4:hlen]) if masked else None
            del buf[:hlen]
            self.frame, self.pos, self.ctrl = (fin, rsv, opcode, length, mask), 0, []
            if not self.failed:
                self.check_header(fin, rsv, opcode, masked, len1, length)
            if self.frame is not None and length == 0:
                self.frame_end()
            return len(buf) > 0 or self.frame is None
        fin, rsv, opcode, length, mask = self.frame
        take = min(length - self.pos, len(buf))
        chunk = bytes(buf[:take])
        del buf[:take]
        if mask is not None:
            chunk = unmask(chunk, mask, self.pos)
        self.pos += take
        if opcode > 7:
            self.ctrl.append(chunk)
        elif not self.failed:
            self.data(chunk)
        if self.frame is not None and self.pos == length:
            self.frame_end()
        return len(buf) > 0

    def check_header(self, fin, rsv, opcode, masked, len1, length):
        a = self.args
        if rsv and not a.ignore_rsv:
            return self.fail(1002)
        if not masked and not a.accept_unmasked:
            return self.fail(1002)
        if opcode > 7:
            if not fin or len1 > 125 or opcode not in (8, 9, 10) or (opcode == 8 and len1 == 1):
                return self.fail(1002)
        else:
            if opcode not in (0, 1, 2) or (opcode == 0) != self.inside:
                return self.fail(1002)
        if (len1 == 126 and length < 126) or (len1 == 127 and (length < 65536 or length >> 63)):
            return self.fail(1002)
        if opcode in (1, 2):
            self.inside, self.msg_opcode, self.msg = True, opcode, []
            validate = opcode == 1 and not a.echo_invalid_utf8
            self.utf8 = codecs.getincrementaldecoder("utf-8")("strict") if validate else None

    def data(self, chunk):
        if self.utf8 is not None:
            try:
                self.utf8.decode(chunk, False)
            except UnicodeDecodeError:
                return self.fail(1007)
        self.msg.append(chunk)

    def frame_end(self):
        fin, rsv, opcode, length, mask = self.frame
        self.frame = None
        if opcode > 7:
            return self.control(opcode, b"".join(self.ctrl))
        if self.failed or not fin:
            return
        self.inside = False
        if self.utf8 is not None:
            try:
                self.utf8.decode(b"", True)
            except UnicodeDecodeError:
                return self.fail(1007)
        if not self.close_sent:
            self.send_frame(self.msg_opcode, b"".join(self.msg))
        self.msg = []

    def control(self, opcode, payload):
        if opcode == 8:
            if self.close_sent:
                raise Done()        # the client's reply: the closing handshake is over
            code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
            if code is not None and code not in ALLOWED_CODES:
                self.fail(1002)
                raise Done()
            if len(payload) > 2 and not self.args.echo_invalid_utf8:
                try:
                    payload[2:].decode("utf-8")
                except UnicodeDecodeError:
                    self.fail(1007)
                    raise Done()
            if self.args.no_close_reply:
                self.failed = True          # ignore everything from now on
                return
            self.send_close(1000)
            raise Done()
        if self.failed or self.close_sent:
            return
        if opcode == 9:
            self.send_frame(10, payload)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--ignore-rsv", action="store_true")
    ap.add_argument("--echo-invalid-utf8", action="store_true")
    ap.add_argument("--accept-unmasked", action="store_true")
    ap.add_argument("--no-close-reply", action="store_true")
    ap.add_argument("--keep-tcp", action="store_true")
    ap.add_argument("--mask-frames", action="store_true")
    args = ap.parse_args()
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", args.port))
    srv.listen(128)
    print("ws://127.0.0.1:%d/" % srv.getsockname()[1], flush=True)
    while True:
        sock, _ = srv.accept()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=Conn(sock, args).run, daemon=True).start()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)
