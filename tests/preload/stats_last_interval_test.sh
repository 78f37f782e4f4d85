#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# stats_last_interval_test.sh WBRT PROGRAM BARRIER: in stats mode a process shorter than
# one sampling interval (60 s here) still reports the pages it dirtied: the last, partial
# interval is sampled at exit (before, a busy machine that never ran the sampling thread
# left "no interval with dirty pages").
set -euo pipefail
wbrt=$1 prog=$2 barrier=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/require_barrier.sh"
require_barrier "$wbrt" "$barrier"
WBRT_STATS_INTERVAL=60000 "$wbrt" run --barrier "$barrier" --mode stats --stats="$tmp/stats.json" -- "$prog" >/dev/null
/usr/bin/python3.11 - "$tmp/stats.json" "$(basename "$prog")" <<'PY'
import json, sys
procs = [p for p in json.load(open(sys.argv[1]))["per_process"] if p["program"] == sys.argv[2]]
bad = [p for p in procs if p["intervals"] < 1 or p["dirty_per_interval_max"] < 1]
if not procs or bad:
    sys.exit(f"FAIL: a process without its last interval: {bad or procs}")
print(f"ok: {len(procs)} processes, each with its last interval sampled at exit")
PY
