#!/usr/bin/python3
"""Run the conformance suite in server mode (Autobahn|Testsuite fuzzingclient)
against a WebSocket echo server.

  run_server.py --server-cmd 'wsc serve --port 0 --echo' [--cases 1.*,2.1] [--exclude 9.*,12.*,13.*]
                [--agent NAME] [--jobs N] [--report report.json] [--junit [report.xml]]
                [--allow-non-strict 6.4.*]
  run_server.py --url ws://127.0.0.1:9001/ ...     (a server that is already running)

--server-cmd runs through /bin/sh in its own process group; the server must
print its URL (ws://127.0.0.1:PORT/...) on the first line of its standard
output, echo every message with its type, and keep running until it gets
SIGTERM (after the run; SIGKILL 5 s later).  Every case is one connection to
that URL (fuzzingclient.py); cases run up to --jobs at a time, the
timing-sensitive ones (2.10, 2.11, 5.19, 5.20, 6.4.x) alone, the heavy ones
(9.x, 12.x, 13.x) at most --heavy-jobs at a time.

The cases: Autobahn's 517 (categories 1-7, 9, 10, 12, 13) plus M.1-M.6
(unmasked client frames, not in Autobahn).  One line per case is printed,
then a summary by category.  The exit status is non-zero when a case is
FAILED (also FAILED BY CLIENT: the server left the TCP close to the client),
WRONG CODE, UNCLEAN or UNIMPLEMENTED, or NON-STRICT unless allowed by
--allow-non-strict, or when the server exits before it is stopped.

  run_server.py --selftest catalog|ref-ws|ref-websockets|broken [CASES]
validates the suite itself (CTest runs it; status 77: skipped, a reference
server is not installed): the case catalog and the client engine's frames,
the node ws and Python websockets reference echo servers (categories 1-7, 10,
M and a permessage-deflate sample), the deliberately broken server flag by
flag (ref_servers/).
"""

import argparse
import asyncio
import base64
import hashlib
import json
import os
import re
import shlex
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import cases as C  # noqa: E402
import fuzzingclient as FC  # noqa: E402
import run as R  # noqa: E402
import selftest as ST  # noqa: E402
from fuzzingserver import WS_MAGIC as FS_MAGIC  # noqa: E402

STARTUP_TIMEOUT = 20.0      # s for the server to print its URL
STOP_GRACE = 5.0            # s between SIGTERM and SIGKILL
URL_RX = re.compile(r"ws://[^\s]+")
SERVER = {}                 # the server process, for the signal handler


def kill_group(proc, sig):
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


class ServerProcess:
    """The server under test: started once, its URL read from its first stdout
    line, its output drained (tail kept), stopped with SIGTERM then SIGKILL."""

    def __init__(self, cmd):
        self.cmd = cmd
        self.proc = None
        self.url = None
        self.first_line = None
        self.stdout_tail = []
        self.stderr = None
        self.exited_early = None
        self.stopping = False
        self.drain = None

    async def start(self, timeout):
        self.stderr = tempfile.TemporaryFile()
        self.proc = await asyncio.create_subprocess_exec(
            "/bin/sh", "-c", self.cmd, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=self.stderr, start_new_session=True, limit=1 << 20)
        SERVER["proc"] = self.proc
        try:
            line = await asyncio.wait_for(self.proc.stdout.readline(), timeout)
        except (asyncio.TimeoutError, ValueError):
            line = None
        if line:
            self.first_line = line.decode("utf-8", "replace").strip()
            m = URL_RX.search(self.first_line)
            if m:
                self.url = m.group(0)
        if self.url is None:
            what = ("printed %r" % self.first_line) if line else (
                "printed nothing within %.0f s" % timeout if self.proc.returncode is None else
                "exited (status %s)" % self.proc.returncode)
            await self.stop()
            raise RuntimeError("the server command %s, not its ws:// URL on the first line%s" % (
                what, self.output_note()))
        self.drain = asyncio.ensure_future(self._drain())
        return self.url

    async def _drain(self):
        while True:
            line = await self.proc.stdout.readline()
            if not line:
                break
            self.stdout_tail.append(line.decode("utf-8", "replace").rstrip("\n"))
            del self.stdout_tail[:-50]

    def alive(self):
        return self.proc is not None and self.proc.returncode is None

    def check(self):
        """Note a server that exited by itself (before stop())."""
        if self.proc is not None and self.proc.returncode is not None and not self.stopping \
                and self.exited_early is None:
            self.exited_early = self.proc.returncode
        return self.exited_early

    async def stop(self):
        if self.proc is None:
            return None
        # a server that just died: let its exit status arrive before SIGTERM
        try:
            await asyncio.wait_for(asyncio.shield(self.proc.wait()), 0.3)
        except asyncio.TimeoutError:
            pass
        self.check()
        self.stopping = True
        if self.proc.returncode is None:
            kill_group(self.proc, signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), STOP_GRACE)
            except asyncio.TimeoutError:
                kill_group(self.proc, signal.SIGKILL)
                await self.proc.wait()
        kill_group(self.proc, signal.SIGKILL)      # stray children of the server's group
        if self.drain is not None:
            try:
                await asyncio.wait_for(self.drain, 2)
            except (asyncio.TimeoutError, Exception):
                self.drain.cancel()
        SERVER.pop("proc", None)
        return self.proc.returncode

    def stderr_tail(self, limit=4096):
        if self.stderr is None:
            return ""
        self.stderr.seek(0, os.SEEK_END)
        size = self.stderr.tell()
        self.stderr.seek(max(0, size - limit))
        return self.stderr.read().decode("utf-8", "replace")

    def output_note(self):
        t = self.stderr_tail(1000).strip()
        return "; its stderr: " + t if t else ""


class Runner:
    def __init__(self, args, ids):
        self.args = args
        self.ids = ids
        self.results = {}
        self.server = None
        self.client = None
        self.url = args.url

    async def run_case(self, cid):
        index = self.ids.index(cid) + 1
        t0 = time.monotonic()
        res = await self.client.run_case(cid, index, self.args.timeout_scale)
        res["clientDurationMs"] = int((time.monotonic() - t0) * 1000)
        if self.server is not None and self.server.check() is not None:
            res.setdefault("note", "the server exited (status %s) during the run" % self.server.exited_early)
        return self.record(cid, res)

    def record(self, cid, res):
        res["verdict"] = R.verdict_of(res["behavior"], res["behaviorClose"])
        self.results[cid] = res
        R.print_result(cid, res, self.args.quiet, res.get("note"))
        return res

    async def run(self):
        if self.args.server_cmd:
            self.server = ServerProcess(self.args.server_cmd)
            self.url = await self.server.start(self.args.startup_timeout * self.args.timeout_scale)
            print("server: %s (%s)" % (self.url, self.args.server_cmd), flush=True)
        try:
            self.client = FC.FuzzingClient(self.url, self.args.agent)
            await R.run_scheduled(self.ids, FC.by_id, self.run_case, self.args.jobs, self.args.heavy_jobs)
        finally:
            if self.client is not None:
                self.client.abort_all()
            if self.server is not None:
                await self.server.stop()


# --------------------------------------------------------------------------
# selftest: validation of the server-mode suite (CTest runs these)
PY = sys.executable or "/usr/bin/python3"
REF = os.path.join(HERE, "ref_servers")
FAST = "1.*,2.*,3.*,4.*,5.*,6.*,7.*,10.*,M.*"
DEFLATE_SAMPLE = "12.1.1,12.2.1,12.3.1,12.4.1,12.5.1,13.1.1,13.2.1,13.3.1,13.4.1,13.5.1,13.6.1,13.7.1"
# The reference peers grade as in client mode (selftest.py says why), and
# websockets' server also fails M.2 before echoing the preceding message.
WS_NON_STRICT = ST.WS_NON_STRICT
WEBSOCKETS_NON_STRICT = ST.WEBSOCKETS_NON_STRICT + ",M.2"
# websockets 10.4 cannot compress with server_max_window_bits=8 (zlib >= 1.2.9)
WEBSOCKETS_DEFLATE_BUG = "13.3.1,13.5.1,13.7.1"


def st_fail(msg):
    print("selftest: FAIL: " + msg)
    sys.exit(1)


def st_catalog():
    ids = FC.CASE_IDS
    counts = {}
    for cid in ids:
        counts[FC.category_of(cid)] = counts.get(FC.category_of(cid), 0) + 1
    want = {"1": 16, "2": 11, "3": 7, "4": 10, "5": 20, "6": 145, "7": 37, "9": 54, "10": 1, "12": 90, "13": 126,
            "M": 6}
    if counts != want or len(set(ids)) != 523:
        st_fail("case counts %s != %s" % (counts, want))
    if FC.select(["*"]) != ids or FC.select(["1.*", "M.*"], ["1.2.*"])[-7:] != ["1.1.8"] + ["M.%d" % i for i in
                                                                                          range(1, 7)]:
        st_fail("case patterns")
    # Autobahn's client offers (PerMessageDeflateOffer strings)
    base = "permessage-deflate; client_no_context_takeover; client_max_window_bits"
    offers = {"12.3.4": [base], "13.1.1": [base], "13.2.1": [base + "; server_no_context_takeover"],
              "13.3.1": [base + "; server_max_window_bits=8"], "13.4.1": [base + "; server_max_window_bits=15"],
              "13.5.1": [base + "; server_no_context_takeover; server_max_window_bits=8"],
              "13.7.18": [base + "; server_no_context_takeover; server_max_window_bits=8",
                          base + "; server_no_context_takeover", base]}
    for cid, want_offers in offers.items():
        got = [FC.ClientOffer(*o).extension_string() for o in FC.by_id(cid).CLIENT_OFFERS]
        if got != want_offers:
            st_fail("%s offers %s != %s" % (cid, got, want_offers))
    n = asyncio.run(_st_frames())
    print("selftest: catalog ok: %d cases %s; %d client frames checked (masked, payloads as the cases send "
          "them)" % (len(ids), counts, n))
    print("1 passed, 0 failed")


class _FakeTransport:
    def __init__(self):
        self.out = bytearray()
        self.closed = False

    def get_extra_info(self, name):
        return ("127.0.0.1", 1) if name == "peername" else None

    def write(self, data):
        self.out += data

    def is_closing(self):
        return self.closed

    def close(self):
        self.closed = True

    def abort(self):
        self.closed = True


def _parse_client_frames(data):
    """Frames a client wrote: [(fin, rsv, opcode, masked, payload, mask)]
    (payload unmasked; a frame cut short yields its octets so far)."""
    out, i = [], 0
    while i + 2 <= len(data):
        b0, b1 = data[i], data[i + 1]
        n, i = b1 & 0x7F, i + 2
        if n == 126:
            n, i = struct.unpack("!H", data[i:i + 2])[0], i + 2
        elif n == 127:
            n, i = struct.unpack("!Q", data[i:i + 8])[0], i + 8
        mask = data[i:i + 4] if b1 & 0x80 else None
        i += 4 if mask else 0
        pl = bytes(data[i:i + n])
        i += n
        if mask:
            pl = bytes(b ^ mask[k % 4] for k, b in enumerate(pl))
        out.append((bool(b0 & 0x80), (b0 >> 4) & 7, b0 & 0x0F, mask is not None, pl, mask))
    return out


async def _st_frames():
    """Play a few cases against a fake transport: every frame masked with a
    key of its own, payloads as sent in client mode, unmasked only in M.x."""
    client = FC.FuzzingClient("ws://127.0.0.1:9/", "selftest")
    checks = 0
    for cid, want in (("1.1.2", [(True, 0, 1, True, b"*" * 125)]),
                      ("1.2.6", [(True, 0, 2, True, b"\xfe" * 65535)]),
                      ("3.1", [(True, 1, 1, True, b"Hello, world!")]),
                      ("6.4.3", [(False, 0, 1, True, C.by_id("6.4.3").PARTS[0])]),
                      ("M.1", [(True, 0, 1, False, b"Hello, world!")]),
                      ("M.2", [(True, 0, 1, True, b"Hello, world!"), (True, 0, 1, False, b"Hello, world!"),
                               (True, 0, 9, True, b"")])):
        loop = asyncio.get_running_loop()
        conn = FC.FuzzClientConn(client, FC.by_id(cid), 1, "selftest", "127.0.0.1", 9, "/", loop.create_future())
        tr = _FakeTransport()
        conn.connection_made(tr)
        await asyncio.sleep(0.01)
        req = bytes(tr.out).decode("ascii")
        if not req.startswith("GET / HTTP/1.1\r\n") or "Sec-WebSocket-Version: 13\r\n" not in req:
            st_fail("%s: opening handshake request %r" % (cid, req))
        tr.out.clear()
        accept = base64.b64encode(hashlib.sha1(conn.key.encode() + FS_MAGIC).digest()).decode()
        conn.data_received(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                            "Sec-WebSocket-Accept: %s\r\n\r\n" % accept).encode())
        for _ in range(50):
            await asyncio.sleep(0.002)
        frames = _parse_client_frames(bytes(tr.out))
        keys = [f[5] for f in frames if f[5] is not None]
        frames = [f[:5] for f in frames]
        if len(set(keys)) != len(keys):
            st_fail("%s: mask keys reused: %r" % (cid, keys))
        if frames != want:
            st_fail("%s: client frames %r != %r" % (cid, [(f[:4], f[4][:20]) for f in frames],
                                                    [(f[:4], f[4][:20]) for f in want]))
        checks += len(frames)
        conn.connection_lost(None)
        for h in conn.timers:
            h.cancel()
    return checks


def st_run(server_cmd, cases, agent, extra=(), report=None):
    cmd = [PY, os.path.abspath(__file__), "--server-cmd", server_cmd, "--cases", cases, "--agent", agent,
           "--quiet"] + list(extra)
    if report:
        cmd += ["--report", report]
    print("selftest: " + " ".join(shlex.quote(c) for c in cmd), flush=True)
    return subprocess.call(cmd)


def st_ref_ws(cases):
    node = shutil.which("node")
    dirs = [os.path.join(HERE, "..", "peers", "node_modules", "ws"), os.path.join(REF, "node_modules", "ws")]
    if not node or not any(os.path.isfile(os.path.join(d, "package.json")) for d in dirs):
        print("selftest: SKIP: node or its ws module is not installed (scripts/bootstrap)")
        sys.exit(77)
    server = "%s %s" % (shlex.quote(node), shlex.quote(os.path.join(REF, "ws_echo_server.js")))
    sys.exit(st_run(server, cases or FAST + "," + DEFLATE_SAMPLE, "ws", ["--allow-non-strict", WS_NON_STRICT]))


def st_ref_websockets(cases):
    if subprocess.call([PY, "-c", "import websockets"], stderr=subprocess.DEVNULL) != 0:
        print("selftest: SKIP: python3-websockets is not installed")
        sys.exit(77)
    server = "%s %s" % (shlex.quote(PY), shlex.quote(os.path.join(REF, "py_echo_server.py")))
    extra = ["--allow-non-strict", WEBSOCKETS_NON_STRICT]
    if not cases:
        cases = FAST + "," + DEFLATE_SAMPLE
        extra += ["--exclude", WEBSOCKETS_DEFLATE_BUG]
    sys.exit(st_run(server, cases, "websockets", extra))


def st_broken():
    bs = "%s %s" % (shlex.quote(PY), shlex.quote(os.path.join(REF, "broken_server.py")))
    tmp = tempfile.mkdtemp()
    failures = []
    invalid_utf8 = [c.ID for c in C.CASES if c.ID.startswith("6.") and getattr(c, "VALID", True) is False]
    not_passed = ("FAILED", "UNCLEAN", "WRONG CODE", "NON-STRICT", "UNIMPLEMENTED")
    # (flag, cases run, {case: required verdict(s)}, cases that must still pass)
    plan = [
        ("", FAST, {}, FAST),
        ("--ignore-rsv", "3.*", dict({c: "FAILED" for c in ("3.1", "3.2", "3.3", "3.4", "3.5", "3.6")},
                                     **{"3.7": "WRONG CODE"}), None),
        ("--echo-invalid-utf8", "6.3.*,6.4.*,6.5.*,6.6.*,6.8.*,6.12.*,6.20.*,7.5.1",
         {c: "FAILED" for c in ["6.3.1", "6.3.2", "6.4.1", "6.4.2", "6.4.3", "6.4.4", "7.5.1"] +
          [c for c in invalid_utf8 if c.split(".")[1] in ("6", "8", "12", "20")]}, "6.5.*"),
        # only the M.x cases send unmasked frames (Autobahn's fuzzing client
        # always masks): they catch it, the rest still passes
        ("--accept-unmasked", "1.1.1,2.2,3.1,M.*", dict({"M.%d" % i: "FAILED" for i in range(1, 6)},
                                                        **{"M.6": "WRONG CODE"}), "1.1.1,2.2,3.1"),
        # the fuzzing client's close goes unanswered: its 1 s closing
        # handshake timeout, UNCLEAN wherever a clean close is required
        ("--no-close-reply", "1.1.*,2.1,5.3,6.1.1,7.1.1,7.3.3,7.7.1",
         {c: "UNCLEAN" for c in ("1.1.1", "1.1.8", "2.1", "5.3", "6.1.1", "7.1.1", "7.3.3", "7.7.1")}, None),
        # the server must close the TCP connection after the closing
        # handshake: when the client has to, the server failed (FAILED BY
        # CLIENT), or the close is unclean (server connection drop timeout)
        ("--keep-tcp", "1.1.1,1.1.8,2.1,2.5,3.1,6.3.1,7.1.1,7.9.1",
         dict({c: ("FAILED", "UNCLEAN") for c in ("1.1.1", "1.1.8", "2.1", "7.1.1")},
              **{c: "FAILED" for c in ("2.5", "3.1", "6.3.1", "7.9.1")}), None),
        # masked server frames: the client fails the connection
        ("--mask-frames", "1.1.1,2.1,3.1,7.7.1", {c: not_passed for c in ("1.1.1", "2.1", "3.1", "7.7.1")}, None),
    ]
    for flag, cases, want, must_pass in plan:
        rep = os.path.join(tmp, "broken%s.json" % flag)
        rc = st_run(bs + (" " + flag if flag else ""), cases, "broken" + flag, [], rep)
        try:
            with open(rep) as f:
                got = {c["id"]: c["verdict"] for c in json.load(f)["cases"]}
        except (OSError, ValueError) as e:
            failures.append("%s: no report (%s)" % (flag or "no flag", e))
            continue
        if not flag and rc != 0:
            failures.append("the unbroken server must pass %s strictly (status %d)" % (FAST, rc))
        if flag and rc == 0:
            failures.append("%s: the suite passed a broken server" % flag)
        for cid, verdict in want.items():
            ok = got.get(cid) in verdict if isinstance(verdict, tuple) else got.get(cid) == verdict
            if not ok:
                failures.append("%s: case %s graded %s, expected %s" % (flag, cid, got.get(cid), verdict))
        if must_pass:
            for cid in FC.select(must_pass.split(",")):
                if got.get(cid) not in ("OK", "INFORMATIONAL"):
                    failures.append("%s: case %s graded %s, must pass" % (flag or "no flag", cid, got.get(cid)))
    shutil.rmtree(tmp, ignore_errors=True)
    for f in failures:
        print("selftest: FAIL: " + f)
    print("selftest: broken server: %d runs, %d problems" % (len(plan), len(failures)))
    print("%d passed, %d failed" % (0 if failures else 1, 1 if failures else 0))
    sys.exit(1 if failures else 0)


def selftest(what, cases):
    if what == "catalog":
        st_catalog()
    elif what == "ref-ws":
        st_ref_ws(cases)
    elif what == "ref-websockets":
        st_ref_websockets(cases)
    elif what == "broken":
        st_broken()
    else:
        sys.exit("unknown selftest %r (catalog, ref-ws, ref-websockets, broken)" % what)


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--selftest":
        if len(sys.argv) not in (3, 4):
            sys.exit("usage: run_server.py --selftest catalog|ref-ws|ref-websockets|broken [CASES]")
        return selftest(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None)
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    src = ap.add_mutually_exclusive_group()
    src.add_argument("--server-cmd", help="server command line; prints its ws:// URL on the first stdout line")
    src.add_argument("--url", help="URL of a server that is already running (ws://127.0.0.1:PORT/)")
    ap.add_argument("--cases", default="*", help="comma-separated case patterns (default: all 523)")
    ap.add_argument("--exclude", default="", help="comma-separated case patterns to leave out")
    ap.add_argument("--agent", help="agent name in the reports (default: the server's program name)")
    ap.add_argument("--jobs", type=int, default=max(2, (os.cpu_count() or 2) * 2),
                    help="cases run at the same time (default: 2 x cores)")
    ap.add_argument("--heavy-jobs", type=int, default=2, help="parallelism for 9.x/12.x/13.x (default 2)")
    ap.add_argument("--report", help="write a JSON report here")
    ap.add_argument("--junit", nargs="?", const="conformance-server-junit.xml", help="write a JUnit XML report")
    ap.add_argument("--allow-non-strict", default="", help="case patterns whose NON-STRICT outcome is accepted")
    ap.add_argument("--startup-timeout", type=float, default=STARTUP_TIMEOUT,
                    help="seconds the server may take to print its URL (default %.0f)" % STARTUP_TIMEOUT)
    ap.add_argument("--timeout-scale", type=float, default=1.0, help="scale the per-case safety timeout")
    ap.add_argument("--quiet", action="store_true", help="print only cases that did not pass")
    ap.add_argument("--list", action="store_true", help="list the selected cases and exit")
    args = ap.parse_args()

    try:
        ids = FC.select(args.cases.split(","), args.exclude.split(",") if args.exclude else None)
    except ValueError as e:
        ap.error(str(e))
    if args.list:
        for cid in ids:
            print("%-8s %s" % (cid, " ".join(FC.by_id(cid).DESCRIPTION.split())))
        print("%d cases" % len(ids))
        return 0
    if not args.server_cmd and not args.url:
        ap.error("--server-cmd or --url is required")
    if args.url:
        try:
            FC.parse_url(args.url)
        except ValueError as e:
            ap.error(str(e))
    if not ids:
        ap.error("no case selected")
    if not args.agent:
        if args.server_cmd and args.server_cmd.strip():
            args.agent = os.path.basename(shlex.split(args.server_cmd)[0]) or "server"
        else:
            args.agent = "server"
    allow_ns = [p for p in args.allow_non_strict.split(",") if p.strip()]

    runner = Runner(args, ids)
    t0 = time.monotonic()

    def on_signal(signum, frame):
        proc = SERVER.get("proc")
        if proc is not None:
            kill_group(proc, signal.SIGKILL)
        sys.exit(128 + signum)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        asyncio.run(runner.run())
    except RuntimeError as e:
        print("conformance: %s" % e)
        return 1
    finally:
        proc = SERVER.get("proc")
        if proc is not None:
            kill_group(proc, signal.SIGKILL)
    elapsed = time.monotonic() - t0

    bad, total = R.summarize(ids, runner.results, allow_ns, FC.category_of, FC.CATEGORIES)
    print("\n%d cases in %.1f s: %s" % (len(ids), elapsed, ", ".join(
        "%d %s" % (total[v], v) for v in R.VERDICT_ORDER if v in total)))
    server = runner.server
    early = server.exited_early if server is not None else None
    if args.report:
        rep = {"agent": args.agent, "mode": "server", "server_cmd": args.server_cmd, "url": runner.url,
               "duration_s": round(elapsed, 1), "summary": total, "not_passed": bad, "allow_non_strict": allow_ns,
               "server_exited_early": early,
               "server_stdout_tail": server.stdout_tail if server else None,
               "server_stderr_tail": server.stderr_tail() if server else None,
               "cases": [runner.results[cid] for cid in ids]}
        with open(args.report, "w") as f:
            json.dump(rep, f, indent=1, default=str)
    if args.junit:
        R.write_junit(args.junit, ids, runner.results, allow_ns, args.agent, elapsed)
    if bad:
        print("not passed: %s" % " ".join(bad))
    if early is not None:
        print("conformance: the server exited by itself during the run (status %s)%s" % (
            early, server.output_note()))
    print("conformance: %d passed, %d failed" % (len(ids) - len(bad), len(bad)))
    return 1 if bad or early is not None else 0


if __name__ == "__main__":
    sys.exit(main())
