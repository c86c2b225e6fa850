#!/bin/sh
# check_abi.sh RECORDED.abi LIBRARY.so INCLUDE_DIR
#
# Compares a shared library's ABI with the one recorded in abi/ (abidw from
# Debian's abigail-tools). Passes when nothing changed but added functions.
# Any other change (a removed or changed function, a struct that changed size
# or layout, an enum value that moved) fails, unless the soname changed too
# (WSC_SOVERSION was bumped: the break is acknowledged). To accept a
# compatible change (a field taken from a `reserved` array, a new enum value
# at the end), re-record with `make abi` in the same commit; the rules are in
# abi/README.md.
set -u
recorded=$1 lib=$2 include=$3
command -v abidiff >/dev/null 2>&1 || { echo "skipped: abidiff not installed (abigail-tools)"; exit 77; }
# Without DWARF (a Release build, no -g) abidiff sees only the symbol table:
# it cannot see a struct change size or an enum value move, and would report
# "unchanged" for a real break. That is no check at all, so it is a skip
# (77, SKIP_RETURN_CODE in tests/abi/CMakeLists.txt), never a pass.
if ! readelf -S -W "$lib" | grep -qE '[[:space:]]\.z?debug_info[[:space:]]'; then
  echo "skipped: no debug info in $(basename "$lib") (build with -g, e.g. RelWithDebInfo, to check its ABI)"
  exit 77
fi
old_soname=$(sed -n "s/.*soname='\([^']*\)'.*/\1/p" "$recorded" | head -n 1)
new_soname=$(readelf -d "$lib" | sed -n 's/.*Library soname: \[\(.*\)\].*/\1/p')
report=$(abidiff --no-added-syms --headers-dir2 "$include" "$recorded" "$lib" 2>&1)
rc=$?
if [ $((rc & 3)) -ne 0 ]; then
  echo "abidiff failed (exit $rc):"; echo "$report"; exit 1
fi
if [ "$rc" -eq 0 ]; then
  echo "$(basename "$lib"): ABI unchanged against $(basename "$recorded") ($new_soname)"
  exit 0
fi
if [ "$old_soname" != "$new_soname" ]; then
  echo "$(basename "$lib"): ABI changed and the soname moved from $old_soname to $new_soname:"
  echo "acknowledged; re-record with 'make abi'."
  exit 0
fi
if [ $((rc & 8)) -ne 0 ]; then
  kind="an INCOMPATIBLE change"
else
  kind="a change"
fi
cat <<MSG
$(basename "$lib"): abidiff reports $kind against $(basename "$recorded"), soname still $new_soname.
If every change keeps old programs working (abi/README.md), re-record it: make abi.
Otherwise bump WSC_SOVERSION in CMakeLists.txt.
$report
MSG
exit 1
