#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# run_program.sh WBRT WORKLOAD BARRIER MODE
# Runs WORKLOAD (a script of workloads/, or an executable) without wbrt, then under
# `wbrt run --barrier BARRIER --mode MODE` with a 1 MiB young generation (a workload's
# "# young: SIZE" line sets another) and WBRT_VERIFY=1,
# and requires the same exit status and byte-for-byte the same output.  The statistics
# must show that the program's own process collected (gc mode), did not (leak, stats), and
# counted dirty pages in 10 ms intervals (stats).
set -euo pipefail
wbrt=$1 workload=$2 barrier=$3 mode=$4
export LC_ALL=C
if [[ $workload == *.sh ]]; then
    cmd=(bash "$workload")
    collects=$(sed -n 's/^# collects: //p' "$workload")
    needs=$(sed -n 's/^# needs: //p' "$workload")
    young=$(sed -n 's/^# young: //p' "$workload")
else
    cmd=("$workload")
    collects=$(basename "$workload")
    needs=$workload
fi
. "$(dirname "$0")/require_barrier.sh"
command -v "$needs" >/dev/null || barrier_lost "$wbrt" "$barrier" "$needs is not installed"
require_barrier "$wbrt" "$barrier"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/plain" "$tmp/wbrt"
rc=0
(cd "$tmp/plain" && env -u LD_PRELOAD "${cmd[@]}") >"$tmp/expected" 2>"$tmp/expected.err" || rc=$?
rc_wbrt=0
(cd "$tmp/wbrt" && WBRT_VERIFY=1 WBRT_STATS_INTERVAL=10 "$wbrt" run --barrier "$barrier" --mode "$mode" --young "${young:-1M}" \
    --stats="$tmp/stats.json" -- "${cmd[@]}") >"$tmp/actual" 2>"$tmp/actual.err" || rc_wbrt=$?
if [ "$rc" != "$rc_wbrt" ] || ! cmp -s "$tmp/expected" "$tmp/actual"; then
    echo "FAIL: $(basename "$workload") under $barrier/$mode: exit $rc_wbrt (expected $rc), output differs:"
    diff "$tmp/expected" "$tmp/actual" | head -n 20 || true
    echo "--- stderr under wbrt:"
    head -n 20 "$tmp/actual.err"
    exit 1
fi
if [ "$rc" != 0 ]; then
    echo "FAIL: $(basename "$workload") exits $rc even without wbrt:"
    head -n 20 "$tmp/expected.err"
    exit 1
fi
# The process named $collects must have run collections (gc mode), and every process
# of the tree must have reported under the barrier asked for.
/usr/bin/python3.11 - "$tmp/stats.json" "$collects" "$barrier" "$mode" <<'PY'
import json, sys
stats = json.load(open(sys.argv[1]))
name, barrier, mode = sys.argv[2], sys.argv[3], sys.argv[4]
procs = stats["per_process"]
mine = [p for p in procs if p["program"] == name]
if not mine:
    sys.exit(f"FAIL: no statistics from a process named {name}: {[p['program'] for p in procs]}")
bad = [p for p in procs if p["barrier"] != barrier or p["mode"] != mode]
if bad:
    sys.exit(f"FAIL: processes ran with another barrier or mode: {bad[:3]}")
collections = sum(p["young_collections"] + p["full_collections"] for p in mine)
if mode == "gc" and collections == 0:
    sys.exit(f"FAIL: {name} never collected: {mine}")
if mode != "gc" and collections:
    sys.exit(f"FAIL: {name} collected in {mode} mode: {mine}")
if mode == "stats" and not any(p["intervals"] and p["dirty_per_interval_max"] for p in mine):
    sys.exit(f"FAIL: {name}: no interval with dirty pages in stats mode: {mine}")
print(f"ok: {name} under {barrier}/{mode}: {len(procs)} processes, {collections} collections "
      f"in {name}, {stats['barrier_faults']:.0f} barrier faults")
PY
