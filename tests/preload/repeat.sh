#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# repeat.sh BUILD-DIR [RUNS] [BARRIER...]: the preload tests (ctest -R preload) run RUNS
# times in a row (default 50) under each barrier (default: uffd-async uffd mprotect none;
# "any": those not run per barrier), all together in each run (ctest -j2); prints per barrier
# and test how many runs passed, failed and skipped (BUILD-DIR/preload-repeat/summary.txt
# after each run), and keeps each failure's output there too (issue 19,
# point 3: zero failures in 50 consecutive runs).  Long: hours on 2 cores for 50 runs.
# PRELOAD_REPEAT_EXCLUDE: a regex of tests to leave out (ctest -E), e.g. python_regrtest;
# PRELOAD_REPEAT_ONLY: a regex the tests' names must also match, e.g. python (tests that
# never start awk need not repeat once per awk).
set -uo pipefail
build=${1:?usage: repeat.sh BUILD-DIR [RUNS] [BARRIER...]}
runs=${2:-50}
shift $(($# < 2 ? $# : 2))
barriers=("$@")
[ ${#barriers[@]} -gt 0 ] || barriers=(uffd-async uffd mprotect none any)
case $runs in '' | *[!0-9]* | 0) echo "repeat.sh: RUNS must be a positive integer" >&2; exit 2 ;; esac
exclude=${PRELOAD_REPEAT_EXCLUDE:-}
only=${PRELOAD_REPEAT_ONLY:-}
out=$build/preload-repeat
rm -rf "$out"
mkdir -p "$out"
declare -A pass=() fail=() skip=()
# summary: the table so far, and the failure count in total_fail
summary() {
    total_fail=0
    printf '%-12s %-50s %6s %6s %6s\n' barrier test passed failed skipped
    for key in $(printf '%s\n' "${!pass[@]}" "${!fail[@]}" "${!skip[@]}" | tr ' ' '|' | sort -u); do
        k=${key//|/ }
        printf '%-12s %-50s %6d %6d %6d\n' "${k%% *}" "${k#* }" "${pass[$k]:-0}" "${fail[$k]:-0}" "${skip[$k]:-0}"
        total_fail=$((total_fail + ${fail[$k]:-0}))
    done
    echo "failures: $total_fail (outputs in $out)"
}
# The barrier a test runs under: its name's suffix, "any" for the tests without one.
barrier_of() {
    case ${1##*.} in uffd-async | uffd | mprotect | softdirty | none) echo "${1##*.}" ;; *) echo any ;; esac
}
# The tests chosen, run together in each round (one ctest a round keeps both CPUs busy:
# a ctest a barrier waited for its longest test, Python's, five times a round).
chosen=()
while read -r name; do
    [[ " ${barriers[*]} " == *" $(barrier_of "$name") "* ]] && chosen+=("$name")
done < <(ctest --test-dir "$build" -N -R "preload${only:+.*($only)}" ${exclude:+-E "$exclude"} |
         sed -n 's/^ *Test *#[0-9]*: //p')
[ ${#chosen[@]} -gt 0 ] || { echo "repeat.sh: no preload test matches" >&2; exit 2; }
which="^($(printf '%s\n' "${chosen[@]}" | sed 's/[.]/\\./g' | paste -sd'|'))\$"
for ((r = 1; r <= runs; r++)); do
    log=$out/run$r.log
    ctest --test-dir "$build" -R "$which" -j2 --output-on-failure >"$log" 2>&1
    while read -r name verdict; do
        key="$(barrier_of "$name") $name"
        case $verdict in
            Passed) pass[$key]=$((${pass[$key]:-0} + 1)) ;;
            Skipped) skip[$key]=$((${skip[$key]:-0} + 1)) ;;
            *) fail[$key]=$((${fail[$key]:-0} + 1)); cp "$log" "$out/failed.$name.run$r.log" ;;
        esac
    done < <(sed -n 's/^ *[0-9]*\/[0-9]* *Test *#[0-9]*: \([^ ]*\) [.* ]*\([A-Za-z]*\).*/\1 \2/p' "$log")
    [ "$r" -lt "$runs" ] && rm -f "$log"
    echo "run $r of $runs done: $(date -u +%T)"
    summary >"$out/summary.txt"   # so that a run stopped early still has its counts
done
summary
[ "$total_fail" = 0 ]
