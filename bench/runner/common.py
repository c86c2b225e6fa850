"""bench/runner/common.py - what every part of bench/run.py shares: paths,
the client lists, the processes it starts (each in its own process group,
all stopped at exit), bounded runs, the log and the errors list, and the
helpers that format the tables."""
import math
import os
import re
import select
import signal
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BB = os.path.join(ROOT, "build-bench")
BIN = os.path.join(BB, "bin")
CLIENTS_DIR = os.path.join(ROOT, "bench", "clients")
PY = "/usr/bin/python3"
MiB = 1 << 20

ALL_CLIENTS = ["raw", "frames", "wsc", "wslay", "lws", "beast", "websocketpp", "node", "python"]
TLS_CLIENTS = ["raw", "wsc", "lws", "beast", "websocketpp", "node", "python"]  # wslay has no TLS; raw: the TLS floor
DEFLATE_CLIENTS = ["wsc", "lws", "node", "python"]  # wslay: no extension support; beast, websocketpp: not offered
INTERPRETED = {"node", "python"}                     # callgrind figures vary a little run to run
FLOORS = ["raw", "frames"]  # raw TCP; the WebSocket floor (prebuilt frames, frames_client.c): always run
CHART_TITLES = {"raw": "raw TCP floor", "frames": "WebSocket floor (prebuilt frames)", "wsc": "wsc", "wslay": "wslay",
                "lws": "libwebsockets", "beast": "Boost.Beast", "websocketpp": "websocketpp", "node": "node ws",
                "python": "Python websockets"}
NO_CONNS = {"frames"}       # latency and throughput only

RESULT_RE = re.compile(r"^RESULT (latency|throughput|conns) msgs=(\d+) bytes=(\d+) seconds=([0-9.eE+-]+)"
                       r"(?: conns=(\d+) rss_base_kb=(-?\d+) rss_kb=(-?\d+) bytes_per_conn=(-?\d+))?$")

PROCS = []        # every server we started: stopped at exit
LOG = None        # build-bench/run.log
ENV = dict(os.environ)
ERRORS = []


# --------------------------------------------------------------------------
# processes


def log(msg):
    line = time.strftime("%H:%M:%S ") + msg
    print(line, file=sys.stderr, flush=True)
    if LOG:
        LOG.write(line + "\n")
        LOG.flush()


def killpg(p, sig=signal.SIGKILL):
    try:
        os.killpg(p.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def cleanup():
    for p in PROCS:
        if p.poll() is None:
            killpg(p, signal.SIGTERM)
    deadline = time.monotonic() + 3
    for p in PROCS:
        try:
            p.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            killpg(p)
            try:
                p.wait(timeout=2)
            except subprocess.TimeoutExpired:
                pass
    PROCS.clear()


def on_signal(signum, frame):
    raise SystemExit(128 + signum)


class Server:
    """An echo server; its first stdout line is the URL clients connect to."""

    def __init__(self, name, argv, pin=False):
        self.name = name
        argv = (["taskset", "-c", "0"] if pin else []) + argv
        self.errlog = open(os.path.join(BB, f"server-{name}.log"), "ab")
        self.p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=self.errlog, stdin=subprocess.DEVNULL,
                                  env=ENV, start_new_session=True)
        PROCS.append(self.p)
        ready, _, _ = select.select([self.p.stdout], [], [], 10)
        line = self.p.stdout.readline().decode().strip() if ready else ""
        if not line:
            self.stop()
            raise RuntimeError(f"echo server {name} ({' '.join(argv)}) printed no URL within 10 s")
        self.url = line
        self.tick = os.sysconf("SC_CLK_TCK")

    def cpu(self):
        """CPU seconds (user + system) the server has used so far: the
        scheduler's nanosecond count (the server is one thread), else ticks."""
        try:
            with open(f"/proc/{self.p.pid}/schedstat") as f:
                return int(f.read().split()[0]) / 1e9
        except (OSError, IndexError, ValueError):
            pass
        try:
            with open(f"/proc/{self.p.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / self.tick
        except (OSError, IndexError, ValueError):
            return float("nan")

    def alive(self):
        return self.p.poll() is None

    def mem_kb(self, field="VmRSS"):
        """VmRSS (or VmHWM, the peak) of the server in KiB, or None."""
        try:
            with open(f"/proc/{self.p.pid}/status") as f:
                for line in f:
                    if line.startswith(field + ":"):
                        return int(line.split()[1])
        except (OSError, ValueError):
            pass
        return None

    def stop(self):
        if self.p.poll() is None:
            killpg(self.p, signal.SIGTERM)
            try:
                self.p.wait(timeout=3)
            except subprocess.TimeoutExpired:
                killpg(self.p)
                self.p.wait(timeout=3)
        if self.p in PROCS:
            PROCS.remove(self.p)
        self.errlog.close()


def run(argv, timeout, capture=True, **kw):
    """Runs a command to completion, bounded; returns (rc, stdout, stderr, wall)."""
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdout=subprocess.PIPE if capture else None,
                         stderr=subprocess.PIPE if capture else None, stdin=subprocess.DEVNULL, env=ENV,
                         start_new_session=True, **kw)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        killpg(p)
        out, err = p.communicate()
        return -999, out or b"", (err or b"") + b"\n(timed out)", time.monotonic() - t0
    return p.returncode, out or b"", err or b"", time.monotonic() - t0


# --------------------------------------------------------------------------
# helpers for the tables


def med(xs):
    xs = [x for x in xs if x is not None and not (isinstance(x, float) and math.isnan(x))]
    return statistics.median(xs) if xs else None


def rate(rec, unit):
    if "error" in rec or "seconds" not in rec or rec["seconds"] <= 0:
        return None
    return rec["msgs"] / rec["seconds"] if unit == "msgs" else rec["bytes"] / rec["seconds"] / 1e6


def fmt(x, digits=0):
    if x is None:
        return "–"
    if digits == 0:
        return f"{x:,.0f}"
    return f"{x:,.{digits}f}"


def ratio(x, base):
    return f"{x / base:.2f}" if x is not None and base else "–"


def table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def size_name(n):
    if n >= MiB and n % MiB == 0:
        return f"{n // MiB} MiB"
    if n >= 1024 and n % 1024 == 0:
        return f"{n // 1024} KiB"
    return f"{n} B"
