/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the kernel barriers share when they report a harvest: regions into the dirty map,
 * "every page" when which were written is unknown, and the warning that says so.
 * Design: docs/design/dirty-map.md */
#ifndef WBRT_HARVEST_REPORT_H
#define WBRT_HARVEST_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "dirty_map.h"

struct harvest {
    struct dirty_map *dm;
    size_t pages;               /* reported so far */
};

/* A pagemap_region_fn: the pages of [start, end) into h->dm, counted in h->pages. */
void harvest_mark(void *h, uintptr_t start, uintptr_t end);
/* Every page of the page-aligned [lo, hi) into dm, which may start elsewhere (it is
 * indexed by address).  Returns the pages.  Async-signal-safe. */
size_t harvest_all(struct dirty_map *dm, uintptr_t lo, uintptr_t hi);
/* One line on stderr, if *warned is clear (then set).  write(2), not stdio: the world may
 * be stopped with a thread inside stdio's lock. */
void harvest_warn_once(bool *warned, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
