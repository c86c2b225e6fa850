"""rawws.py - raw-socket WebSocket helpers for the `wsc serve` tests that play
hostile clients (test_budget.py, test_csrf.py): a server on a free loopback
port, requests with exact bytes, masked frames, reading the Close code."""
import socket
import struct
import subprocess

MIB = 1024 * 1024


def status(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    raise KeyError(key)


class Server:
    """`wsc serve` on a free loopback port (quiet, stops by itself after 120 s)."""

    def __init__(self, wsc, *args):
        self.p = subprocess.Popen([wsc, "serve", "--port", "0", "--lifetime", "120", "-q", *args],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.url = self.p.stdout.readline().strip()
        if not self.url:
            raise RuntimeError("wsc serve printed no URL: " + self.p.stderr.read())
        self.port = int(self.url.rsplit(":", 1)[1].strip("/"))

    def stop(self):
        if self.p.poll() is None:
            self.p.terminate()
        try:
            self.p.wait(10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
        return self.p.returncode


def request(port, target="/", headers=(), upgrade=True, timeout=20):
    """Sends a request; returns (socket, status, head as text)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    req = "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n" % target
    if upgrade:
        req += ("Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                "Sec-WebSocket-Version: 13\r\n")
    req += "".join(h + "\r\n" for h in headers) + "\r\n"
    s.sendall(req.encode("latin-1"))
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(4096)
        if not chunk:
            s.close()
            raise ConnectionError("closed during the handshake")
        head += chunk
    text = head.split(b"\r\n\r\n")[0].decode("latin-1")
    return s, int(text.split()[1]), text


def connect(port, target="/", headers=(), timeout=20):
    s, st, text = request(port, target, headers, timeout=timeout)
    if st != 101:
        s.close()
        raise ConnectionError(text.split("\r\n")[0])
    return s


def frame(opcode, payload, fin):
    """A masked client frame (mask key 0: the payload goes as it is)."""
    n = len(payload)
    b0 = (0x80 if fin else 0) | opcode
    if n < 126:
        hdr = struct.pack("!BB", b0, 0x80 | n)
    elif n < 65536:
        hdr = struct.pack("!BBH", b0, 0x80 | 126, n)
    else:
        hdr = struct.pack("!BBQ", b0, 0x80 | 127, n)
    return hdr + b"\0\0\0\0" + payload


def read_close(s, timeout):
    """Reads frames until the server's Close; returns its code (None: the
    connection ended without one)."""
    s.settimeout(timeout)
    buf = b""
    try:
        while True:
            while len(buf) >= 2:
                n = buf[1] & 0x7F
                off = 2
                if n == 126:
                    if len(buf) < 4:
                        break
                    n, off = struct.unpack("!H", buf[2:4])[0], 4
                elif n == 127:
                    if len(buf) < 10:
                        break
                    n, off = struct.unpack("!Q", buf[2:10])[0], 10
                if len(buf) < off + n:
                    break
                if buf[0] & 0x0F == 8:
                    return struct.unpack("!H", buf[off:off + 2])[0] if n >= 2 else 1005
                buf = buf[off + n:]
            chunk = s.recv(65536)
            if not chunk:
                return None
            buf += chunk
    except (ConnectionError, socket.timeout):
        return None
