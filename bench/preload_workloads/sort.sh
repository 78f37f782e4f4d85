# SPDX-License-Identifier: GPL-2.0-or-later
# GNU sort (in memory, one thread), uniq, join: keys, numbers, large lines.
set -e
seq 1 200000 | awk '{ printf "%d key%07d %s\n", ($1 * 7919) % 100003, ($1 * 31) % 50000, substr("abcdefghijklmnopqrstuvwxyz", $1 % 26 + 1) }' > input.txt
sort --parallel=1 -S 64M -k2,2 -k1,1n input.txt | cksum
sort --parallel=1 -S 64M -u -k3,3 input.txt
cut -d' ' -f2 input.txt | sort --parallel=1 -S 64M | uniq -c | sort --parallel=1 -S 64M -rn | head -n 3
