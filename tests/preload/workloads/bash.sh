# SPDX-License-Identifier: GPL-2.0-or-later
# collects: bash
# needs: bash
# a fork-heavy bash script: command substitutions, subshells, pipes, arrays.
set -e
declare -A seen
total=0
for i in $(seq 1 60); do
    v=$(echo $((i * 7)))
    w=$( (echo $i; echo $v) | tail -n 1 )
    seen[$((w % 31))]+="$i,"
    total=$((total + w))
done
echo "$total ${#seen[@]}"
for k in $(printf '%s\n' "${!seen[@]}" | sort -n); do echo "$k ${#seen[$k]}"; done
s=""
for i in $(seq 1 4000); do s+="$i:"; done
echo ${#s} "${s:1000:40}"
# exec leaves no descriptor of wbrt's behind
env -u LD_PRELOAD ls /proc/self/fd | sort -n | tr '\n' ' '; echo
arr=($(seq 1 500 | rev))
echo "${arr[@]:100:5}" $(printf '%s\n' "${arr[@]}" | sort | head -n 3 | tr '\n' ' ')
# enough allocation for collections in the main shell (a 1 MiB young generation)
declare -A big
for i in $(seq 1 20000); do big[k$i]="v$((i * 3))"; done
echo "${#big[@]} ${big[k777]}"
