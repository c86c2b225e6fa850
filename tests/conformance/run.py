#!/usr/bin/python3
"""Run the conformance suite (Autobahn|Testsuite fuzzingserver, client mode)
against a WebSocket client.

  run.py --client-cmd 'wsc --echo {url}' [--cases 1.*,2.1] [--exclude 9.*,12.*,13.*]
         [--agent NAME] [--jobs N] [--report report.json] [--junit [report.xml]]
         [--allow-non-strict 6.4.*]

A fuzzing server is started on 127.0.0.1 (a free port).  For every case the
client command is run (through /bin/sh) with {url} replaced by
ws://127.0.0.1:PORT/runCase?case=N&agent=NAME; the client must connect, echo
every message with its type, follow the closing handshake and exit when the
connection ends.  Cases are independent connections and run up to --jobs at
a time; timing-sensitive cases (2.10, 2.11, 5.19, 5.20, 6.4.x) run alone,
heavy ones (9.x, 12.x, 13.x) at most two at a time.

One line per case is printed, then a summary by category.  The exit status
is non-zero when a case is FAILED, WRONG CODE, UNCLEAN or UNIMPLEMENTED, or
NON-STRICT unless allowed by --allow-non-strict.
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
import urllib.parse
from xml.sax.saxutils import escape, quoteattr

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import cases as C  # noqa: E402
import fuzzingserver as FS  # noqa: E402

VERDICT_ORDER = ["OK", "INFORMATIONAL", "NON-STRICT", "UNIMPLEMENTED", "WRONG CODE", "UNCLEAN", "FAILED"]
RUNNING = {}        # pid -> process (client process groups to clean up)
CONNECT_LIMIT = 10.0        # s from spawning the client to a completed opening handshake
GIVE_UP_AFTER = 10          # consecutive cases without a connection: stop running the client


def verdict_of(behavior, behavior_close):
    if behavior == C.UNIMPLEMENTED:
        return C.UNIMPLEMENTED
    if behavior == C.FAILED or behavior_close in (C.FAILED, C.FAILED_BY_CLIENT):
        return C.FAILED
    if behavior_close in (C.WRONG_CODE, C.UNCLEAN):
        return behavior_close
    if behavior == C.NON_STRICT:
        return C.NON_STRICT
    if behavior == C.INFORMATIONAL:
        return C.INFORMATIONAL
    return C.OK


def kill_group(proc, sig):
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def cleanup_children():
    for proc in list(RUNNING.values()):
        kill_group(proc, signal.SIGKILL)


class Runner:
    def __init__(self, args, ids):
        self.args = args
        self.ids = ids
        self.server = FS.FuzzingServer(ids)
        self.results = {}
        self.done = 0
        self.no_connect_streak = 0

    def url(self, index):
        return "ws://127.0.0.1:%d/runCase?case=%d&agent=%s" % (self.port, index,
                                                                urllib.parse.quote(self.args.agent, safe=""))

    async def run_case(self, cid):
        cls = C.by_id(cid)
        index = self.ids.index(cid) + 1
        agent = self.args.agent
        if self.no_connect_streak >= GIVE_UP_AFTER:
            return self.record(cid, {
                "id": cid, "case": index, "agent": agent, "description": cls.DESCRIPTION,
                "expectation": cls.EXPECTATION, "behavior": C.FAILED, "behaviorClose": C.FAILED,
                "result": "not run: the client opened no connection in %d cases in a row" % GIVE_UP_AFTER,
                "resultClose": "", "expected": {}, "expectedClose": {}, "received": [], "remoteCloseCode": None,
                "connectionWasOpen": False}, {"command": None})
        fut = self.server.expect(agent, index)
        url = self.url(index)
        cmd = self.args.client_cmd.replace("{url}", shlex.quote(url))
        if "{url}" not in self.args.client_cmd:
            cmd += " " + shlex.quote(url)
        log = tempfile.TemporaryFile()
        t0 = time.monotonic()
        proc = await asyncio.create_subprocess_exec("/bin/sh", "-c", cmd, stdin=asyncio.subprocess.DEVNULL,
                                                    stdout=log, stderr=log, start_new_session=True)
        RUNNING[proc.pid] = proc
        limit = (FS.OPEN_HANDSHAKE_TIMEOUT + cls.MAX_DURATION + FS.CLOSE_HANDSHAKE_TIMEOUT +
                 FS.GRACEFUL_CLOSE_LIMIT + 5) * self.args.timeout_scale
        deadline = t0 + limit
        # a client that has not completed the opening handshake by then never will
        connect_deadline = t0 + CONNECT_LIMIT * self.args.timeout_scale
        proc_wait = asyncio.ensure_future(proc.wait())
        res, note = None, None
        try:
            while res is None:
                now = time.monotonic()
                remaining = deadline - now
                if (agent, index) not in self.server.started:
                    if now >= connect_deadline:
                        note = "client did not complete the opening handshake within %.0f s" % (
                            CONNECT_LIMIT * self.args.timeout_scale)
                        self.server.abort_case(agent, index)
                        break
                    remaining = min(remaining, connect_deadline - now)
                if deadline - now <= 0:
                    note = "case did not finish within %.0f s: connection aborted" % limit
                    self.server.abort_case(agent, index)
                    try:
                        res = await asyncio.wait_for(asyncio.shield(fut), 2)
                    except asyncio.TimeoutError:
                        pass
                    break
                await asyncio.wait({fut, proc_wait}, timeout=max(0.01, remaining),
                                   return_when=asyncio.FIRST_COMPLETED)
                if fut.done():
                    res = fut.result()
                elif proc_wait.done() and (agent, index) not in self.server.started:
                    # the client is gone; give a connection in flight a moment
                    try:
                        res = await asyncio.wait_for(asyncio.shield(fut), 1.0)
                    except asyncio.TimeoutError:
                        note = "client exited (status %s) without opening the WebSocket connection" % proc.returncode
                        break
                elif proc_wait.done():
                    # client exited with its connection still open: the server
                    # side sees the TCP close shortly; wait for the result
                    await asyncio.wait({fut}, timeout=max(0.1, deadline - time.monotonic()))
        finally:
            self.server.listeners.pop((agent, index), None)
        if res is None:
            res = {"id": cid, "case": index, "agent": agent, "description": cls.DESCRIPTION,
                   "expectation": cls.EXPECTATION, "behavior": C.FAILED, "behaviorClose": C.FAILED,
                   "result": note, "resultClose": note, "expected": {}, "expectedClose": {}, "received": [],
                   "remoteCloseCode": None, "connectionWasOpen": (agent, index) in self.server.started}
        elif note:
            res["note"] = note
        # the client must exit once the connection is over
        client = {"command": cmd}
        # a client whose connection never opened gets no grace period
        grace = self.args.exit_grace if (agent, index) in self.server.started else 0.2
        try:
            await asyncio.wait_for(asyncio.shield(proc_wait), grace)
            client["exit"] = proc.returncode
        except asyncio.TimeoutError:
            client["exit"] = None
            client["killed"] = "still running %.1f s after the connection ended" % grace
            kill_group(proc, signal.SIGTERM)
            try:
                await asyncio.wait_for(asyncio.shield(proc_wait), 2)
            except asyncio.TimeoutError:
                kill_group(proc, signal.SIGKILL)
                await proc_wait
        kill_group(proc, signal.SIGKILL)      # stray children of the client's group
        RUNNING.pop(proc.pid, None)
        client["duration_ms"] = int((time.monotonic() - t0) * 1000)
        log.seek(0, os.SEEK_END)
        size = log.tell()
        log.seek(max(0, size - 4096))
        client["output_tail"] = log.read().decode("utf-8", "replace")
        log.close()
        if res.get("connectionWasOpen") or (agent, index) in self.server.started:
            self.no_connect_streak = 0
        else:
            self.no_connect_streak += 1
        return self.record(cid, res, client)

    def record(self, cid, res, client):
        res["client"] = client
        res["verdict"] = verdict_of(res["behavior"], res["behaviorClose"])
        self.results[cid] = res
        self.done += 1
        print_result(cid, res, self.args.quiet,
                     "client killed: %s" % client["killed"] if client.get("killed") else None)
        return res

    async def run(self):
        self.port = await self.server.start("127.0.0.1", 0)
        try:
            await run_scheduled(self.ids, C.by_id, self.run_case, self.args.jobs, self.args.heavy_jobs)
        finally:
            await self.server.stop()


# --------------------------------------------------------------------------
# shared with run_server.py (server mode)

def print_result(cid, res, quiet, note=None):
    """One case's line: every case, or with quiet only those not passed."""
    if quiet and res["verdict"] in ("OK", "INFORMATIONAL"):
        return
    extra = ""
    if res["verdict"] not in ("OK", "INFORMATIONAL"):
        extra = "  [%s / close %s, code %s] %s" % (res["behavior"], res["behaviorClose"],
                                                  res.get("remoteCloseCode"), res.get("result") or "")
        if res["behaviorClose"] not in (C.OK, C.INFORMATIONAL):
            extra += " | " + (res.get("resultClose") or "")
    if note:
        extra += "  (%s)" % note
    print("%-8s %s%s" % (cid, res["verdict"], extra), flush=True)


async def run_scheduled(ids, by_id, run_case, jobs, heavy_jobs):
    """Runs the cases jobs at a time, then the timing-sensitive (SERIAL) ones
    alone, then the HEAVY ones at most heavy_jobs at a time."""
    async def pool(group, width):
        sem = asyncio.Semaphore(max(1, width))

        async def one(cid):
            async with sem:
                await run_case(cid)
        await asyncio.gather(*(one(cid) for cid in group))

    normal = [c for c in ids if not by_id(c).SERIAL and not by_id(c).HEAVY]
    heavy = [c for c in ids if by_id(c).HEAVY and not by_id(c).SERIAL]
    serial = [c for c in ids if by_id(c).SERIAL]
    await pool(normal, jobs)
    await pool(serial, 1)
    await pool(heavy, min(jobs, heavy_jobs))


def matches(cid, patterns):
    for pat in patterns:
        rx = re.compile(pat.strip().replace(".", r"\.").replace("*", ".*") + "$")
        if rx.match(cid):
            return True
    return False


def summarize(ids, results, allow_ns, category_of=C.category_of, categories=C.CATEGORIES):
    """The table of verdicts per category; returns (ids not passed, totals).
    Numeric categories first, in order, then the others (server mode's M)."""
    cats = {}
    for cid in ids:
        d = cats.setdefault(category_of(cid), {})
        v = results[cid]["verdict"]
        d[v] = d.get(v, 0) + 1
    cols = [v for v in VERDICT_ORDER if any(v in d for d in cats.values())]
    print()
    print("%-46s %6s  %s" % ("category", "cases", "  ".join("%13s" % c for c in cols)))
    total = {}
    for cat in sorted(cats, key=lambda c: (0, int(c)) if c.isdigit() else (1, c)):
        d = cats[cat]
        print("%-46s %6d  %s" % (("%s %s" % (cat, categories.get(cat, "")))[:46], sum(d.values()),
                                 "  ".join("%13s" % (d.get(c, "") or "-") for c in cols)))
        for k, v in d.items():
            total[k] = total.get(k, 0) + v
    print("%-46s %6d  %s" % ("total", sum(total.values()), "  ".join("%13s" % (total.get(c, "") or "-")
                                                                      for c in cols)))
    bad = [cid for cid in ids if not passed(results[cid], allow_ns)]
    return bad, total


def passed(r, allow_ns):
    v = r["verdict"]
    if v in ("OK", "INFORMATIONAL"):
        return True
    if v == "NON-STRICT" and matches(r["id"], allow_ns):
        return True
    return False


def write_junit(path, ids, results, allow_ns, agent, elapsed):
    n_fail = sum(1 for cid in ids if not passed(results[cid], allow_ns))
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<testsuite name=%s tests="%d" failures="%d" errors="0" time="%.3f">' % (
               quoteattr("conformance." + agent), len(ids), n_fail, elapsed)]
    for cid in ids:
        r = results[cid]
        t = r.get("client", {}).get("duration_ms", 0) / 1000.0
        out.append('  <testcase classname=%s name=%s time="%.3f">' % (
            quoteattr("conformance.%s.%s" % (agent, C.category_of(cid))), quoteattr(cid), t))
        if not passed(r, allow_ns):
            msg = "%s: %s / close %s (%s)" % (r["verdict"], r["behavior"], r["behaviorClose"],
                                              r.get("result") or "")
            out.append('    <failure message=%s>%s</failure>' % (quoteattr(msg), escape(
                (r.get("resultClose") or "") + "\n" + r.get("description", ""))))
        out.append("  </testcase>")
    out.append("</testsuite>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--client-cmd", help="client command line; {url} is replaced by the case URL")
    ap.add_argument("--cases", default="*", help="comma-separated case patterns (default: all 517)")
    ap.add_argument("--exclude", default="", help="comma-separated case patterns to leave out")
    ap.add_argument("--agent", help="agent name reported to the server (default: the client's program name)")
    ap.add_argument("--jobs", type=int, default=max(2, (os.cpu_count() or 2) * 2),
                    help="cases run at the same time (default: 2 x cores)")
    ap.add_argument("--heavy-jobs", type=int, default=2, help="parallelism for 9.x/12.x/13.x (default 2)")
    ap.add_argument("--report", help="write a JSON report here")
    ap.add_argument("--junit", nargs="?", const="conformance-junit.xml", help="write a JUnit XML report")
    ap.add_argument("--allow-non-strict", default="", help="case patterns whose NON-STRICT outcome is accepted")
    ap.add_argument("--exit-grace", type=float, default=5.0,
                    help="seconds a client may take to exit after its connection ended (then it is killed)")
    ap.add_argument("--timeout-scale", type=float, default=1.0, help="scale the per-case safety timeout")
    ap.add_argument("--quiet", action="store_true", help="print only cases that did not pass")
    ap.add_argument("--list", action="store_true", help="list the selected cases and exit")
    args = ap.parse_args()

    try:
        ids = C.select(args.cases.split(","), args.exclude.split(",") if args.exclude else None)
    except ValueError as e:
        ap.error(str(e))
    if args.list:
        for cid in ids:
            print("%-8s %s" % (cid, " ".join(C.by_id(cid).DESCRIPTION.split())))
        print("%d cases" % len(ids))
        return 0
    if not args.client_cmd:
        ap.error("--client-cmd is required")
    if not ids:
        ap.error("no case selected")
    if not args.agent:
        first = shlex.split(args.client_cmd)[0] if args.client_cmd.strip() else "client"
        args.agent = os.path.basename(first) or "client"
    allow_ns = [p for p in args.allow_non_strict.split(",") if p.strip()]

    runner = Runner(args, ids)
    t0 = time.monotonic()

    def on_signal(signum, frame):
        cleanup_children()
        sys.exit(128 + signum)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        asyncio.run(runner.run())
    finally:
        cleanup_children()
    elapsed = time.monotonic() - t0

    bad, total = summarize(ids, runner.results, allow_ns)
    print("\n%d cases in %.1f s: %s" % (len(ids), elapsed, ", ".join(
        "%d %s" % (total[v], v) for v in VERDICT_ORDER if v in total)))
    if args.report:
        rep = {"agent": args.agent, "client_cmd": args.client_cmd, "duration_s": round(elapsed, 1),
               "summary": total, "not_passed": bad, "allow_non_strict": allow_ns,
               "cases": [runner.results[cid] for cid in ids]}
        with open(args.report, "w") as f:
            json.dump(rep, f, indent=1)
    if args.junit:
        write_junit(args.junit, ids, runner.results, allow_ns, args.agent, elapsed)
    n_ok = len(ids) - len(bad)
    if bad:
        print("not passed: %s" % " ".join(bad))
    print("conformance: %d passed, %d failed" % (n_ok, len(bad)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
