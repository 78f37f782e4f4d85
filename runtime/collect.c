/* Collection: policy, stop-the-world, young and full cycles, arming the barrier.
 * The collector knows the barrier only through barrier.h.
 * Design: docs/design/generations.md
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include "gc.h"
#include <stdio.h>
#include <time.h>
#include "describe.h"
#include "finalize.h"
#include "fork.h"
#include "heap.h"
#include "large_span.h"
#include "mark.h"
#include "markers.h"
#include "roots.h"
#include "page_scan.h"
#include "page_walk.h"
#include "arm_policy.h"
#include "protection_off.h"
#include "young_size.h"
#include "perm.h"
#include "remembered.h"
#include "sweep.h"
#include "threads.h"
#include "vector_regs.h"

struct gc G;
void (*gc_start_hook)(void);
static uint64_t mark_ns; /* the last collection's tracing (mark_finish), for WBRT_VERBOSE */
static uint64_t arm_ns;  /* the last young collection's arming (wall time): protection's cost */
static uint64_t rearm_ns; /* the last arming of every page (full, or protection resumed): wall time */
static uint64_t stop_ns;  /* the last switch of protection off: wall time */
static uint64_t ended_ns; /* when the last collection ended (gc_now_ns) */
__thread int gc_no_collect __attribute__((tls_model("initial-exec")));

uint64_t gc_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t gc_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void gc_will_write(size_t pg, size_t n)
{
    /* A software barrier records the stores into old objects there itself.  Before the
     * barrier is set up the map is left alone: every page handed out by then counts as
     * written (set_up_barrier), and a process that never collects (most of make's and
     * bash's) never touches the map: a page fault and a page table less, also in each
     * fork's copy. */
    if (!G.barrier->remembered && !G.barrier_pending)
        dirty_map_set_range(&H.dirty, pg, n);
    G.barrier->will_write((void *)page_addr(pg), n << WB_PAGE_SHIFT);
}

static void arm_run(size_t pg, size_t n)
{
    G.barrier->arm((void *)page_addr(pg), n << WB_PAGE_SHIFT);
    if (G.cfg.verify)
        verify_note_armed(pg, n);
}

static void unprotect_run(size_t pg, size_t n)
{
    G.barrier->disarm((void *)page_addr(pg), n << WB_PAGE_SHIFT);
}

/* Freed pages: writable for the allocator (they are while protection is off), and what
 * the policy learned of them is void. */
static void disarm_run(size_t pg, size_t n)
{
    if (!protection_off())
        unprotect_run(pg, n);
    policy_forget(pg, n);
}

/* Adjacent pages handed to the barrier in one call. */
struct run {
    size_t pg, n;
    void (*fn)(size_t pg, size_t n);
};

static void run_flush(struct run *r)
{
    if (r->n && r->fn)
        r->fn(r->pg, r->n);
    r->n = 0;
}

static void run_add(struct run *r, size_t pg, size_t n)
{
    if (r->n && r->pg + r->n == pg) {
        r->n += n;
        return;
    }
    run_flush(r);
    r->pg = pg, r->n = n;
}

/* Does an old object on page pg still point at a young object?  (tenure: then the page
 * stays in the dirty map for the next young collection) */
static bool page_points_young(size_t pg)
{
    return old_page_young_slot(pg, NULL, NULL) != 0;
}

/* The first page after pg, below end, that is not dirty (end if none). */
static size_t dirty_end(size_t pg, size_t end)
{
    size_t e = pg + 1;
    while (e < end && dirty_map_test(&H.dirty, e))
        e++;
    return e;
}

/* The pages from pg that one look covers: to the end of its large object (pg + 1 for
 * another page), all of them when every page is looked at, else while they are dirty. */
static size_t span_end(size_t pg, bool all)
{
    size_t end = large_end(pg);
    return all ? end : dirty_end(pg, end);
}

/* YOUNG: the dirty pages, which the harvest protected again; FULL: every page, the dirty
 * map clear; RESUME: every page, all open and dirty (protection was off); STOP: as YOUNG
 * for what the policy learns (the pages it keeps hot stay so when protection resumes),
 * but no call: protection goes off. */
enum arming_kind { ARMING_YOUNG, ARMING_FULL, ARMING_RESUME, ARMING_STOP };

struct arming {
    struct run arm, open;   /* their fn NULL: no call (STOP) */
    bool young;     /* the policy learns from the pages' outcomes; only the dirty ones decided */
    bool reopen;    /* the harvest protected the written pages: open those not to arm */
    bool clear;     /* take the pages not kept out of the dirty map */
    size_t run_pg, run_end;     /* young: the run of dirty pages being decided */
    bool populated;             /* a part of the large object being decided has data */
    int tenure;     /* the young collection's tenure age: young survivors remain where > 0 */
};

/* How many dirty pages lie in pg's run: those a call opening pg may open too. */
static size_t dirty_run(struct arming *a, size_t pg)
{
    if (!a->young)
        return 1;
    if (pg >= a->run_end)
        a->run_pg = pg, a->run_end = dirty_end(pg, H.top);
    return a->run_end - a->run_pg;
}

/* Pages [pg, pg+n) as choice c says; untouched: they hold no data (read as zero), else n
 * is 1. */
static void arm_page(struct arming *a, size_t pg, size_t n, enum arm_choice c, bool tracked, bool untouched)
{
    if (c == ARM_PROTECT)
        run_add(&a->arm, pg, n);
    else if (a->reopen && (c == ARM_KEEP || (a->young && tracked)))
        run_add(&a->open, pg, n);
    if (c == ARM_KEEP)
        dirty_map_set_range(&H.dirty, pg, n);
    else if (a->clear && (untouched || !(a->tenure > 0 && page_points_young(pg))))
        dirty_map_clear_range(&H.dirty, pg, n);
}

/* A part of a large object: what the policy learns is per page, but a page the kernel
 * has no data for teaches nothing and records nothing (its table stays uncommitted). */
static void arm_part(void *ctx, size_t pg, size_t end, bool populated)
{
    struct arming *a = ctx;
    a->populated |= populated;
    if (!populated) {
        arm_page(a, pg, end - pg, policy_decide_untouched(pg, end - pg), true, true);
        return;
    }
    for (size_t i = pg; i < end; i++)
        arm_page(a, i, 1, policy_decide(i, a->young, dirty_run(a, i)), true, false);
}

/* After the sweep, as the policy decides: arm the pages whose old objects are worth
 * tracking, leave the others writable (a young collection's harvest protected every
 * page written), and keep the hot ones in the dirty map for the next young collection.
 * A young collection looks at the dirty pages only (the others are armed and clean
 * still) and leaves in the map only the kept pages and, with tenuring, those whose old
 * objects still point at young survivors; a full one looks at every page, the map clear;
 * a resumed protection at every page, as a full one does, the map full. */
static void arm_pages(enum arming_kind kind, int tenure)
{
    bool young = kind == ARMING_YOUNG || kind == ARMING_STOP, calls = kind != ARMING_STOP;
    struct arming a = {.arm = {.fn = calls ? arm_run : NULL}, .open = {.fn = calls ? unprotect_run : NULL},
                       .young = young, .reopen = kind != ARMING_RESUME,
                       .clear = kind == ARMING_YOUNG || kind == ARMING_RESUME, .tenure = tenure};
    size_t first = own_first_page();      /* perm pages are not the barrier's */
    struct page_walk w;
    page_walk_begin(&w, &H.dirty, 1, H.top);
    G.stats.hot_pages_last = 0;
    for (size_t pg = young ? page_walk_next(&w, 1) : first; pg < H.top;
         pg = young ? page_walk_next(&w, pg + 1) : pg + 1) {
        bool tracked = pg >= first && H.pages[pg].kind != PK_FREE;
        size_t end = tracked ? span_end(pg, !young) : pg + 1;
        if (end - pg > 1) {
            a.populated = false;
            span_parts(pg, end, arm_part, &a);
            if (a.populated)
                policy_partly_populated(pg, end - pg);
        } else
            arm_page(&a, pg, 1, tracked ? policy_decide(pg, young, dirty_run(&a, pg)) : ARM_SKIP, tracked, false);
        pg = end - 1;
    }
    run_flush(&a.arm);
    run_flush(&a.open);
    G.stats.hot_pages_total += G.stats.hot_pages_last;
}

/* Every page from the first the barrier watches counts as written: while protection is
 * off, as under none. */
static void all_dirty(void)
{
    size_t first = own_first_page();
    dirty_map_set_range(&H.dirty, first, H.top - first);
}

/* Every page armed as the policy decides (a full collection's, or protection resumed),
 * timed: what switching protection off will cost again (protection_weigh). */
static void arm_all(enum arming_kind kind)
{
    uint64_t t = gc_now_ns();
    arm_pages(kind, 0);
    rearm_ns = gc_now_ns() - t;
}

/* Protection off: every page open (one call), none armed, all dirty. */
static void protection_stop(int tenure)
{
    uint64_t t = gc_now_ns();
    arm_pages(ARMING_STOP, tenure);
    if (barrier_used())
        G.barrier->disarm((void *)barrier_base(), barrier_used());
    policy_disarmed_all();
    all_dirty();
    protection_set(true);
    stop_ns = gc_now_ns() - t;
}

/* After a sweep while protection is off: arm again if its back-off ended (true); else every
 * page stays dirty.  Not where young survivors stay young (tenure > 0): each page not armed
 * would be looked through for pointers at them first (2.3 ms of a 2.6 ms pause in gcbench):
 * the next collection that promotes them all does it. */
static bool protection_after_sweep(int tenure)
{
    if (!protection_retry_due() || tenure > 0)
        return false;
    arm_all(ARMING_RESUME);
    protection_set(false);
    return true;
}

/* What the barrier saw, into the dirty map (nothing to ask while no page is handed out,
 * nor while protection is off: every page is dirty since it went off, or since the last
 * full collection, and each page handed out since was marked so by gc_will_write; marking
 * them all again at each collection cost big_buffer's 2 GiB heap 25 us of its 0.19 ms). */
static void harvest(void)
{
    if (!protection_off() && barrier_used())
        G.stats.barrier_pages_total += G.barrier->harvest(&H.dirty, (void *)barrier_base(), barrier_used());
}

/* What scan_dirty_old tells the policy of each dirty page while protection is off. */
static void no_page(size_t pg)
{
    (void)pg;
}

/* Pages with old objects the collecting thread scans itself, timed: a clock read per page
 * would cost more than the page (3 us for the thread's CPU time in a VM), and pages spread
 * over the heap, each cold, cost 10 times one of a run. */
#define SCAN_SAMPLE 256

/* Marks from the old objects on the dirty pages (on every page under a barrier that tracks
 * none): the first SCAN_SAMPLE at once, their CPU time per page for the policy, the others
 * pushed for the workers of mark_finish, which scan them in parallel (an old table written
 * all over was 15 ms of each young collection on this thread alone, the marker threads
 * waiting).  Returns the pages that had old objects; *later_ns: this thread's share of the
 * others at the sample's rate (the young size counts it as fixed cost). */
static size_t scan_dirty_old(uint64_t *later_ns)
{
    /* While protection is off every page is dirty: walked as under none, a large object in
     * one step (bit by bit, a 2 GiB buffer's map cost 0.5 ms a collection). */
    bool all = !G.barrier->tracks || protection_off();
    /* The policy learns from the pages written while protected only. */
    void (*saw)(size_t pg) = protection_off() ? no_page : policy_saw_write;
    size_t scanned = 0, sampled = 0;
    uint64_t t0 = gc_cpu_ns(), ns = 0;
    struct page_walk w;
    page_walk_begin(&w, &H.dirty, 1, H.top);
    size_t pg = all ? 1 : page_walk_next(&w, 1);
    while (pg < H.top) {
        size_t end = span_end(pg, all);
        if (sampled < SCAN_SAMPLE) {
            size_t e = end - pg < SCAN_SAMPLE - sampled ? end : pg + SCAN_SAMPLE - sampled;
            sampled += scan_old_pages(pg, e, saw, false);
            if (sampled == SCAN_SAMPLE)
                ns = gc_cpu_ns() - t0;
            pg = e;
        }
        if (pg < end)
            scanned += scan_old_pages(pg, end, saw, true);
        pg = all ? end : page_walk_next(&w, end);
    }
    if (sampled < SCAN_SAMPLE)
        ns = gc_cpu_ns() - t0;
    policy_scanned(ns, sampled);
    *later_ns = sampled ? ns * scanned / sampled / markers_ready(options_markers(&G.cfg)) : 0;
    return scanned + sampled;
}

/* Clean armed pages looked through, where a young collection weighs protection
 * (protection_off.h), to time what it saves: the scan of such a page.  Read, not marked
 * from: a stale word there (a dangling pointer into memory handed out again) would keep a
 * young object that the collection reclaims (test_dangling_into_young_reclaimed).  Every
 * word is checked as marking checks it first (a clean page's words point at old objects);
 * a lookup of each, as the verifier makes, took 2.3 us a page in binary_trees. */
#define CLEAN_SAMPLE 32

static size_t promoted_pages;   /* at least, by the young collection weighing protection */

static bool clean_saved_ns(uint64_t *ns)
{
    size_t pg[CLEAN_SAMPLE], n = policy_armed_sample(pg, CLEAN_SAMPLE);
    if (n) {
        uint64_t t0 = gc_cpu_ns();
        for (size_t i = 0; i < n; i++)
            old_page_young_page_words(pg[i]);
        policy_scanned_clean(gc_cpu_ns() - t0, n);
    }
    return policy_saved_ns(promoted_pages, ns);
}

static void young_cycle(uintptr_t sp)
{
    /* The young size weighs the parts in the collecting thread's CPU time: in wall time a
     * preemption in either part moved it (test_gen_young_size failed on a loaded machine). */
    uint64_t t_fixed = gc_cpu_ns(), written = G.stats.barrier_pages_total, t_harvest = policy_clock();
    int tenure = young_size_tenure();
    bool off = protection_off();
    size_t carried = G.stats.live_bytes - G.policy.old_bytes;   /* the survivors kept young last time */
    harvest();
    uint64_t harvest_ns = policy_clock() - t_harvest;
    if (!off)
        policy_harvested(harvest_ns, G.stats.barrier_pages_total - written);
    perm_note_written(&H.dirty);
    /* Counted from the map, not the backend, so that every barrier reports the same
     * thing: pages written since the last collection plus pages the allocator filled. */
    size_t dirty = dirty_map_count(&H.dirty, H.top);
    young_map_build();
    mark_begin(true, false, true, G.cfg.mark_stack_max);
    G.stats.root_bytes_last = roots_mark_young(sp, tenure > 0);
    G.stats.root_bytes_total += G.stats.root_bytes_last;
    describe_mark_old();
    uint64_t later_ns;
    size_t scanned = scan_dirty_old(&later_ns);
    uint64_t fixed = gc_cpu_ns() - t_fixed + later_ns, verified = 0, t0;
    if (G.cfg.verify)
        verify_note_scanned();
    G.stats.remembered_last =
        G.barrier->remembered ? remembered_scan(G.cfg.verify, tenure > 0) : 0;
    t0 = gc_now_ns();
    mark_finish();
    mark_ns = gc_now_ns() - t0;
    finalize_after_mark(true);
    describe_after_mark(true);
    /* Marking changed no alloc or old bit: the old generation is still as the mutator left it. */
    if (G.cfg.verify) {
        uint64_t t = gc_cpu_ns();
        verify_barrier(sp);
        verified = gc_cpu_ns() - t;
    }
    /* Every page that may get promoted objects goes into the dirty map before the sweep
     * takes it off the young list, so that one pass after it arms every page that gained
     * or kept old objects and was written or filled this cycle.  (A page filled before
     * the last collection is no longer dirty; under a barrier that protects only what it
     * is told, missing it here left its new old objects untracked.)  A large object's
     * whole run: one that stayed young for a while has pages long out of the map. */
    for (size_t i = 0; i < H.young.n; i++) {
        size_t pg = H.young.v[i];
        dirty_map_set_range(&H.dirty, pg, H.pages[pg].kind == PK_LARGE ? H.pages[pg].aux : 1);
    }
    struct sweep_result r;
    sweep(true, false, tenure, G.cfg.verify, G.policy.gc_no, &r);
    heap_freed_runs(G.policy.gc_no, disarm_run);
    G.stats.dirty_pages_last = dirty;
    G.stats.dirty_pages_total += dirty;
    G.stats.pages_scanned_last = scanned;
    G.stats.pages_scanned_total += scanned;
    G.policy.old_bytes += r.promoted_bytes;
    promoted_pages = r.promoted_bytes >> WB_PAGE_SHIFT;
    G.stats.live_bytes = G.policy.old_bytes + r.young_bytes;
    /* Weighed before this collection arms anything (the arming is the last one's): where
     * protection goes off, opening the pages it keeps hot cost mt_mutator 10 ms.  The pages
     * it promoted are counted with those armed: the next collection will skip them.  Wall
     * time: the CPU clock costs microseconds a read in a VM. */
    uint64_t t_weigh = gc_now_ns();
    bool stop = !off && protection_weigh(harvest_ns + arm_ns + policy_fault_ns(), t_weigh - ended_ns, stop_ns + rearm_ns,
                                         clean_saved_ns);
    uint64_t t_arm = gc_now_ns();
    if (off)
        protection_after_sweep(tenure);
    else if (stop)
        protection_stop(tenure);
    else {
        arm_pages(ARMING_YOUNG, tenure);
        arm_ns = gc_now_ns() - t_arm;
    }
    /* The weighing is the barrier's cost too: counted with the fixed part, where it kept
     * binary_trees' young size from growing (56 collections, not 20-40: 15% slower). */
    young_size_adapt(fixed + t_arm - t_weigh, gc_cpu_ns() - t_fixed - verified, G.stats.barrier_pages_total - written,
                     r.promoted_bytes, G.policy.alloc_since, carried, r.live_bytes);
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

/* A full collection leaves perm objects alone (not traced, not swept) but treats those on
 * the perm pages this process wrote as roots; a global one traces and sweeps them too. */
static void full_cycle(uintptr_t sp, bool global)
{
    harvest();
    if (G.barrier->remembered && barrier_used())
        G.barrier->remembered((void *)barrier_base(), barrier_used(), forget, NULL);
    if (!protection_off())
        policy_saw_writes_at_full(&H.dirty);
    perm_note_written(&H.dirty);
    G.stats.dirty_pages_last = dirty_map_count(&H.dirty, H.top);
    G.stats.dirty_pages_total += G.stats.dirty_pages_last;
    mark_begin(false, false, !global, G.cfg.mark_stack_max);
    roots_mark(sp);
    for (size_t pg = dirty_map_next(&H.dirty, 1, H.perm_end); !global && pg < H.perm_end;
         pg = dirty_map_next(&H.dirty, pg + 1, H.perm_end))
        scan_old_page(pg);
    dirty_map_clear_range(&H.dirty, 0, H.top);
    uint64_t t0 = gc_now_ns();
    mark_finish();
    mark_ns = gc_now_ns() - t0;
    finalize_after_mark(false);
    describe_after_mark(false);
    struct sweep_result r;
    sweep(false, global, 0, G.cfg.verify, G.policy.gc_no, &r);
    heap_freed_runs(G.policy.gc_no, disarm_run);
    G.policy.old_bytes = G.policy.old_after_full = r.live_bytes;
    G.stats.live_bytes = r.live_bytes;
    G.stats.pages_scanned_last = 0;
    /* With every collection full (bdwgc's default mode) nothing would read what the
     * barrier saw: its faults would be pure cost.  Leaving that mode makes every old page
     * written for the next young collection (gc_set_full_only). */
    if (!G.sw.full_only) {
        if (protection_off()) {
            if (!protection_after_sweep(0))
                all_dirty();        /* the full collection cleared the map */
        } else
            arm_all(ARMING_FULL);
    }
    G.policy.full_due = false;
    G.stats.full_collections++;
}

/* bdwgc's free space divisor (its clients, through gc_set_growth): allocation between
 * collections of about 2 * live / divisor, at least a quarter of WBRT_YOUNG_BYTES where
 * every collection is full (a small heap is not collected every few KiB), a sixteenth
 * where most are young (cheap: Guile's peak RSS was 1.4x bdwgc's with a quarter); 0 for
 * wbrt's own clients. */
static size_t divisor_budget(size_t live)
{
    if (!G.sw.free_space_divisor)
        return 0;
    size_t due = 2 * live / G.sw.free_space_divisor, floor = G.cfg.young_bytes / (G.sw.full_only ? 4 : 16);
    return due > floor ? due : floor;
}

/* Old-generation growth that makes the next collection full.  A bdwgc client's heap stays
 * within its divisor's promise in incremental mode too: with the 64 MiB floor, Guile's
 * old generation grew to three times what it kept, and its peak RSS was 1.46x bdwgc's. */
static size_t full_trigger(void)
{
    size_t grow = G.policy.old_after_full / 100 * G.cfg.heap_growth;
    if (grow < G.cfg.full_min_bytes)
        grow = G.cfg.full_min_bytes;
    size_t promise = divisor_budget(G.policy.old_after_full);
    return promise && promise < grow ? promise : grow;
}

/* A forked child keeps the heap but not necessarily the barrier's kernel state (a
 * userfaultfd registration is not inherited): attach again, then a full collection
 * re-arms every old page. */
static void reattach(void)
{
    fork_reattach_due = false;
    G.policy.full_due = true;
    G.barrier->detach();
    gc_attach_barrier("after fork");
}

static int attach(const struct barrier_ops *b, char *why, size_t whylen)
{
    gc_inside++; /* a handler thread's start allocates: never from the heap whose lock we hold */
    int rc = b->attach((void *)barrier_base(), barrier_len(), &H.dirty, &G.cfg.barrier_set, why, whylen);
    gc_inside--;
    return rc;
}

/* G.barrier takes charge (rc: its attach's result, why: the reason it failed). */
static void attached(int rc, const char *why, const char *when)
{
    if (rc != 0) {
        fprintf(stderr, "wbrt: barrier %s lost %s (%s); using none\n", G.barrier->name, when, why);
        G.barrier = &barrier_none;
    }
    policy_init();
}

void gc_attach_barrier(const char *when)
{
    char why[200];
    int rc = attach(G.barrier, why, sizeof why);
    attached(rc, why, when);
}

/* Held by the thread setting the barrier up, and by fork (gc_fork_lock): a child never
 * copies a barrier half attached. */
static pthread_mutex_t setup_lock = PTHREAD_MUTEX_INITIALIZER;

void gc_fork_lock(void) { pthread_mutex_lock(&setup_lock); }
void gc_fork_unlock(void) { pthread_mutex_unlock(&setup_lock); }

/* The barrier gc_init_deferred put off, chosen and attached before the first collection
 * arms any page.  A fork child of a process that had not collected yet gets here too: it
 * sets up its own, so the reattach of a fork child is not needed.
 * Its probes and attach start threads (uffd's handler), and pthread_create waits for the
 * loader's TLS lock, which a thread in dlopen holds while it calls malloc: as the
 * process's malloc, then, with the heap lock released (the barrier is published under it;
 * pages handed out meanwhile count as written like the others), and a collection that
 * finds another thread setting the barrier up skips (that thread may be the one in dlopen,
 * waited for by the one setting up).  Returns false if it skipped. */
static bool set_up_barrier(void)
{
    if (pthread_mutex_trylock(&setup_lock) != 0)
        return false;
    if (!G.barrier_pending) {       /* another thread set it up meanwhile */
        pthread_mutex_unlock(&setup_lock);
        return true;
    }
    char why[600], lost[200] = "";
    const char *asked = G.barrier->name;
    if (G.sw.is_malloc)
        pthread_mutex_unlock(&H.lock);
    gc_inside++; /* the probes call into glibc */
    const struct barrier_ops *b = barrier_select(G.cfg.barrier, 1, why, sizeof why);
    gc_inside--;
    int rc = b ? attach(b, lost, sizeof lost) : 0;
    if (G.sw.is_malloc)
        pthread_mutex_lock(&H.lock);
    G.barrier_pending = false;
    fork_reattach_due = false;
    /* what gc_will_write left out: all the pages handed out so far (page 0 never is) */
    dirty_map_set_range(&H.dirty, 1, H.top - 1);
    if (!b)
        fprintf(stderr, "wbrt: WBRT_BARRIER=%s: %s; using none\n", asked, why);
    G.barrier = b ? b : &barrier_none;
    attached(rc, lost, "at the first collection");
    if (G.cfg.verbose)
        fprintf(stderr, "wbrt: barrier %s set up at the first collection\n", G.barrier->name);
    pthread_mutex_unlock(&setup_lock);
    return true;
}

/* Collections a freed page stays committed: one, so that a page freed and reused soon
 * does not fault afresh; for a bdwgc client, as many as bdwgc keeps a free block mapped
 * (GC_unmap_threshold, 6 in Debian's 8.2): Guile and Asymptote, freeing and taking pages
 * again within a few collections, made 10% more page faults with one (1270 and 1080 a
 * run), for 0.5-1.6 MiB less peak RSS. */
static unsigned decommit_age(void) { return gc_counts_frees() ? 6 : 1; }

void gc_collect_locked(int kind)
{
    if (G.sw.disabled)
        return;
    unsigned markers = options_markers(&G.cfg);
    if (markers_missing(markers)) {
        /* As the process's malloc, never under the heap lock (markers.h): a collection may
         * run meanwhile.  As a library, under it: only then did the Debug tree's
         * test_collect_thread_churn never exit 255 unexplained (docs/design/mark-sweep.md). */
        if (G.sw.is_malloc)
            pthread_mutex_unlock(&H.lock);
        markers_start(markers);
        if (G.sw.is_malloc)
            pthread_mutex_lock(&H.lock);
        if (G.sw.disabled)
            return;
    }
    if (G.barrier_pending && (!set_up_barrier() || G.sw.disabled))
        return;
    if (fork_reattach_due)
        reattach();
    struct wb_thread *me = thread_self();
    if (me)
        tlab_release_all(me); /* so that its half-used pages are swept like any other */
    if (gc_start_hook)
        gc_start_hook();
    roots_refresh();
    uint64_t t0 = gc_now_ns();
    threads_stop_world();
    uint64_t stopped = gc_now_ns() - t0;
    policy_measure();
    __builtin_unwind_init(); /* our own callee-saved registers go on the stack we scan */
    uintptr_t sp = current_sp();
    G.policy.gc_no++;
    if (protection_off())
        G.stats.unprotected_collections++;
    alloc_apply_deferred_frees();
    bool global = kind == WB_COLLECT_GLOBAL,
         full = global || kind == WB_COLLECT_FULL || G.policy.full_due || G.sw.full_only;
    if (full)
        full_cycle(sp, global);
    else
        young_cycle(sp);
    if (G.cfg.verify)
        verify_reachable(sp, global);
    threads_reprepare_kernel_writes();
    threads_start_world();
    /* Marking moved the mark stacks' entries (heap addresses) through vector registers
     * (memcpy): left there, they would be read as roots from this thread's stop-signal
     * frame at a later collection, and keep garbage. */
    os_forget_vector_registers();
    ended_ns = gc_now_ns();
    uint64_t pause = ended_ns - t0;
    heap_decommit_pending(G.policy.gc_no, decommit_age());
    G.policy.alloc_since = 0;
    __atomic_store_n(&G.policy.freed_since, 0, __ATOMIC_RELAXED);
    if (G.policy.old_bytes - G.policy.old_after_full >= full_trigger())
        G.policy.full_due = true;
    G.stats.pause_ns_total += pause;
    if (pause > G.stats.pause_ns_max)
        G.stats.pause_ns_max = pause;
    if (!full) {
        G.stats.young_pause_ns_total += pause;
        if (pause > G.stats.young_pause_ns_max)
            G.stats.young_pause_ns_max = pause;
    }
    G.stats.old_bytes = G.policy.old_bytes;
    if (G.cfg.verbose)
        fprintf(stderr, "wbrt: %s collection %llu: %.3f ms (stop %.3f ms, trace %.3f ms), live %zu KiB, old %zu KiB, dirty pages %llu, "
                "scanned %llu, hot %llu%s (fault %.2f us, re-protect %.2f us, page scan %.2f us, clean page scan %.2f us, call %.2f us, rewritten %.1f%%), young size %zu KiB "
                "(fixed cost %.1f%%)\n",
                global ? "global" : full ? "full" : "young", (unsigned long long)G.policy.gc_no, pause / 1e6, stopped / 1e6,
                mark_ns / 1e6,
                (size_t)(G.stats.live_bytes >> 10), G.policy.old_bytes >> 10,
                (unsigned long long)G.stats.dirty_pages_last, (unsigned long long)G.stats.pages_scanned_last,
                (unsigned long long)G.stats.hot_pages_last, protection_off() ? ", protection off" : "", G.stats.fault_cost_ns / 1e3, G.stats.reprotect_cost_ns / 1e3,
                G.stats.scan_cost_ns / 1e3, G.stats.clean_scan_cost_ns / 1e3, G.stats.call_cost_ns / 1e3, G.stats.rewrite_permille / 10.0, young_size_budget() >> 10,
                G.stats.fixed_permille / 10.0);
}

/* Allocation between automatic collections: the young size (young_size.c), or for a
 * bdwgc client what its free space divisor promises (divisor_budget) when every
 * collection is full (no young generation to size) or that is less (Guile's peak RSS was
 * 1.36x bdwgc's with the whole young size, in either mode); or more to let the heap reach
 * the size the program asked for (heap_target); with dont_expand, no more than the free
 * space left in the heap (at least a sixteenth of the young budget, so that a full heap
 * still grows). */
static size_t collect_budget(void)
{
    size_t due = young_size_budget(), live = G.policy.old_bytes, promise = divisor_budget(live);
    if (promise && (G.sw.full_only || promise < due))
        due = promise;
    if (G.sw.dont_expand) {
        size_t heap = H.pages_in_use << WB_PAGE_SHIFT, floor = G.cfg.young_bytes / 16;
        due = heap > live + floor ? heap - live : floor;
    }
    if (G.sw.heap_target > live + due)
        due = G.sw.heap_target - live;
    return due;
}

/* Allocation that counts towards the budget.  For a bdwgc client, as bdwgc's
 * GC_adj_bytes_allocd: what was freed explicitly (reusable without a collection) is left
 * out, but at least an eighth of the allocation counts where every collection is full, so
 * that a program freeing nearly everything still collects.  In incremental mode at least
 * a quarter: the garbage a young collection does not find before it promotes survivors
 * stays until the next full one (Asymptote frees 1.5 of its 2.2 GB: all counted, it made
 * 93 young collections, 1.3x bdwgc's CPU time; an eighth, 28 and peak RSS up to 1.13x
 * bdwgc's; a quarter, 35 and 0.93x, RSS 1.07x).  Young collections of wbrt.h and the
 * preload count every allocation: their frequency stays as documented. */
static size_t counted_allocation(void)
{
    size_t a = G.policy.alloc_since, f = __atomic_load_n(&G.policy.freed_since, __ATOMIC_RELAXED);
    if (!gc_counts_frees())
        return a;
    size_t least = G.sw.full_only ? a / 8 : a / 4;
    return f < a - least ? a - f : least;
}

void gc_maybe_collect(void)
{
    if (counted_allocation() >= collect_budget() && !gc_no_collect)
        gc_collect_locked(G.sw.full_only ? WB_COLLECT_FULL : WB_COLLECT_YOUNG);
}
