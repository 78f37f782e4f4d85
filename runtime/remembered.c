/* Extra roots from software barriers.  A recorded range names old words that may now hold
 * young pointers: for a card or a slot only those words, for a remembered object the
 * whole object.  Young, free and pointer-free memory in a range is skipped.
 * Design: docs/design/generations.md
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include "remembered.h"
#include "gc.h"
#include "heap.h"
#include "mark.h"
#include "page_state.h"
#include "vm.h"


/* Verifier only: one bit per granule of the reservation, set for the granules scanned. */
static uint64_t *covered;
static size_t covered_top;  /* pages whose bits may be set */

static void note(uintptr_t lo, uintptr_t hi)
{
    for (size_t g = gran_of(lo), last = gran_of(hi - 1); g <= last; g++)
        bit_set(covered, g);
    if (page_of(hi - 1) + 1 > covered_top)
        covered_top = page_of(hi - 1) + 1;
}

static void note_run(void *unused, uintptr_t lo, uintptr_t hi)
{
    (void)unused;
    note(lo, hi);
}

/* Only where the kernel has data: the rest reads as zero and holds no pointer to excuse
 * (noting a whole remembered 2 GiB buffer cost 16 MiB of bits). */
static void note_populated(uintptr_t lo, uintptr_t hi)
{
    if (hi - lo < OS_PAGE_STATE_MIN || os_populated_runs(lo, hi, note_run, NULL) != 0)
        note(lo, hi);
}

struct how {
    bool verify, retain;
};

static void visit(void *ctx, uintptr_t lo, uintptr_t hi, int whole)
{
    const struct how *how = ctx;
    for (uintptr_t a = lo; a < hi;) {
        size_t size, pg;
        uintptr_t o = heap_slot(a, &size, &pg);
        if (!o) {                                   /* a free page, or a page's tail */
            a = page_addr(page_of(a) + 1);
            continue;
        }
        size_t g = gran_of(o);
        if (is_allocated(g) && bit_test(H.old_bits, g) && !(H.pages[pg].flags & PF_ATOMIC)) {
            /* A described object is scanned whole, as its descriptor says. */
            bool all = whole || (H.pages[pg].flags & PF_DESCR);
            uintptr_t from = all || o > a ? o : a;
            uintptr_t to = all || o + size < hi ? o + size : hi;
            mark_object(from, to);
            if (how->verify)
                note_populated(from, to);
            if (how->retain)
                dirty_map_set_range(&H.dirty, page_of(from), page_of(to - 1) - page_of(from) + 1);
        }
        a = o + size;
    }
}

size_t remembered_scan(bool verify, bool retain)
{
    if (verify && !covered)
        covered = os_table_scaled(H.npages * GRANS_PER_PAGE / 8);
    struct how how = {verify && covered, retain};   /* without the map nothing is excused */
    return barrier_used() ? G.barrier->remembered((void *)barrier_base(), barrier_used(), visit, &how) : 0;
}

bool remembered_covers(uintptr_t slot)
{
    return covered && bit_test(covered, gran_of(slot));
}

void remembered_each_covered(void (*fn)(uintptr_t granule))
{
    for (size_t w = 0; covered && w < covered_top * PAGE_WORDS; w++)
        for (uint64_t m = covered[w]; m; m &= m - 1)
            fn(H.base + ((w * 64 + (size_t)__builtin_ctzll(m)) << GRAN_SHIFT));
}

void remembered_forget(void)
{
    if (covered && covered_top)
        os_table_clear(covered, covered_top * GRANS_PER_PAGE / 8);
    covered_top = 0;
}
