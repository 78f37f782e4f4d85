/* Sweeping works on whole bitmap words: a page's objects are the set bits of its four
 * alloc words, so freeing and promoting are a few AND/OR operations per page.
 * Design: docs/design/mark-sweep.md
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include "sweep.h"
#include <string.h>
#include "heap.h"


/* Survivors in `live` (bits of word k of page pg) age by one; those past the tenure
 * age are returned to be promoted. */
static uint64_t age_survivors(size_t pg, int k, uint64_t live, int tenure_age)
{
    uint64_t promote = 0;
    for (uint64_t m = live; m; m &= m - 1) {
        int b = __builtin_ctzll(m);
        size_t g = pg * GRANS_PER_PAGE + (size_t)k * 64 + (size_t)b;
        if (++H.age[g] > tenure_age)
            promote |= (uint64_t)1 << b;
    }
    return promote;
}

static void sweep_small(size_t pg, bool young, int tenure_age, bool record_freed,
                        uint64_t gc_no, struct sweep_result *r)
{
    size_t size = class_size[H.pages[pg].sclass];
    uint64_t *a = page_words(H.alloc_bits, pg), *o = page_words(H.old_bits, pg);
    uint64_t *m = page_words(H.mark_bits, pg), *f = page_words(H.freed_bits, pg);
    bool still_young = false;
    for (int k = 0; k < PAGE_WORDS; k++) {
        uint64_t scope = young ? a[k] & ~o[k] : a[k];
        uint64_t dead = scope & ~m[k], live = scope & m[k];
        a[k] &= ~dead;
        if (record_freed)
            f[k] |= dead;
        uint64_t promote = live;
        if (young && tenure_age > 0) {
            promote = age_survivors(pg, k, live, tenure_age);
            if (live & ~promote)
                still_young = true;
        }
        o[k] = young ? o[k] | promote : a[k];
        m[k] = 0;
        r->live_bytes += bits_count(live) * size;
        r->promoted_bytes += bits_count(promote) * size;
        r->young_bytes += bits_count(live & ~promote) * size;
    }
    if (still_young)
        H.pages[pg].flags |= PF_AGED;
    page_settle(pg, gc_no);
    if (H.pages[pg].kind == PK_SMALL && (still_young || (H.pages[pg].flags & PF_OWNED)))
        young_add(pg);
}

static void sweep_large(size_t pg, bool young, int tenure_age, bool record_freed,
                        uint64_t gc_no, struct sweep_result *r)
{
    size_t g = gran_of(page_addr(pg)), n = H.pages[pg].aux, size = n << WB_PAGE_SHIFT;
    if (!bit_test(H.alloc_bits, g)) {
        return; /* freed explicitly earlier */
    }
    if (young && bit_test(H.old_bits, g))
        return;
    if (!bit_test(H.mark_bits, g)) {
        bit_clear(H.alloc_bits, g);
        if (record_freed)
            bit_set(H.freed_bits, g);
        if (!(H.pages[pg].flags & PF_PERM))  /* a perm page stays mapped, never reused */
            heap_free_run(pg, n, gc_no);
        return;
    }
    bit_clear(H.mark_bits, g);
    r->live_bytes += size;
    if (young && tenure_age > 0 && ++H.age[g] <= tenure_age) {
        r->young_bytes += size;
        H.pages[pg].flags |= PF_AGED;
        young_add(pg);
        return;
    }
    bit_set(H.old_bits, g);
    r->promoted_bytes += size;
}

static void sweep_page(size_t pg, bool young, int tenure_age, bool record_freed,
                       uint64_t gc_no, struct sweep_result *r)
{
    if (H.pages[pg].kind == PK_SMALL)
        sweep_small(pg, young, tenure_age, record_freed, gc_no, r);
    else if (H.pages[pg].kind == PK_LARGE)
        sweep_large(pg, young, tenure_age, record_freed, gc_no, r);
}

void sweep(bool young, bool global, int tenure_age, bool record_freed, uint64_t gc_no, struct sweep_result *r)
{
    *r = (struct sweep_result){ 0 };
    if (young) {
        /* sweep_page re-appends the pages that stay young; keep just those.  First the
         * listed pages, each once (a page freed and reused since it was listed is listed
         * twice): sweep_page sets PF_YOUNG again on a page it keeps young, after which
         * a second entry would sweep it again with its marks cleared, freeing the young
         * survivors. */
        size_t n0 = H.young.n, n1 = 0;
        for (size_t i = 0; i < n0; i++) {
            size_t pg = H.young.v[i];
            if (!(H.pages[pg].flags & PF_YOUNG))
                continue; /* freed since it was listed, or listed twice */
            H.pages[pg].flags &= (uint16_t)~PF_YOUNG;
            H.young.v[n1++] = (uint32_t)pg;
        }
        for (size_t i = 0; i < n1; i++)
            sweep_page(H.young.v[i], true, tenure_age, record_freed, gc_no, r);
        if (H.young.n > n0)     /* (an empty list may have no array yet) */
            memmove(H.young.v, H.young.v + n0, (H.young.n - n0) * sizeof *H.young.v);
        H.young.n -= n0;
        return;
    }
    for (size_t i = 0; i < H.young.n; i++)
        H.pages[H.young.v[i]].flags &= (uint16_t)~PF_YOUNG;
    H.young.n = 0;
    for (size_t pg = global ? 1 : own_first_page(); pg < H.top; pg++)
        sweep_page(pg, false, tenure_age, record_freed, gc_no, r);
}
