#!/usr/bin/env python3
"""Exported symbols of a shared library == WSC_API functions of the headers.

Usage: check_symbols.py [--not NAME]... LIBRARY.so INCLUDE_DIR HEADER...
(--not: a function declared in those headers that this library does not
provide, e.g. wsc_global_init, which wsc.h declares for libwsc only.)

Compares, both ways, the dynamic symbols the library defines (nm -D) with the
functions declared with WSC_API in the given public headers: no internal
symbol may escape the hidden visibility, no declared function may be missing.
Exits 0 when they are equal, 1 with both differences listed otherwise.
"""
import os
import re
import subprocess
import sys


def declared(include_dir, headers):
    names = set()
    for h in headers:
        text = open(os.path.join(include_dir, h)).read()
        text = re.sub(r'/\*.*?\*/', ' ', text, flags=re.S)   # comments
        text = re.sub(r'//[^\n]*', ' ', text)
        text = re.sub(r'^\s*#.*$', ' ', text, flags=re.M)   # the macro's own definition
        # WSC_API <return type> name(  -- the name is the last identifier before '('
        for m in re.finditer(r'\bWSC_API\b([^;{(]*?)\b([A-Za-z_]\w*)\s*\(', text):
            if m.group(2) != 'WSC_API':
                names.add(m.group(2))
    return names


def exported(lib):
    out = subprocess.run(['nm', '-D', '--defined-only', lib], check=True,
                         capture_output=True, text=True).stdout
    syms = set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in 'TtDdBbRrWwVvi':
            syms.add(parts[2].split('@')[0])
    return syms


def main():
    args = sys.argv[1:]
    excluded = set()
    while len(args) >= 2 and args[0] == '--not':
        excluded.add(args[1])
        args = args[2:]
    if len(args) < 3:
        print(__doc__)
        return 2
    lib, include_dir, headers = args[0], args[1], args[2:]
    want = declared(include_dir, headers) - excluded
    have = exported(lib)
    # A library may export nothing but its API: _init/_fini are not defined
    # as dynamic symbols by the GNU toolchain, so no allowance is needed.
    escaped = sorted(have - want)
    missing = sorted(want - have)
    name = os.path.basename(lib)
    if escaped:
        print(f'{name}: {len(escaped)} exported symbol(s) not declared with WSC_API:')
        for s in escaped:
            print('  ', s)
    if missing:
        print(f'{name}: {len(missing)} WSC_API function(s) not exported:')
        for s in missing:
            print('  ', s)
    if escaped or missing:
        return 1
    print(f'{name}: {len(have)} exported symbols == {len(want)} WSC_API declarations in {len(headers)} header(s)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
