#!/usr/bin/python3
"""bench/run.py - wsc side by side with every peer client, in one command.

    /usr/bin/python3 bench/run.py            # everything (about 12-15 minutes)
    /usr/bin/python3 bench/run.py --quick    # smoke test (< 60 s)
    /usr/bin/python3 bench/run.py --help     # every option

Builds what it needs (scripts/bootstrap bench, wsc with CMake, the C clients
with cc into build-bench/), starts the echo servers (`wsc serve --lean` for
every WebSocket client, bench/clients/raw_server for the raw-TCP floor), and
runs each client of the `bench` contract (bench/README.md) interleaved, over
several repetitions, unpinned and pinned to one CPU; then instructions per
round trip (callgrind), system calls per round trip (strace), memory per idle
connection, a throughput sweep over message sizes (chart with gnuplot), wss
beside ws, and the cost of permessage-deflate. Writes Markdown to
bench/results/latest.md (and raw figures to build-bench/results.json), prints
it, and with --update-docs puts it into docs/PERFORMANCE.md.

Only 127.0.0.1 is used. Every wait is bounded and every process this script
starts is stopped when it exits (normally, on error or on a signal).
"""
import argparse
import atexit
import json
import math
import os
import re
import resource
import select
import shutil
import signal
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
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
# building


def build(args):
    os.makedirs(BIN, exist_ok=True)
    if not args.no_bootstrap:
        log("bootstrap: scripts/bootstrap bench")
        rc, out, err, _ = run([os.path.join(ROOT, "scripts", "bootstrap"), "bench"], 900)
        if rc != 0:
            sys.exit("scripts/bootstrap bench failed:\n" + (out + err).decode(errors="replace"))
    # wsc
    if args.wsc:
        wsc = os.path.abspath(args.wsc)
    else:
        bdir = os.path.join(ROOT, "build")
        if not os.path.exists(os.path.join(bdir, "CMakeCache.txt")):
            log("configuring build/ (as `make build` does)")
            rc, out, err, _ = run(["cmake", "-S", ROOT, "-B", bdir, "-DCMAKE_BUILD_TYPE=RelWithDebInfo",
                                   "-DWSC_WERROR=ON"], 600)
            if rc != 0:
                sys.exit("cmake configure failed:\n" + (out + err).decode(errors="replace"))
        log("building build/wsc")
        rc, out, err, _ = run(["cmake", "--build", bdir, "--target", "wsc_cli", "-j", str(os.cpu_count() or 2)], 900)
        if rc != 0:
            log("warning: building wsc failed:\n" + (out + err).decode(errors="replace")[-3000:])
        wsc = os.path.join(bdir, "wsc")
    caps = {"serve": False, "bench": False}
    if os.access(wsc, os.X_OK):
        for sub in caps:
            rc, out, err, _ = run([wsc, sub, "--help"], 20)
            text = out + err  # a CLI without the command may answer with its general usage
            caps[sub] = rc == 0 and (b"--lean" in text if sub == "serve" else
                                     b"throughput" in text and b"conns" in text)
    log(f"wsc: {wsc} (serve --lean: {'yes' if caps['serve'] else 'NO'}, bench: {'yes' if caps['bench'] else 'NO'})")

    # the C clients, each with plain cc
    def pkg(name):
        rc, out, _, _ = run(["pkg-config", "--cflags", "--libs", name], 30)
        return out.decode().split() if rc == 0 else []

    cflags = ["-O2", "-g", "-Wall", "-Wextra"]
    units = {
        "raw_server": ["-lssl", "-lcrypto"],
        "raw_client": ["-lssl", "-lcrypto"],
        "wslay_client": ["-lwslay", "-lcrypto"],
        "lws_client": pkg("libwebsockets") or ["-lwebsockets"],
        "frames_client": ["-lcrypto"],
        "fanout_client": ["-lcrypto"],
    }
    for name, libs in units.items():
        src = os.path.join(CLIENTS_DIR, name + ".c")
        out_bin = os.path.join(BIN, name)
        newest = max(os.path.getmtime(os.path.join(CLIENTS_DIR, f)) for f in (name + ".c", "bench_util.h", "raw_tls.h"))
        if os.path.exists(out_bin) and os.path.getmtime(out_bin) > newest:
            continue
        rc, out, err, _ = run(["cc", *cflags, "-o", out_bin, src, *libs], 300)
        if rc != 0:
            sys.exit(f"building {name} failed:\n" + (out + err).decode(errors="replace"))
    # the C++ clients, each with plain c++ (Boost.Beast is header-only)
    # (websocketpp is header-only too, over Boost.Asio)
    cxx_units = {"beast_client": ["-lssl", "-lcrypto", "-pthread"],
                 "websocketpp_client": ["-lssl", "-lcrypto", "-pthread"]}
    for name, libs in cxx_units.items():
        if name == "websocketpp_client" and not os.path.exists("/usr/include/websocketpp/client.hpp"):
            log("warning: libwebsocketpp-dev is not installed: the websocketpp client is left out")
            continue
        src = os.path.join(CLIENTS_DIR, name + ".cpp")
        out_bin = os.path.join(BIN, name)
        newest = max(os.path.getmtime(src), os.path.getmtime(os.path.join(CLIENTS_DIR, "bench_util.h")))
        if os.path.exists(out_bin) and os.path.getmtime(out_bin) > newest:
            continue
        rc, out, err, _ = run(["c++", "-std=c++17", *cflags, "-o", out_bin, src, *libs], 600)
        if rc != 0:
            sys.exit(f"building {name} failed:\n" + (out + err).decode(errors="replace"))
    # certificates for wss
    certs = os.path.join(BB, "certs")
    rc, out, err, _ = run(["bash", os.path.join(ROOT, "tests", "peers", "mkcerts.sh"), certs], 120)
    if rc != 0:
        sys.exit("mkcerts.sh failed:\n" + (out + err).decode(errors="replace"))
    ca = os.path.join(certs, "ca.pem")
    ENV["SSL_CERT_FILE"] = ca          # OpenSSL's default store: wsc, lws, Python
    ENV["NODE_EXTRA_CA_CERTS"] = ca    # node
    ENV["NODE_PATH"] = os.path.join(ROOT, "tests", "peers", "node_modules")
    return wsc, caps, certs


def versions():
    def dpkg(p):
        rc, out, _, _ = run(["dpkg-query", "-W", "-f=${Version}", p], 20)
        return out.decode().split("-")[0] if rc == 0 else "?"

    v = {"lws": dpkg("libwebsockets-dev"), "wslay": dpkg("libwslay-dev"), "python": dpkg("python3-websockets"),
         "beast": dpkg("libboost1.81-dev"), "websocketpp": dpkg("libwebsocketpp-dev")}
    try:
        with open(os.path.join(ROOT, "tests", "peers", "node_modules", "ws", "package.json")) as f:
            v["node"] = json.load(f)["version"]
    except (OSError, ValueError, KeyError):
        v["node"] = "?"
    rc, out, _, _ = run(["node", "--version"], 20)
    v["nodejs"] = out.decode().strip() if rc == 0 else "?"
    return v


# --------------------------------------------------------------------------
# one client run


class Bench:
    def __init__(self, args, wsc, caps, certs):
        self.args = args
        self.wsc = wsc
        self.caps = caps
        self.certs = certs
        self.data = {}  # key -> list of run records
        self.work = {}  # (test key, client) -> work factor (calibrate())
        self.conns_actual = {}  # N asked for -> N measured (descriptor limit)
        self.notes = []

    def label(self, c):
        v = self.v
        return {"raw": "raw TCP floor", "frames": "WebSocket floor (prebuilt frames)", "wsc": "**wsc**", "wslay": f"wslay {v['wslay']}",
                "lws": f"libwebsockets {v['lws']}", "beast": f"Boost.Beast {v['beast']}",
                "websocketpp": f"websocketpp {v['websocketpp']}",
                "node": f"node ws {v['node']}", "python": f"Python websockets {v['python']}"}[c]

    # servers
    def ws_server_argv(self, kind="lean"):
        if self.args.ws_server:
            argv = self.args.ws_server.split()
            if kind == "tls":
                argv += [os.path.join(self.certs, "server.pem"), os.path.join(self.certs, "server.key")]
            return argv
        argv = [self.wsc, "serve", "--port", "0"]
        if kind == "deflate":
            return argv + ["-q"]
        argv.append("--lean")
        if kind == "tls":
            argv += ["--tls-cert", os.path.join(self.certs, "server.pem"),
                     "--tls-key", os.path.join(self.certs, "server.key")]
        return argv

    def start(self, kind, pin):
        if kind == "raw":
            return Server("raw", [os.path.join(BIN, "raw_server")], pin)
        if kind == "rawtls":  # the TLS floor: the raw exchange over OpenSSL
            return Server("rawtls", [os.path.join(BIN, "raw_server"),
                                     "--tls-cert", os.path.join(self.certs, "server.pem"),
                                     "--tls-key", os.path.join(self.certs, "server.key")], pin)
        return Server(kind, self.ws_server_argv(kind), pin)

    def client_argv(self, c, mode, url, nums, deflate=False, tls=False):
        nums = [str(int(n)) for n in nums]
        if c == "raw":
            return [os.path.join(BIN, "raw_client"), mode, url, *nums]
        if c == "frames":
            return [os.path.join(BIN, "frames_client"), mode, url, *nums]
        if c == "wsc":
            return [self.wsc, "bench", *(["--deflate"] if deflate else []),
                    *(["--ca", os.path.join(self.certs, "ca.pem")] if tls else []), mode, url, *nums]
        if c == "wslay":
            return [os.path.join(BIN, "wslay_client"), mode, url, *nums]
        if c in ("beast", "websocketpp"):
            return [os.path.join(BIN, c + "_client"), mode, url, *nums]
        flag = ["--deflate"] if deflate else []
        if c == "lws":
            return [os.path.join(BIN, "lws_client"), *flag, mode, url, *nums]
        if c == "node":
            return ["node", os.path.join(CLIENTS_DIR, "ws_client.js"), *flag, mode, url, *nums]
        if c == "python":
            return [PY, os.path.join(CLIENTS_DIR, "websockets_client.py"), *flag, mode, url, *nums]
        raise ValueError(c)

    def usable(self, c):
        return c != "wsc" or self.caps["bench"]

    def run_client(self, c, mode, url, nums, pin=False, server=None, deflate=False, tls=False, wrap=None,
                   expect_msgs=None, timeout=None):
        argv = self.client_argv(c, mode, url, nums, deflate, tls)
        if pin:
            argv = ["taskset", "-c", "0"] + argv
        if wrap:
            argv = wrap + argv
        ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        s0 = server.cpu() if server else 0.0
        rc, out, err, wall = run(argv, timeout or self.args.timeout)
        s1 = server.cpu() if server else 0.0
        ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        rec = {"client": c, "mode": mode, "nums": list(nums), "rc": rc, "wall": wall,
               "cpu": (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime),
               "server_cpu": s1 - s0, "stderr": err.decode(errors="replace")[-2000:]}
        lines = [ln for ln in out.decode(errors="replace").splitlines() if ln.strip()]
        m = RESULT_RE.match(lines[0]) if len(lines) == 1 else None
        problem = None
        if wrap is None and rc != 0:
            problem = f"exit status {rc}"
        elif not m:
            problem = "no single RESULT line on stdout" if wrap is None else None
        elif m.group(1) != mode:
            problem = "RESULT for the wrong mode"
        if m:
            rec.update(msgs=int(m.group(2)), bytes=int(m.group(3)), seconds=float(m.group(4)))
            if m.group(5):
                rec.update(conns=int(m.group(5)), rss_base_kb=int(m.group(6)), rss_kb=int(m.group(7)),
                           bytes_per_conn=int(m.group(8)))
            if problem is None and expect_msgs is not None and rec["msgs"] != expect_msgs:
                problem = f"msgs={rec['msgs']}, expected {expect_msgs}"
            if problem is None and mode != "conns" and rec["bytes"] != rec["msgs"] * int(nums[1]):
                problem = "bytes != msgs * SIZE"
            if problem is None and mode != "conns" and rec["seconds"] <= 0:
                problem = "seconds <= 0"
        if server is not None and not server.alive():
            problem = (problem + "; " if problem else "") + f"echo server {server.name} died"
        if problem:
            rec["error"] = problem
            ERRORS.append(f"{c} {mode} {' '.join(map(str, nums))}: {problem}: {rec['stderr'].strip()[-300:]}")
            log(f"  ERROR {c} {mode} {nums}: {problem} {rec['stderr'].strip()[-200:]}")
        return rec

    def add(self, key, rec):
        self.data.setdefault(key, []).append(rec)


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


# --------------------------------------------------------------------------
# the sections


def tests(args):
    """(key, title, mode, nums, unit)"""
    return [
        ("lat", f"round trips of {args.latency_size} B text", "latency", (args.latency_count, args.latency_size), "msgs"),
        ("tpL", f"{size_name(args.large_size)} binary echo", "throughput", (args.large_total, args.large_size), "MB"),
        ("tpS", f"{size_name(args.small_size)} binary echo", "throughput", (args.small_total, args.small_size), "MB"),
        ("tpH", f"{size_name(args.huge_size)} binary echo", "throughput", (args.huge_total, args.huge_size), "MB"),
    ]


def scaled(B, c, mode, nums, key):
    """The work one run of client c does. Calibrated (see calibrate()) so that
    each run takes about --target-seconds; before that, or without
    calibration, the slow interpreted clients get a fixed fraction. The rate
    is per second either way, so the figures stay comparable."""
    args = B.args
    f = B.work.get((key, c))
    if f is None:
        f = args.python_work if c == "python" else args.node_work if c == "node" else 1.0
    a, b = nums
    if mode == "throughput":
        a = max(b * 8, int(a * f) // b * b)
    else:
        a = max(64, int(a * f))
    return (a, b)


def calibrate(B, c, key, mode, nums, srv, pin, target):
    """One run at the base work, then a factor so that a run takes ~target s."""
    if not target or (key, c) in B.work:
        return
    n = scaled(B, c, mode, nums, key)
    rec = B.run_client(c, mode, srv.url, n, pin=pin, server=srv, expect_msgs=expected_msgs(mode, n))
    if "error" in rec or rec.get("seconds", 0) <= 0:
        return
    f0 = n[0] / nums[0]
    B.work[(key, c)] = f0 * min(64.0, max(1 / 16, target / rec["seconds"]))


def expected_msgs(mode, nums):
    return nums[0] if mode == "latency" else -(-nums[0] // nums[1])


def section_matrix(B, clients, pinned):
    args = B.args
    name = "pinned" if pinned else "unpinned"
    ws = B.start("lean", pinned)
    raw = B.start("raw", pinned)
    try:
        # calibrated per mode: unpinned round trips can be several times slower (cross-CPU wake-ups)
        for key, title, mode, nums, unit in tests(args):
            for c in clients:
                calibrate(B, c, (name, key), mode, nums, raw if c == "raw" else ws, pinned, args.target_seconds)
        for rep in range(args.reps):
            for key, title, mode, nums, unit in tests(args):
                for c in clients:
                    srv = raw if c == "raw" else ws
                    url = srv.url
                    n = scaled(B, c, mode, nums, (name, key))
                    rec = B.run_client(c, mode, url, n, pin=pinned, server=srv, expect_msgs=expected_msgs(mode, n))
                    B.add((name, key, c), rec)
                log(f"  {name} rep {rep + 1}/{args.reps} {key}: " + ", ".join(
                    f"{c}={fmt(rate(B.data[(name, key, c)][-1], unit), 1 if unit == 'MB' else 0)}" for c in clients))
    finally:
        ws.stop()
        raw.stop()


def section_callgrind(B, clients):
    args = B.args
    n1, n2 = args.cg_counts
    ws = B.start("lean", False)
    raw = B.start("raw", False)
    try:
        for c in clients:
            if args.quick and c in INTERPRETED:
                continue
            irs = []
            for n in (n1, n2):
                srv = raw if c == "raw" else ws
                rec = B.run_client(c, "latency", srv.url, (n, args.latency_size), server=srv,
                                   wrap=["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
                                         "--trace-children=no"], timeout=600)
                m = re.findall(r"Collected : (\d+)", rec["stderr"])
                irs.append(int(m[-1]) if m and rec["rc"] == 0 else None)
                if rec["rc"] != 0:
                    ERRORS.append(f"callgrind {c} {n}: exit {rec['rc']}: {rec['stderr'][-300:]}")
            per = (irs[1] - irs[0]) / (n2 - n1) if None not in irs else None
            B.add(("callgrind", c), {"ir": irs, "per_rt": per})
            log(f"  callgrind {c}: {fmt(per)} instructions per round trip")
    finally:
        ws.stop()
        raw.stop()


def parse_strace(path):
    calls = {}
    try:
        with open(path) as f:
            for line in f:
                t = line.split()
                if len(t) >= 5 and re.match(r"^\d+\.\d+$", t[0]) and t[-1] != "total":
                    calls[t[-1]] = int(t[3])
    except OSError:
        pass
    return calls


def section_syscalls(B, clients):
    args = B.args
    n1, n2 = args.cg_counts
    ws = B.start("lean", False)
    raw = B.start("raw", False)
    try:
        for c in clients:
            counts = []
            for n in (n1, n2):
                srv = raw if c == "raw" else ws
                out = os.path.join(BB, f"strace-{c}-{n}.txt")
                if os.path.exists(out):
                    os.unlink(out)
                B.run_client(c, "latency", srv.url, (n, args.latency_size), server=srv,
                             wrap=["strace", "-f", "-c", "-o", out], timeout=300)
                counts.append(parse_strace(out))
            if counts[0] and counts[1]:
                names = set(counts[0]) | set(counts[1])
                diff = {k: (counts[1].get(k, 0) - counts[0].get(k, 0)) / (n2 - n1) for k in names}
                per = sum(diff.values())
                top = sorted(((v, k) for k, v in diff.items() if v >= 0.05), reverse=True)[:4]
                B.add(("syscalls", c), {"per_rt": per, "top": [(k, v) for v, k in top]})
                log(f"  strace {c}: {per:.2f} system calls per round trip ({', '.join(f'{k} {v:.2f}' for v, k in top)})")
            else:
                B.add(("syscalls", c), {"per_rt": None, "top": []})
    finally:
        ws.stop()
        raw.stop()


def fd_cap():
    """The most connections one process can hold here: the descriptor limit
    less a margin for the process's other descriptors."""
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0] - 64


def section_conns(B, clients, ns, kind="lean", tag="conns"):
    for n0 in ns:
        n = min(n0, fd_cap())
        if n != n0:
            B.notes.append(f"N={n0} connections asked for, {n} measured: the descriptor limit here is "
                           f"{resource.getrlimit(resource.RLIMIT_NOFILE)[1]} and cannot be raised (no "
                           "CAP_SYS_RESOURCE); every process needs a few descriptors besides its sockets.")
            B.conns_actual[n0] = n
        for c in clients:
            srv = B.start(("rawtls" if kind == "tls" else "raw") if c == "raw" else kind, False)
            try:
                base = srv.mem_kb()
                rec = B.run_client(c, "conns", srv.url, (n,), server=srv, deflate=(kind == "deflate"),
                                   tls=(kind == "tls"), expect_msgs=0, timeout=max(120, n / 50))
                # the server role's cost: its peak resident memory (all N open
                # at once, idle) over its memory before the first connection
                peak = srv.mem_kb("VmHWM")
                if base is not None and peak is not None and "error" not in rec:
                    rec["server_bytes_per_conn"] = (peak - base) * 1024 // n
            finally:
                srv.stop()
            B.add((tag, n0, c), rec)
            log(f"  {tag} N={n} {c}: {fmt(rec.get('bytes_per_conn'))} bytes per connection")


def sweep_sizes(args):
    return args.sweep_sizes


def sweep_total(args, size):
    """Bytes to move at one size: ~0.3-1 s for the fastest clients."""
    return min(args.sweep_max_total, max(size * args.sweep_min_msgs, args.sweep_min_total))


def section_sweep(B, clients):
    args = B.args
    ws = B.start("lean", True)
    raw = B.start("raw", True)
    try:
        for size in sweep_sizes(args):
            for c in clients:
                calibrate(B, c, ("sweep", size), "throughput", (sweep_total(args, size), size),
                          raw if c == "raw" else ws, True, args.sweep_target)
        for rep in range(args.sweep_reps):
            for size in sweep_sizes(args):
                total = sweep_total(args, size)
                for c in clients:
                    srv = raw if c == "raw" else ws
                    n = scaled(B, c, "throughput", (total, size), ("sweep", size))
                    rec = B.run_client(c, "throughput", srv.url, n, pin=True, server=srv,
                                       expect_msgs=expected_msgs("throughput", n))
                    B.add(("sweep", size, c), rec)
                log(f"  sweep rep {rep + 1} {size_name(size)}: " + ", ".join(
                    f"{c}={fmt(rate(B.data[('sweep', size, c)][-1], 'MB'), 1)}" for c in clients))
    finally:
        ws.stop()
        raw.stop()


def idle_spin(srv, seconds=0.3):
    """The fraction of a CPU an echo server uses with no client connected:
    anything well above 0 is a server stuck in a loop."""
    c0 = srv.cpu()
    time.sleep(seconds)
    return (srv.cpu() - c0) / seconds


def section_tls(B, clients):
    """wss beside ws. The wss server is started afresh for every run and
    checked for idle CPU afterwards: a server left spinning by one client's
    closing handshake must neither slow down nor hang the next client."""
    args = B.args
    ws = B.start("lean", True)
    raw = B.start("raw", True)
    spun = []
    try:
        for rep in range(args.side_reps):
            for key, title, mode, nums, unit in tests(args):
                for c in clients:
                    n = scaled(B, c, mode, nums, ("pinned", key))
                    for tls in (False, True):
                        if c == "raw":
                            srv = B.start("rawtls", True) if tls else raw
                        else:
                            srv = B.start("tls", True) if tls else ws
                        try:
                            rec = B.run_client(c, mode, srv.url, n, pin=True, server=srv, tls=tls,
                                               expect_msgs=expected_msgs(mode, n))
                            if tls and idle_spin(srv) > 0.5:
                                spun.append(f"{c} {key}")
                        finally:
                            if tls:
                                srv.stop()
                        B.add(("tls", key, c, tls), rec)
            log(f"  tls rep {rep + 1} done")
    finally:
        ws.stop()
        raw.stop()
    if spun:
        B.notes.append(f"The wss echo server kept a CPU busy with no client connected after {len(spun)} of the wss "
                       f"runs ({', '.join(sorted(set(spun)))}): a server bug, see docs/PERFORMANCE.md. Each wss run "
                       "has a fresh server, so it did not affect the figures.")
        log(f"  warning: the wss server spun after {', '.join(spun)}")


def section_deflate(B, clients):
    args = B.args
    ws = B.start("lean", True)
    dws = B.start("deflate", True)
    try:
        for rep in range(args.side_reps):
            for key, title, mode, nums, unit in tests(args):
                for c in clients:
                    if c == "lws" and key == "lat":
                        # lws 4.1.6 drops uncompressed frames (RSV1 = 0) that arrive on a
                        # deflate connection (RFC 7692 allows them; wsc's server sends
                        # messages under 64 bytes uncompressed): the run would only time out.
                        continue
                    n = scaled(B, c, mode, nums, ("pinned", key))
                    for defl, srv in ((False, ws), (True, dws)):
                        rec = B.run_client(c, mode, srv.url, n, pin=True, server=srv, deflate=defl,
                                           expect_msgs=expected_msgs(mode, n))
                        B.add(("deflate", key, c, defl), rec)
            log(f"  deflate rep {rep + 1} done")
    finally:
        ws.stop()
        dws.stop()


BROADCAST_SERVERS = ["wsc", "node", "python"]
BROADCAST_RE = re.compile(r"^RESULT broadcast msgs=(\d+) bytes=(\d+) seconds=([0-9.eE+-]+) conns=(\d+) sent=(\d+) "
                          r"open_seconds=([0-9.eE+-]+) server_base_kb=(-?\d+) server_open_kb=(-?\d+) "
                          r"server_hwm_kb=(-?\d+) server_cpu_seconds=(-?[0-9.eE+-]+)$")


def broadcast_server_argv(B, s):
    if s == "wsc":
        return [B.wsc, "serve", "--port", "0", "--broadcast", "--lean"]
    if s == "node":
        return ["node", os.path.join(CLIENTS_DIR, "ws_broadcast_server.js")]
    return [PY, os.path.join(CLIENTS_DIR, "websockets_broadcast_server.py")]


def broadcast_label(B, s):
    return {"wsc": "**wsc** (`wsc serve --broadcast --lean`)", "node": f"node ws {B.v['node']}",
            "python": f"Python websockets {B.v['python']}"}[s]


def section_broadcast(B, servers):
    """The server benchmark: one broadcast server (fresh for every run) on
    CPU 0, bench/clients/fanout_client on CPU 1 with N connections, one of
    which sends M messages of SIZE bytes that the server sends to all N.
    Deliveries per second, the server's CPU per delivery, and its memory per
    connection (VmRSS with all N open and VmHWM after the run, each over its
    VmRSS before the first connection)."""
    args = B.args
    two = (os.cpu_count() or 1) >= 2 and shutil.which("taskset")
    for rep in range(args.broadcast_reps):
        for n0 in args.broadcast_conns:
            n = min(n0, fd_cap())
            if n != n0 and rep == 0:
                B.notes.append(f"Broadcast: N={n0} connections asked for, {n} measured (descriptor limit).")
                B.conns_actual[("broadcast", n0)] = n
            for s in servers:
                f = args.broadcast_work.get(s, 1.0)
                m = max(10, int(args.broadcast_deliveries * f) // n)
                srv = Server(f"broadcast-{s}", broadcast_server_argv(B, s), pin=bool(two))
                try:
                    argv = ([*(["taskset", "-c", "1"] if two else [])] + [os.path.join(BIN, "fanout_client"),
                            "--server-pid", str(srv.p.pid), srv.url, str(n), str(m), str(args.broadcast_size)])
                    rc, out, err, wall = run(argv, max(args.timeout, 120))
                    alive = srv.alive()
                finally:
                    srv.stop()
                lines = [ln for ln in out.decode(errors="replace").splitlines() if ln.strip()]
                mt = BROADCAST_RE.match(lines[0]) if len(lines) == 1 else None
                rec = {"server": s, "n": n, "m": m, "rc": rc, "wall": wall, "stderr": err.decode(errors="replace")[-2000:]}
                problem = None
                if rc != 0:
                    problem = f"exit status {rc}"
                elif not mt:
                    problem = "no single RESULT line on stdout"
                elif int(mt.group(1)) != n * m:
                    problem = f"msgs={mt.group(1)}, expected {n * m}"
                if not alive:
                    problem = (problem + "; " if problem else "") + "the server died"
                if mt:
                    base, opn, hwm = int(mt.group(7)), int(mt.group(8)), int(mt.group(9))
                    rec.update(msgs=int(mt.group(1)), bytes=int(mt.group(2)), seconds=float(mt.group(3)),
                               open_seconds=float(mt.group(6)), base_kb=base, open_kb=opn, hwm_kb=hwm,
                               server_cpu=float(mt.group(10)),
                               idle_per_conn=(opn - base) * 1024 // n if base > 0 and opn > 0 else None,
                               peak_per_conn=(hwm - base) * 1024 // n if base > 0 and hwm > 0 else None)
                if problem:
                    rec["error"] = problem
                    ERRORS.append(f"broadcast {s} N={n} M={m}: {problem}: {rec['stderr'].strip()[-300:]}")
                    log(f"  ERROR broadcast {s} N={n}: {problem} {rec['stderr'].strip()[-200:]}")
                B.add(("broadcast", n0, s), rec)
                log(f"  broadcast rep {rep + 1} N={n} {s}: {fmt(rate(rec, 'msgs'))} deliveries/s, "
                    f"{fmt(rec.get('idle_per_conn'))} B/conn idle, {fmt(rec.get('peak_per_conn'))} B/conn peak")


CORRUPT_SERVER = r'''
import asyncio, sys, websockets
K = int(sys.argv[1])
async def echo(ws, path=None):
    i = 0
    async for m in ws:
        if i == K:
            if isinstance(m, str):
                m = m[:-1] + chr(ord(m[-1]) ^ 1)
            else:
                m = m[:-1] + bytes([m[-1] ^ 1])
        i += 1
        await ws.send(m)
async def main():
    async with websockets.serve(echo, "127.0.0.1", 0, compression=None, max_size=None) as s:
        port = s.sockets[0].getsockname()[1]
        print(f"ws://127.0.0.1:{port}/", flush=True)
        await asyncio.sleep(600)
asyncio.run(main())
'''


def section_check(B, clients):
    """Each client must fail (non-zero exit) when one echo comes back corrupted."""
    results = {}
    raw = Server("raw-corrupt", [os.path.join(BIN, "raw_server"), "--corrupt", "5"])
    bad = Server("ws-corrupt", [PY, "-c", CORRUPT_SERVER, "5"])
    try:
        for c in clients:
            srv = raw if c == "raw" else bad
            outcome = []
            for mode, nums in (("latency", (20, 32)), ("throughput", (200 * 1024, 1024))):
                argv = B.client_argv(c, mode, srv.url, nums)
                rc, out, err, _ = run(argv, 60)
                caught = rc != 0 and rc != -999 and not out.strip()
                outcome.append((mode, rc, caught, err.decode(errors="replace").strip().splitlines()[-1:]))
                if not caught:
                    ERRORS.append(f"check {c} {mode}: a corrupted echo was NOT detected (exit {rc}, stdout {out!r})")
            results[c] = outcome
            log(f"  check {c}: " + ", ".join(f"{m} {'detected' if ok else 'NOT DETECTED'} (exit {rc})"
                                             for m, rc, ok, _ in outcome))
    finally:
        raw.stop()
        bad.stop()
    B.add(("check",), results)


# --------------------------------------------------------------------------
# the report


def report(B, clients, sections, started, machine):
    args = B.args
    D = B.data
    out = []
    w = out.append
    w(f"<!-- generated by bench/run.py on {time.strftime('%Y-%m-%d %H:%M')} -->")
    w("")
    w(f"Command: `{' '.join(['bench/run.py'] + sys.argv[1:])}`  ")
    w(f"Machine: {machine}  ")
    w(f"Echo server: `{' '.join(B.ws_server_argv('lean'))}` (WebSocket clients), "
      f"`bench/clients/raw_server` (raw floor). Repetitions: {args.reps} (medians). "
      f"Duration: {(time.monotonic() - started) / 60:.1f} min.")
    if not B.usable("wsc"):
        w("")
        w("**wsc rows are empty: this build of `wsc` has no `bench` command yet. Run the script again once it has.**")
    notes = []
    if args.target_seconds:
        notes.append(f"Each client's work per run was calibrated once (one run at the base work, not counted) so "
                     f"that a run takes about {args.target_seconds:g} s (sweep: {args.sweep_target:g} s); the base "
                     f"work is COUNT={args.latency_count}, {size_name(args.large_total)} and "
                     f"{size_name(args.small_total)}; the work each client did is in the table below. Rates are "
                     "per second of exchange, so they compare across different amounts of work.")
    elif (args.python_work != 1.0 or args.node_work != 1.0) and any(
            s in sections for s in ("unpinned", "pinned", "sweep", "tls", "deflate")):
        notes.append(f"Python did {args.python_work:g}x and node {args.node_work:g}x the work of the others "
                     "(counts/totals scaled; rates are per second, so comparable).")
    T = tests(args)

    def cell(mode, key, c, unit):
        return med([rate(r, unit) for r in D.get((mode, key, c), [])])

    modes = [m for m in ("pinned", "unpinned") if m in sections]
    cg = "callgrind" in sections
    sc = "syscalls" in sections
    cn = "conns" in sections
    # summary, in the layout
    if modes:
        m0 = "pinned" if "pinned" in modes else modes[0]
        w("")
        w(f"### Summary ({'one CPU: server and client pinned to CPU 0' if m0 == 'pinned' else 'unpinned'}; "
          "ratios to the raw-TCP floor)")
        w("")
        hdr = ["client"] + [f"{t[1]} (x raw)" for t in T]
        if cg:
            hdr.append("instructions per round trip (callgrind, client only)")
        if sc:
            hdr.append("system calls per round trip")
        if cn:
            hdr += [f"bytes per idle connection ({B.conns_actual.get(n, n)} open)" for n in args.conns]
        rows = []
        for c in clients:
            r = [B.label(c)]
            for key, title, mode, nums, unit in T:
                r.append(ratio(cell(m0, key, c, unit), cell(m0, key, "raw", unit)))
            if cg:
                per = D.get(("callgrind", c), [{}])[0].get("per_rt")
                r.append(("~" if c in INTERPRETED and per else "") + fmt(per))
            if sc:
                per = D.get(("syscalls", c), [{}])[0].get("per_rt")
                r.append(fmt(per, 2) if per is not None else "–")
            if cn:
                for n in args.conns:
                    r.append(fmt(med([x.get("bytes_per_conn") for x in D.get(("conns", n, c), [])
                                      if "error" not in x])))
            rows.append(r)
        w(table(hdr, rows))
    if modes and "frames" in clients:
        m0 = "pinned" if "pinned" in modes else modes[0]
        w("")
        w(f"### Against the two floors ({m0}): ratio to the raw-TCP floor and to the WebSocket floor")
        w("")
        w("The WebSocket floor (`clients/frames_client.c`) does one handshake and then sends prebuilt masked "
          "frames and compares each echo with memcmp: the least any WebSocket client can do against this echo "
          "server (it skips per-message masking, UTF-8 validation, reassembly and any API). x raw says what the "
          "protocol and the server cost together; x WS floor says what the client itself costs.")
        w("")
        hdr = ["client"]
        for key, title, mode, nums, unit in T:
            hdr += [f"{title}: x raw", "x WS floor"]
        rows = []
        for c in clients:
            r = [B.label(c)]
            for key, title, mode, nums, unit in T:
                v = cell(m0, key, c, unit)
                r += [ratio(v, cell(m0, key, "raw", unit)), ratio(v, cell(m0, key, "frames", unit))]
            rows.append(r)
        w(table(hdr, rows))
    if modes and B.usable("wsc") and "wsc" in clients:
        m0 = "pinned" if "pinned" in modes else modes[0]
        w("")
        w(f"### wsc against its targets ({m0})")
        w("")
        rows = []

        def verdict(ok):
            return "–" if ok is None else ("yes" if ok else "**no**")

        peers = [c for c in clients if c not in FLOORS and c != "wsc"]

        def ahead(cellf, key, unit):
            """Is wsc ahead of every peer measured (None: nothing to compare)?"""
            a = cellf(key, "wsc", unit)
            others = [x for x in (cellf(key, c, unit) for c in peers) if x is not None]
            if a is None or not others:
                return None, "–"
            best_c = max(peers, key=lambda c: cellf(key, c, unit) or 0)
            return a > max(others), f"best peer: {B.label(best_c)} {ratio(cellf(key, best_c, unit), cellf(key, 'raw', unit))}"

        # issue 15's targets
        goals = {"lat": 0.98, "tpL": 0.85, "tpS": 0.85, "tpH": 0.85}
        for key, title, mode, nums, unit in T:
            goal = goals.get(key)
            if goal is None:
                continue
            a, b = cell(m0, key, "wsc", unit), cell(m0, key, "raw", unit)
            r = a / b if a is not None and b else None
            rows.append([f"{title}: at least {goal}x raw", ratio(a, b), verdict(None if r is None else r >= goal)])
            if key == "lat":
                bc = lambda k, c, u: cell(m0, k, c, u) if c in ("wsc", "beast", "raw") else None  # noqa: E731
                ok, what = ahead(bc, key, unit) if "beast" in clients else (None, "–")
                rows.append([f"{title}: ahead of Boost.Beast", what, verdict(ok)])
            else:
                ok, what = ahead(lambda k, c, u: cell(m0, k, c, u), key, unit)
                rows.append([f"{title}: ahead of every peer", what, verdict(ok)])
        if any(k[0] == "tls" for k in D):
            def tcell(key, c, unit):
                return med([rate(x, unit) for x in D.get(("tls", key, c, True), []) if "error" not in x])
            for key, title, mode, nums, unit in T:
                goal = {"lat": 0.98, "tpL": 0.97, "tpS": 0.97}.get(key)
                if goal is None:
                    continue
                a, b = tcell(key, "wsc", unit), tcell(key, "raw", unit)
                r = a / b if a is not None and b else None
                rows.append([f"wss {title}: at least {goal}x the TLS floor", ratio(a, b),
                             verdict(None if r is None else r >= goal)])
                if key == "lat" and "beast" in clients:
                    ok, what = ahead(lambda k, c, u: tcell(k, c, u) if c in ("wsc", "beast", "raw") else None,
                                     key, unit)
                    rows.append([f"wss {title}: ahead of Boost.Beast", what + (" (x TLS floor)" if what != "–" else ""),
                                 verdict(ok)])
        if cg:
            per = D.get(("callgrind", "wsc"), [{}])[0].get("per_rt")
            rows.append(["instructions per round trip: at most 1400", fmt(per),
                         verdict(None if per is None else per <= 1400)])
        if sc:
            per = D.get(("syscalls", "wsc"), [{}])[0].get("per_rt")
            rows.append(["system calls per round trip: at most 2", fmt(per, 2) if per is not None else "–",
                         verdict(None if per is None else per <= 2.005)])
        if cn:
            for n in args.conns:
                recs = [x for x in D.get(("conns", n, "wsc"), []) if "error" not in x]
                v = med([x.get("bytes_per_conn") for x in recs])
                rows.append([f"memory per idle plain connection, client ({B.conns_actual.get(n, n)} open): "
                             "at most 512 B", f"{fmt(v)} B", verdict(None if v is None else v <= 512)])
                v = med([x.get("server_bytes_per_conn") for x in recs if x.get("server_bytes_per_conn") is not None])
                rows.append([f"memory per idle plain connection, server role (`wsc serve --lean`, "
                             f"{B.conns_actual.get(n, n)} open): at most 512 B", f"{fmt(v)} B",
                             verdict(None if v is None else v <= 512)])
            recs = [x for x in D.get(("conns-tls", args.side_conns, "wsc"), []) if "error" not in x]
            v = med([x.get("bytes_per_conn") for x in recs])
            if v is not None:
                rows.append([f"memory per idle wss connection, client ({args.side_conns} open): at most 12 KB",
                             f"{fmt(v)} B", verdict(v <= 12000)])
            v = med([x.get("server_bytes_per_conn") for x in recs if x.get("server_bytes_per_conn") is not None])
            if v is not None:
                rows.append([f"memory per idle wss connection, server role ({args.side_conns} open): figure",
                             f"{fmt(v)} B", "(figure)"])
            v = med([x.get("bytes_per_conn") for x in D.get(("conns-deflate", args.side_conns, "wsc"), [])
                     if "error" not in x])
            if v is not None:
                rows.append([f"memory per idle permessage-deflate connection ({args.side_conns} open): figure",
                             f"{fmt(v)} B", "(figure)"])
        w(table(["target", "measured", "met"], rows))
    for mode in modes:
        w("")
        w(f"### Rates, {'pinned to one CPU (`taskset -c 0` for server and client)' if mode == 'pinned' else 'unpinned'}"
          " (medians)")
        w("")
        hdr = ["client"]
        for key, title, m, nums, unit in T:
            hdr += [f"{title}: {'round trips/s' if unit == 'msgs' else 'MB/s'}", "x raw"]
        rows = []
        for c in clients:
            r = [B.label(c)]
            for key, title, m, nums, unit in T:
                v = cell(mode, key, c, unit)
                r += [fmt(v, 1 if unit == "MB" else 0), ratio(v, cell(mode, key, "raw", unit))]
            rows.append(r)
        w(table(hdr, rows))
    if modes:
        m0 = "pinned" if "pinned" in modes else modes[0]
        w("")
        w(f"Best of the repetitions ({m0}): other work on the machine only ever makes a run slower, so the "
          "best run is the least disturbed one (the convention of `bench_core`); the medians above are the "
          "figures of record.")
        w("")

        def best(mode, key, c, unit):
            xs = [rate(r, unit) for r in D.get((mode, key, c), [])]
            xs = [x for x in xs if x is not None]
            return max(xs) if xs else None

        hdr = ["client"]
        for key, title, m, nums, unit in T:
            hdr += [f"{title}: best {'round trips/s' if unit == 'msgs' else 'MB/s'}", "x raw (best)"]
        rows = []
        for c in clients:
            r = [B.label(c)]
            for key, title, m, nums, unit in T:
                v = best(m0, key, c, unit)
                r += [fmt(v, 1 if unit == "MB" else 0), ratio(v, best(m0, key, "raw", unit))]
            rows.append(r)
        w(table(hdr, rows))
    for mode in modes:
        w("")
        w(f"### Is the echo server the bottleneck? CPU per message ({mode}, medians)")
        w("")
        if mode == "pinned":
            w("Pinned, server and client share one CPU: the time of a round trip is the client's CPU plus the "
              "server's (plus idle time, none here). Microseconds of CPU per echoed message for each, "
              "and the server's share of the exchange's duration.")
        else:
            w("Microseconds of CPU (user + system) per echoed message, for the client process and for the echo "
              "server during the same run, and the server's CPU time over the exchange's duration (`seconds`; "
              "the server's count also holds the handshake, so this slightly overstates it). "
              "A server far from one full core, and cheaper per message than the clients it serves, is not what "
              "limits them.")
        w("")
        hdr = ["client"]
        for key, title, m, nums, unit in T:
            hdr += [f"{title}: client µs/msg", "server µs/msg", "server busy"]
        rows = []
        for c in clients:
            r = [B.label(c)]
            for key, title, m, nums, unit in T:
                recs = [x for x in D.get((mode, key, c), []) if "error" not in x and x.get("msgs")]
                r += [fmt(med([x["cpu"] / x["msgs"] * 1e6 for x in recs]), 2),
                      fmt(med([x["server_cpu"] / x["msgs"] * 1e6 for x in recs]), 2),
                      (fmt(med([100 * x["server_cpu"] / x["seconds"] for x in recs])) + " %") if recs else "–"]
            rows.append(r)
        w(table(hdr, rows))
    if sc:
        w("")
        w("### System calls per round trip (strace -c -f, "
          f"(calls at COUNT={args.cg_counts[1]} - calls at COUNT={args.cg_counts[0]}) / {args.cg_counts[1] - args.cg_counts[0]})")
        w("")
        rows = []
        for c in clients:
            s = D.get(("syscalls", c), [{}])[0]
            rows.append([B.label(c), fmt(s.get("per_rt"), 2) if s.get("per_rt") is not None else "–",
                         ", ".join(f"{k} {v:.2f}" for k, v in s.get("top", []))])
        w(table(["client", "per round trip", "the most frequent"], rows))
    if cg:
        w("")
        w(f"Instructions per round trip: `valgrind --tool=callgrind` on the client only, "
          f"(Ir at COUNT={args.cg_counts[1]} - Ir at COUNT={args.cg_counts[0]}) / "
          f"{args.cg_counts[1] - args.cg_counts[0]}, so start-up and the handshake cancel out "
          "(~: a JIT or interpreter, a few percent from run to run).")
    if cn:
        w("")
        w("### Memory per idle connection (VmRSS after all handshakes minus before the first, / N)")
        w("")
        hdr = ["client"]
        for n in args.conns:
            hdr += [f"N={B.conns_actual.get(n, n)}: bytes per connection", "RSS before → after (KiB)",
                    "time to open (s)"]
        rows = []
        for c in [c for c in clients if c not in NO_CONNS]:
            r = [B.label(c)]
            for n in args.conns:
                recs = [x for x in D.get(("conns", n, c), []) if "error" not in x]
                if recs:
                    x = recs[0]
                    r += [fmt(x["bytes_per_conn"]), f"{x['rss_base_kb']:,} → {x['rss_kb']:,}", fmt(x["seconds"], 2)]
                else:
                    r += ["–", "–", "–"]
            rows.append(r)
        w(table(hdr, rows))
        w("")
        w("The echo server's side of the same runs (its peak VmRSS with all N open, minus its VmRSS before the "
          "first): `wsc serve --lean` for the WebSocket clients, `raw_server` for the raw floor. The server "
          "role's figure is the wsc row.")
        w("")
        hdr = ["server of"] + [f"N={B.conns_actual.get(n, n)}: server bytes per connection" for n in args.conns]
        hdr += [f"{lbl} (N={args.side_conns})" for t, lbl in (("conns-tls", "wss"), ("conns-deflate", "deflate"))
                if any(k[0] == t for k in D)]
        rows = []
        for c in [c for c in clients if c not in NO_CONNS]:
            r = [B.label(c)]
            for n in args.conns:
                recs = [x for x in D.get(("conns", n, c), []) if x.get("server_bytes_per_conn") is not None]
                r.append(fmt(recs[0]["server_bytes_per_conn"]) if recs else "–")
            for t in ("conns-tls", "conns-deflate"):
                if any(k[0] == t for k in D):
                    recs = [x for x in D.get((t, args.side_conns, c), []) if x.get("server_bytes_per_conn") is not None]
                    r.append(fmt(recs[0]["server_bytes_per_conn"]) if recs else "–")
            rows.append(r)
        w(table(hdr, rows))
        side = [(t, lbl) for t, lbl in (("conns-tls", "wss (TLS)"), ("conns-deflate", "permessage-deflate"))
                if any(k[0] == t for k in D)]
        if side:
            w("")
            w(f"TLS and permessage-deflate connections (N={args.side_conns}, bytes per connection):")
            w("")
            rows = []
            for c in [c for c in clients if c not in NO_CONNS]:
                r = [B.label(c), fmt(med([x.get("bytes_per_conn") for x in D.get(("conns", args.side_conns, c), [])
                                          if "error" not in x]))]
                for t, lbl in side:
                    recs = [x for x in D.get((t, args.side_conns, c), []) if "error" not in x]
                    r.append(fmt(recs[0]["bytes_per_conn"]) if recs else "–")
                rows.append(r)
            w(table(["client", "ws (plain)"] + [lbl for t, lbl in side], rows))
    if "tls" in sections:
        w("")
        w("### wss (TLS) beside ws, pinned to one CPU (round trips/s or MB/s, medians)")
        w("")
        hdr = ["client"]
        for key, title, m, nums, unit in T:
            hdr += [f"{title}: ws", "wss", "wss / ws", "wss x TLS floor"]
        rows = []

        def tls_cell(key, c, unit, tls):
            return med([rate(x, unit) for x in D.get(("tls", key, c, tls), []) if "error" not in x])

        for c in [c for c in clients if c in TLS_CLIENTS]:
            r = ["TLS floor (raw over OpenSSL)" if c == "raw" else B.label(c)]
            for key, title, m, nums, unit in T:
                a, b = tls_cell(key, c, unit, False), tls_cell(key, c, unit, True)
                d = 1 if unit == "MB" else 0
                r += [fmt(a, d), fmt(b, d), ratio(b, a), ratio(b, tls_cell(key, "raw", unit, True))]
            rows.append(r)
        w(table(hdr, rows))
        w("")
        w("The server is `wsc serve --lean --tls-cert ... --tls-key ...` (OpenSSL, TLS 1.3, EC P-256 "
          "certificate); the TLS floor is `raw_client` against `raw_server --tls-cert ... --tls-key ...`: the "
          "raw exchange (4-byte length prefix) over the same OpenSSL, TLS 1.3, same certificate, the floor for "
          "any wss client on this machine. wslay has no TLS layer.")
    if "deflate" in sections:
        w("")
        w("### The cost of permessage-deflate, pinned to one CPU (medians)")
        w("")
        w("Each client without and with permessage-deflate (the server: `wsc serve --lean` without, "
          "`wsc serve -q` with, which accepts the offer). Rate, and the client's CPU per message. The "
          "benchmark's messages are highly repetitive, so they compress well: the figures show the CPU "
          "cost of compressing, not a bandwidth saving that real data would see.")
        w("")
        hdr = ["client"]
        for key, title, m, nums, unit in T:
            u = "rt/s" if unit == "msgs" else "MB/s"
            hdr += [f"{title}: {u} off", "on", "client µs/msg off → on"]
        rows = []
        for c in [c for c in clients if c in DEFLATE_CLIENTS]:
            r = [B.label(c)]
            for key, title, m, nums, unit in T:
                offs = [x for x in D.get(("deflate", key, c, False), []) if "error" not in x and x.get("msgs")]
                ons = [x for x in D.get(("deflate", key, c, True), []) if "error" not in x and x.get("msgs")]
                a = med([rate(x, unit) for x in offs])
                b = med([rate(x, unit) for x in ons])
                ca = med([x["cpu"] / x["msgs"] * 1e6 for x in offs])
                cb = med([x["cpu"] / x["msgs"] * 1e6 for x in ons])
                r += [fmt(a, 1 if unit == "MB" else 0), fmt(b, 1 if unit == "MB" else 0),
                      f"{fmt(ca, 1)} → {fmt(cb, 1)}"]
            rows.append(r)
        w(table(hdr, rows))
        if "lws" in clients:
            w("")
            w("libwebsockets has no deflate round-trip figure: 4.1.6 does not deliver uncompressed frames "
              "(RSV1 = 0) that arrive on a permessage-deflate connection, which RFC 7692 allows and which wsc's "
              "server sends for messages under 64 bytes; the run only times out (node ws and Python websockets "
              "take them).")
    if "sweep" in sections:
        w("")
        w("### Throughput against message size, pinned to one CPU (MB/s, medians) — chart: "
          "[perf-throughput.png](../../docs/perf-throughput.png)")
        w("")
        hdr = ["client"] + [size_name(s) for s in sweep_sizes(args)]
        rows = []
        for c in clients:
            rows.append([B.label(c)] + [fmt(med([rate(x, "MB") for x in D.get(("sweep", s, c), [])]), 1)
                                        for s in sweep_sizes(args)])
        w(table(hdr, rows))
    if "broadcast" in sections and any(k[0] == "broadcast" for k in D):
        w("")
        w(f"### The server benchmark: broadcast to N clients ({size_name(args.broadcast_size)} binary messages, "
          f"medians of {args.broadcast_reps})")
        w("")
        w("Each server, fresh for every run, on CPU 0; `bench/clients/fanout_client` on CPU 1 opens N connections "
          "(epoll), one of them sends M messages (at most 16 in flight over all receivers), the server sends each "
          "to all N (the sender too), every delivery is checked in full and in order. Deliveries per second "
          "from the first send to the last delivery; the server's CPU per delivery (its main thread's schedstat "
          "over the same interval); memory per connection: the server's VmRSS with all N open and idle, and its "
          "VmHWM after the run, each minus its VmRSS before the first connection, / N.")
        w("")
        rows = []
        for n0 in args.broadcast_conns:
            for s in args.broadcast_servers:
                recs = [x for x in D.get(("broadcast", n0, s), []) if "error" not in x]
                if not D.get(("broadcast", n0, s)):
                    continue
                r = [broadcast_label(B, s), f"{B.conns_actual.get(('broadcast', n0), n0):,}"]
                r.append(f"{recs[0]['m']:,}" if recs else "–")
                r.append(fmt(med([rate(x, "msgs") for x in recs])))
                wr = med([rate(x, "msgs") for x in D.get(("broadcast", n0, "wsc"), []) if "error" not in x])
                r.append(ratio(med([rate(x, "msgs") for x in recs]), wr))
                r.append(fmt(med([x["server_cpu"] / x["msgs"] * 1e6 for x in recs
                                  if x.get("msgs") and x["server_cpu"] >= 0]), 2))
                r.append(fmt(med([x.get("idle_per_conn") for x in recs])))
                r.append(fmt(med([x.get("peak_per_conn") for x in recs])))
                r.append(fmt(med([x.get("open_seconds") for x in recs]), 2))
                rows.append(r)
        w(table(["server", "N", "messages sent (M)", "deliveries/s", "x wsc", "server µs CPU per delivery",
                 "server bytes per connection, idle", "server bytes per connection, peak", "time to open N (s)"],
                rows))
    if "check" in sections and ("check",) in D:
        w("")
        w("### Checks really run: one corrupted echo (message 5, last byte flipped) must fail every client")
        w("")
        rows = []
        for c, outcome in D[("check",)][0].items():
            rows.append([B.label(c)] + [f"{'detected' if ok else '**NOT detected**'} (exit {rc}{': ' + e[0][:60] if e else ''})"
                                        for m, rc, ok, e in outcome])
        w(table(["client", "latency", "throughput"], rows))
    notes += B.notes
    if notes:
        w("")
        for n in notes:
            w(f"- {n}")
    if modes:
        w("")
        w("Work per run (COUNT, or TOTAL_BYTES) and the median duration of the exchange, "
          + " / ".join(modes) + ":")
        w("")
        hdr = ["client"] + [t[1] for t in T]
        rows = []
        for c in clients:
            r = [B.label(c)]
            for key, title, mode, nums, unit in T:
                parts = []
                for m in modes:
                    recs = D.get((m, key, c), [])
                    if recs:
                        work = recs[0]["nums"][0]
                        wtxt = f"{work:,}" if mode == "latency" else f"{work / MiB:,.0f} MiB"
                        parts.append(f"{wtxt}: {fmt(med([x.get('seconds') for x in recs if 'error' not in x]), 2)} s")
                r.append(" / ".join(parts) if parts else "–")
            rows.append(r)
        w(table(hdr, rows))
    if ERRORS:
        w("")
        w("### Errors")
        w("")
        for e in ERRORS:
            w(f"- `{e[:400]}`")
    return "\n".join(out) + "\n"


def write_chart(B, clients, png):
    args = B.args
    dat = os.path.join(BB, "sweep.dat")
    with open(dat, "w") as f:
        f.write("# size " + " ".join(clients) + "\n")
        for s in sweep_sizes(args):
            vals = []
            for c in clients:
                v = med([rate(x, "MB") for x in B.data.get(("sweep", s, c), [])])
                vals.append(f"{v:.3f}" if v else "NaN")
            f.write(f"{s} " + " ".join(vals) + "\n")
    titles = {"raw": "raw TCP floor", "frames": "WebSocket floor (prebuilt frames)", "wsc": "wsc", "wslay": "wslay", "lws": "libwebsockets",
              "beast": "Boost.Beast", "websocketpp": "websocketpp", "node": "node ws", "python": "Python websockets"}
    plots = []
    for i, c in enumerate(clients):
        if not any(B.data.get(("sweep", s, c)) for s in sweep_sizes(args)):
            continue
        style = "lw 3 dt 2 lc rgb 'black'" if c == "raw" else "lw 3 dt 3 lc rgb '#555555'" if c == "frames" else ("lw 3 lc rgb '#d62728'" if c == "wsc" else "lw 2")
        plots.append(f"'{dat}' using 1:{i + 2} with linespoints {style} pt 7 ps 0.8 title '{titles[c]}'")
    if not plots:
        return
    script = f"""
set terminal pngcairo size 960,600 font ',11'
set output '{png}'
set title 'Echo throughput against message size (64 in flight, client and server on one CPU)'
set xlabel 'message size (bytes)'
set ylabel 'MB/s (10^6 bytes of payload per second, one direction)'
set logscale xy 2
set format x '%.0b%B'
set xtics ({', '.join(f'"{size_name(s).replace(" ", "")}" {s}' for s in sweep_sizes(args))})
set grid
set key bottom right box opaque
set datafile missing 'NaN'
plot {', '.join(plots)}
"""
    if not shutil.which("gnuplot"):
        ERRORS.append("gnuplot missing: no chart (scripts/bootstrap bench installs gnuplot-nox)")
        return
    p = subprocess.run(["gnuplot"], input=script.encode(), capture_output=True, timeout=60)
    if p.returncode != 0:
        ERRORS.append("gnuplot failed: " + p.stderr.decode(errors="replace")[-300:])
    else:
        log(f"chart: {png}")


def update_docs(md):
    path = os.path.join(ROOT, "docs", "PERFORMANCE.md")
    begin, end = "<!-- results:begin -->", "<!-- results:end -->"
    try:
        with open(path) as f:
            doc = f.read()
    except OSError:
        log("docs/PERFORMANCE.md not found: not updated")
        return
    if begin not in doc or end not in doc:
        log("docs/PERFORMANCE.md has no results markers: not updated")
        return
    # the report's chart link is relative to bench/results/; the doc sits in docs/
    md = md.replace("(../../docs/perf-throughput.png)", "(perf-throughput.png)")
    doc = doc[:doc.index(begin) + len(begin)] + "\n" + md + doc[doc.index(end):]
    with open(path, "w") as f:
        f.write(doc)
    log("updated docs/PERFORMANCE.md")


def machine_line():
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    kernel = os.uname().release
    return f"{os.cpu_count()} CPUs ({model}), Linux {kernel}"


# --------------------------------------------------------------------------


def size_arg(s):
    m = re.match(r"^(\d+)\s*([KMG]i?B?|B)?$", s.strip(), re.I)
    if not m:
        raise argparse.ArgumentTypeError(f"bad size '{s}'")
    mult = {"": 1, "b": 1, "k": 1024, "m": MiB, "g": 1 << 30}[(m.group(2) or "")[:1].lower()]
    return int(m.group(1)) * mult


SECTIONS = ["check", "unpinned", "pinned", "callgrind", "syscalls", "conns", "sweep", "tls", "deflate", "broadcast"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="Sections: " + ", ".join(SECTIONS))
    ap.add_argument("--quick", action="store_true", help="smoke test: 1 repetition, small counts (< 60 s)")
    ap.add_argument("--reps", type=int, help="repetitions of the main matrix (default 5)")
    ap.add_argument("--clients", default=",".join(ALL_CLIENTS), help="comma list (default: all)")
    ap.add_argument("--sections", default=",".join(SECTIONS), help="comma list (default: all)")
    ap.add_argument("--skip", default="", help="comma list of sections to leave out")
    ap.add_argument("--latency-count", type=int, help="round trips per latency run (default 20000)")
    ap.add_argument("--latency-size", type=size_arg, default=32)
    ap.add_argument("--large-size", type=size_arg, default=64 * 1024)
    ap.add_argument("--large-total", type=size_arg, help="bytes per large-message run (default 256 MiB)")
    ap.add_argument("--small-size", type=size_arg, default=1024)
    ap.add_argument("--small-total", type=size_arg, help="bytes per small-message run (default 64 MiB)")
    ap.add_argument("--huge-size", type=size_arg, default=1024 * 1024)
    ap.add_argument("--huge-total", type=size_arg, help="bytes per huge-message run (default 512 MiB)")
    ap.add_argument("--target-seconds", type=float,
                    help="calibrate each client's work so one run takes about this long (default 1.5; 0: no calibration)")
    ap.add_argument("--sweep-target", type=float, help="the same for the sweep (default 0.5)")
    ap.add_argument("--python-work", type=float, help="work factor for Python without calibration (default 0.25)")
    ap.add_argument("--node-work", type=float, help="work factor for node without calibration (default 0.5)")
    ap.add_argument("--cg-counts", help="two round-trip counts for callgrind/strace differencing (default 1000,2000)")
    ap.add_argument("--conns", help="connection counts for idle memory (default 2000,20000)")
    ap.add_argument("--side-conns", type=int, help="N for the TLS and deflate memory figures (default 2000)")
    ap.add_argument("--sweep-sizes", help="comma list of sizes for the chart (default 64 B .. 1 MiB, x4)")
    ap.add_argument("--sweep-reps", type=int, help="repetitions of the sweep (default 3)")
    ap.add_argument("--side-reps", type=int, help="repetitions of the TLS and deflate runs (default 3)")
    ap.add_argument("--broadcast", action="store_true", help="run only the server benchmark (--sections broadcast)")
    ap.add_argument("--broadcast-conns", help="connection counts for the broadcast section (default 1000,10000)")
    ap.add_argument("--broadcast-size", type=size_arg, default=64, help="broadcast message size (default 64)")
    ap.add_argument("--broadcast-deliveries", type=int,
                    help="deliveries per broadcast run, N x M (default 2,000,000; node 1/4, Python 1/8)")
    ap.add_argument("--broadcast-reps", type=int, help="repetitions of the broadcast runs (default 3)")
    ap.add_argument("--broadcast-servers", default=",".join(BROADCAST_SERVERS), help="comma list (default: all)")
    ap.add_argument("--timeout", type=float, help="seconds any one client run may take (default 180)")
    ap.add_argument("--wsc", help="the wsc binary (default: build/wsc, built with CMake)")
    ap.add_argument("--ws-server", help=argparse.SUPPRESS)  # experiments only: another echo server command
    ap.add_argument("--no-bootstrap", action="store_true", help="do not run scripts/bootstrap bench")
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "results", "latest.md"))
    ap.add_argument("--chart", default=os.path.join(ROOT, "docs", "perf-throughput.png"))
    ap.add_argument("--update-docs", action="store_true", help="put the tables into docs/PERFORMANCE.md")
    ap.add_argument("--docs-only", action="store_true",
                    help="run nothing: put the existing --out report into docs/PERFORMANCE.md")
    args = ap.parse_args()
    if args.docs_only:
        with open(args.out) as f:
            update_docs(f.read())
        return

    q = args.quick
    dflt = lambda v, full, quick: v if v is not None else (quick if q else full)  # noqa: E731
    args.reps = dflt(args.reps, 5, 1)
    args.timeout = dflt(args.timeout, 180, 60)
    args.target_seconds = dflt(args.target_seconds, 1.5, 0)
    args.sweep_target = dflt(args.sweep_target, 0.5, 0)
    args.latency_count = dflt(args.latency_count, 20000, 2000)
    args.large_total = dflt(args.large_total, 256 * MiB, 16 * MiB)
    args.small_total = dflt(args.small_total, 64 * MiB, 4 * MiB)
    args.huge_total = dflt(args.huge_total, 512 * MiB, 32 * MiB)
    args.python_work = dflt(args.python_work, 0.25, 0.25)
    args.node_work = dflt(args.node_work, 0.5, 0.5)
    args.cg_counts = [int(x) for x in dflt(args.cg_counts, "1000,2000", "200,400").split(",")]
    args.conns = [int(x) for x in dflt(args.conns, "2000,20000", "200").split(",")]
    args.side_conns = dflt(args.side_conns, 2000, 200)
    args.sweep_sizes = [size_arg(x) for x in dflt(args.sweep_sizes, "64,256,1K,4K,16K,64K,256K,1M",
                                                  "64,4K,1M").split(",")]
    args.sweep_reps = dflt(args.sweep_reps, 3, 1)
    args.side_reps = dflt(args.side_reps, 3, 1)
    args.broadcast_conns = [int(x) for x in dflt(args.broadcast_conns, "1000,10000", "200,1000").split(",")]
    args.broadcast_deliveries = dflt(args.broadcast_deliveries, 2000000, 100000)
    args.broadcast_reps = dflt(args.broadcast_reps, 3, 1)
    args.broadcast_work = {"node": 0.25, "python": 0.125}
    args.broadcast_servers = [x for x in args.broadcast_servers.split(",") if x]
    for x in args.broadcast_servers:
        if x not in BROADCAST_SERVERS:
            ap.error(f"unknown broadcast server '{x}' (known: {', '.join(BROADCAST_SERVERS)})")
    if args.broadcast:
        args.sections = "broadcast"
    args.sweep_min_msgs = 2000 if q else 40000
    args.sweep_min_total = 2 * MiB if q else 16 * MiB
    args.sweep_max_total = 8 * MiB if q else 128 * MiB
    if len(args.cg_counts) != 2 or args.cg_counts[1] <= args.cg_counts[0]:
        ap.error("--cg-counts wants two increasing numbers")
    clients = [c for c in args.clients.split(",") if c]
    for c in clients:
        if c not in ALL_CLIENTS:
            ap.error(f"unknown client '{c}' (known: {', '.join(ALL_CLIENTS)})")
    for i, f in enumerate(FLOORS):  # every ratio needs the floors
        if f in clients:
            clients.remove(f)
        clients.insert(i, f)
    skip = set(args.skip.split(","))
    sections = [s for s in args.sections.split(",") if s and s not in skip]
    for s in sections:
        if s not in SECTIONS:
            ap.error(f"unknown section '{s}' (known: {', '.join(SECTIONS)})")

    global LOG
    os.makedirs(BB, exist_ok=True)
    LOG = open(os.path.join(BB, "run.log"), "a")
    atexit.register(cleanup)
    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, on_signal)
    started = time.monotonic()

    # enough descriptors for the largest connection count, in server and client
    need = max(args.conns + [args.side_conns] + args.broadcast_conns) + 1024
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, need), max(hard, need)))
    except (ValueError, OSError):
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError):
            pass
        if hard < need:
            log(f"warning: the descriptor limit is {hard}, below the {need} that N={max(args.conns)} needs")

    wsc, caps, certs = build(args)
    B = Bench(args, wsc, caps, certs)
    B.v = versions()
    if not caps["serve"] and not args.ws_server:
        sys.exit(f"{wsc} has no `serve --lean`: the WebSocket echo server is missing")
    if not B.usable("wsc"):
        log("wsc has no `bench` command yet: the wsc rows stay empty")
    # a section whose tool is missing is left out (with a warning), not fatal
    needs = {"callgrind": "valgrind", "syscalls": "strace", "pinned": "taskset", "sweep": "taskset",
             "tls": "taskset", "deflate": "taskset"}
    for sec, tool in needs.items():
        if sec in sections and not shutil.which(tool):
            log(f"warning: {tool} is missing: section {sec} left out (scripts/bootstrap bench installs it)")
            ERRORS.append(f"{tool} missing: section {sec} not run")
            sections.remove(sec)
    if "node" in clients and not shutil.which("node"):
        log("warning: node is missing: its client left out")
        clients.remove("node")
    if "websocketpp" in clients and not os.access(os.path.join(BIN, "websocketpp_client"), os.X_OK):
        clients.remove("websocketpp")
    run_clients = [c for c in clients if B.usable(c)]
    log(f"clients: {', '.join(run_clients)}; sections: {', '.join(sections)}")

    for s in sections:
        log(f"section {s}")
        if s == "check":
            section_check(B, run_clients)
        elif s in ("unpinned", "pinned"):
            section_matrix(B, run_clients, s == "pinned")
        elif s == "callgrind":
            section_callgrind(B, run_clients)
        elif s == "syscalls":
            section_syscalls(B, run_clients)
        elif s == "conns":
            section_conns(B, [c for c in run_clients if c not in NO_CONNS], args.conns)
            section_conns(B, [c for c in run_clients if c in TLS_CLIENTS], [args.side_conns], "tls", "conns-tls")
            section_conns(B, [c for c in run_clients if c in DEFLATE_CLIENTS], [args.side_conns], "deflate",
                          "conns-deflate")
        elif s == "sweep":
            section_sweep(B, run_clients)
        elif s == "tls":
            section_tls(B, [c for c in run_clients if c in TLS_CLIENTS])
        elif s == "deflate":
            section_deflate(B, [c for c in run_clients if c in DEFLATE_CLIENTS])
        elif s == "broadcast":
            section_broadcast(B, [x for x in args.broadcast_servers if x != "node" or shutil.which("node")])

    if "sweep" in sections:
        write_chart(B, clients, args.chart)
    md = report(B, clients, sections, started, machine_line())
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        f.write(md)
    with open(os.path.join(BB, "results.json"), "w") as f:
        json.dump({" ".join(map(str, k)): v for k, v in B.data.items()}, f, indent=1, default=str)
    print(md)
    if args.update_docs:
        update_docs(md)
    log(f"wrote {os.path.relpath(args.out, ROOT)} in {(time.monotonic() - started) / 60:.1f} min")
    if ERRORS:
        log(f"{len(ERRORS)} error(s): see the Errors section")
        sys.exit(1)


if __name__ == "__main__":
    main()
