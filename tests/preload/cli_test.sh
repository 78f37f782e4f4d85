#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# cli_test.sh WBRT MT_PROGRAM: `wbrt run` passes exit statuses and signals through, prints
# its statistics line, and refuses bad settings with a message naming the variable; a
# program runs with another stop signal.
set -uo pipefail
wbrt=$1 mt=$2
fails=0
check() { # check DESCRIPTION EXPECTED ACTUAL
    if [ "$2" != "$3" ]; then echo "FAIL: $1: expected '$2', got '$3'"; fails=$((fails + 1)); fi
}
"$wbrt" run -- sh -c 'exit 3'; check "exit status" 3 $?
"$wbrt" run -- sh -c 'kill -TERM $$'; check "killed by SIGTERM" 143 $?
out=$("$wbrt" run --stats -- "$mt" 2>&1 >/dev/null)
[[ $out == *"young + "*"full collections"*"peak RSS"* ]] || { echo "FAIL: no statistics line: $out"; fails=$((fails + 1)); }
lib=$(dirname "$wbrt")/libwbrt-preload.so
bad() { # bad VARIABLE SETTINGS...: the preloaded program stops at start, naming VARIABLE
    local var=$1 err rc
    shift
    err=$(env "$@" LD_PRELOAD="$lib" true 2>&1)
    rc=$?
    [[ $err == *"$var="*"is invalid"* ]] || { echo "FAIL: $*: message does not name $var: $err"; fails=$((fails + 1)); }
    check "$* exit status" 127 "$rc"
}
bad WBRT_MODE WBRT_MODE=fast
bad WBRT_STOP_SIGNAL WBRT_STOP_SIGNAL=KILL
bad WBRT_ARM WBRT_ARM=sometimes
bad WBRT_STATS_INTERVAL WBRT_MODE=stats WBRT_STATS_INTERVAL=0
bad WBRT_LEAK_SIGNAL WBRT_MODE=leak WBRT_LEAK_SIGNAL=nope
"$wbrt" run --mode bogus -- true 2>/dev/null; check "--mode bogus" 2 $?
WBRT_STOP_SIGNAL=USR1 "$wbrt" run --young 1M -- "$mt" >/dev/null; check "mt_program with WBRT_STOP_SIGNAL=USR1" 0 $?
[ $fails = 0 ] && echo ok
