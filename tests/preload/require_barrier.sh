# SPDX-License-Identifier: GPL-2.0-or-later
# Sourced by the preload test scripts.  require_barrier WBRT BARRIER: unless `WBRT probe`
# lists BARRIER as available, prints "SKIPPED: BARRIER: <why>" and exits 77 (ctest: skipped).
require_barrier() {
    local state
    state=$("$1" probe | awk -v b="$2" '$1 == b { $1 = ""; sub(/^ +/, ""); print }')
    if [ "$state" != available ]; then
        echo "SKIPPED: $2: ${state:-unknown barrier}"
        exit 77
    fi
}
