#!/bin/sh
# check_abi_nodebug.sh CHECK_ABI RECORDED.abi LIBRARY.so INCLUDE_DIR WORK_DIR
#
# check_abi.sh must not pass a library it cannot really check: on a copy of
# LIBRARY.so stripped of its DWARF (what a Release build without -g gives),
# it has to exit 77 (skipped) saying "no debug info". A pass there would be
# a silent "ABI unchanged" for a library whose types abidiff never saw.
set -u
check=$1 recorded=$2 lib=$3 include=$4 work=$5
command -v abidiff >/dev/null 2>&1 || { echo "skipped: abidiff not installed (abigail-tools)"; exit 77; }
mkdir -p "$work"
copy=$work/$(basename "$lib")
objcopy --strip-debug "$lib" "$copy" || { echo "FAILED: objcopy --strip-debug"; exit 1; }
out=$("$check" "$recorded" "$copy" "$include" 2>&1)
rc=$?
echo "$out"
if [ "$rc" -ne 77 ]; then
  echo "FAILED: check_abi.sh exited $rc on a library without debug info (want 77, skipped)"; exit 1
fi
case $out in
  *"skipped: no debug info"*) ;;
  *) echo "FAILED: check_abi.sh skipped without saying 'skipped: no debug info'"; exit 1 ;;
esac
echo "ok: without debug info check_abi.sh skips (77), it does not pass"
