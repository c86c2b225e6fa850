#!/bin/sh
# check_deb.sh SOURCE_DIR WORK_DIR
#
# Builds the Debian packages from a copy of the source tree (so the checkout
# stays clean) with `dpkg-buildpackage -us -uc -b` (package check included),
# lists and checks their contents (dpkg-deb -c), unpacks libwsc0, libwsc-dev
# and wsc into a temporary root, builds tests/consumers/consumer.c against
# the -dev package there with pkg-config, and runs it against the packaged
# `wsc serve` on 127.0.0.1.
set -eu
src=$1 work=$2
command -v dpkg-buildpackage >/dev/null && command -v dh >/dev/null || {
  echo "dpkg-dev/debhelper not installed"; exit 77; }
rm -rf "$work"
mkdir -p "$work/src" "$work/root"
# The tracked files only (a fresh clone in CI; build directories stay out).
if git -C "$src" rev-parse >/dev/null 2>&1; then
  (cd "$src" && git ls-files -z --cached --others --exclude-standard | xargs -0 tar cf - 2>/dev/null) \
    | tar xf - -C "$work/src"
else
  tar cf - -C "$src" --exclude='./build*' --exclude='./obj-*' . | tar xf - -C "$work/src"
fi
cd "$work/src"
DEB_BUILD_OPTIONS="parallel=2 ${DEB_BUILD_OPTIONS:-}" dpkg-buildpackage -us -uc -b >"$work/build.log" 2>&1 || {
  tail -n 60 "$work/build.log"; echo "FAILED: dpkg-buildpackage"; exit 1; }
grep -E 'tests passed|Test #' "$work/build.log" | tail -n 3 || true
cd "$work"
ok=1
expect() { # deb pattern...
  deb=$(ls "$work"/"$1"_*.deb); shift
  list=$(dpkg-deb -c "$deb")
  for pat in "$@"; do
    echo "$list" | grep -q -- "$pat" || { echo "FAILED: $(basename "$deb") lacks $pat"; ok=0; }
  done
  echo "== $(basename "$deb")"; echo "$list" | awk '{print "   " $6 ($7 ? " " $7 " " $8 : "")}'
}
expect libwsc0 'libwsc\.so\.0\.' 'libwsc\.so\.0 -> ' 'libwsc-proto\.so\.0'
expect libwsc-dev 'include/wsc/wsc\.h' 'include/wsc/client\.h' 'libwsc\.a' 'libwsc-proto\.a' \
  'pkgconfig/wsc\.pc' 'pkgconfig/wsc-proto\.pc' 'man3/wsc_ws_new\.3' 'man3/wsc\.3' 'cmake/wsc/wscConfig\.cmake' 'libwsc\.so -> '
expect wsc 'usr/bin/wsc' 'man1/wsc\.1'
# The -dev package's files must not be in the runtime one and vice versa.
if dpkg-deb -c "$work"/libwsc0_*.deb | grep -q 'include/\|\.a$'; then echo "FAILED: headers in libwsc0"; ok=0; fi
[ "$ok" = 1 ] || exit 1
for d in "$work"/libwsc0_*.deb "$work"/libwsc-dev_*.deb "$work"/wsc_*.deb; do dpkg-deb -x "$d" "$work/root"; done
dpkg-deb -f "$work"/libwsc0_*.deb Depends
multi=$(ls "$work/root/usr/lib")
# The .pc files are relocatable (prefix from their own place): no sysroot needed.
export PKG_CONFIG_PATH="$work/root/usr/lib/$multi/pkgconfig"
cc -std=c11 -Wall -Wextra -Werror "$src/tests/consumers/consumer.c" -o "$work/consumer" \
   $(pkg-config --cflags --libs wsc)
export LD_LIBRARY_PATH="$work/root/usr/lib/$multi"
ldd "$work/consumer" | grep -q "$work/root/usr/lib/$multi/libwsc.so.0" || { ldd "$work/consumer"; echo "FAILED: ldd"; exit 1; }
"$work/root/usr/bin/wsc" serve --port 0 --echo >"$work/serve.out" 2>/dev/null &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
i=0
while [ ! -s "$work/serve.out" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
url=$(head -n 1 "$work/serve.out")
timeout 60 "$work/consumer" "$url"
echo "ok: packages built, contents checked, consumer built against libwsc-dev ran against the packaged wsc"
