#!/usr/bin/env python3
"""run_example.py MODE WSC EXAMPLE WORKDIR - runs one man-page example.

MODE "alone": the example runs with no argument. MODE "echo": `WSC serve
--port 0 --echo` is started on 127.0.0.1 first and its URL is the example's
argv[1]. The example runs in a fresh WORKDIR (which is also its HOME and
XDG_STATE_HOME, so a token store it opens stays there), with a bounded
timeout, and must exit 0. The server is stopped whatever happens.
"""
import os
import select
import shutil
import signal
import subprocess
import sys

TIMEOUT = 30


def start_server(wsc, env):
    p = subprocess.Popen([wsc, "serve", "--port", "0", "--echo", "--lifetime", "60"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    ready, _, _ = select.select([p.stdout], [], [], 15)
    url = p.stdout.readline().strip() if ready else ""
    if not url.startswith("ws://127.0.0.1:"):
        stop(p)
        sys.exit("wsc serve printed no URL (%r): %s" % (url, p.stderr.read()))
    return p, url


def stop(p):
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
    try:
        p.wait(10)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def main():
    mode, wsc, example, workdir = sys.argv[1:5]
    shutil.rmtree(workdir, ignore_errors=True)
    os.makedirs(workdir)
    env = dict(os.environ)
    for k in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "no_proxy", "NO_PROXY"):
        env.pop(k, None)
    env["HOME"] = workdir
    env["XDG_STATE_HOME"] = os.path.join(workdir, "state")
    server, argv = None, [example]
    if mode == "echo":
        server, url = start_server(wsc, env)
        argv.append(url)
    try:
        r = subprocess.run(argv, cwd=workdir, env=env, capture_output=True, text=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        sys.exit("%s did not exit within %d s" % (" ".join(argv), TIMEOUT))
    finally:
        if server:
            stop(server)
    sys.stdout.write(r.stdout)
    sys.stderr.write(r.stderr)
    if r.returncode != 0:
        sys.exit("%s exited with %d" % (" ".join(argv), r.returncode))
    print("ok: %s exited 0" % " ".join(argv))


if __name__ == "__main__":
    main()
