#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# reclaim_test.sh WBRT PROGRAM BARRIER: in gc mode the memory an unmodified program lost
# is reclaimed: tests/preload/reclaim_program.c drops 400 MB, the peak heap must stay
# under 64 MiB (a root scan that took the heap itself for program memory kept it all).
# A 4 MiB young generation: it may grow 4-fold (runtime/young_size.c), and on a busy
# machine the default 16 MiB one did, to the bound itself.
set -euo pipefail
wbrt=$1 prog=$2 barrier=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/require_barrier.sh"
require_barrier "$wbrt" "$barrier"
WBRT_VERIFY=1 "$wbrt" run --barrier "$barrier" --young 4M --stats="$tmp/stats.json" -- "$prog" >"$tmp/out"
cat "$tmp/out"
grep -qx 'last block intact: yes' "$tmp/out" || { echo "FAIL: the block kept was lost or damaged"; exit 1; }
# the first line holds the totals of the process tree
peak=$(head -n 1 "$tmp/stats.json" | sed -n 's/.*"peak_heap_bytes": \([0-9]*\).*/\1/p')
young=$(head -n 1 "$tmp/stats.json" | sed -n 's/.*"young_collections": \([0-9]*\).*/\1/p')
echo "peak heap $peak bytes, $young young collections"
[ -n "$peak" ] && [ "$peak" -gt 0 ] && [ "${young:-0}" -gt 0 ] || { echo "FAIL: no collection seen"; cat "$tmp/stats.json"; exit 1; }
[ "$peak" -lt $((64 << 20)) ] || { echo "FAIL: peak heap $peak bytes: lost memory was not reclaimed"; exit 1; }
echo ok
