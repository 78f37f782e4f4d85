/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Armed and protected page bitmaps, and the run walks over them.
 * Design: docs/design/dirty-map.md */
#include "page_runs.h"
#include "harvest_report.h"

#include <errno.h>
#include <string.h>

int page_runs_init(struct page_runs *pr, void *base, size_t len)
{
    size_t npages = len >> WB_PAGE_SHIFT;
    memset(pr, 0, sizeof *pr);
    if (dirty_map_init(&pr->armed, (uintptr_t)base, npages) < 0 ||
        dirty_map_init(&pr->prot, (uintptr_t)base, npages) < 0) {
        int err = errno;
        page_runs_destroy(pr);
        errno = err;
        return -1;
    }
    pr->base = (uintptr_t)base;
    pr->len = len;
    return 0;
}

void page_runs_destroy(struct page_runs *pr)
{
    dirty_map_destroy(&pr->armed);
    dirty_map_destroy(&pr->prot);
    memset(pr, 0, sizeof *pr);
}

size_t page_runs_clip(const struct page_runs *pr, void *addr, size_t len, size_t *first)
{
    uintptr_t lo = (uintptr_t)addr > pr->base ? (uintptr_t)addr : pr->base;
    uintptr_t hi = (uintptr_t)addr + len < pr->base + pr->len ? (uintptr_t)addr + len : pr->base + pr->len;
    if (hi <= lo)
        return 0;
    *first = (lo - pr->base) >> WB_PAGE_SHIFT;
    return ((hi - pr->base + WB_PAGE_SIZE - 1) >> WB_PAGE_SHIFT) - *first;
}

void *page_runs_addr(const struct page_runs *pr, size_t page)
{
    return (void *)(pr->base + (page << WB_PAGE_SHIFT));
}

size_t page_runs_report(const struct page_runs *pr, struct dirty_map *dm, size_t page, size_t n)
{
    uintptr_t lo = (uintptr_t)page_runs_addr(pr, page);
    return harvest_all(dm, lo, lo + (n << WB_PAGE_SHIFT));
}

void page_runs_none_protected(struct page_runs *pr)
{
    dirty_map_clear_range(&pr->prot, 0, pr->len >> WB_PAGE_SHIFT);
}

static uint64_t word_of(const struct dirty_map *m, size_t w)
{
    return __atomic_load_n(&m->bits[w], __ATOMIC_RELAXED);
}

/* Each word is read once, before fn changes any bit of it (fn only touches its run). */
static size_t each_run(struct page_runs *pr, bool written, size_t first, size_t n, page_run_fn *fn,
                       void *ctx)
{
    size_t limit = first + n, run = 0, len = 0, total = 0;
    for (size_t w = first / 64; w * 64 < limit; w++) {
        uint64_t x = written ? word_of(&pr->armed, w) & ~word_of(&pr->prot, w) : word_of(&pr->prot, w);
        if (w == first / 64)
            x &= ~(uint64_t)0 << (first % 64);
        if ((w + 1) * 64 > limit)
            x &= ~(~(uint64_t)0 << (limit % 64));
        while (x) {
            unsigned lo = (unsigned)__builtin_ctzll(x);
            uint64_t gap = ~(x >> lo);
            unsigned bits = gap ? (unsigned)__builtin_ctzll(gap) : 64 - lo;
            size_t page = w * 64 + lo;
            if (len && run + len == page) {
                len += bits;
            } else {
                if (len && !fn(ctx, run, len))
                    return total;
                total += len;
                run = page, len = bits;
            }
            x = lo + bits >= 64 ? 0 : x & (~(uint64_t)0 << (lo + bits));
        }
    }
    if (len && fn(ctx, run, len))
        total += len;
    return total;
}

size_t page_runs_written(struct page_runs *pr, size_t first, size_t n, page_run_fn *fn, void *ctx)
{
    return each_run(pr, true, first, n, fn, ctx);
}

size_t page_runs_protected(struct page_runs *pr, size_t first, size_t n, page_run_fn *fn, void *ctx)
{
    return each_run(pr, false, first, n, fn, ctx);
}
