#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# exec_chain_test.sh WBRT EXEC_CHAIN BARRIER: 300 execs in a row under stats mode, which
# stops the program every millisecond; every image must run (none killed by a stop
# signal left pending across an exec).
set -euo pipefail
wbrt=$1 chain=$2 barrier=$3
. "$(dirname "$0")/require_barrier.sh"
require_barrier "$wbrt" "$barrier"
rc=0
out=$(WBRT_STATS_INTERVAL=1 "$wbrt" run --barrier "$barrier" --mode stats -- "$chain" 300 2>&1) || rc=$?
if [ "$rc" != 0 ] || [ "$out" != "exec chain done" ]; then
    echo "FAIL: exec chain under $barrier/stats: exit $rc, output:"
    echo "$out" | head -n 20
    exit 1
fi
echo "ok: 300 execs under $barrier/stats, 1 ms sampling"
