#!/usr/bin/env python3
"""stall_server.py - a WebSocket server that stops reading, for the blocking
API's send timeouts (test_sync.c).

Accepts one connection on 127.0.0.1 (port printed as "LISTENING <port>"),
answers the upgrade, then reads nothing until a second TCP connection comes
in (the test's "go": no clock involved), then reads every frame the client
sent, unmasks them, checks that
they are whole, well-formed, unfragmented frames (a torn frame would not
parse), and answers each text message with a text message
"<len>:<first byte>" so the client can check what arrived, in order.
Exits after the client's Close (answered) or --lifetime seconds.
"""
import argparse
import base64
import hashlib
import socket
import struct
import sys

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def read_exact(c, n):
    out = bytearray(n)
    view, got = memoryview(out), 0
    while got < n:
        k = c.recv_into(view[got:], n - got)
        if not k:
            raise EOFError
        got += k
    return bytes(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lifetime", type=float, default=60)
    args = ap.parse_args()
    s = socket.socket()
    # A fixed receive buffer (no autotuning: at most ~512 KiB in flight to
    # us), so the client's 32 MiB can never fit in the socket buffers, and
    # large enough to read it back quickly.
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 262144)
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    s.settimeout(args.lifetime)
    print("LISTENING", s.getsockname()[1], flush=True)
    c, _ = s.accept()
    c.settimeout(args.lifetime)
    head = b""
    while b"\r\n\r\n" not in head:
        head += c.recv(4096)
    key = [l.split(b":", 1)[1].strip() for l in head.split(b"\r\n") if l.lower().startswith(b"sec-websocket-key:")][0]
    accept = base64.b64encode(hashlib.sha1(key + GUID).digest())
    c.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n")
    go, _ = s.accept()  # the test says when
    go.close()
    while True:
        b0, b1 = read_exact(c, 2)
        op, n = b0 & 0x0F, b1 & 0x7F
        if not (b0 & 0x80) or (b0 & 0x70) or not (b1 & 0x80):
            sys.exit("bad frame header %02x %02x" % (b0, b1))
        if n == 126:
            n = struct.unpack("!H", read_exact(c, 2))[0]
        elif n == 127:
            n = struct.unpack("!Q", read_exact(c, 8))[0]
        mask = read_exact(c, 4)
        data = bytes(b ^ mask[i % 4] for i, b in enumerate(read_exact(c, n))) if n < 4096 else \
            read_exact(c, n)  # big payloads: only the first byte is checked
        if n >= 4096:
            data = bytes([data[0] ^ mask[0]]) + data[1:]
        if op == 8:
            c.sendall(b"\x88\x02" + data[:2])
            c.close()
            return
        if op == 1:
            reply = b"%d:%c" % (n, data[0] if n else ord("-"))
            c.sendall(bytes([0x81, len(reply)]) + reply)


main()
