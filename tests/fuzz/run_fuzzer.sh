#!/bin/sh
# run_fuzzer.sh FUZZER SEEDS WORKDIR SECONDS: fuzzes for SECONDS from the seed corpus SEEDS
# (read only: new inputs go to WORKDIR/corpus, a failing one to WORKDIR/crash-*) and prints
# libFuzzer's final statistics (executions, coverage).  Fails on any crash or failed check.
# It prints libFuzzer's random seed first; FUZZ_SEED=N replays a run's choices (one input at
# a time, so the same inputs as far as the time allows), and a failing input, saved as
# WORKDIR/crash-*, replays exactly through tests/fuzz's plain driver or FUZZER itself.
# SPDX-License-Identifier: GPL-2.0-or-later
set -eu
fuzzer=$1 seeds=$2 work=$3 seconds=$4
seed=${FUZZ_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
echo "fuzz seed $seed (FUZZ_SEED=$seed replays it)"
rm -rf "$work"
mkdir -p "$work/corpus"
# libFuzzer's own exit code for a crash is 77, which ctest would count as skipped.
set -- -seed="$seed" -max_total_time="$seconds" -print_final_stats=1 -error_exitcode=1 -timeout_exitcode=1 \
    -artifact_prefix="$work/" "$work/corpus" "$seeds"
echo "$fuzzer $*"
exec "$fuzzer" "$@"
