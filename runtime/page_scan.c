/* Old objects on a page: scanned as roots, used to arm pages, to keep tenured pages dirty, and by the verifier.
 * Design: docs/design/generations.md
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include "page_scan.h"
#include "heap.h"
#include "large_span.h"
#include "mark.h"

bool page_has_old(size_t pg)
{
    const struct page_info *pi = &H.pages[pg];
    if (pi->kind == PK_TAIL)
        pg = pi->aux, pi = &H.pages[pg];
    if (pi->kind == PK_LARGE) {
        size_t g = gran_of(page_addr(pg));
        return is_allocated(g) && bit_test(H.old_bits, g);
    }
    if (pi->kind != PK_SMALL)
        return false;
    FOR_OBJECTS(pg, H.bits[pg].alloc, page_words(H.old_bits, pg), obj) {
        (void)obj;
        return true;
    }
    return false;
}

/* The old objects on page pg are roots: scan them (for a large object, only this page
 * of it: the page-granular map's advantage over object remembered sets). */
bool scan_old_page(size_t pg)
{
    const struct page_info *pi = &H.pages[pg];
    if (pi->flags & PF_ATOMIC)
        return false;
    if (pi->kind == PK_LARGE || pi->kind == PK_TAIL) {
        if (!page_has_old(pg))
            return false;
        size_t head = pi->kind == PK_TAIL ? pi->aux : pg;
        if (H.pages[head].flags & PF_DESCR) /* its descriptor covers the whole object */
            mark_object(page_addr(head), page_addr(head + H.pages[head].aux));
        else
            mark_range(page_addr(pg), page_addr(pg + 1));
        return true;
    }
    if (pi->kind != PK_SMALL)
        return false;
    size_t size = class_size[pi->sclass];
    bool any = false;
    FOR_OBJECTS(pg, H.bits[pg].alloc, page_words(H.old_bits, pg), obj) {
        mark_object(obj, obj + size);
        any = true;
    }
    return any;
}

struct span_scan {
    void (*each)(size_t pg);
    size_t pages;
    bool later;
};

static void scan_part(void *ctx, size_t pg, size_t end, bool populated)
{
    struct span_scan *s = ctx;
    if (!populated)
        return;
    for (size_t i = pg; i < end; i++)
        s->each(i);
    s->pages += end - pg;
    size_t head = large_head(pg);
    if (H.pages[head].flags & PF_DESCR)
        (s->later ? mark_object_later : mark_object)(page_addr(head), page_addr(head + H.pages[head].aux));
    else
        (s->later ? mark_range_later : mark_range)(page_addr(pg), page_addr(end));
}

size_t scan_old_pages(size_t pg, size_t end, void (*each)(size_t pg), bool later)
{
    const struct page_info *pi = &H.pages[pg];
    if (end - pg > 1) {
        if ((pi->flags & PF_ATOMIC) || !page_has_old(pg))
            return 0;   /* nothing to scan, nor learn: such pages are never armed */
        struct span_scan s = { each, 0, later };
        if (H.pages[large_head(pg)].flags & PF_DESCR)  /* its descriptor covers it whole: once */
            scan_part(&s, pg, end, true);
        else
            span_parts(pg, end, scan_part, &s);
        return s.pages;
    }
    size_t n = 0;
    for (size_t i = pg; i < end; i++) {
        each(i);
        if (!later)
            n += scan_old_page(i);
        else if (!(H.pages[i].flags & PF_ATOMIC) && page_has_old(i)) {
            mark_old_page_later(i);
            n++;
        }
    }
    return n;
}

uintptr_t range_young_slot(uintptr_t lo, uintptr_t hi, slot_excuse_fn excused)
{
    for (uintptr_t p = (lo + 7) & ~(uintptr_t)7; p + 8 <= hi; p += 8) {
        size_t size;
        uintptr_t t = heap_object(*(const uintptr_t *)p, &size);
        if (t && !bit_test(H.old_bits, gran_of(t)) && !(excused && excused(p, t, size)))
            return p;
    }
    return 0;
}

/* fn(ctx, obj, lo, hi) for the words [lo, hi) of each old object obj on page pg that a
 * young collection scans (a large object's on this page only), until it returns non-zero:
 * returns that, else 0.  Inlined into each caller, fn with it: a call per object cost the
 * arming's tenure check (every dirty page's objects) in mt_trees. */
typedef uintptr_t (*old_range_fn)(void *ctx, uintptr_t obj, uintptr_t lo, uintptr_t hi);

static inline __attribute__((always_inline)) uintptr_t each_old_range(size_t pg, old_range_fn fn, void *ctx)
{
    const struct page_info *pi = &H.pages[pg];
    if ((pi->flags & PF_ATOMIC) || !page_has_old(pg))
        return 0;
    if (pi->kind != PK_SMALL)
        return fn(ctx, page_addr(pi->kind == PK_TAIL ? pi->aux : pg), page_addr(pg), page_addr(pg + 1));
    size_t size = class_size[pi->sclass];
    FOR_OBJECTS(pg, H.bits[pg].alloc, page_words(H.old_bits, pg), o) {
        uintptr_t r = fn(ctx, o, o, o + size);
        if (r)
            return r;
    }
    return 0;
}

struct young_slot_search {
    slot_excuse_fn excused;
    uintptr_t obj;
};

static inline __attribute__((always_inline)) uintptr_t young_slot_in(void *ctx, uintptr_t obj, uintptr_t lo, uintptr_t hi)
{
    struct young_slot_search *s = ctx;
    s->obj = obj;
    return range_young_slot(lo, hi, s->excused);
}

uintptr_t old_page_young_slot(size_t pg, uintptr_t *obj, slot_excuse_fn excused)
{
    struct young_slot_search s = {excused, 0};
    uintptr_t slot = each_old_range(pg, young_slot_in, &s);
    if (slot && obj)
        *obj = s.obj;
    return slot;
}

/* As marking does first: a word into no page that may hold young objects is rejected
 * without a lookup. */
static inline __attribute__((always_inline)) uintptr_t count_young_page_words(void *ctx, uintptr_t obj, uintptr_t lo, uintptr_t hi)
{
    (void)obj;
    for (uintptr_t p = (lo + 7) & ~(uintptr_t)7; p + 8 <= hi; p += 8) {
        uintptr_t w = *(const uintptr_t *)p;
        *(size_t *)ctx += in_heap(w) && bit_test(H.young_map, page_of(w));
    }
    return 0;
}

size_t old_page_young_page_words(size_t pg)
{
    size_t n = 0;
    each_old_range(pg, count_young_page_words, &n);
    return n;
}
