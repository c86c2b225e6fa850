#!/usr/bin/env python3
"""delivery_server.py - a raw-socket WebSocket server that behaves exactly as
scripted, frame by frame, for the tests of confirmed delivery, the reconnect
rules and the token from Set-Cookie (test_delivery.c).

    delivery_server.py --log FILE --script "noack:3:rst,ack:0"

The N-th connection follows the N-th step (past the end: --default). Steps:
    ack:K[:END]      answer every Ping; after K data messages (0: never) and
                     the Ping that follows them, END (fin, rst, or a close
                     code such as 1001, sent as a Close frame)
    noack:K[:END]    never answer a Ping; after K data messages, END
    http:NNN[:RA]    refuse the upgrade with status NNN (Retry-After: RA)
    cookie:VALUE[;attrs]  accept with "Set-Cookie: csrf_token=VALUE; attrs",
                     then behave as ack:0
    ignoreclose:TEXT send TEXT as a text message, answer Pings, and never
                     answer the client's Close (the client's close timeout ends it)
Frames are read one at a time, in order, so what was read before a Pong is
exact. Log lines (JSON): {"conn", "event": "handshake", "cookie", "query"},
{"conn", "event": "message", "text"}, {"conn", "event": "ping", "acked"},
{"conn", "event": "end", "how"}. First stdout line: "LISTENING <port>".
"""
import argparse
import base64
import hashlib
import json
import socket
import struct
import sys
import threading
import urllib.parse

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

ap = argparse.ArgumentParser()
ap.add_argument("--port", type=int, default=0)
ap.add_argument("--log", required=True)
ap.add_argument("--script", default="")
ap.add_argument("--default", default="ack:0")
ap.add_argument("--lifetime", type=float, default=120)
args = ap.parse_args()
steps = [s for s in args.script.split(",") if s]
logf = open(args.log, "a", buffering=1)
lock = threading.Lock()
attempt = 0


def log(**kw):
    with lock:
        logf.write(json.dumps(kw) + "\n")


def recv_exact(sock, n):
    b = b""
    while len(b) < n:
        chunk = sock.recv(n - len(b))
        if not chunk:
            raise EOFError
        b += chunk
    return b


def read_frame(sock):
    h = recv_exact(sock, 2)
    fin, op = h[0] & 0x80, h[0] & 0x0F
    n = h[1] & 0x7F
    if n == 126:
        n = struct.unpack(">H", recv_exact(sock, 2))[0]
    elif n == 127:
        n = struct.unpack(">Q", recv_exact(sock, 8))[0]
    mask = recv_exact(sock, 4) if h[1] & 0x80 else b"\0\0\0\0"
    raw = recv_exact(sock, n)
    if not n:
        return fin, op, b""
    m = (mask * (n // 4 + 1))[:n]
    return fin, op, (int.from_bytes(raw, "big") ^ int.from_bytes(m, "big")).to_bytes(n, "big")


def frame(op, payload):
    n = len(payload)
    if n < 126:
        head = struct.pack("BB", 0x80 | op, n)
    elif n < 65536:
        head = struct.pack(">BBH", 0x80 | op, 126, n)
    else:
        head = struct.pack(">BBQ", 0x80 | op, 127, n)
    return head + payload


def end(sock, conn, how):
    log(conn=conn, event="end", how=how)
    if how == "rst":
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
    elif how == "fin":
        sock.shutdown(socket.SHUT_RDWR)
        sock.close()
    else:
        sock.sendall(frame(8, struct.pack(">H", int(how))))
        try:
            sock.settimeout(5)
            while True:
                _, op, _ = read_frame(sock)
                if op == 8:
                    break
        except Exception:
            pass
        sock.close()


def serve(sock):
    global attempt
    with lock:
        attempt += 1
        conn = attempt
    step = steps[conn - 1] if conn - 1 < len(steps) else args.default
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(4096)
        if not chunk:
            return
        head += chunk
    lines = head.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    target = lines[0].split(" ")[1]
    hdrs = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        hdrs[k.strip().lower()] = v.strip()
    q = urllib.parse.urlsplit(target).query
    log(conn=conn, event="handshake", cookie=hdrs.get("cookie", ""), query=q, step=step)
    kind, _, rest = step.partition(":")
    if kind == "http":
        code, _, ra = rest.partition(":")
        extra = f"Retry-After: {ra}\r\n" if ra else ""
        sock.sendall(f"HTTP/1.1 {code} Scripted\r\nContent-Length: 0\r\n{extra}Connection: close\r\n\r\n".encode())
        sock.close()
        return
    accept = base64.b64encode(hashlib.sha1((hdrs["sec-websocket-key"] + GUID).encode()).digest()).decode()
    extra = ""
    if kind == "cookie":
        extra = f"Set-Cookie: csrf_token={rest}\r\n"
        kind, rest = "ack", "0"
    sock.sendall(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  f"Sec-WebSocket-Accept: {accept}\r\n{extra}\r\n").encode())
    ignore_close = False
    if kind == "ignoreclose":
        sock.sendall(frame(1, rest.encode()))
        kind, rest, ignore_close = "ack", "0", True
    k_s, _, how = rest.partition(":")
    k = int(k_s or 0)
    how = how or "fin"
    got = 0
    try:
        while True:
            fin, op, data = read_frame(sock)
            if op in (1, 2, 0):
                got += 1
                log(conn=conn, event="message", text=data[:64].decode("utf-8", "replace"), len=len(data))
            elif op == 9:
                acked = kind == "ack"
                if acked:
                    sock.sendall(frame(10, data))
                log(conn=conn, event="ping", acked=acked, data=data.decode("latin-1"))
                if k and got >= k and kind == "ack":
                    end(sock, conn, how)
                    return
            elif op == 8:
                if ignore_close:
                    log(conn=conn, event="close-ignored")
                    continue
                sock.sendall(frame(8, data[:2]))
                log(conn=conn, event="end", how="client-close")
                sock.close()
                return
            if k and got >= k and kind == "noack":
                end(sock, conn, how)
                return
    except (EOFError, OSError):
        log(conn=conn, event="end", how="client-gone")


def main():
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", args.port))
    ls.listen(64)
    print(f"LISTENING {ls.getsockname()[1]}", flush=True)
    ls.settimeout(args.lifetime)
    try:
        while True:
            s, _ = ls.accept()
            threading.Thread(target=serve, args=(s,), daemon=True).start()
    except socket.timeout:
        pass


main()
