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
nm -D --defined-only "$lib" | awk '{sub(/@.*/, "", $3); print $3}' | sort -u >"$tmp/exported"
[ -s "$tmp/exported" ] || { echo "FAIL: $lib exports nothing"; exit 1; }
# "object symbol" lines, one nm run each for the definitions and the references
nm -A --defined-only "$@" | awk 'NF == 3 {sub(/:[^:]*$/, "", $1); print $1, $3}' >"$tmp/defs"
nm -A -u "$@" | awk '{sub(/:$/, "", $1); sub(/:[^:]*$/, "", $1); sub(/@.*/, "", $NF); print $1, $NF}' >"$tmp/uses"
awk '$1 !~ /\/runtime\/preload\// {print $2}' "$tmp/defs" | sort -u | comm -23 "$tmp/exported" - >"$tmp/wrappers"
grep -qx read "$tmp/wrappers" || { echo "FAIL: read is not among the wrappers found: the check sees nothing"; exit 1; }
awk 'FILENAME == ARGV[1] {w[$1] = 1; next}
     FILENAME == ARGV[2] {obj[$1] = 1; if ($2 in w) wrapper_file[$1] = 1; next}
     !($1 in wrapper_file) && ($2 in w) {bad[$1] = bad[$1] " " $2}
     END {n = 0; for (o in obj) if (!(o in wrapper_file)) n++
          for (o in bad) {name = o; sub(/.*\//, "", name); print "FAIL: " name " calls the preload'"'"'s wrappers:" bad[o]; f++}
          printf "%d objects checked against %d wrapped names: %d calling a wrapper\n", n, length(w), f
          exit f > 0}' "$tmp/wrappers" "$tmp/defs" "$tmp/uses"
