# SPDX-License-Identifier: GPL-2.0-or-later
# xz and bzip2: compression and decompression of text (large buffers, few blocks).
set -e
seq 1 60000 | sed 's/$/ the quick brown fox jumps over the lazy dog/' > input.txt
xz -T1 -3 -c input.txt | xz -d -c | cksum
bzip2 -c input.txt | bzip2 -d -c | cksum
