#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# verified_program_test.sh WBRT PROGRAM BARRIER: a C program that checks itself runs under
# the preload in gc mode with WBRT_VERIFY=1; its exit status is the test's (0 passed,
# 77 skipped, else failed).
set -euo pipefail
wbrt=$1 prog=$2 barrier=$3
. "$(dirname "$0")/require_barrier.sh"
require_barrier "$wbrt" "$barrier"
WBRT_VERIFY=1 exec "$wbrt" run --barrier "$barrier" -- "$prog"
