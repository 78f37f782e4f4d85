#!/usr/bin/env bash
# junit_counts_test.sh [CTEST]: tests/run's counting (tests/junit_counts) over a scratch ctest
# directory with one test of each kind: a test ctest could not start (missing executable,
# missing required file) counts as failed and is named, only exit 77 as skipped.
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail
ctest=${1:-ctest}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cat >"$dir/CTestTestfile.cmake" <<'TESTS'
add_test(pass "/bin/true")
add_test(skip "/bin/sh" "-c" "exit 77")
set_tests_properties(skip PROPERTIES SKIP_RETURN_CODE 77)
add_test(fail "/bin/false")
add_test(missing "/nonexistent/test")
add_test(needs_file "/bin/true")
set_tests_properties(needs_file PROPERTIES REQUIRED_FILES "/nonexistent/file")
add_test(off "/bin/true")
set_tests_properties(off PROPERTIES DISABLED ON)
TESTS
"$ctest" --test-dir "$dir" --output-junit "$dir/junit.xml" >"$dir/ctest.out" 2>&1 || true
counts=$("$(dirname "$0")/junit_counts" "$dir/junit.xml" 2>"$dir/err")
named=$(sed -n 's/^junit_counts: not run: //p' "$dir/err" | sort | paste -sd ' ')
echo "passed failed skipped: $counts; not run: $named"
if [ "$counts" != "1 3 2" ] || [ "$named" != "missing needs_file" ]; then
  echo "FAIL: expected '1 3 2' (fail, missing and needs_file failed; skip and off skipped), not run: missing needs_file"
  cat "$dir/ctest.out" "$dir/err"
  exit 1
fi
echo ok
