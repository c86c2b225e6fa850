"""bench/runner/charts.py - the figures (gnuplot) and docs/PERFORMANCE.md's
results block."""
import os
import shutil
import subprocess

from .common import *  # noqa: F401,F403
from .modes import sweep_sizes


# one fixed colour per client, so that every chart reads the same: the
# floors dashed and dotted, wsc thick red, the peers in distinct colours
CHART_STYLES = {"raw": "lw 3 dt 2 lc rgb 'black'", "frames": "lw 3 dt 3 lc rgb '#555555'",
                "wsc": "lw 3 lc rgb '#d62728'", "wslay": "lw 2 lc rgb '#ff7f0e'", "lws": "lw 2 lc rgb '#bcbd22'",
                "beast": "lw 2 lc rgb '#1f77b4'", "websocketpp": "lw 2 lc rgb '#2ca02c'",
                "node": "lw 2 lc rgb '#8c564b'", "python": "lw 2 lc rgb '#9467bd'"}


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
    titles = CHART_TITLES
    plots = []
    for i, c in enumerate(clients):
        if not any(B.data.get(("sweep", s, c)) for s in sweep_sizes(args)):
            continue
        style = CHART_STYLES.get(c, "lw 2")
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


def write_tls_chart(B, clients, png):
    """wss against the TLS floor: one group of bars per client with TLS, one
    bar per test (round trips, 64 KiB, 1 KiB, 1 MiB), each the ratio of the
    client's wss median to the TLS floor's (raw_client tls://) median from
    the same runs (tls.dat also holds each ws ratio to the raw floor)."""
    from .modes import tests
    T = tests(B.args)
    cl = [c for c in clients if c in TLS_CLIENTS and c != "raw"
          and any(B.data.get(("tls", t[0], c, True)) for t in T)]
    if not cl:
        return

    def cell(key, c, unit, tls):
        return med([rate(x, unit) for x in B.data.get(("tls", key, c, tls), []) if "error" not in x])

    dat = os.path.join(BB, "tls.dat")
    with open(dat, "w") as f:
        f.write("# client " + " ".join(f"{t[0]}-wss {t[0]}-ws" for t in T) + "\n")
        for c in cl:
            vals = []
            for key, title, mode, nums, unit in T:
                for tls, floor in ((True, cell(key, "raw", unit, True)), (False, cell(key, "raw", unit, False))):
                    v = cell(key, c, unit, tls)
                    vals.append(f"{v / floor:.4f}" if v and floor else "NaN")
            f.write(f"\"{CHART_TITLES[c]}\" " + " ".join(vals) + "\n")
    colours = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd"]
    plots = []
    for i, (key, title, mode, nums, unit) in enumerate(T):
        plots.append(f"'{dat}' using {2 + 2 * i}:xtic(1) title 'wss {title} (x TLS floor)' "
                     f"fs solid 0.85 lc rgb '{colours[i % 4]}'")
    script = f"""
set terminal pngcairo size 1100,600 font ',11'
set output '{png}'
set title 'wss throughput as a fraction of the TLS floor (raw exchange over the same OpenSSL; client and server on one CPU)'
set ylabel 'x TLS floor (median rate, same runs)'
set style data histogram
set style histogram cluster gap 1
set boxwidth 0.9
set yrange [0:*]
set grid ytics
set key top right box opaque
set datafile missing 'NaN'
set xtics nomirror
set arrow from graph 0, first 1 to graph 1, first 1 nohead dt 2 lw 2 lc rgb 'black'
plot {', '.join(plots)}
"""
    if not shutil.which("gnuplot"):
        ERRORS.append("gnuplot missing: no TLS chart (scripts/bootstrap bench installs gnuplot-nox)")
        return
    p = subprocess.run(["gnuplot"], input=script.encode(), capture_output=True, timeout=60)
    if p.returncode != 0:
        ERRORS.append("gnuplot failed (TLS chart): " + p.stderr.decode(errors="replace")[-300:])
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
    md = md.replace("(../../docs/perf-tls.png)", "(perf-tls.png)")
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
