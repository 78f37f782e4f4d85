#!/usr/bin/env bash
# libgc_imports.sh [--check LIBGC]: the GC_* symbols that the binaries of Debian's packages
# depending on libgc1 import (apt-get download + nm -D --undefined-only), one line each:
# "SYMBOL PACKAGE,PACKAGE...".  Writes the list to stdout.  With --check LIBGC (a built
# gc-compat/libgc.so.1) it reads the saved list beside this script instead and prints the
# symbols LIBGC does not define, then "missing: N".
# Needs apt-get (and a prior apt-get update), dpkg-deb and binutils; as any user.
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

if [ "${1:-}" = --check ]; then
    defined=$(nm -D --defined-only "$2" | awk '{ print $3 }' | sort -u)
    missing=$(awk '{ print $1 }' "$here/libgc_imports.txt" | sort -u | comm -23 - <(echo "$defined"))
    [ -z "$missing" ] || echo "$missing"
    echo "missing: $(grep -c . <<<"$missing" || true)"
    exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
# libgc-dev only carries the library's own links.
mapfile -t pkgs < <(apt-cache rdepends libgc1 | tail -n +3 | sed 's/^ *//' | grep -vx 'libgc-dev' | sort -u)
apt-get -o APT::Sandbox::User=root download "${pkgs[@]}" >/dev/null
for deb in *.deb; do
    pkg=${deb%%_*}
    mkdir "x-$pkg"
    dpkg-deb -x "$deb" "x-$pkg"
    find "x-$pkg" -type f \( -perm -u+x -o -name '*.so*' \) -print0 |
        while IFS= read -r -d '' f; do
            { nm -D --undefined-only "$f" 2>/dev/null || true; } | awk -v p="$pkg" '$2 ~ /^GC_/ { print $2, p }'
        done
done | sort -u | awk '{ if ($1 == s) l = l "," $2; else { if (s != "") print s, l; s = $1; l = $2 } }
                      END { if (s != "") print s, l }'
