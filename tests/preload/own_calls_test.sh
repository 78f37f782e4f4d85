#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# own_calls_test.sh PRELOAD_LIB OBJECT...: wbrt's own code never calls a function that
# libwbrt-preload.so wraps for the program (read, poll, pipe2, stat, pthread_sigmask, ...):
# inside the preload such a call would bind to the wrapper.  The objects are the preload's;
# one that defines a wrapper is a wrapper file and may call the others (execl -> execv).
# Names the runtime defines for every build (wb_* API, its sigaction, pthread_create
# interposers, which call the real functions themselves) are not wrappers.
set -uo pipefail
lib=$1
shift
command -v nm >/dev/null || { echo "SKIPPED: nm (binutils) not installed"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
nm -D --defined-only "$lib" | awk '{print $3}' | sed 's/@.*//' | sort -u >"$tmp/exported"
[ -s "$tmp/exported" ] || { echo "FAIL: $lib exports nothing"; exit 1; }
: >"$tmp/runtime_defs"
for o in "$@"; do
    case $o in */runtime/preload/*) ;; *) nm --defined-only "$o" | awk 'NF == 3 {print $3}' >>"$tmp/runtime_defs" ;; esac
done
sort -u "$tmp/runtime_defs" -o "$tmp/runtime_defs"
comm -23 "$tmp/exported" "$tmp/runtime_defs" >"$tmp/wrappers"
grep -qx read "$tmp/wrappers" || { echo "FAIL: read is not among the wrappers found: the check sees nothing"; exit 1; }
fails=0 checked=0
for o in "$@"; do
    nm --defined-only "$o" | awk 'NF == 3 {print $3}' | sort -u >"$tmp/defs"
    [ -n "$(comm -12 "$tmp/defs" "$tmp/wrappers")" ] && continue      # a wrapper file
    checked=$((checked + 1))
    calls=$(nm -u "$o" | awk '{print $2}' | sed 's/@.*//' | sort -u | comm -12 - "$tmp/wrappers" | tr '\n' ' ')
    [ -z "$calls" ] || { echo "FAIL: ${o##*/} calls the preload's wrappers: $calls"; fails=$((fails + 1)); }
done
echo "$checked objects checked against $(wc -l <"$tmp/wrappers") wrapped names: $fails calling a wrapper"
[ "$fails" = 0 ]
