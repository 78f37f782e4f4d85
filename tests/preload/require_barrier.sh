# SPDX-License-Identifier: GPL-2.0-or-later
# Sourced by the test scripts that need a barrier.  WBRT_TEST_BARRIERS, a comma-separated
# list of barriers (CI sets it; unset or empty: none), names those this machine must offer:
# a test that finds one of them unavailable fails instead of skipping (tests/wbt_required.h
# is the same for the C tests).

# barrier_state WBRT BARRIER: what `WBRT probe` says of BARRIER: "available",
# "unavailable: <why>" or "software: <why>"; empty if it knows no such barrier.
barrier_state() {
    "$1" probe | awk -v b="$2" '$1 == b { $1 = ""; sub(/^ +/, ""); print }'
}

# listed_barriers WBRT: the barriers WBRT_TEST_BARRIERS lists, one a line.  A name that is
# not a barrier (of `WBRT probe`) is an error naming the variable and the accepted names.
listed_barriers() {
    local names b items
    names=$("$1" probe | awk '$1 != "auto:" { print $1 }')
    [ -n "$names" ] || { echo "$1 probe lists no barrier" >&2; return 2; }
    IFS=, read -ra items <<<"${WBRT_TEST_BARRIERS:-}"
    for b in "${items[@]}"; do
        [ -n "$b" ] || continue   # "a,,b" or a trailing comma
        if ! grep -qxF -- "$b" <<<"$names"; then
            echo "WBRT_TEST_BARRIERS=$WBRT_TEST_BARRIERS: '$b' is not a barrier (one of $(paste -sd, <<<"$names"))" >&2
            return 2
        fi
        echo "$b"
    done
}

# barrier_lost WBRT BARRIER WHY: a test of BARRIER cannot run here (WHY).  Prints
# "SKIPPED: BARRIER: WHY" and exits 77 (ctest: skipped), or fails (exit 1) if
# WBRT_TEST_BARRIERS lists BARRIER.
barrier_lost() {
    local listed
    listed=$(listed_barriers "$1") || exit 2
    if grep -qxF -- "$2" <<<"$listed"; then
        echo "FAILED: $2: $3 (WBRT_TEST_BARRIERS lists $2: a failure, not a skip)"
        exit 1
    fi
    echo "SKIPPED: $2: $3"
    exit 77
}

# require_barrier WBRT BARRIER: returns if BARRIER is available, else barrier_lost.
require_barrier() {
    local state
    state=$(barrier_state "$1" "$2")
    case $state in
      available) listed_barriers "$1" >/dev/null || exit 2 ;;   # a mistyped list stops every test
      "") echo "$1 probe knows no barrier $2" >&2; exit 1 ;;
      *) barrier_lost "$1" "$2" "$state" ;;
    esac
}
