/* Sweeping works on whole bitmap words: a page's objects are the set bits of its four
 * alloc words, so freeing and promoting are a few AND/OR operations per page.
 * Design: docs/design/mark-sweep.md
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include "sweep.h"
#include <string.h>
#include "cold_bss.h"
#include "gc.h"
#include "heap.h"
#include "markers.h"
#include "options.h"


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

/* The parallel part: only page pg's own words, ages and entry are written.  What needs the
 * shared lists (page_settle, young_add, heap_free_run) is left in its flags for settle(). */
static void sweep_small(size_t pg, bool young, int tenure_age, bool record_freed, struct sweep_result *r)
{
    size_t size = class_size[H.pages[pg].sclass];
    uint64_t *a = H.bits[pg].alloc, *m = H.bits[pg].mark;
    uint64_t *o = page_words(H.old_bits, pg), *f = page_words(H.freed_bits, pg);
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
    if (still_young || (H.pages[pg].flags & PF_OWNED))
        H.pages[pg].flags |= PF_KEEP_YOUNG;
}

static void sweep_large(size_t pg, bool young, int tenure_age, bool record_freed, struct sweep_result *r)
{
    size_t g = gran_of(page_addr(pg)), size = (size_t)H.pages[pg].aux << WB_PAGE_SHIFT;
    if (!is_allocated(g)) {
        return; /* freed explicitly earlier */
    }
    if (young && bit_test(H.old_bits, g))
        return;
    if (!is_marked(g)) {
        alloc_clear(g);
        if (record_freed)
            bit_set(H.freed_bits, g);
        if (!(H.pages[pg].flags & PF_PERM))  /* a perm page stays mapped, never reused */
            H.pages[pg].flags |= PF_DEAD_RUN;
        return;
    }
    *mark_word_of(g) &= ~gran_bit(g);
    r->live_bytes += size;
    if (young && tenure_age > 0 && ++H.age[g] <= tenure_age) {
        r->young_bytes += size;
        H.pages[pg].flags |= PF_AGED | PF_KEEP_YOUNG;
        return;
    }
    bit_set(H.old_bits, g);
    r->promoted_bytes += size;
}

/* The serial part, in page order as a one-worker sweep does it page by page. */
static void settle(size_t pg, uint64_t gc_no)
{
    struct page_info *pi = &H.pages[pg];
    uint16_t todo = pi->flags & (PF_KEEP_YOUNG | PF_DEAD_RUN);
    pi->flags &= (uint16_t)~(PF_KEEP_YOUNG | PF_DEAD_RUN);
    if (pi->kind == PK_SMALL)
        page_settle(pg, gc_no);
    if (todo & PF_DEAD_RUN)
        heap_free_run(pg, pi->aux, gc_no);
    else if (todo & PF_KEEP_YOUNG)
        young_add(pg);
}

/* Fewer pages a worker than this and waking it costs more than it saves. */
#define SWEEP_PAGES_PER_WORKER 256
#define SWEEP_CHUNK 32  /* pages a worker takes at a time */

/* One sweep's pages (list->v[first..end), or page numbers first..end when list is NULL),
 * handed out in chunks; each worker sums into its own result. */
OS_COLD_BSS static struct {
    const struct vec *list;
    size_t end, next;
    bool young, record_freed, settle_inline;
    int tenure_age;
    uint64_t gc_no;
    struct {
        struct sweep_result r;
    } __attribute__((aligned(64))) sums[MARKERS_MAX];
} J;

static void sweep_worker(unsigned i, void *ctx)
{
    (void)ctx;
    struct sweep_result *r = &J.sums[i].r;
    for (size_t s; (s = __atomic_fetch_add(&J.next, SWEEP_CHUNK, __ATOMIC_RELAXED)) < J.end;) {
        size_t e = s + SWEEP_CHUNK < J.end ? s + SWEEP_CHUNK : J.end;
        for (size_t x = s; x < e; x++) {
            size_t pg = J.list ? J.list->v[x] : x;
            if (H.pages[pg].kind == PK_SMALL)
                sweep_small(pg, J.young, J.tenure_age, J.record_freed, r);
            else if (H.pages[pg].kind == PK_LARGE)
                sweep_large(pg, J.young, J.tenure_age, J.record_freed, r);
            if (J.settle_inline)
                settle(pg, J.gc_no);
        }
    }
}

/* Sweeps the pages on as many marker threads as pay, then settles them in order (one
 * worker: each page at once, as it is swept). */
static void sweep_pages(const struct vec *list, size_t first, size_t end, bool young, int tenure_age,
                        bool record_freed, uint64_t gc_no, struct sweep_result *r)
{
    unsigned workers = markers_ready(options_markers(&G.cfg));
    size_t most = end > first ? (end - first) / SWEEP_PAGES_PER_WORKER : 0;
    if (workers > most)
        workers = most ? (unsigned)most : 1;
    J.list = list;
    J.next = first;
    J.end = end;
    J.young = young;
    J.record_freed = record_freed;
    J.settle_inline = workers == 1;
    J.tenure_age = tenure_age;
    J.gc_no = gc_no;
    for (unsigned i = 0; i < workers; i++) /* (a helper that wakes too late adds nothing) */
        J.sums[i].r = (struct sweep_result){ 0 };
    markers_run(workers, sweep_worker, NULL);
    for (unsigned i = 0; i < workers; i++) {
        r->live_bytes += J.sums[i].r.live_bytes;
        r->promoted_bytes += J.sums[i].r.promoted_bytes;
        r->young_bytes += J.sums[i].r.young_bytes;
    }
    if (workers > 1)  /* (list->v is read afresh: young_add may move it) */
        for (size_t x = first; x < end; x++)
            settle(list ? list->v[x] : x, gc_no);
}

void sweep(bool young, bool global, int tenure_age, bool record_freed, uint64_t gc_no, struct sweep_result *r)
{
    *r = (struct sweep_result){ 0 };
    if (young) {
        /* settle() re-appends the pages that stay young; keep just those.  First the
         * listed pages, each once (a page freed and reused since it was listed is listed
         * twice): settle() sets PF_YOUNG again on a page it keeps young, after which
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
        sweep_pages(&H.young, 0, n1, true, tenure_age, record_freed, gc_no, r);
        if (H.young.n > n0)     /* (an empty list may have no array yet) */
            memmove(H.young.v, H.young.v + n0, (H.young.n - n0) * sizeof *H.young.v);
        H.young.n -= n0;
        return;
    }
    for (size_t i = 0; i < H.young.n; i++)
        H.pages[H.young.v[i]].flags &= (uint16_t)~PF_YOUNG;
    H.young.n = 0;
    sweep_pages(NULL, global ? 1 : own_first_page(), H.top, false, tenure_age, record_freed, gc_no, r);
}
