/* Root sources.  Registered ranges and the segment list live in mmap'd arrays, never in
 * the heap, so they are not themselves mistaken for roots.
 * Design: docs/design/roots-threads.md
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include "roots.h"
#include "cold_bss.h"
#include "finalize.h"
#include "gc.h"
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
OS_COLD_BSS static struct os_range own[2048];
static size_t own_n;

/* Where the barrier tracks them (written_roots), a young collection scans of the mappings
 * only `scan`: the pages written since the last one, and `pending`, those that pointed at
 * young objects when last scanned (they may survive it without promotion: a young object
 * the program no longer writes a pointer to must be kept by the old one).  written: the
 * barrier's report being gathered.  tracked: the last collection scanned `scan` only (not
 * if a run was lost: then the mappings whole). */
static struct ranges scan, pending, written;
static bool tracked;
/* The mappings that hold a registered thread's stack: their other parts (the main
 * thread's environment strings, a thread's TLS) are scanned whole, never tracked.
 * Registering them would split the stack's mapping, and a split [stack] hid stack
 * overflows from libsigsegv (sigsegv_program died in 7 runs out of 10). */
static struct ranges stack_maps;

/* t (*cap entries of size bytes, the first used kept) with room for want: t itself, or a
 * larger table (*cap updated, t released); NULL without memory (t untouched). */
static void *table_reserve(void *t, size_t *cap, size_t used, size_t want, size_t size)
{
    if (want <= *cap)
        return t;
    void *bigger = os_table_grow(t, *cap * size, used * size, want * size);
    if (bigger)
        *cap = want;
    return bigger;
}

static int reserve(struct ranges *a, size_t cap)
{
    struct os_range *r = table_reserve(a->r, &a->cap, a->n, cap, sizeof *r);
    if (!r)
        return -1;
    a->r = r;
    return 0;
}

/* A range dropped for want of memory: the next young collection scans the mappings whole. */
static bool lost;

static void push(struct ranges *a, uintptr_t lo, uintptr_t hi)
{
    if (a->n < a->cap || reserve(a, a->n ? a->n * 2 : 256) == 0)
        a->r[a->n++] = (struct os_range){ lo, hi };
    else
        lost = true;
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

static bool holds_running_stack(uintptr_t lo, uintptr_t hi)
{
    for (struct wb_thread *t = threads_first(); t; t = t->next)
        if (t->running && t->stack_lo && t->stack_lo < hi && t->stack_hi > lo)
            return true;
    return false;
}

/* [lo, hi) minus the library's own mappings (own[], sorted) into mappings; *settled: the
 * verifier's snapshot, without the mappings exiting threads still change. */
static void add_mapping(uintptr_t lo, uintptr_t hi, void *ctx)
{
    if (*(const bool *)ctx && holds_exiting_stack(lo, hi))
        return;
    if (holds_running_stack(lo, hi))
        push(&stack_maps, lo, hi);
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
 * mappings, and each registered thread's stack: its live part is scanned as a stack
 * (each_root), its dead part (below the stack pointer) is mostly never touched, and
 * reading it would commit it. */
static void snapshot_mappings(bool settled)
{
    const size_t max = sizeof own / sizeof own[0];
    mappings.n = stack_maps.n = 0;
    own_n = os_own_mappings(own, max);
    for (struct wb_thread *t = threads_first(); t && own_n < max; t = t->next)
        if (t->running && t->stack_lo)
            own[own_n++] = (struct os_range){ t->stack_lo, t->stack_hi };
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

/* Calls fn for every root range (stack: a thread's stack or start argument), with maps
 * for the program's mappings, until it returns true; true if one did. */
typedef bool root_fn(uintptr_t lo, uintptr_t hi, bool stack, void *ctx);
static bool each_root(uintptr_t my_sp, const struct ranges *maps, root_fn *fn, void *ctx)
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
    for (size_t i = 0; i < maps->n; i++)
        if (fn(maps->r[i].lo, maps->r[i].hi, false, ctx))
            return true;
    return false;
}

/* ctx: the bytes scanned so far. */
static bool mark_root(uintptr_t lo, uintptr_t hi, bool stack, void *ctx)
{
    *(size_t *)ctx += hi > lo ? hi - lo : 0;
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

/* [lo, hi) after the runs of a, which start at lo or below: it extends the last one if
 * they touch. */
static void append_run(struct ranges *a, uintptr_t lo, uintptr_t hi)
{
    if (a->n && a->r[a->n - 1].hi >= lo) {
        if (hi > a->r[a->n - 1].hi)
            a->r[a->n - 1].hi = hi;
        return;
    }
    push(a, lo, hi);
}

/* The barrier's report on one mapping, into `written`: a run reported whole after its
 * parts replaces them.  bytes: written in the mapping; whole: it was not tracked. */
struct report {
    size_t bytes;
    bool whole;
};

static void written_run(void *ctx, uintptr_t lo, uintptr_t hi, int whole)
{
    struct report *r = ctx;
    while (written.n && written.r[written.n - 1].lo >= lo)
        written.n--;
    append_run(&written, lo, hi);
    r->bytes += hi - lo;
    r->whole |= whole;
}

/* Tracking a page costs a fault at its first write after each young collection and its
 * re-protection (0.66 + 0.16 us measured), scanning it 0.27-0.9 us: a mapping of which
 * half or more was written since the last young collection (Python's arenas: reference
 * counts) is scanned whole, untracked, for the next WHOLE_FOR young collections, then
 * tracked again to be measured anew (Python's root time plus faults 110 -> 67 ms; with a
 * quarter, gcc's root time was 17 ms instead of 12.8).  whole_for: by mapping piece, as
 * listed at the last young collection. */
#define WHOLE_FOR 8
struct mapping_state {
    uintptr_t lo, hi;
    unsigned whole_for;
};
static struct mapping_state *states, *next_states;
static size_t states_n, states_cap, next_cap;

/* The state of mapping piece m at the last young collection (whole_for 0 if new);
 * *k: the search cursor (both lists are sorted). */
static unsigned whole_for(struct os_range m, size_t *k)
{
    while (*k < states_n && states[*k].lo < m.lo)
        (*k)++;
    return *k < states_n && states[*k].lo == m.lo && states[*k].hi == m.hi ? states[*k].whole_for : 0;
}

/* Room for a state per mapping piece; false (every mapping tracked) without memory. */
static bool states_reserve(size_t n)
{
    struct mapping_state *a = table_reserve(states, &states_cap, states_n, n * 2, sizeof *a);
    if (a)
        states = a;
    struct mapping_state *b = a ? table_reserve(next_states, &next_cap, 0, n * 2, sizeof *b) : NULL;
    if (b)
        next_states = b;
    return b != NULL;
}

/* One mapping piece into `written`, as its state says; returns its next state. */
static unsigned gather_mapping(struct os_range m, unsigned was)
{
    struct report r = {0, false};
    if (was > 1) {
        written_run(&r, m.lo, m.hi, 1);
        return was - 1;
    }
    G.barrier->written_roots((void *)m.lo, m.hi - m.lo, written_run, &r);
    /* Measured only after a collection that armed it: not when it was new or untracked. */
    return !was && !r.whole && r.bytes * 2 >= m.hi - m.lo ? WHOLE_FOR : 0;
}

/* scan = the written runs of the mappings, and the pending pages still mapped (still). */
static void gather_scan(void)
{
    static struct ranges still;
    written.n = still.n = scan.n = 0;
    bool keep = states_reserve(mappings.n);
    for (size_t i = 0, k = 0, s = 0; i < mappings.n; i++) {
        struct os_range m = mappings.r[i];
        struct report whole = {0, false};
        unsigned next = 0;
        while (k < stack_maps.n && stack_maps.r[k].hi <= m.lo)
            k++;
        if (k < stack_maps.n && stack_maps.r[k].lo <= m.lo)
            written_run(&whole, m.lo, m.hi, 1);
        else
            next = gather_mapping(m, keep ? whole_for(m, &s) : 0);
        if (keep)
            next_states[i] = (struct mapping_state){m.lo, m.hi, next};
    }
    if (keep) {
        struct mapping_state *t = states;
        size_t cap = states_cap;
        states = next_states, states_cap = next_cap;
        next_states = t, next_cap = cap;
        states_n = mappings.n;
    }
    for (size_t p = 0, m = 0; p < pending.n && m < mappings.n;) {
        uintptr_t lo = pending.r[p].lo > mappings.r[m].lo ? pending.r[p].lo : mappings.r[m].lo;
        uintptr_t hi = pending.r[p].hi < mappings.r[m].hi ? pending.r[p].hi : mappings.r[m].hi;
        if (lo < hi)
            append_run(&still, lo, hi);
        if (pending.r[p].hi < mappings.r[m].hi)
            p++;
        else
            m++;
    }
    for (size_t w = 0, p = 0; w < written.n || p < still.n;) {
        bool take_w = p == still.n || (w < written.n && written.r[w].lo <= still.r[p].lo);
        struct os_range r = take_w ? written.r[w++] : still.r[p++];
        append_run(&scan, r.lo, r.hi);
    }
}

/* Does a word of [lo, hi) point into a page that may hold young objects?  (More than
 * "at a young object", and 4-5 times cheaper to ask than heap_object.) */
static bool points_young_page(uintptr_t lo, uintptr_t hi)
{
    for (uintptr_t p = (lo + 7) & ~(uintptr_t)7; p + 8 <= hi; p += 8) {
        uintptr_t w = *(const uintptr_t *)p;
        if (in_heap(w) && bit_test(H.young_map, page_of(w)))
            return true;
    }
    return false;
}

/* The end of p's page, or hi if sooner: ranges walked a page at a time. */
static uintptr_t page_piece_end(uintptr_t p, uintptr_t hi)
{
    uintptr_t end = (p | (WB_PAGE_SIZE - 1)) + 1;
    return end < hi ? end : hi;
}

/* Marks from the runs of a, a page at a time.  stay_young: the pages that may point at
 * young objects, which may stay young, become pending: every page just written (it is
 * likely written again, and asking costs as much as scanning it: Python's root time went
 * from 41 to 61 ms when every page was asked), and of the others those that point into
 * a page that may hold young objects, asked while the page is in the cache.  Returns the
 * bytes. */
static size_t mark_mappings(const struct ranges *a, bool stay_young)
{
    size_t bytes = 0, w = 0;
    pending.n = 0;
    for (size_t i = 0; i < a->n; i++)
        for (uintptr_t p = a->r[i].lo, end; p < a->r[i].hi; p = end) {
            end = page_piece_end(p, a->r[i].hi);
            mark_range(p, end);
            bytes += end - p;
            if (!stay_young)
                continue;
            while (w < written.n && written.r[w].hi <= p)
                w++;
            if ((w < written.n && written.r[w].lo < end) || points_young_page(p, end))
                append_run(&pending, p & ~(uintptr_t)(WB_PAGE_SIZE - 1),
                           (end + WB_PAGE_SIZE - 1) & ~(uintptr_t)(WB_PAGE_SIZE - 1));
        }
    return bytes;
}

static size_t mark_roots(uintptr_t my_sp, bool settled, bool young, bool stay_young)
{
    size_t bytes = 0;
    if (scan_mappings)
        snapshot_mappings(settled);
    bool track = scan_mappings && young && G.cfg.track_roots && G.barrier->written_roots;
    if (track)
        gather_scan();
    tracked = track && !lost;
    if (tracked && G.cfg.verify)
        verify_roots();     /* the pages as the barrier reported them, before the collection writes any */
    static const struct ranges none;
    each_root(my_sp, track ? &none : &mappings, mark_root, &bytes);
    if (track) {
        lost = false;
        bytes += mark_mappings(tracked ? &scan : &mappings, stay_young);
    }
    mark_pinned();
    finalize_mark_roots();
    uncollectable_mark();
    if (roots_client_hook)
        roots_client_hook();
    return bytes;
}

void roots_mark(uintptr_t my_sp) { mark_roots(my_sp, false, false, false); }
size_t roots_mark_young(uintptr_t my_sp, bool stay_young) { return mark_roots(my_sp, false, true, stay_young); }
void roots_mark_settled(uintptr_t my_sp) { mark_roots(my_sp, true, false, false); }

/* Pages clipped to their mapping; the mappings of exiting threads' stacks left out (they
 * run on while the world is stopped: their pages may change after the harvest). */
bool roots_each_tracked(root_page_fn *fn, void *ctx)
{
    if (!tracked)
        return false;
    size_t k = 0;
    for (size_t i = 0; i < mappings.n; i++) {
        uintptr_t lo = mappings.r[i].lo, hi = mappings.r[i].hi;
        if (holds_exiting_stack(lo, hi))
            continue;
        for (uintptr_t p = lo, end; p < hi; p = end) {
            end = page_piece_end(p, hi);
            while (k < scan.n && scan.r[k].hi <= p)
                k++;
            fn(p, end, k < scan.n && scan.r[k].lo < end, ctx);
        }
    }
    return true;
}

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
    return each_root(my_sp, &mappings, points_into, target);
}
