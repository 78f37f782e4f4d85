/* Root sources.  Registered ranges and the segment list live in mmap'd arrays, never in
 * the heap, so they are not themselves mistaken for roots.
 * Design: docs/design/roots-threads.md
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include "roots.h"
#include "finalize.h"
#include "heap.h"
#include "maps.h"
#include "mark.h"
#include "segments.h"
#include "threads.h"
#include "uncollectable.h"
#include "vm.h"

struct ranges {
    struct os_range *r;
    size_t n, cap;
};

static struct ranges segments, registered, excluded;
void (*roots_client_hook)(void);
static bool data_segments = true; /* off: bdwgc's GC_no_dls */

/* Programs that were not written for a collector (the preload) keep heap pointers in
 * memory of their own: every anonymous writable mapping but the library's is a root. */
static bool scan_mappings;
static struct ranges mappings;
static struct os_range own[2048];
static size_t own_n;

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

static void push(struct ranges *a, uintptr_t lo, uintptr_t hi)
{
    if (a->n < a->cap || reserve(a, a->n ? a->n * 2 : 256) == 0)
        a->r[a->n++] = (struct os_range){ lo, hi };
}

void roots_scan_mappings(void) { scan_mappings = true; }
void roots_data_segments(bool scan) { data_segments = scan; }

/* Does [lo, hi) hold the stack of a thread past wbrt's exit destructor?  Such a thread
 * runs on while the world is stopped (threads.c), so its mapping reads differently each
 * time: the collector may rely on nothing there, and the verifier checks nothing by it. */
static bool holds_exiting_stack(uintptr_t lo, uintptr_t hi)
{
    for (struct wb_thread *t = threads_first(); t; t = t->next)
        if (t->exiting && t->stack_lo < hi && t->stack_hi > lo)
            return true;
    return false;
}

/* [lo, hi) minus the library's own mappings (own[], sorted) into mappings; *settled: the
 * verifier's snapshot, without the mappings exiting threads still change. */
static void add_mapping(uintptr_t lo, uintptr_t hi, void *ctx)
{
    if (*(const bool *)ctx && holds_exiting_stack(lo, hi))
        return;
    for (size_t i = 0; i < own_n && lo < hi; i++) {
        if (own[i].hi <= lo || own[i].lo >= hi)
            continue;
        if (own[i].lo > lo)
            push(&mappings, lo, own[i].lo);
        lo = own[i].hi;
    }
    if (lo < hi)
        push(&mappings, lo, hi);
}

/* World stopped (no thread can map or unmap meanwhile).  Left out: the library's own
 * mappings, and the dead part of each registered thread's stack (below its stack
 * pointer: mostly never touched, and reading it would commit it). */
static void snapshot_mappings(uintptr_t my_sp, bool settled)
{
    const size_t max = sizeof own / sizeof own[0];
    pthread_t me = pthread_self();
    mappings.n = 0;
    own_n = os_own_mappings(own, max);
    for (struct wb_thread *t = threads_first(); t && own_n < max; t = t->next)
        if (t->running && t->stack_lo)
            own[own_n++] = (struct os_range){ t->stack_lo, pthread_equal(t->tid, me) ? my_sp : t->sp };
    for (size_t i = 1; i < own_n; i++) /* insertion sort: no qsort, which may malloc */
        for (size_t j = i; j > 0 && own[j - 1].lo > own[j].lo; j--) {
            struct os_range t = own[j];
            own[j] = own[j - 1];
            own[j - 1] = t;
        }
    os_anon_writable_mappings(add_mapping, &settled);
}

void roots_add(uintptr_t lo, uintptr_t hi)
{
    if (lo < hi)
        push(&registered, lo, hi);
}

/* Ranges of a inside [lo, hi) are dropped; ranges that overlap it are trimmed to what
 * lies outside. */
static void cut(struct ranges *a, uintptr_t lo, uintptr_t hi)
{
    size_t n = a->n;
    for (size_t i = 0; i < n; i++) {
        struct os_range *r = &a->r[i];
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
                push(a, above.lo, above.hi);
        }
    }
    size_t keep = 0;
    for (size_t i = 0; i < a->n; i++)
        if (a->r[i].lo < a->r[i].hi)
            a->r[keep++] = a->r[i];
    a->n = keep;
}

void roots_remove(uintptr_t lo, uintptr_t hi) { cut(&registered, lo, hi); }

void roots_exclude(uintptr_t lo, uintptr_t hi)
{
    if (lo < hi)
        push(&excluded, lo, hi);
}

void roots_refresh(void)
{
    size_t n;
    if (!data_segments) {
        segments.n = 0;
        return;
    }
    while ((n = os_writable_segments(segments.r, segments.cap)) > segments.cap)
        if (reserve(&segments, n * 2) != 0)
            break;
    segments.n = n < segments.cap ? n : segments.cap;
    for (size_t i = 0; i < excluded.n; i++)
        cut(&segments, excluded.r[i].lo, excluded.r[i].hi);
}

/* Calls fn for every root range (stack: a thread's stack or start argument) until it
 * returns true; true if one did. */
typedef bool root_fn(uintptr_t lo, uintptr_t hi, bool stack, void *ctx);
static bool each_root(uintptr_t my_sp, root_fn *fn, void *ctx)
{
    pthread_t me = pthread_self();
    for (struct wb_thread *t = threads_first(); t; t = t->next) {
        if (fn((uintptr_t)&t->arg, (uintptr_t)(&t->arg + 1), true, ctx))
            return true;
        if (!t->running)
            continue;
        bool mine = pthread_equal(t->tid, me);
        if (fn(mine ? my_sp : t->sp, t->stack_hi, true, ctx))
            return true;
        if (!mine && t->sig_hi && fn(t->sig_sp, t->sig_hi, true, ctx))
            return true;
    }
    for (size_t i = 0; i < segments.n; i++)
        if (fn(segments.r[i].lo, segments.r[i].hi, false, ctx))
            return true;
    for (size_t i = 0; i < registered.n; i++)
        if (fn(registered.r[i].lo, registered.r[i].hi, false, ctx))
            return true;
    for (size_t i = 0; i < mappings.n; i++)
        if (fn(mappings.r[i].lo, mappings.r[i].hi, false, ctx))
            return true;
    return false;
}

static bool mark_root(uintptr_t lo, uintptr_t hi, bool stack, void *ctx)
{
    (void)ctx;
    if (stack)
        mark_stack_range(lo, hi);
    else
        mark_range(lo, hi);
    return false;
}

/* What exiting threads allocated: their stacks, which may hold it, are not scanned. */
static void mark_pinned(void)
{
    for (struct wb_thread *t = threads_first(); t; t = t->next)
        for (size_t i = 0; i + 1 < t->pinned.n; i += 2)
            mark_word(page_addr(t->pinned.v[i]) + ((uintptr_t)t->pinned.v[i + 1] << GRAN_SHIFT));
}

static void mark_roots(uintptr_t my_sp, bool settled)
{
    if (scan_mappings)
        snapshot_mappings(my_sp, settled);
    each_root(my_sp, mark_root, NULL);
    mark_pinned();
    finalize_mark_roots();
    uncollectable_mark();
    if (roots_client_hook)
        roots_client_hook();
}

void roots_mark(uintptr_t my_sp) { mark_roots(my_sp, false); }
void roots_mark_settled(uintptr_t my_sp) { mark_roots(my_sp, true); }

static bool points_into(uintptr_t lo, uintptr_t hi, bool stack, void *ctx)
{
    (void)stack;
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
