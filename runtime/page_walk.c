/* Dirty pages lie scattered over the old generation: reading each one's page_info,
 * alloc and old words and policy entry as it is reached was a miss per table, and those tables
 * grow with the heap (at 512 MiB old they no longer stay in the cache between two young
 * collections): the young pause grew with the old generation at equal dirty pages.
 * Design: docs/design/generations.md
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include "page_walk.h"
#include "arm_policy.h"
#include "heap.h"

/* What scanning or arming page pg reads first. */
static void prefetch_page(size_t pg)
{
    __builtin_prefetch(&H.pages[pg]);
    __builtin_prefetch(H.bits[pg].alloc);  /* (its mark words share the line) */
    __builtin_prefetch(page_words(H.old_bits, pg));
    policy_prefetch(pg);
}

static void fill(struct page_walk *w)
{
    while (w->n < PAGE_AHEAD && w->cursor < w->limit) {
        size_t pg = dirty_map_next(w->dm, w->cursor, w->limit);
        w->cursor = pg + 1;
        if (pg >= w->limit)
            return;
        w->q[(w->head + w->n++) % PAGE_AHEAD] = pg;
        prefetch_page(pg);
    }
}

void page_walk_begin(struct page_walk *w, const struct dirty_map *dm, size_t from, size_t limit)
{
    *w = (struct page_walk){.dm = dm, .cursor = from, .limit = limit};
}

size_t page_walk_next(struct page_walk *w, size_t from)
{
    if (w->cursor < from)
        w->cursor = from;
    for (;;) {
        fill(w);
        if (!w->n)
            return w->limit;
        size_t pg = w->q[w->head];
        w->head = (w->head + 1) % PAGE_AHEAD;
        w->n--;
        if (pg >= from)
            return pg;
    }
}
