/* Large object spans split by what the kernel holds (os/page_state.h).
 * Design: docs/design/generations.md
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include "large_span.h"
#include "heap.h"
#include "page_state.h"

size_t large_end(size_t pg)
{
    const struct page_info *pi = &H.pages[pg];
    if (pi->kind == PK_TAIL)
        return pi->aux + H.pages[pi->aux].aux;
    return pi->kind == PK_LARGE ? pg + pi->aux : pg + 1;
}

struct parts {
    size_t next;        /* first page not reported yet */
    span_part_fn fn;
    void *ctx;
};

static void populated_run(void *ctx, uintptr_t lo, uintptr_t hi)
{
    struct parts *s = ctx;
    size_t first = page_of(lo), end = page_of(hi + WB_PAGE_SIZE - 1);
    if (first > s->next)
        s->fn(s->ctx, s->next, first, false);
    s->fn(s->ctx, first, end, true);
    s->next = end;
}

void span_parts(size_t pg, size_t end, span_part_fn fn, void *ctx)
{
    struct parts s = { pg, fn, ctx };
    uintptr_t lo = page_addr(pg), hi = page_addr(end);
    if (hi - lo < OS_PAGE_STATE_MIN || os_populated_runs(lo, hi, populated_run, &s) != 0) {
        if (s.next < end)
            fn(ctx, s.next, end, true);     /* after a failure: the pages not reported yet */
        return;
    }
    if (s.next < end)
        fn(ctx, s.next, end, false);
}
