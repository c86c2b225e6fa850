#!/usr/bin/python3
"""Runs an https:// proxy made of Debian's programs on 127.0.0.1 for wsc's
tests: stunnel4 (server mode: TLS with the given certificate) in front of
tinyproxy (an HTTP CONNECT proxy).

Both take fixed ports, so each gets a free one (bind to port 0, release it,
start the program on it, retrying on a lost race) and is waited for until it
accepts connections, never slept for. Then `LISTENING <port>` (stunnel's
port) is the first stdout line. Stops both on SIGTERM/SIGINT, after
--lifetime seconds, or when either exits.

  --auth USER:PASS    tinyproxy's BasicAuth (letters, digits, - . _ only:
                      its configuration syntax allows no more)
  --connect-port N    allow CONNECT to port N only (repeatable); without
                      it tinyproxy allows every port
  --log FILE          tinyproxy's log (LogLevel Connect: one line per
                      CONNECT request with its target); nothing is logged
                      to system paths (no syslog, no pid file)
  --check             exit 0 if both programs are installed, else print
                      which is missing and exit 77 (the tests' skip code)
"""

import argparse
import ctypes
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run_microsocks import accepting, free_port  # noqa: E402

SKIP = 77
# sbin too: a non-root PATH may lack it, wherever a distribution puts them.
SEARCH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/bin", "/sbin", "/bin"])


def find(names):
    for n in names:
        path = shutil.which(n, path=SEARCH)
        if path:
            return path
    return None


def die_with_parent():
    """In the child: SIGTERM when this script dies, even by SIGKILL, so
    neither server outlives it (PR_SET_PDEATHSIG, Linux; elsewhere the
    process group kill of the tests' harness does it)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1: PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def start_on_free_port(make_cmd, what):
    """Starts make_cmd(port) until it accepts on its port (5 tries, 5 s
    each); returns (process, port) or exits 1."""
    for _ in range(5):
        port = free_port()
        proc = subprocess.Popen(make_cmd(port), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=sys.stderr, preexec_fn=die_with_parent)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and proc.poll() is None and not accepting(port):
            time.sleep(0.02)
        if proc.poll() is None and accepting(port):
            return proc, port
        proc.kill()
        proc.wait()
    print("run_https_proxy: %s did not start" % what, file=sys.stderr)
    sys.exit(1)


def tinyproxy_conf(path, port, args):
    lines = [
        "Port %d" % port,
        "Listen 127.0.0.1",
        "Timeout 60",
        "MaxClients 64",
        "Allow 127.0.0.1",
        "LogLevel Connect",
    ]
    # In the foreground (-d) without LogFile it logs to stdout (DEVNULL).
    if args.log:
        lines.append('LogFile "%s"' % os.path.abspath(args.log))
    for p in args.connect_port:
        lines.append("ConnectPort %d" % p)
    if args.auth:
        user, _, password = args.auth.partition(":")
        lines.append("BasicAuth %s %s" % (user, password))
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def stunnel_conf(path, port, target, args):
    with open(path, "w") as f:
        f.write("foreground = yes\n"
                "pid =\n"        # no pid file
                "debug = notice\n"
                "[https-proxy]\n"
                "accept = 127.0.0.1:%d\n"
                "connect = 127.0.0.1:%d\n"
                "cert = %s\n"
                "key = %s\n"
                # independent of the machine's /etc/hosts.allow
                "libwrap = no\n" % (port, target, os.path.abspath(args.cert), os.path.abspath(args.key)))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--auth", metavar="USER:PASS")
    p.add_argument("--connect-port", type=int, action="append", default=[])
    p.add_argument("--log")
    p.add_argument("--lifetime", type=float, default=120.0)
    p.add_argument("--check", action="store_true")
    args = p.parse_args()
    stunnel = find(["stunnel4", "stunnel"])
    tinyproxy = find(["tinyproxy"])
    missing = [n for n, b in (("stunnel4", stunnel), ("tinyproxy", tinyproxy)) if not b]
    if missing:
        print("run_https_proxy: not installed: %s (scripts/bootstrap test installs them)" % " ".join(missing),
              file=sys.stderr)
        return SKIP
    if args.check:
        return 0
    if not args.cert or not args.key:
        p.error("--cert and --key are required")

    work = tempfile.mkdtemp(prefix="wsc-https-proxy-")
    procs = []

    def stop_all():
        for proc in reversed(procs):
            if proc.poll() is None:
                proc.terminate()
        for proc in procs:
            try:
                proc.wait(3)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        shutil.rmtree(work, ignore_errors=True)

    try:
        tp_conf = os.path.join(work, "tinyproxy.conf")

        def tp_cmd(port):
            tinyproxy_conf(tp_conf, port, args)
            return [tinyproxy, "-d", "-c", tp_conf]

        tp, tp_port = start_on_free_port(tp_cmd, "tinyproxy")
        procs.append(tp)
        st_conf = os.path.join(work, "stunnel.conf")

        def st_cmd(port):
            stunnel_conf(st_conf, port, tp_port, args)
            return [stunnel, st_conf]

        st, st_port = start_on_free_port(st_cmd, "stunnel")
        procs.append(st)
    except BaseException:
        stop_all()
        raise

    def on_signal(*_):
        stop_all()
        sys.exit(0)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    sys.stdout.write("LISTENING %d\n" % st_port)
    sys.stdout.flush()
    # Until the lifetime ends or either program exits by itself.
    deadline = time.monotonic() + args.lifetime
    while time.monotonic() < deadline and all(proc.poll() is None for proc in procs):
        time.sleep(0.2)
    stop_all()
    return 0


if __name__ == "__main__":
    sys.exit(main())
