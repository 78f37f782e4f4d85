# SPDX-License-Identifier: GPL-2.0-or-later
# GNU sed: regular expressions with back-references, hold space, many substitutions.
set -e
seq 1 200000 | sed 's/$/ alpha beta gamma delta/' > input.txt
sed -E -e 's/([a-z]+) ([a-z]+)/\2 \1/g' -e 's/[0-9]+/<&>/' -e '/7>/{h;s/a/A/g;G}' input.txt | cksum
