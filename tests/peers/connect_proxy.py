#!/usr/bin/python3
"""HTTP CONNECT proxy for wsc's integration tests (asyncio, standard library only).

Prints `LISTENING <port>` as its first stdout line. Tunnels only to loopback
targets (127.0.0.0/8, localhost, ::1; 403 otherwise, without resolving or
connecting anything else). --auth USER:PASS requires Basic proxy credentials
(407 otherwise), --refuse answers every CONNECT with 502. --tls-cert and
--tls-key make it an https:// proxy (TLS from the client to the proxy). Each CONNECT is
logged as a JSON line (--log FILE, default stderr). Exits on SIGTERM/SIGINT or
after --lifetime seconds.
"""

import argparse
import asyncio
import base64
import ipaddress
import json
import os
import signal
import socket
import sys
import time

HEAD_LIMIT = 16384
HEAD_TIMEOUT = 10.0
CONNECT_TIMEOUT = 5.0


class Log:
    def __init__(self, path):
        self.f = open(path, "a", buffering=1, encoding="utf-8") if path else sys.stderr

    def __call__(self, event, **fields):
        rec = {"ts": round(time.time(), 6), "peer": "connect_proxy", "event": event}
        rec.update(fields)
        try:
            self.f.write(json.dumps(rec, ensure_ascii=False) + "\n")
            self.f.flush()
        except (OSError, ValueError):
            pass


def is_loopback_literal(host):
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def split_target(target):
    """'host:port' or '[v6]:port' -> (host, port) or None."""
    if target.startswith("["):
        end = target.find("]")
        if end < 0 or target[end + 1:end + 2] != ":":
            return None
        host, port = target[1:end], target[end + 2:]
    else:
        host, _, port = target.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        return None
    return host, int(port)


class Proxy:
    def __init__(self, args, log):
        self.args = args
        self.log = log
        self.expected_auth = None
        if args.auth:
            self.expected_auth = "Basic " + base64.b64encode(args.auth.encode()).decode()
        self.tasks = set()
        self.counter = 0

    async def respond(self, writer, status, phrase, extra=""):
        body = f"{status} {phrase}\n"
        writer.write((f"HTTP/1.1 {status} {phrase}\r\n{extra}Content-Type: text/plain\r\n"
                      f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n{body}").encode())
        try:
            await asyncio.wait_for(writer.drain(), 5)
        except (asyncio.TimeoutError, ConnectionError):
            pass
        writer.close()

    async def handle(self, reader, writer):
        task = asyncio.current_task()
        self.tasks.add(task)
        self.counter += 1
        cid = self.counter
        try:
            await self.handle_inner(cid, reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        except asyncio.TimeoutError:
            self.log("timeout", conn=cid)
        finally:
            writer.transport.abort()
            self.tasks.discard(task)

    async def handle_inner(self, cid, reader, writer):
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), HEAD_TIMEOUT)
        except asyncio.LimitOverrunError:
            await self.respond(writer, 431, "Request Header Fields Too Large")
            return
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split()
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        if len(parts) != 3 or parts[0] != "CONNECT":
            self.log("bad_request", conn=cid, line=lines[0])
            await self.respond(writer, 405, "Method Not Allowed", "Allow: CONNECT\r\n")
            return
        target = parts[1]
        entry = {"conn": cid, "target": target,
                 "auth": headers.get("proxy-authorization") is not None}
        if self.expected_auth is not None and headers.get("proxy-authorization") != self.expected_auth:
            self.log("connect", status=407, **entry)
            await self.respond(writer, 407, "Proxy Authentication Required",
                               'Proxy-Authenticate: Basic realm="wsc"\r\n')
            return
        if self.args.refuse:
            self.log("connect", status=502, **entry)
            await self.respond(writer, 502, "Bad Gateway")
            return
        hp = split_target(target)
        if hp is None or not is_loopback_literal(hp[0]):
            self.log("connect", status=403 if hp else 400, **entry)
            await self.respond(writer, 403 if hp else 400, "Forbidden" if hp else "Bad Request")
            return
        host, port = hp
        upstream = None
        for addr in await self.loopback_addresses(host, port):
            try:
                upstream = await asyncio.wait_for(
                    asyncio.open_connection(addr, port), CONNECT_TIMEOUT)
                break
            except (OSError, asyncio.TimeoutError):
                continue
        if upstream is None:
            self.log("connect", status=502, **entry)
            await self.respond(writer, 502, "Bad Gateway")
            return
        self.log("connect", status=200, **entry)
        up_reader, up_writer = upstream
        writer.write(b"HTTP/1.1 200 Connection Established\r\n\r\n")
        try:
            await self.pipe_both(reader, writer, up_reader, up_writer)
        finally:
            up_writer.transport.abort()
            self.log("tunnel_closed", conn=cid)

    async def loopback_addresses(self, host, port):
        if host != "localhost":
            return [host]
        loop = asyncio.get_running_loop()
        try:
            infos = await asyncio.wait_for(
                loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), CONNECT_TIMEOUT)
        except (OSError, asyncio.TimeoutError):
            infos = []
        addrs = [i[4][0] for i in infos if ipaddress.ip_address(i[4][0]).is_loopback]
        return list(dict.fromkeys(addrs)) or ["127.0.0.1"]

    async def pipe_both(self, r1, w1, r2, w2):
        async def pipe(src, dst):
            try:
                while True:
                    data = await src.read(65536)
                    if not data:
                        break
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, OSError):
                pass

        t1 = asyncio.ensure_future(pipe(r1, w2))
        t2 = asyncio.ensure_future(pipe(r2, w1))
        # Until either side closes; then both go.
        await asyncio.wait({t1, t2}, return_when=asyncio.FIRST_COMPLETED)
        for t in (t1, t2):
            t.cancel()
        await asyncio.gather(t1, t2, return_exceptions=True)


async def main(args):
    log = Log(args.log)
    proxy = Proxy(args, log)
    ctx = None
    if args.tls_cert:
        import ssl
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
    server = await asyncio.start_server(proxy.handle, args.host, args.port, limit=HEAD_LIMIT, ssl=ctx)
    port = server.sockets[0].getsockname()[1]
    sys.stdout.write(f"LISTENING {port}\n")
    sys.stdout.flush()
    log("listening", where=port, auth=bool(args.auth), refuse=args.refuse, pid=os.getpid())
    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda s=sig: stop.done() or stop.set_result(s.name))
    loop.call_later(args.lifetime, lambda: stop.done() or stop.set_result("lifetime"))
    why = await stop
    log("exit", why=why)
    server.close()
    for t in list(proxy.tasks):
        t.cancel()
    await asyncio.gather(*proxy.tasks, return_exceptions=True)


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--auth", metavar="USER:PASS")
    p.add_argument("--refuse", action="store_true", help="answer every CONNECT with 502")
    p.add_argument("--lifetime", type=float, default=120.0)
    p.add_argument("--log")
    p.add_argument("--tls-cert", help="serve TLS with this certificate (PEM): an https:// proxy")
    p.add_argument("--tls-key", help="its private key (PEM)")
    args = p.parse_args(argv)
    if not is_loopback_literal(args.host):
        p.error("--host must be a loopback address")
    return args


if __name__ == "__main__":
    try:
        asyncio.run(main(parse_args(sys.argv[1:])))
    except KeyboardInterrupt:
        pass
    sys.exit(0)
