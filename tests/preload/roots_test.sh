#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# roots_test.sh WBRT PROGRAM BARRIER: tests/preload/roots_program.c under the preload with
# WBRT_TRACK_ROOTS=1 and WBRT_VERIFY=1, survivors promoted at once (WBRT_TENURE_AGE=0) and kept young for three
# collections (3: a root page that pointed at one must be scanned again while it stays
# young).  Exit 0 passed, 77 skipped, else failed.
set -euo pipefail
wbrt=$1 prog=$2 barrier=$3
. "$(dirname "$0")/require_barrier.sh"
require_barrier "$wbrt" "$barrier"
for age in 0 3; do
    echo "WBRT_TENURE_AGE=$age"
    WBRT_TRACK_ROOTS=1 WBRT_VERIFY=1 WBRT_TENURE_AGE=$age "$wbrt" run --barrier "$barrier" -- "$prog"
done
