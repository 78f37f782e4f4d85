/* The dirty pages of a young collection in order, each one's side-table entries fetched
 * into the cache a few pages before it is reached.
 * Design: docs/design/generations.md
 * SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef WBRT_PAGE_WALK_H
#define WBRT_PAGE_WALK_H

#include <stddef.h>
#include "dirty_map.h"

/* Pages queued ahead: enough misses in flight to hide a miss's latency. */
#define PAGE_AHEAD 8

struct page_walk {
    const struct dirty_map *dm;
    size_t cursor, limit;       /* the next page the queue may take, and the end */
    size_t q[PAGE_AHEAD];
    unsigned head, n;
};

void page_walk_begin(struct page_walk *w, const struct dirty_map *dm, size_t from, size_t limit);
/* The first page set in dm at or after from (limit if none).  Between two calls the caller
 * may change dm's bits below the next call's from, no others (those are queued). */
size_t page_walk_next(struct page_walk *w, size_t from);

#endif
