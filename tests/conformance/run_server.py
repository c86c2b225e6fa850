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
"""

import argparse
import asyncio
import json
import os
import re
import shlex
import signal
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import cases as C  # noqa: E402
import fuzzingclient as FC  # noqa: E402
import run as R  # noqa: E402

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
        if not self.args.quiet or res["verdict"] not in ("OK", "INFORMATIONAL"):
            extra = ""
            if res["verdict"] not in ("OK", "INFORMATIONAL"):
                extra = "  [%s / close %s, code %s] %s" % (res["behavior"], res["behaviorClose"],
                                                          res.get("remoteCloseCode"), res.get("result") or "")
                if res["behaviorClose"] not in (C.OK, C.INFORMATIONAL):
                    extra += " | " + (res.get("resultClose") or "")
                if res.get("note"):
                    extra += "  (%s)" % res["note"]
            print("%-8s %s%s" % (cid, res["verdict"], extra), flush=True)
        return res

    async def pool(self, ids, width):
        sem = asyncio.Semaphore(max(1, width))

        async def one(cid):
            async with sem:
                await self.run_case(cid)
        await asyncio.gather(*(one(cid) for cid in ids))

    async def run(self):
        if self.args.server_cmd:
            self.server = ServerProcess(self.args.server_cmd)
            self.url = await self.server.start(self.args.startup_timeout * self.args.timeout_scale)
            print("server: %s (%s)" % (self.url, self.args.server_cmd), flush=True)
        try:
            self.client = FC.FuzzingClient(self.url, self.args.agent)
            jobs = self.args.jobs
            normal = [c for c in self.ids if not FC.by_id(c).SERIAL and not FC.by_id(c).HEAVY]
            heavy = [c for c in self.ids if FC.by_id(c).HEAVY and not FC.by_id(c).SERIAL]
            serial = [c for c in self.ids if FC.by_id(c).SERIAL]
            await self.pool(normal, jobs)
            await self.pool(serial, 1)
            await self.pool(heavy, min(jobs, self.args.heavy_jobs))
        finally:
            if self.client is not None:
                self.client.abort_all()
            if self.server is not None:
                await self.server.stop()


def summarize(ids, results, allow_ns):
    """run.py's summary, with the extra (non-numeric) category M."""
    cats = {}
    for cid in ids:
        d = cats.setdefault(FC.category_of(cid), {})
        v = results[cid]["verdict"]
        d[v] = d.get(v, 0) + 1
    cols = [v for v in R.VERDICT_ORDER if any(v in d for d in cats.values())]
    print()
    print("%-46s %6s  %s" % ("category", "cases", "  ".join("%13s" % c for c in cols)))
    total = {}
    for cat in sorted(cats, key=lambda c: (0, int(c)) if c.isdigit() else (1, c)):
        d = cats[cat]
        print("%-46s %6d  %s" % (("%s %s" % (cat, FC.CATEGORIES.get(cat, "")))[:46], sum(d.values()),
                                 "  ".join("%13s" % (d.get(c, "") or "-") for c in cols)))
        for k, v in d.items():
            total[k] = total.get(k, 0) + v
    print("%-46s %6d  %s" % ("total", sum(total.values()), "  ".join("%13s" % (total.get(c, "") or "-")
                                                                      for c in cols)))
    bad = [cid for cid in ids if not R.passed(results[cid], allow_ns)]
    return bad, total


def main():
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

    bad, total = summarize(ids, runner.results, allow_ns)
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
