#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# deferred_barrier_test.sh WBRT: the preload sets its barrier up at a process's first
# collection.  With a kernel barrier this machine lacks (from `WBRT probe`; none lacking:
# skipped), a process that never collects runs as asked and says nothing, and one that
# collects says so in exactly one line at its first collection, then runs on under none
# (its statistics line names the barrier in use), its output intact.
set -euo pipefail
wbrt=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
lacking=$("$wbrt" probe | awk '$2 == "unavailable:" { print $1; exit }')
[ -n "$lacking" ] || { echo "SKIPPED: every kernel barrier is available here"; exit 77; }

"$wbrt" run --barrier "$lacking" -- /bin/true 2>"$tmp/err" || { echo "FAIL: /bin/true failed"; cat "$tmp/err"; exit 1; }
[ ! -s "$tmp/err" ] || { echo "FAIL: a process that never collects said:"; cat "$tmp/err"; exit 1; }

# bash's own strings, 3000 of them up to 11 kB: collections in a 256 KiB young generation
"$wbrt" run --barrier "$lacking" --young 256K --stats="$tmp/stats.json" -- \
    bash -c 'x=; for ((i = 1; i <= 3000; i++)); do x="$x$i"; done; echo ${#x}' >"$tmp/out" 2>"$tmp/err"
[ "$(cat "$tmp/out")" = 10893 ] || { echo "FAIL: output $(cat "$tmp/out"), expected 10893"; exit 1; }
want="^wbrt: WBRT_BARRIER=$lacking: barrier $lacking unavailable: .+; using none\$"
if [ "$(wc -l <"$tmp/err")" != 1 ] || ! grep -Eq "$want" "$tmp/err"; then
    echo "FAIL: expected one line matching $want, got:"
    cat "$tmp/err"
    exit 1
fi
grep -q '"program": "bash", "mode": "gc", "barrier": "none", "young_collections": [1-9]' "$tmp/stats.json" ||
    { echo "FAIL: bash's statistics do not show collections under none:"; cat "$tmp/stats.json"; exit 1; }
echo "ok: $lacking, lacking here, is refused at the first collection in one line: $(cat "$tmp/err")"
