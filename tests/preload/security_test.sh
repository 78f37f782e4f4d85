#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# security_test.sh PART WBRT PROGRAM LINKED: the preload's security (docs/testing.md, "Security and checkers"), PART:
#  1. secure: secure execution: each WBRT_* setting below has an effect on LINKED (PROGRAM linked
#     with the preload) run normally; all of them together have none on a setgid copy run
#     by root (AT_SECURE=1), which prints one line about it; LD_PRELOAD of the preload is
#     not loaded into a setgid program at all (glibc).  Root only, and a filesystem that
#     honours setgid, or SKIPPED for this part.
#  2. fds: no descriptor of wbrt survives exec, under every available barrier and mode (a
#     barrier WBRT_TEST_BARRIERS lists must be available, in this part and the next);
#  3. files: the statistics files refuse a symlink planted in their place, and are made 0600;
#  4. signals: the program's own SIGSEGV, SIGBUS, SIGUSR1 and SIGPWR handlers run, under every
#     barrier; a stop signal sent from outside is ignored.
set -uo pipefail
part=$1 wbrt=$2 prog=$3 linked=$4
lib=$(dirname "$wbrt")/libwbrt-preload.so
fails=0 skipped=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
dir=$(mktemp -d "$PWD/security.XXXXXX")
trap 'rm -rf "$dir"' EXIT
chmod 755 "$dir"
barriers=$("$wbrt" probe | awk '$2 == "available" { printf "%s ", $1 }')
. "$(dirname "$0")/require_barrier.sh"
listed=$(listed_barriers "$wbrt") || exit 2

# Fails unless some barrier is available and every kernel barrier WBRT_TEST_BARRIERS lists
# is (the software ones are builds, not for the preload).
check_barriers() {
    local b state
    [ -n "$barriers" ] || fail "$wbrt probe lists no available barrier"
    for b in $listed; do
        state=$(barrier_state "$wbrt" "$b")
        case $state in
          available|software:*) ;;
          *) fail "$b: $state (WBRT_TEST_BARRIERS lists $b)" ;;
        esac
    done
}

case $part in
secure)
bad_settings=(WBRT_MODE=bogus WBRT_BARRIER=bogus "WBRT_IMAGE=$dir/no-such-image" WBRT_HEAP_MAX=x
              WBRT_YOUNG_BYTES=x WBRT_FULL_MIN=x WBRT_MARK_STACK_MAX=x WBRT_HEAP_GROWTH=x
              WBRT_TENURE_AGE=x WBRT_VERIFY=x WBRT_VERBOSE=x WBRT_ON_BAD_FREE=x WBRT_STOP_SIGNAL=x
              WBRT_ARM=x WBRT_UFFD_LOOP=x
              "WBRT_MODE=leak WBRT_LEAK_SIGNAL=x" "WBRT_MODE=stats WBRT_STATS_INTERVAL=0")
if [ "$(id -u)" != 0 ]; then
    echo "SKIPPED: secure execution: needs root (to make a setgid copy and run it with rgid != egid)"
    skipped=1
else
    cp "$linked" "$dir/setgid"
    : >"$dir/stats"
    for s in "${bad_settings[@]}"; do    # each one alone is honoured without setgid
        # shellcheck disable=SC2086
        env $s "$dir/setgid" secure >/dev/null 2>&1 && fail "without setgid, $s had no effect"
    done
    WBRT_STATS_FILE=$dir/stats "$dir/setgid" secure >/dev/null
    [ -s "$dir/stats" ] || fail "without setgid, WBRT_STATS_FILE got no statistics"
    : >"$dir/stats"
    cp "$prog" "$dir/plain-setgid"
    chgrp nogroup "$dir/setgid" "$dir/plain-setgid" && chmod g+s "$dir/setgid" "$dir/plain-setgid"
    out=$(env ${bad_settings[*]} WBRT_STATS_FILE="$dir/stats" "$dir/setgid" secure 2>"$dir/err")
    rc=$?
    if [ "$out" = AT_SECURE=0 ]; then
        echo "SKIPPED: secure execution: $(findmnt -no TARGET,OPTIONS -T "$dir") does not honour setgid (AT_SECURE=0)"
        skipped=1
    else
        [ "$rc" = 0 ] && [ "$out" = AT_SECURE=1 ] || fail "setgid run: exit $rc, output '$out': $(head -3 "$dir/err")"
        [ -s "$dir/stats" ] && fail "setgid run wrote WBRT_STATS_FILE"
        [ "$(cat "$dir/err")" = "wbrt: secure execution (setuid/setgid): WBRT_* variables ignored" ] ||
            fail "setgid run: stderr is not the one line expected: $(head -3 "$dir/err")"
        out=$(LD_PRELOAD=$lib WBRT_MODE=bogus "$dir/plain-setgid" secure 2>&1) ||
            fail "LD_PRELOAD=$lib reached a setgid program: $out"
        echo "secure execution: ${#bad_settings[@]} settings + WBRT_STATS_FILE each honoured normally, all ignored setgid"
    fi
fi

;;
fds) # the list after exec is the one the shell gave us
check_barriers
"$prog" listfds >"$dir/fds.expected"
runs=0
for setting in $(for b in $barriers; do echo "WBRT_BARRIER=$b"; done) \
               "WBRT_MODE=leak WBRT_LEAK_SIGNAL=USR2" "WBRT_MODE=stats WBRT_STATS_INTERVAL=10" \
               $([[ " $barriers " == *" uffd "* ]] && echo "WBRT_BARRIER=uffd,WBRT_UFFD_LOOP=uring"); do
    setting=${setting//,/ }   # the uffd barrier's io_uring handler loop
    # shellcheck disable=SC2086
    env $setting WBRT_YOUNG_BYTES=1M LD_PRELOAD="$lib" "$prog" fds >"$dir/fds" 2>&1 ||
        fail "$setting: fds run failed: $(head -3 "$dir/fds")"
    cmp -s "$dir/fds" "$dir/fds.expected" || fail "$setting: descriptors survived exec: $(diff "$dir/fds.expected" "$dir/fds")"
    runs=$((runs + 1))
done
echo "descriptors: $runs configurations, none of wbrt's survived exec"

;;
files)
echo precious >"$dir/victim"
ln -s "$dir/victim" "$dir/stats-link"
err=$(WBRT_STATS_FILE=$dir/stats-link LD_PRELOAD=$lib "$prog" secure 2>&1 >/dev/null)
[[ $err == *"WBRT_STATS_FILE=$dir/stats-link: cannot append"* ]] || fail "stats file symlink: no error: $err"
ln -s "$dir/victim" "$dir/out-link"
err=$("$wbrt" run --stats="$dir/out-link" -- true 2>&1)
[[ $err == *"$dir/out-link"* ]] || fail "wbrt run --stats=symlink: no error: $err"
[ "$(cat "$dir/victim")" = precious ] || fail "the victim of a planted symlink was written"
(umask 0 && "$wbrt" run --stats="$dir/out.json" -- true)
[ "$(stat -c %a "$dir/out.json")" = 600 ] || fail "--stats=FILE created with mode $(stat -c %a "$dir/out.json") under umask 0"
echo "files: planted symlinks refused with an error (WBRT_STATS_FILE, --stats=FILE), victim intact, --stats=FILE 0600 under umask 0"

;;
signals) # with collections stopping the program's threads
check_barriers
for b in $barriers; do
    for stop in PWR USR2; do
        arg=; [ $stop = USR2 ] && arg=pwr   # a SIGPWR handler only when it is not the stop signal
        out=$(WBRT_STOP_SIGNAL=$stop "$wbrt" run --barrier "$b" --young 1M --stats="$dir/sig.json" -- "$prog" signals $arg 2>&1)
        rc=$?
        collections=$(python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print(int(s["young_collections"]+s["full_collections"]))' "$dir/sig.json" 2>/dev/null)
        [ "$rc" = 0 ] || fail "signals under $b (stop signal $stop): exit $rc: $out"
        [ "${collections:-0}" -gt 0 ] || fail "signals under $b: no collection ran"
        echo "signals under $b, stop signal $stop: $out; $collections collections"
    done
done
# A stop signal from outside (kill, SI_USER) is not the collector's: the process carries on.
out=$(LD_PRELOAD=$lib timeout 20 sh -c 'kill -PWR $$; echo alive' 2>&1)
[ "$out" = alive ] || fail "kill -PWR from outside stopped or killed a preloaded shell: '$out'"
;;
*) echo "usage: security_test.sh secure|fds|files|signals WBRT PROGRAM LINKED"; exit 2 ;;
esac
[ "$fails" = 0 ] || exit 1
[ "$skipped" = 0 ] || exit 77
echo ok
