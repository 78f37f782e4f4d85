#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# fixed_rss_test.sh WBRT PRELOAD_FIXED_COSTS BARRIER: a program that allocates 1 MiB pays
# at most 2 MiB of peak RSS for the preload (issue 19: side tables committed as they are
# used), the median of 5 runs against glibc's.  Start-up time is printed, not asserted.
set -euo pipefail
wbrt=$1 bench=$2 barrier=$3
. "$(dirname "$0")/require_barrier.sh"
require_barrier "$wbrt" "$barrier"
out=$(WBRT_BARRIER=$barrier "$bench" "$(dirname "$wbrt")/libwbrt-preload.so" --runs 5)
echo "$out"
extra=$(sed -n 's/^peak RSS.* extra \(-\{0,1\}[0-9]*\) KiB$/\1/p' <<<"$out")
[ -n "$extra" ] || { echo "FAIL: no RSS figure"; exit 1; }
[ "$extra" -le 2048 ] || { echo "FAIL: $extra KiB of extra RSS for 1 MiB allocated (at most 2048)"; exit 1; }
echo ok
