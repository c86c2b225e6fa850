"""bench/runner/charts.py - the figures (gnuplot) and docs/PERFORMANCE.md's
results block."""
import os
import shutil
import subprocess

from .common import *  # noqa: F401,F403
from .modes import sweep_sizes


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
