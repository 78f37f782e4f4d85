/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Reporting harvested pages to the dirty map, and harvest failures to stderr.
 * Design: docs/design/dirty-map.md */
#include "harvest_report.h"

#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

size_t harvest_all(struct dirty_map *dm, uintptr_t lo, uintptr_t hi)
{
    size_t n = (hi - lo) >> WB_PAGE_SHIFT;
    dirty_map_set_range(dm, dirty_map_page(dm, lo), n);
    return n;
}

void harvest_mark(void *ctx, uintptr_t start, uintptr_t end)
{
    struct harvest *h = ctx;
    h->pages += harvest_all(h->dm, start, end);
}

void harvest_warn_once(bool *warned, const char *fmt, ...)
{
    char line[384];
    va_list ap;
    if (*warned)
        return;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n > 0) {
        ssize_t rc = write(STDERR_FILENO, line, n < (int)sizeof line ? (size_t)n : sizeof line - 1);
        (void)rc;
    }
    *warned = true;
}
