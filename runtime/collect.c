/* Collection: policy, stop-the-world, young and full cycles, arming the barrier.
 * The collector knows the barrier only through barrier.h.
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include "gc.h"
#include <stdio.h>
#include <time.h>
#include "heap.h"
#include "mark.h"
#include "roots.h"
#include "page_scan.h"
#include "remembered.h"
#include "sweep.h"
#include "threads.h"

struct gc G;
__thread int gc_no_collect __attribute__((tls_model("initial-exec")));

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void gc_will_write(size_t pg, size_t n)
{
    /* A software barrier records the stores into old objects there itself. */
    if (!G.barrier->remembered)
        dirty_map_set_range(&H.dirty, pg, n);
    G.barrier->will_write((void *)page_addr(pg), n << WB_PAGE_SHIFT);
}

/* Arm the runs of pages that hold old objects: the dirty ones, or all of them. */
static void arm_old_runs(bool only_dirty)
{
    size_t run = 0, len = 0;
    size_t pg = only_dirty ? dirty_map_next(&H.dirty, 1, H.top) : 1;
    while (pg < H.top) {
        if (page_has_old(pg)) {
            if (len && run + len == pg) {
                len++;
            } else {
                if (len)
                    G.barrier->arm((void *)page_addr(run), len << WB_PAGE_SHIFT);
                run = pg, len = 1;
            }
        }
        pg = only_dirty ? dirty_map_next(&H.dirty, pg + 1, H.top) : pg + 1;
    }
    if (len)
        G.barrier->arm((void *)page_addr(run), len << WB_PAGE_SHIFT);
}

static void disarm_run(size_t pg, size_t n)
{
    G.barrier->disarm((void *)page_addr(pg), n << WB_PAGE_SHIFT);
}

/* The old objects on page pg are roots: scan them (for a large object, only this page
 * of it: the page-granular map's advantage over object remembered sets). */
static bool scan_old_page(size_t pg)
{
    const struct page_info *pi = &H.pages[pg];
    if (pi->flags & PF_ATOMIC)
        return false;
    if (pi->kind == PK_LARGE || pi->kind == PK_TAIL) {
        if (!page_has_old(pg))
            return false;
        mark_range(page_addr(pg), page_addr(pg + 1));
        return true;
    }
    if (pi->kind != PK_SMALL)
        return false;
    size_t size = class_size[pi->sclass];
    bool any = false;
    FOR_OBJECTS(pg, H.alloc_bits, H.old_bits, obj) {
        mark_range(obj, obj + size);
        any = true;
    }
    return any;
}

/* Does an old object on page pg still point at a young object?  (tenure: then the page
 * stays in the dirty map for the next young collection) */
static bool page_points_young(size_t pg)
{
    return old_page_young_slot(pg, NULL, NULL) != 0;
}

static void young_cycle(uintptr_t sp, size_t used)
{
    G.barrier->harvest(&H.dirty, (void *)H.base, used);
    /* Counted from the map, not the backend, so that every barrier reports the same
     * thing: pages written since the last collection plus pages the allocator filled. */
    size_t dirty = dirty_map_count(&H.dirty, H.top);
    young_map_build();
    mark_begin(true, false, G.cfg.mark_stack_max);
    roots_mark(sp);
    size_t scanned = 0;
    for (size_t pg = G.barrier->tracks ? dirty_map_next(&H.dirty, 1, H.top) : 1; pg < H.top;
         pg = G.barrier->tracks ? dirty_map_next(&H.dirty, pg + 1, H.top) : pg + 1)
        scanned += scan_old_page(pg);
    G.stats.remembered_last =
        G.barrier->remembered ? remembered_scan(used, G.cfg.verify, G.cfg.tenure_age > 0) : 0;
    mark_finish();
    /* Marking changed no alloc or old bit: the old generation is still as the mutator left it. */
    if (G.cfg.verify)
        verify_barrier(sp);
    /* Every page that may get promoted objects goes into the dirty map before the sweep
     * takes it off the young list, so that one pass after it arms every page that gained
     * or kept old objects and was written or filled this cycle.  (A page filled before
     * the last collection is no longer dirty; under a barrier that protects only what it
     * is told, missing it here left its new old objects untracked.) */
    for (size_t i = 0; i < H.young.n; i++)
        dirty_map_set(&H.dirty, H.young.v[i]);
    struct sweep_result r;
    sweep(true, G.cfg.tenure_age, G.cfg.verify, G.gc_no, &r);
    heap_freed_runs(G.gc_no, disarm_run);
    G.stats.dirty_pages_last = dirty;
    G.stats.dirty_pages_total += dirty;
    G.stats.pages_scanned_last = scanned;
    G.old_bytes += r.promoted_bytes;
    G.stats.live_bytes = G.old_bytes + r.young_bytes;
    arm_old_runs(true);
    if (G.cfg.tenure_age > 0) {
        /* pages whose old objects still point at young survivors stay dirty */
        for (size_t pg = dirty_map_next(&H.dirty, 1, H.top); pg < H.top;
             pg = dirty_map_next(&H.dirty, pg + 1, H.top))
            if (!page_points_young(pg))
                dirty_map_clear_range(&H.dirty, pg, 1);
    } else {
        dirty_map_clear_range(&H.dirty, 0, H.top);
    }
    G.stats.young_collections++;
}

/* A full collection marks everything: what a software barrier recorded is not needed. */
static void forget(void *ctx, uintptr_t lo, uintptr_t hi, int whole)
{
    (void)ctx;
    (void)lo;
    (void)hi;
    (void)whole;
}

static void full_cycle(uintptr_t sp, size_t used)
{
    G.barrier->harvest(&H.dirty, (void *)H.base, used);
    if (G.barrier->remembered)
        G.barrier->remembered((void *)H.base, used, forget, NULL);
    G.stats.dirty_pages_last = dirty_map_count(&H.dirty, H.top);
    G.stats.dirty_pages_total += G.stats.dirty_pages_last;
    dirty_map_clear_range(&H.dirty, 0, H.top);
    mark_begin(false, false, G.cfg.mark_stack_max);
    roots_mark(sp);
    mark_finish();
    struct sweep_result r;
    sweep(false, 0, G.cfg.verify, G.gc_no, &r);
    heap_freed_runs(G.gc_no, disarm_run);
    G.old_bytes = G.old_after_full = r.live_bytes;
    G.stats.live_bytes = r.live_bytes;
    G.stats.pages_scanned_last = 0;
    arm_old_runs(false);
    G.full_due = false;
    G.stats.full_collections++;
}

static size_t full_trigger(void)
{
    size_t grow = G.old_after_full / 100 * G.cfg.heap_growth;
    return grow > G.cfg.full_min_bytes ? grow : G.cfg.full_min_bytes;
}

void gc_after_fork_child(void)
{
    G.reattach_due = true;
}

/* A forked child keeps the heap but not necessarily the barrier's kernel state (a
 * userfaultfd registration is not inherited): attach again, then a full collection
 * re-arms every old page. */
static void reattach(void)
{
    char why[200];
    G.reattach_due = false;
    G.full_due = true;
    G.barrier->detach();
    if (G.barrier->attach((void *)H.base, H.npages << WB_PAGE_SHIFT, &H.dirty, why, sizeof why) != 0) {
        fprintf(stderr, "wbrt: barrier %s lost after fork (%s); using none\n", G.barrier->name, why);
        G.barrier = &barrier_none;
    }
}

void gc_collect_locked(bool full)
{
    if (G.reattach_due)
        reattach();
    struct wb_thread *me = thread_self();
    if (me)
        tlab_release_all(me); /* so that its half-used pages are swept like any other */
    roots_refresh();
    uint64_t t0 = now_ns();
    threads_stop_world();
    __builtin_unwind_init(); /* our own callee-saved registers go on the stack we scan */
    uintptr_t sp = current_sp();
    size_t used = H.top << WB_PAGE_SHIFT;
    G.gc_no++;
    alloc_apply_deferred_frees();
    full = full || G.full_due;
    if (full)
        full_cycle(sp, used);
    else
        young_cycle(sp, used);
    if (G.cfg.verify)
        verify_reachable(sp);
    threads_start_world();
    uint64_t pause = now_ns() - t0;
    heap_decommit_pending(G.gc_no);
    G.alloc_since = 0;
    if (G.old_bytes - G.old_after_full >= full_trigger())
        G.full_due = true;
    G.stats.pause_ns_total += pause;
    if (pause > G.stats.pause_ns_max)
        G.stats.pause_ns_max = pause;
    if (!full) {
        G.stats.young_pause_ns_total += pause;
        if (pause > G.stats.young_pause_ns_max)
            G.stats.young_pause_ns_max = pause;
    }
    G.stats.old_bytes = G.old_bytes;
    if (G.cfg.verbose)
        fprintf(stderr, "wbrt: %s collection %llu: %.3f ms, live %zu KiB, old %zu KiB, dirty pages %llu, scanned %llu\n",
                full ? "full" : "young", (unsigned long long)G.gc_no, pause / 1e6,
                (size_t)(G.stats.live_bytes >> 10), G.old_bytes >> 10,
                (unsigned long long)G.stats.dirty_pages_last, (unsigned long long)G.stats.pages_scanned_last);
}

void gc_maybe_collect(void)
{
    if (G.alloc_since >= G.cfg.young_bytes && !gc_no_collect)
        gc_collect_locked(false);
}
