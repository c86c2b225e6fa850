#!/usr/bin/python3
"""Runs Debian's microsocks (a SOCKS5 server) on 127.0.0.1 for wsc's tests.

microsocks takes a fixed port, so this picks a free one (bind to port 0,
release it, start microsocks on it, retrying on a lost race), waits until it
accepts connections, then prints `LISTENING <port>` as its first stdout line.
--auth USER:PASS requires RFC 1929 username/password authentication. Stops
microsocks on SIGTERM/SIGINT or after --lifetime seconds.
"""

import argparse
import signal
import socket
import subprocess
import sys
import time


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def accepting(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--auth", metavar="USER:PASS")
    p.add_argument("--lifetime", type=float, default=120.0)
    p.add_argument("--microsocks", default="microsocks")
    args = p.parse_args()
    for _ in range(5):
        port = free_port()
        cmd = [args.microsocks, "-i", "127.0.0.1", "-p", str(port)]
        if args.auth:
            user, _, password = args.auth.partition(":")
            cmd += ["-u", user, "-P", password]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and proc.poll() is None and not accepting(port):
            time.sleep(0.02)
        if proc.poll() is None and accepting(port):
            break
        proc.kill()
        proc.wait()
    else:
        print("run_microsocks: microsocks did not start", file=sys.stderr)
        return 1
    stop = lambda *_: (proc.terminate(), proc.wait(), sys.exit(0))
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    sys.stdout.write(f"LISTENING {port}\n")
    sys.stdout.flush()
    try:
        proc.wait(timeout=args.lifetime)
    except subprocess.TimeoutExpired:
        proc.terminate()
        proc.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
