"""bench/runner/servers.py - the server benchmark (--sections broadcast):
`wsc serve --broadcast`, node ws and Python websockets broadcast servers,
fanned out to by bench/clients/fanout_client."""
import os
import re
import shutil

from .common import *  # noqa: F401,F403
from .modes import fd_cap


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
