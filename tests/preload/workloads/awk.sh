# SPDX-License-Identifier: GPL-2.0-or-later
# collects: gawk
# young: 256K
# (its processes allocate under 1 MiB: the blocks they free are reused at once)
# needs: gawk
# The same awk program under GNU awk (which links libsigsegv: its handler must not take
# the mprotect barrier's faults) and mawk, by name, whichever of them /usr/bin/awk is:
# associative arrays, split, sprintf, substr, string growth.
set -e
command -v mawk >/dev/null || { echo "awk.sh: mawk is not installed" >&2; exit 1; }
seq 1 60000 | sed 's/$/ the quick brown fox jumps over the lazy dog/' > input.txt
prog='{ n = split($0, w, " "); for (i = 2; i <= n; i++) { c[w[i]]++; k = sprintf("%s-%d", w[i], $1 % 97); d[k] += length(w[i]) } }
      NR % 1000 == 0 { s = s substr($0, 1, 3) }
      END { t = 0; for (k in d) t += d[k]; m = 0; for (k in c) m++; print m, length(d), t, length(s) }'
for awk in gawk mawk; do
    printf '%s: ' "$awk"
    "$awk" "$prog" input.txt
done
