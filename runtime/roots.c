/* Root sources.  Registered ranges and the segment list live in mmap'd arrays, never in
 * the heap, so they are not themselves mistaken for roots.
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include "roots.h"
#include "finalize.h"
#include "heap.h"
#include "mark.h"
#include "segments.h"
#include "threads.h"
#include "uncollectable.h"
#include "vm.h"

struct ranges {
    struct os_range *r;
    size_t n, cap;
};

static struct ranges segments, registered;

static int reserve(struct ranges *a, size_t cap)
{
    if (cap <= a->cap)
        return 0;
    struct os_range *r = os_table_grow(a->r, a->cap * sizeof *r, a->n * sizeof *r, cap * sizeof *r);
    if (!r)
        return -1;
    a->r = r;
    a->cap = cap;
    return 0;
}

void roots_refresh(void)
{
    size_t n;
    while ((n = os_writable_segments(segments.r, segments.cap)) > segments.cap)
        if (reserve(&segments, n * 2) != 0)
            break;
    segments.n = n < segments.cap ? n : segments.cap;
}

void roots_add(uintptr_t lo, uintptr_t hi)
{
    if (lo < hi && reserve(&registered, registered.n ? registered.n * 2 : 64) == 0)
        registered.r[registered.n++] = (struct os_range){ lo, hi };
}

/* Ranges inside [lo, hi) are dropped; ranges that overlap it are trimmed to what
 * lies outside. */
void roots_remove(uintptr_t lo, uintptr_t hi)
{
    size_t n = registered.n;
    for (size_t i = 0; i < n; i++) {
        struct os_range *r = &registered.r[i];
        if (r->hi <= lo || r->lo >= hi)
            continue;
        struct os_range below = { r->lo, lo }, above = { hi, r->hi };
        r->lo = r->hi = 0;
        if (below.lo < below.hi)
            *r = below;
        if (above.lo < above.hi) {
            if (r->lo == r->hi)
                *r = above;
            else
                roots_add(above.lo, above.hi);
        }
    }
    size_t keep = 0;
    for (size_t i = 0; i < registered.n; i++)
        if (registered.r[i].lo < registered.r[i].hi)
            registered.r[keep++] = registered.r[i];
    registered.n = keep;
}

/* Calls fn for every root range until it returns true; true if one did. */
static bool each_root(uintptr_t my_sp, bool (*fn)(uintptr_t lo, uintptr_t hi, void *ctx), void *ctx)
{
    pthread_t me = pthread_self();
    for (struct wb_thread *t = threads_first(); t; t = t->next) {
        if (fn((uintptr_t)&t->arg, (uintptr_t)(&t->arg + 1), ctx))
            return true;
        if (!t->running)
            continue;
        uintptr_t lo = pthread_equal(t->tid, me) ? my_sp : t->sp;
        if (fn(lo, t->stack_hi, ctx))
            return true;
    }
    for (size_t i = 0; i < segments.n; i++)
        if (fn(segments.r[i].lo, segments.r[i].hi, ctx))
            return true;
    for (size_t i = 0; i < registered.n; i++)
        if (fn(registered.r[i].lo, registered.r[i].hi, ctx))
            return true;
    return false;
}

static bool mark_root(uintptr_t lo, uintptr_t hi, void *ctx)
{
    (void)ctx;
    mark_range(lo, hi);
    return false;
}

void roots_mark(uintptr_t my_sp)
{
    each_root(my_sp, mark_root, NULL);
    finalize_mark_roots();
    uncollectable_mark();
}

static bool points_into(uintptr_t lo, uintptr_t hi, void *ctx)
{
    const uintptr_t *target = ctx;
    for (uintptr_t p = (lo + 7) & ~(uintptr_t)7; p + 8 <= hi; p += 8) {
        uintptr_t w = *(const uintptr_t *)p;
        if (w >= target[0] && w < target[1])
            return true;
    }
    return false;
}

bool roots_hold(uintptr_t my_sp, uintptr_t lo, uintptr_t hi)
{
    uintptr_t target[2] = {lo, hi};
    return each_root(my_sp, points_into, target);
}
