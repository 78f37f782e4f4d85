#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# python_regrtest.sh WBRT BARRIER [MODULE...]: Python's own regression tests
# (libpython3.11-testsuite) give the same result for every test case under the preload as
# without it: `python3.11 -m test` with PYTHONMALLOC=malloc (so that every object goes
# through malloc), once plain and once under `wbrt run --barrier BARRIER` in gc mode, each
# writing JUnit XML, compared case by case.  Default modules: the short set ctest runs
# (test_email crashed under the preload before threads could exit safely); the longer set
# of docs/preload.md names its modules.
# python_regrtest.sh --plain DIR [MODULE...]: only the plain run, its results kept in DIR;
# with PYTHON_REGRTEST_PLAIN=DIR the run above takes them from there when DIR holds the
# same modules' (ctest runs the plain run once for every barrier: a fixture).
set -euo pipefail
python=/usr/bin/python3.11
if [ "$1" = --plain ]; then
    plain_dir=$2 barrier=
    rm -rf "$plain_dir"   # never a previous run's
else
    wbrt=$(realpath "$1") barrier=$2 plain_dir=${PYTHON_REGRTEST_PLAIN:-}
fi
shift 2
modules=("$@")
[ ${#modules[@]} -gt 0 ] || modules=(test_email test_json test_re test_pickle)
if [ -n "$barrier" ]; then
    . "$(dirname "$0")/require_barrier.sh"
    require_barrier "$wbrt" "$barrier"
fi
# Debian's libpython3.11-stdlib has test.libregrtest but not the test modules: without
# them both runs fail every module at import, alike, and nothing would be compared.
for m in test.libregrtest "${modules[@]/#/test.}"; do
    "$python" -c "import $m" 2>/dev/null ||
        { echo "FAIL: $python cannot import $m (apt-get install libpython3.11-testsuite)"; exit 1; }
done
tmp=$(mktemp -d)
keep=$PWD/python_regrtest.${barrier:-plain}
rm -rf "$keep"
# a failure's outputs are kept for its diagnosis
trap 'rc=$?; [ "$rc" = 0 ] || { cp -r "$tmp" "$keep" && echo "outputs kept in $keep"; }; rm -rf "$tmp"' EXIT
# Test cases with a timed assertion, left out: on a loaded machine they fail with or
# without wbrt (test_re's 10 MB search must finish within 0.1 s).
timed=(-i test_search_anchor_at_beginning)
# run NAME [PREFIX...]: the modules' regression tests in a fresh directory; exit status kept.
# Both runs get a soft RLIMIT_NOFILE of at most 1024: where the soft limit is the hard one
# wbrt lowers it to 1024 to place its descriptors (docs/preload.md), and test_subprocess's
# test_no_leaking, which opens descriptors up to the limit, then runs instead of skipping.
run() {
    local name=$1 rc=0
    shift
    mkdir "$tmp/$name"
    (cd "$tmp/$name" && { [ "$(ulimit -Sn)" != unlimited ] && [ "$(ulimit -Sn)" -le 1024 ] || ulimit -Sn 1024; } &&
        PYTHONMALLOC=malloc "$@" "$python" -m test --junit-xml "$tmp/$name.xml" --timeout 600 \
        "${timed[@]}" "${modules[@]}" >"$tmp/$name.out" 2>&1) || rc=$?
    echo "$rc" >"$tmp/$name.rc"
}
# the plain run's results, from plain_dir if it holds these modules'
shared=
if [ -n "$barrier" ] && [ -n "$plain_dir" ] && [ "$(cat "$plain_dir/modules" 2>/dev/null)" = "${modules[*]}" ]; then
    shared=$plain_dir
    cp "$plain_dir/plain.cases" "$plain_dir/plain.rc" "$plain_dir/plain.out" "$tmp/"
fi
[ -n "$shared" ] || run plain
[ -z "$barrier" ] || run wbrt "$wbrt" run --barrier "$barrier" --
# result per test case: "classname.name status", sorted
results() {
    "$python" - "$1" <<'PY'
import sys, xml.etree.ElementTree as ET
for case in ET.parse(sys.argv[1]).iter("testcase"):
    status = "passed"
    for kind in ("failure", "error", "skipped"):
        if case.find(kind) is not None:
            status = kind
    print(f"{case.get('classname')}.{case.get('name')} {status}")
PY
}
for name in plain wbrt; do
    [ "$name" != plain ] || [ -z "$shared" ] || continue
    [ "$name" != wbrt ] || [ -n "$barrier" ] || continue
    if [ ! -s "$tmp/$name.xml" ]; then
        echo "FAIL: the $name run left no results (exit status $(cat "$tmp/$name.rc")); its output ends:"
        tail -n 30 "$tmp/$name.out"
        exit 1
    fi
    results "$tmp/$name.xml" | sort >"$tmp/$name.cases"
    if ! grep -q ' passed$' "$tmp/$name.cases"; then
        echo "FAIL: no test case passed in the $name run (exit status $(cat "$tmp/$name.rc")); its output ends:"
        tail -n 30 "$tmp/$name.out"
        exit 1
    fi
done
if [ -z "$barrier" ]; then
    mkdir -p "$plain_dir"
    cp "$tmp/plain.cases" "$tmp/plain.rc" "$tmp/plain.out" "$plain_dir/"
    echo "${modules[*]}" >"$plain_dir/modules"   # last: the directory is complete
    echo "ok: ${modules[*]} without wbrt: $(wc -l <"$tmp/plain.cases") test cases, kept in $plain_dir"
    exit 0
fi
if ! diff "$tmp/plain.cases" "$tmp/wbrt.cases" >"$tmp/diff" || [ "$(cat "$tmp/plain.rc")" != "$(cat "$tmp/wbrt.rc")" ]; then
    echo "FAIL: results differ under wbrt ($barrier) from glibc's (< glibc, > wbrt); exit status $(cat "$tmp/plain.rc") / $(cat "$tmp/wbrt.rc")"
    head -n 40 "$tmp/diff"
    tail -n 30 "$tmp/wbrt.out"
    exit 1
fi
echo "ok: ${modules[*]} under $barrier: $(wc -l <"$tmp/wbrt.cases") test cases, $(grep -c ' passed$' "$tmp/wbrt.cases" || true) passed, the same as without wbrt${shared:+ (its run in $shared)}"
