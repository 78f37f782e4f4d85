#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# leak_test.sh WBRT PROGRAM: leak mode must find the 40 blocks tests/preload/leak_program.c
# loses, name plant_leak as their allocating function, not report the block it keeps,
# report once on --leak-signal and once at exit, and leave the program's output alone.
set -euo pipefail
wbrt=$1 prog=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
trap '' USR2   # inherited: without wbrt the program's raise() is ignored
"$prog" >"$tmp/expected"
"$wbrt" run --mode leak --leak-signal USR2 -- "$prog" >"$tmp/actual" 2>"$tmp/err"
cat "$tmp/err"
cmp "$tmp/expected" "$tmp/actual"
reports=$(grep -c '^wbrt: leak report: ' "$tmp/err")
[ "$reports" = 2 ] || { echo "FAIL: $reports reports, expected 2 (signal and exit)"; exit 1; }
# the first stack of each report is the planted leak, with its function named
grep -A1 '^wbrt: leak: 40960 bytes in 40 blocks allocated at:' "$tmp/err" | grep -q 'plant_leak' ||
    { echo "FAIL: the 40 planted blocks are not reported as allocated by plant_leak"; exit 1; }
if grep -A1 '^wbrt: leak: ' "$tmp/err" | grep -q keep_block; then
    echo "FAIL: the block still referenced is reported"
    exit 1
fi
echo ok
