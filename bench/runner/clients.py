"""bench/runner/clients.py - building the programs (scripts/bootstrap bench,
wsc with CMake, the C and C++ clients with cc/c++ into build-bench/bin/, the
test PKI), the versions the report names, and one client run of the bench
contract (bench/README.md), checked and recorded (class Bench)."""
import json
import os
import resource
import sys

from .common import *  # noqa: F401,F403


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
        "zlib_floor": ["-lz"],  # bench/zlib_floor.c, for the deflate-floor section
    }
    for name, libs in units.items():
        d = os.path.dirname(CLIENTS_DIR) if name == "zlib_floor" else CLIENTS_DIR
        src = os.path.join(d, name + ".c")
        out_bin = os.path.join(BIN, name)
        deps = ("payload.h", "json_msg.h") if name == "zlib_floor" else ("bench_util.h", "raw_tls.h")
        newest = max(os.path.getmtime(os.path.join(d, f)) for f in (name + ".c", *deps))
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
