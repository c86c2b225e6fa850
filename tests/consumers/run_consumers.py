#!/usr/bin/env python3
"""Consumers of an installed wsc, as CTest tests (tests/consumers/CMakeLists.txt).

  run_consumers.py install BUILD_DIR PREFIX
      cmake --install BUILD_DIR --prefix PREFIX, then checks the tree: headers,
      libwsc.so.0 -> libwsc.so.0.N.M, static archives, wsc.pc, wsc-proto.pc,
      the CMake package, the wsc command, man pages if they were built.
  run_consumers.py MODE PREFIX SOURCE_DIR WORK_DIR
      builds a consumer against PREFIX (or SOURCE_DIR) and runs it against
      `PREFIX/bin/wsc serve --port 0 --echo` on 127.0.0.1. MODE is one of
        pkgconfig         cc consumer.c $(pkg-config --cflags --libs wsc); ldd shows libwsc.so.0
        pkgconfig-static  the same with pkg-config --static, in a copy of the
                          prefix without the shared libraries; ldd shows no libwsc
        proto             cc with $(pkg-config --cflags --libs wsc-proto): the core alone
        cmake-find        a CMake project using find_package(wsc)
        cmake-subdir      a CMake project using add_subdirectory(wsc)
        cmake-fetch       a CMake project using FetchContent
        cxx               a C++17 program including every public header
Every step has a timeout; the server is stopped whatever happens.
"""
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TIMEOUT = 300


def run(cmd, env=None, cwd=None, capture=False):
    print('+', ' '.join(cmd), flush=True)
    r = subprocess.run(cmd, env=env, cwd=cwd, timeout=TIMEOUT, text=True,
                       stdout=subprocess.PIPE if capture else None)
    if r.returncode != 0:
        sys.exit(f'FAILED (exit {r.returncode}): {" ".join(cmd)}')
    return r.stdout if capture else None


def pkg_env(prefix):
    env = dict(os.environ)
    dirs = []
    for root, _, files in os.walk(prefix):
        if 'wsc.pc' in files:
            dirs.append(root)
    if not dirs:
        sys.exit(f'FAILED: no wsc.pc under {prefix}')
    env['PKG_CONFIG_PATH'] = ':'.join(dirs)
    return env


def find(prefix, name):
    for root, _, files in os.walk(prefix):
        if name in files:
            return os.path.join(root, name)
    return None


def check_install(build, prefix):
    shutil.rmtree(prefix, ignore_errors=True)
    run(['cmake', '--install', build, '--prefix', prefix])
    want = ['include/wsc/wsc.h', 'include/wsc/client.h', 'bin/wsc']
    for w in want:
        if not os.path.exists(os.path.join(prefix, w)):
            sys.exit(f'FAILED: {w} not installed')
    for name in ['libwsc.so', 'libwsc-proto.so', 'libwsc.a', 'libwsc-proto.a', 'wsc.pc',
                 'wsc-proto.pc', 'wscConfig.cmake', 'wscConfigVersion.cmake', 'wscTargets.cmake']:
        if not find(prefix, name):
            sys.exit(f'FAILED: {name} not installed')
    so = find(prefix, 'libwsc.so')
    real = os.path.realpath(so)
    soname = os.path.basename(os.readlink(so))
    if soname != 'libwsc.so.0' or not os.path.basename(real).startswith('libwsc.so.0.'):
        sys.exit(f'FAILED: libwsc.so -> {soname} -> {os.path.basename(real)}')
    print(f'installed: libwsc.so -> {soname} -> {os.path.basename(real)}')
    for root, _, files in sorted(os.walk(prefix)):
        for f in sorted(files):
            print('  ', os.path.relpath(os.path.join(root, f), prefix))


class Server:
    def __init__(self, wsc):
        self.p = subprocess.Popen([wsc, 'serve', '--port', '0', '--echo'], stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, text=True)
        self.url = self.p.stdout.readline().strip()
        if not self.url.startswith('ws://127.0.0.1:'):
            self.stop()
            sys.exit(f'FAILED: wsc serve printed {self.url!r}')

    def stop(self):
        self.p.terminate()
        try:
            self.p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.p.kill()


def consume(mode, prefix, source, work):
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    exe = os.path.join(work, 'consumer')
    env = pkg_env(prefix)
    cc = os.environ.get('CC', 'cc')
    src = os.path.join(HERE, 'consumer.c')
    expect_shared = True
    if mode == 'pkgconfig':
        flags = run(['pkg-config', '--cflags', '--libs', 'wsc'], env=env, capture=True).split()
        run([cc, '-std=c11', '-Wall', '-Wextra', '-Werror', src, '-o', exe] + flags)
        env['LD_LIBRARY_PATH'] = os.path.dirname(find(prefix, 'libwsc.so'))
    elif mode == 'pkgconfig-static':
        static_prefix = os.path.join(work, 'prefix-static')
        shutil.copytree(prefix, static_prefix, symlinks=True)
        for root, _, files in os.walk(static_prefix):
            for f in files:
                if '.so' in f and f.startswith('libwsc'):
                    os.remove(os.path.join(root, f))
        env = pkg_env(static_prefix)
        flags = run(['pkg-config', '--static', '--cflags', '--libs', 'wsc'], env=env, capture=True).split()
        run([cc, '-std=c11', '-Wall', '-Wextra', '-Werror', src, '-o', exe] + flags)
        expect_shared = False
    elif mode == 'proto':
        # The core alone: no loop, no sockets. A program that frames a
        # message and validates UTF-8 with libwsc-proto only.
        psrc = os.path.join(work, 'proto.c')
        with open(psrc, 'w') as f:
            f.write(PROTO_PROGRAM)
        flags = run(['pkg-config', '--cflags', '--libs', 'wsc-proto'], env=env, capture=True).split()
        run([cc, '-std=c11', '-Wall', '-Wextra', '-Werror', psrc, '-o', exe] + flags)
        env['LD_LIBRARY_PATH'] = os.path.dirname(find(prefix, 'libwsc-proto.so'))
        out = run(['ldd', exe], env=env, capture=True)
        if 'libwsc-proto.so.0' not in out or 'libwsc.so' in out or 'libssl' in out:
            sys.exit('FAILED: ldd: ' + out)
        run([exe], env=env)
        return
    elif mode in ('cmake-find', 'cmake-subdir', 'cmake-fetch'):
        proj = os.path.join(HERE, 'cmake_find' if mode == 'cmake-find' else 'cmake_subdir')
        bdir = os.path.join(work, 'build')
        args = ['cmake', '-S', proj, '-B', bdir, '-DCMAKE_BUILD_TYPE=Release']
        if mode == 'cmake-find':
            args.append('-DCMAKE_PREFIX_PATH=' + prefix)
        else:
            args.append('-DWSC_SOURCE=' + source)
            if mode == 'cmake-fetch':
                args.append('-DUSE_FETCHCONTENT=ON')
        run(args)
        run(['cmake', '--build', bdir, '-j', '2'])
        exe = os.path.join(bdir, 'consumer')
    elif mode == 'cxx':
        flags = run(['pkg-config', '--cflags', '--libs', 'wsc'], env=env, capture=True).split()
        cxx = os.environ.get('CXX', 'c++')
        run([cxx, '-std=c++17', '-Wall', '-Wextra', '-Werror', '-pedantic',
             os.path.join(HERE, 'consumer.cpp'), '-o', exe] + flags)
        env['LD_LIBRARY_PATH'] = os.path.dirname(find(prefix, 'libwsc.so'))
        # Each adapter header, from C++ too, with its library's flags (skipped
        # where that library's -dev package is not installed).
        for header, pc in (('libuv.h', 'libuv'), ('libevent.h', 'libevent_core'), ('libev.h', None),
                           ('glib.h', 'glib-2.0')):
            extra = []
            if pc:
                r = subprocess.run(['pkg-config', '--cflags', pc], capture_output=True, text=True)
                if r.returncode != 0:
                    print(f'adapter {header}: {pc} not installed, skipped')
                    continue
                extra = r.stdout.split()
            elif not os.path.exists('/usr/include/ev.h'):
                print(f'adapter {header}: libev not installed, skipped')
                continue
            tu = os.path.join(work, 'adapter_' + header.replace('.h', '.cpp'))
            with open(tu, 'w') as f:
                f.write(f'#include <wsc/adapters/{header}>\nint main() {{ return 0; }}\n')
            run([cxx, '-std=c++17', '-Wall', '-Wextra', '-Werror', '-fsyntax-only', tu] + extra +
                run(['pkg-config', '--cflags', 'wsc'], env=env, capture=True).split())
    else:
        sys.exit(f'unknown mode {mode}')

    out = run(['ldd', exe], env=env, capture=True)
    has = 'libwsc.so.0' in out
    print('ldd:', ' '.join(l.split()[0] for l in out.splitlines() if 'wsc' in l) or '(no libwsc)')
    if has != expect_shared:
        sys.exit(f'FAILED: expected {"a" if expect_shared else "no"} libwsc.so.0 in ldd:\n{out}')
    server = Server(os.path.join(prefix, 'bin', 'wsc'))
    try:
        run([exe, server.url], env=env)
    finally:
        server.stop()


PROTO_PROGRAM = r'''
#include <stdio.h>
#include <string.h>
#include <wsc/proto.h>

int main(void) {
    static const char text[] = "h\xc3\xa9llo";
    if (!wsc_utf8_valid(text, strlen(text)) || wsc_utf8_valid("\xc0\xaf", 2)) return 1;
    uint8_t buf[8], key[4] = {1, 2, 3, 4};
    wsc_mask(buf, (const uint8_t *)"abcd", 4, key, 0);
    wsc_mask(buf, buf, 4, key, 0);
    if (memcmp(buf, "abcd", 4) != 0) return 1;
    printf("wsc-proto %s: UTF-8 and masking ok\n", wsc_version());
    return 0;
}
'''


def main():
    if len(sys.argv) == 4 and sys.argv[1] == 'install':
        check_install(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 5:
        consume(*sys.argv[1:])
    else:
        print(__doc__)
        return 2
    print('ok')
    return 0


if __name__ == '__main__':
    sys.exit(main())
