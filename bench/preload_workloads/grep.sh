# SPDX-License-Identifier: GPL-2.0-or-later
# GNU grep: extended and Perl regular expressions, counts, inverted matches.
set -e
seq 1 100000 | sed 's/$/ the quick brown fox jumps over the lazy dog/' > input.txt
grep -cE '(12|34)[0-9]*5 .*(fox|cat)' input.txt
grep -P '^\d*(\d)\1 ' input.txt | cksum
grep -vc 'lazy' input.txt || true
grep -oE '[a-z]{5}' input.txt | sort | uniq -c
