#!/usr/bin/python3
"""Validation of the conformance suite itself (run by CTest).

  selftest.py catalog          517 cases, per-category counts, ids in order
  selftest.py urls             the Autobahn URL contract (/getCaseCount,
                               /getCaseInfo, /updateReports, an
                               Autobahn-style driver loop over /runCase)
  selftest.py ref-ws  [cases]  node ws echo client passes (6.4.x may be NON-STRICT)
  selftest.py ref-websockets [cases]
                               Python websockets echo client passes (its
                               documented NON-STRICT cases allowed)
  selftest.py broken           the deliberately broken client is caught, flag by flag

Exit status 77 means "skipped" (a reference client is not installed).
"""

import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import cases as C  # noqa: E402

PY = sys.executable or "/usr/bin/python3"
RUN = [PY, os.path.join(HERE, "run.py")]
FAST = "1.*,2.*,3.*,4.*,5.*,6.*,7.*,10.*"

# categories -> count in Autobahn's client mode
EXPECTED_COUNTS = {"1": 16, "2": 11, "3": 7, "4": 10, "5": 20, "6": 145, "7": 37, "9": 54, "10": 1,
                   "12": 90, "13": 126}

# ws validates UTF-8 when a message is complete, not per frame: 6.4.x NON-STRICT
WS_NON_STRICT = "6.4.*"
# websockets' own compliance notes list exactly these as Non-Strict; 4.1.5
# and 4.2.5 (the same reserved-opcode-after-a-message pattern, with a ping)
# turn Non-Strict too when the machine is loaded: websockets sometimes fails
# the connection before the echo of the earlier message is written. Seen in
# a `ctest -j2` run, and 3.4 (the octet-wise 3.3) in a CI run under ASan;
# the strict grading of wsc is not affected by this list. run_server.py
# uses both lists for the same peers as servers.
WEBSOCKETS_NON_STRICT = "3.2,3.3,3.4,4.1.3,4.1.4,4.1.5,4.2.3,4.2.4,4.2.5,5.15,6.4.3,6.4.4"


def fail(msg):
    print("selftest: FAIL: " + msg)
    sys.exit(1)


def catalog():
    ids = C.CASE_IDS
    if len(ids) != 517:
        fail("expected 517 cases, have %d" % len(ids))
    counts = {}
    for cid in ids:
        counts[C.category_of(cid)] = counts.get(C.category_of(cid), 0) + 1
    if counts != EXPECTED_COUNTS:
        fail("category counts %s != %s" % (counts, EXPECTED_COUNTS))
    if ids != sorted(ids, key=C.id_tuple):
        fail("case ids are not in Autobahn's order")
    for cid in ("1.1.1", "2.11", "5.20", "6.4.4", "6.23.7", "7.9.9", "7.13.2", "9.8.6", "10.1.1", "12.5.18",
                "13.7.18"):
        C.by_id(cid)
    if C.by_id("6.22.34").DESCRIPTION != ("Send a text message with payload which is valid UTF-8 in one fragment."
                                          "<br><br>Payload: 0xf48fbfbf"):
        fail("6.22.34 description")
    if C.resolve_patterns(["9.*"]) != [c for c in ids if c.startswith("9.")]:
        fail("pattern 9.*")
    print("selftest: catalog ok: 517 cases %s" % counts)
    print("1 passed, 0 failed")


async def _urls():
    import websockets
    import fuzzingserver as FS
    tmp = tempfile.mkdtemp()
    srv = FS.FuzzingServer(C.select(["1.1.*"]), outdir=tmp)
    port = await srv.start()
    base = "ws://127.0.0.1:%d" % port
    try:
        async with websockets.connect(base + "/getCaseCount") as ws:
            count = json.loads(await ws.recv())
            await ws.wait_closed()
            if count != 8 or ws.close_code != 1005:
                fail("/getCaseCount: %r, close %r" % (count, ws.close_code))
        async with websockets.connect(base + "/getCaseInfo?case=2") as ws:
            info = json.loads(await ws.recv())
            if info["id"] != "1.1.2":
                fail("/getCaseInfo: %r" % info)
        # an Autobahn-style driver: count, then run 1..count, then update reports
        for i in range(1, count + 1):
            fut = srv.expect("driver", i)
            async with websockets.connect(base + "/runCase?case=%d&agent=driver" % i, max_size=None,
                                          compression=None) as ws:
                async for msg in ws:
                    await ws.send(msg)
            res = await asyncio.wait_for(fut, 10)
            if (res["behavior"], res["behaviorClose"]) != ("OK", "OK"):
                fail("/runCase %d: %s %s" % (i, res["behavior"], res["behaviorClose"]))
        async with websockets.connect(base + "/updateReports?agent=driver") as ws:
            await ws.wait_closed()
        with open(os.path.join(tmp, "index.json")) as f:
            index = json.load(f)
        if sorted(index["driver"]) != C.select(["1.1.*"]):
            fail("index.json: %r" % sorted(index["driver"]))
    finally:
        await srv.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    print("selftest: URL contract ok")
    print("1 passed, 0 failed")


def run_suite(client, cases, agent, extra=(), report=None):
    cmd = RUN + ["--client-cmd", client, "--cases", cases, "--agent", agent, "--quiet"] + list(extra)
    if report:
        cmd += ["--report", report]
    print("selftest: " + " ".join(cmd), flush=True)
    return subprocess.call(cmd)


def ref_ws(cases):
    node = shutil.which("node")
    ws_dirs = [os.path.join(HERE, "..", "peers", "node_modules", "ws"), os.path.join(HERE, "ref_clients",
                                                                                       "node_modules", "ws")]
    if not node or not any(os.path.isfile(os.path.join(d, "package.json")) for d in ws_dirs):
        print("selftest: SKIP: node or its ws module is not installed (scripts/bootstrap)")
        sys.exit(77)
    client = "%s %s {url}" % (node, os.path.join(HERE, "ref_clients", "ws_echo.js"))
    sys.exit(run_suite(client, cases, "ws", ["--allow-non-strict", WS_NON_STRICT]))


def ref_websockets(cases):
    try:
        import websockets  # noqa: F401
    except ImportError:
        print("selftest: SKIP: python3-websockets is not installed")
        sys.exit(77)
    client = "%s %s {url}" % (PY, os.path.join(HERE, "ref_clients", "py_echo.py"))
    sys.exit(run_suite(client, cases, "websockets", ["--allow-non-strict", WEBSOCKETS_NON_STRICT]))


def broken():
    bc = os.path.join(HERE, "broken_client.py")
    tmp = tempfile.mkdtemp()
    failures = []
    n_checks = 0
    # (flag, cases run, {case: required verdict}, cases that must still pass)
    invalid_utf8 = [c.ID for c in C.CASES if c.ID.startswith("6.") and getattr(c, "VALID", True) is False]
    plan = [
        ("", FAST, {}, None),
        ("--ignore-rsv", "3.*", {c: "FAILED" for c in ("3.1", "3.2", "3.3", "3.4", "3.5", "3.6")}, None),
        ("--echo-invalid-utf8", "6.3.*,6.4.*,6.5.*,6.6.*,6.8.*,6.12.*,6.20.*,7.5.1",
         dict({c: "FAILED" for c in ["6.3.1", "6.3.2", "6.4.1", "6.4.2", "6.4.3", "6.4.4", "7.5.1"] +
               [c for c in invalid_utf8 if c.split(".")[1] in ("6", "8", "12", "20")]}), "6.5.*"),
        # a missing close reply makes Autobahn's server time out the closing
        # handshake: UNCLEAN wherever a clean close is required
        ("--no-close-reply", "1.1.*,2.1,5.3,6.1.1,7.1.1,7.3.3,7.7.1",
         {c: "UNCLEAN" for c in ("1.1.1", "1.1.8", "2.1", "5.3", "6.1.1", "7.1.1", "7.3.3", "7.7.1")}, None),
        # (a pong is recorded even after the server failed the connection, as
        # in Autobahn, so 2.2's events match and only its close is UNCLEAN)
        ("--unmasked", "1.1.*,1.2.1,2.2,5.6,6.2.1,9.1.1",
         dict({c: "FAILED" for c in ("1.1.1", "1.1.6", "1.2.1", "5.6", "6.2.1", "9.1.1")}, **{"2.2": "UNCLEAN"}),
         None),
    ]
    for flag, cases, want, must_pass in plan:
        rep = os.path.join(tmp, "broken%s.json" % flag)
        rc = run_suite("%s %s %s {url}" % (PY, bc, flag), cases, "broken" + flag, [], rep)
        with open(rep) as f:
            got = {c["id"]: c["verdict"] for c in json.load(f)["cases"]}
        n_checks += 1
        if not flag:
            if rc != 0:
                failures.append("the unbroken client must pass categories 1-7 and 10 strictly (status %d)" % rc)
            continue
        if rc == 0:
            failures.append("%s: the suite passed a broken client" % flag)
        for cid, verdict in want.items():
            if got.get(cid) != verdict:
                failures.append("%s: case %s graded %s, expected %s" % (flag, cid, got.get(cid), verdict))
        if must_pass:
            for cid in C.select([must_pass]):
                if got.get(cid) not in ("OK", "INFORMATIONAL"):
                    failures.append("%s: valid-UTF-8 case %s graded %s" % (flag, cid, got.get(cid)))
    shutil.rmtree(tmp, ignore_errors=True)
    for f in failures:
        print("selftest: FAIL: " + f)
    print("selftest: broken client: %d runs, %d problems" % (n_checks, len(failures)))
    print("%d passed, %d failed" % (n_checks - (1 if failures else 0), 1 if failures else 0))
    sys.exit(1 if failures else 0)


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    what = sys.argv[1]
    cases = sys.argv[2] if len(sys.argv) > 2 else FAST
    if what == "catalog":
        catalog()
    elif what == "urls":
        asyncio.run(_urls())
    elif what == "ref-ws":
        ref_ws(cases)
    elif what == "ref-websockets":
        ref_websockets(cases)
    elif what == "broken":
        broken()
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
