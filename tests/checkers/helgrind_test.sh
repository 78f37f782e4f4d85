#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# helgrind_test.sh BARRIER WBRT PROGRAM: PROGRAM (stop_world.c) under valgrind's helgrind with
# WBRT_BARRIER=BARRIER must report no error and keep its lists intact.  Only the barriers
# valgrind can run: it has no userfaultfd(2) (syscall 323 is unhandled: ENOSYS) nor
# PAGEMAP_SCAN, and soft-dirty is the kernel's; mprotect's faults and none's stops are real.
set -uo pipefail
barrier=$1 wbrt=$2 prog=$3
. "$(dirname "$0")/../preload/require_barrier.sh"
command -v valgrind >/dev/null || barrier_lost "$wbrt" "$barrier" "valgrind is not installed"
require_barrier "$wbrt" "$barrier"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# allregs-at-mem-access: a store that faults must leave every register exact, as on the
# hardware, since the barrier's SIGSEGV handler returns and the store is retried (by
# default valgrind keeps only the unwind registers exact there, and the program breaks).
out=$(WBRT_BARRIER=$barrier valgrind --tool=helgrind --px-default=allregs-at-mem-access \
      --error-exitcode=99 "$prog" 2>"$log")
rc=$?
summary=$(grep -o 'ERROR SUMMARY: .*' "$log")
echo "$out; helgrind: $summary"
if [ "$rc" != 0 ] || [[ $summary != "ERROR SUMMARY: 0 errors"* ]] || [[ $out != *"kept lists intact"* ]]; then
    echo "FAIL: exit $rc under helgrind with barrier $barrier:"
    grep -v '^--' "$log" | head -n 60
    exit 1
fi
echo ok
