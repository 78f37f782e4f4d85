/* The arming policy.  Protecting an old page saves scanning it at each young collection
 * while it stays clean, and costs a fault (and protecting it again) each time it is
 * written.  A page that is written again in the cycle right after it was armed is "hot":
 * with p the chance that it is again, it stays writable and is scanned as dirty while
 * p x (fault + re-protection) > (1 - p) x scan (measured on this machine: the fault at
 * the first collection; the harvest per page it reports written and protects again, and scanning
 * one page's old objects, in CPU time by the young collections), and is armed again
 * after a first period (first_level), then twice, four times ... as long (up to 64 young
 * collections) to see whether it has cooled: the first page of
 * each group of GROUP is armed, and the others of the group whose wait ends then stay
 * hot for as long as it proves hot again (a table written all over costs a fault per
 * group at each such check, not one per page).  p is the page's
 * own: its last armings' outcomes, with the program's share as the prior.  A share over
 * every armed page alone (45% in hot_old: old entries written now and then) kept the
 * pages of an old hash table written at every cycle (100%) armed.
 * Pages a thread allocates into are never armed.  WBRT_ARM=always turns hotness off
 * (every old page armed, as before the policy), =hot ignores the costs.
 * Design: docs/design/generations.md
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include "arm_policy.h"
#include "gc.h"
#include "heap.h"
#include "markers.h"
#include "page_scan.h"
#include "vm.h"

#define LEVEL_MAX 6          /* longest hot period: 64 young collections */
#define PROBE_PAGES 8        /* pages written under the barrier to time its fault */
#define HISTORY 6            /* outcomes of a page's armings remembered */
#define PRIOR 2              /* weight of the program's share against a page's outcomes */
#define LEARN_MIN 64         /* written pages a harvest must report to time re-protection */
#define GROUP 16             /* aligned pages whose cooling one of them tests */

enum {
    REWRITTEN = 1,           /* written since it was armed at the collection before */
    PENDING = 2,             /* hot, its wait ended: awaits its group's first page's outcome */
};

struct page_heat {
    uint32_t armed_at;       /* low bits of the collection that last armed it */
    uint8_t flags;
    uint8_t level;           /* hot periods last 2^level young collections */
    uint8_t wait;            /* > 0: hot, young collections left before it is armed again */
    uint8_t seen;            /* its last armings, newest lowest: 1 written at once, 0 not,
                              * below a leading 1 (0: never armed by a young collection) */
};

static struct page_heat *heat;
/* Pages armed untouched (never populated) by collection gc, in [lo, hi): a bit each, not a
 * table entry (a big buffer's entries would commit the table for pages never written), so
 * that the next collection, young or full, learns whether they were written at once.
 * mt_mutator's 64 MiB table, made old untouched and written all over, was armed again by
 * the full collection after it and took a fault per page again: 21 000 more faults than
 * none, 30-40 ms more system time.  Two: a full collection reads the last one's while it
 * records its own.  Only untouched armings: a populated page written once after it was
 * armed (barrier_stress linking its graph) is as likely never written again. */
struct fresh {
    struct dirty_map map;
    uint64_t gc;
    size_t lo, hi;
};
static struct fresh fresh[2];
static size_t fresh_run_pg, fresh_run_end;  /* a full collection's run of written fresh pages */
/* For p: pages armed by collection armed_gc (young or full), and how many of them the
 * next one found written. */
static size_t armed, rewritten;
static uint64_t armed_gc;
/* Pages protected by a decision of the policy and not reported written since: a bitmap, not
 * a flag of their entries, so that protection going off forgets them a word at a time (a
 * 2 GiB buffer's entries, read one by one, took 0.2-0.6 ms). */
static struct dirty_map armed_map;
/* What protection saves and costs now: the pages armed, and those of them the collection's
 * scan found written (each a fault). */
static size_t armed_now, faulted;
/* Policy on: a kernel barrier that tracks pages (none scans everything; a software
 * barrier's tables cost no fault). */
static bool active;

/* CPU time the barrier takes to protect again whatever of the probe pages was written:
 * the harvest (uffd-async re-protects there) and the arming after it (mprotect). */
static uint64_t reprotect_ns(void *p, size_t len)
{
    uint64_t t0 = gc_cpu_ns();
    G.barrier->harvest(&H.dirty, p, len);
    G.barrier->arm(p, len);
    return gc_cpu_ns() - t0;
}

/* Of PROBE_PAGES timings (sorted in place): resists a preemption in the middle. */
static uint64_t median(uint64_t *t)
{
    for (size_t i = 1; i < PROBE_PAGES; i++)        /* insertion sort of 8 */
        for (size_t j = i; j > 0 && t[j] < t[j - 1]; j--) {
            uint64_t x = t[j];
            t[j] = t[j - 1], t[j - 1] = x;
        }
    return t[PROBE_PAGES / 2];
}

/* A first write to each of PROBE_PAGES armed pages at the end of the reservation (never
 * handed out yet: the caller checks): the fault's median; as a first guess of the
 * re-protection's cost, protecting the written pages again less doing so with none written
 * (the calls' own cost); and one call's own cost, from opening and arming one page at a
 * time (median).  Leaves them as they were: unarmed, not dirty, decommitted. */
static void measure_fault(void)
{
    size_t pg = H.npages - PROBE_PAGES, len = PROBE_PAGES << WB_PAGE_SHIFT;
    volatile char *p = (volatile char *)page_addr(pg);
    uint64_t t[PROBE_PAGES];
    for (size_t i = 0; i < PROBE_PAGES; i++)
        p[i << WB_PAGE_SHIFT] = 1;          /* populated: time the barrier, not first touch */
    G.barrier->arm((void *)p, len);
    uint64_t clean = reprotect_ns((void *)p, len);
    for (size_t i = 0; i < PROBE_PAGES; i++) {
        uint64_t t0 = gc_now_ns();
        p[i << WB_PAGE_SHIFT] = 2;
        t[i] = gc_now_ns() - t0;
    }
    uint64_t written = reprotect_ns((void *)p, len), calls[PROBE_PAGES];
    for (size_t i = 0; i < PROBE_PAGES; i++) {      /* each page protected: open it, arm it again */
        uint64_t t0 = gc_cpu_ns();
        G.barrier->disarm((void *)(p + (i << WB_PAGE_SHIFT)), WB_PAGE_SIZE);
        G.barrier->arm((void *)(p + (i << WB_PAGE_SHIFT)), WB_PAGE_SIZE);
        calls[i] = (gc_cpu_ns() - t0) / 2;
    }
    G.barrier->disarm((void *)p, len);
    dirty_map_clear_range(&H.dirty, pg, PROBE_PAGES);
    os_decommit((void *)p, len);
    G.stats.fault_cost_ns = median(t);
    G.stats.call_cost_ns = median(calls);
    G.stats.reprotect_cost_ns = written > clean ? (written - clean) / PROBE_PAGES : 0;
}

void policy_init(void)
{
    bool tracks = G.barrier->tracks && !G.barrier->remembered;
    /* Mapped once a tracking barrier is attached (the preload's, at its first collection). */
    if (!heat && tracks && dirty_map_init(&fresh[0].map, H.base, H.npages) == 0 &&
        dirty_map_init(&fresh[1].map, H.base, H.npages) == 0 && dirty_map_init(&armed_map, H.base, H.npages) == 0)
        heat = os_table_scaled(H.npages * sizeof *heat);
    /* without its tables (out of memory) the policy arms every old page, as if off */
    active = heat && tracks;
}

/* At the first collection, not at start-up: most short processes never collect (make and
 * bash start hundreds), and paid it in each (about a twentieth of their start-up).  Once:
 * a forked child inherits the figure. */
void policy_measure(void)
{
    if (active && !G.stats.fault_cost_ns && H.top < H.npages - PROBE_PAGES &&
        H.npages > H.perm_end + PROBE_PAGES + 1)
        measure_fault();
}

void policy_prefetch(size_t pg)
{
    if (active)
        __builtin_prefetch(&heat[pg]);
}

/* The last collection's untouched armings, if it was the one before this. */
static struct fresh *last_fresh(void)
{
    struct fresh *f = &fresh[(G.policy.gc_no - 1) & 1];
    return f->gc + 1 == G.policy.gc_no ? f : NULL;
}

static bool fresh_written(size_t pg)
{
    const struct fresh *f = last_fresh();
    return f && pg >= f->lo && pg < f->hi && dirty_map_test(&f->map, pg);
}

/* A page no longer protected (written, left writable, or forgotten); true if it was armed. */
static bool unarm(size_t pg)
{
    if (!dirty_map_test(&armed_map, pg))
        return false;
    dirty_map_clear_range(&armed_map, pg, 1);
    armed_now--;
    return true;
}

void policy_saw_write(size_t pg)
{
    if (!active)
        return;
    struct page_heat *h = &heat[pg];
    if (unarm(pg))
        faulted++;
    if ((h->armed_at && h->armed_at + 1 == (uint32_t)G.policy.gc_no) || fresh_written(pg)) {
        h->flags |= REWRITTEN;
        rewritten++;
    }
}

void policy_saw_writes_at_full(const struct dirty_map *dm)
{
    struct fresh *f = last_fresh();
    if (!active || !f)
        return;
    /* A run at a time, each page kept if dm has it: a big untouched buffer has a bit a page. */
    for (size_t pg = dirty_map_next(&f->map, f->lo, f->hi); pg < f->hi;) {
        size_t end = dirty_map_next_clear(&f->map, pg, f->hi);
        while (pg < end) {
            size_t clean = dirty_map_next_clear(dm, pg, end), kept = dirty_map_next(dm, clean, end);
            dirty_map_clear_range(&f->map, clean, kept - clean);
            pg = kept;
        }
        pg = dirty_map_next(&f->map, end, f->hi);
    }
}

/* A full collection: how many written fresh pages lie in pg's run (those a call opening
 * pg may open too). */
static size_t fresh_run(size_t pg)
{
    const struct fresh *f = last_fresh();
    if (pg >= fresh_run_end || pg < fresh_run_pg) {
        fresh_run_pg = pg;
        fresh_run_end = dirty_map_next_clear(&f->map, pg, f->hi);
    }
    return fresh_run_end - fresh_run_pg;
}

/* Smoothed: one cycle may be preempted, or unusual. */
static void smooth(uint64_t *avg, uint64_t sample)
{
    *avg = *avg ? (3 * *avg + sample) / 4 : sample;
}

uint64_t policy_clock(void)
{
    return active ? gc_cpu_ns() : 0;
}

/* A harvest of a few written pages is mostly the calls' own cost: not a page's. */
void policy_harvested(uint64_t ns, size_t written)
{
    if (active && written >= LEARN_MIN)
        smooth(&G.stats.reprotect_cost_ns, ns / written);
}

void policy_scanned(uint64_t ns, size_t pages)
{
    if (active && pages)
        smooth(&G.stats.scan_cost_ns, ns / pages);
    if (armed && armed_gc + 1 == G.policy.gc_no)
        smooth(&G.stats.rewrite_permille, 1000 * rewritten / armed);
    armed = rewritten = 0;
}

/* One more outcome of the page's arming; the oldest beyond HISTORY is dropped. */
static void observe(struct page_heat *h, bool again)
{
    unsigned s = (h->seen ? h->seen : 1u) << 1 | again;
    if (s >> (HISTORY + 1))
        s = (s & ((1u << HISTORY) - 1)) | 1u << HISTORY;
    h->seen = (uint8_t)s;
}

/* Keeping a page that was just written again writable pays if p x (fault + re-protection)
 * > (1 - p) x scan + call / run, p (per 1000) the chance that it is written at once again:
 * from its outcomes (it has one at least) and PRIOR outcomes at the program's share.  The
 * harvest protected it again: opening it is a call, shared by the `run` dirty pages around
 * it, and paid again at each collection while it stays hot among protected pages (the
 * harvest's scan over a short gap protects it again, or the gap splits the scan in two
 * calls).  In hot_old, 300 calls a collection opened such pages one by one, each dearer
 * than the fault it saved. */
static bool keep_hot(const struct page_heat *h, size_t run)
{
    if (G.cfg.arm != ARM_BY_COST)
        return G.cfg.arm == ARM_HOT;
    unsigned n = 31u - (unsigned)__builtin_clz(h->seen), hits = (unsigned)__builtin_popcount(h->seen) - 1;
    uint64_t p = (1000 * hits + PRIOR * G.stats.rewrite_permille) / (n + PRIOR);
    return p * (G.stats.fault_cost_ns + G.stats.reprotect_cost_ns) >
           (1000 - p) * G.stats.scan_cost_ns + 1000 * G.stats.call_cost_ns / run;
}

/* A hot page whose wait ended stays hot if the first page of its group does: armed at
 * this collection (so to test the group, wait one collection more for its outcome), or
 * found written at once and hot again (as long as it).  mt_mutator's 64 MiB table,
 * written all over at every cycle, took 16384 faults at each re-check, none of them
 * useful.  The first page is decided before the others (the walk goes up). */
static bool follow_first(size_t pg, struct page_heat *h)
{
    const struct page_heat *f = &heat[pg & ~(size_t)(GROUP - 1)];
    bool pending = h->flags & PENDING;
    h->flags &= (uint8_t)~PENDING;
    if (f == h)
        return false;
    if (f->wait) {
        h->wait = f->wait;
        h->level = f->level;
        return true;
    }
    if (!pending && f->armed_at == (uint32_t)G.policy.gc_no) {
        h->flags |= PENDING;
        h->wait = 1;
        return true;
    }
    return false;
}

/* Counted for the program's share whether a young or a full collection arms it: with no
 * share yet, the prior of 0 kept mt_mutator's table, armed by a full collection and
 * written all over at once, armed for a second fault per page (p = 1/3). */
static void count_armed(size_t n)
{
    if (armed_gc != G.policy.gc_no)
        armed = 0, armed_gc = G.policy.gc_no;   /* a young collection's armings, then a full one's */
    armed += n;
}

static enum arm_choice arm(size_t pg)
{
    count_armed(1);
    heat[pg].armed_at = (uint32_t)G.policy.gc_no;
    if (!dirty_map_test(&armed_map, pg)) {
        dirty_map_set(&armed_map, pg);
        armed_now++;
    }
    return ARM_PROTECT;
}

/* The shortest hot period: one through which scanning the page costs what testing whether
 * it cooled does (arming it, its fault and re-protection, opening it again if it is still
 * hot).  Starting at 2 collections, big_buffer's 64 places, written at every cycle, took 64
 * faults and 128 calls at 2, 4, 8 and 16 collections: a third of its time. */
static unsigned first_level(void)
{
    uint64_t check = G.stats.fault_cost_ns + G.stats.reprotect_cost_ns + 2 * G.stats.call_cost_ns;
    unsigned level = 1;
    while (level < LEVEL_MAX && (G.stats.scan_cost_ns << level) < check)
        level++;
    return level;
}

static enum arm_choice decide(size_t pg, bool young, size_t run)
{
    if (!page_has_old(pg))
        return ARM_SKIP;
    if (!active)
        return ARM_PROTECT;
    const struct page_info *pi = &H.pages[pg];
    struct page_heat *h = &heat[pg];
    if (pi->flags & PF_ATOMIC)
        return ARM_SKIP;                /* never scanned: what it holds points nowhere */
    if (pi->flags & PF_OWNED)
        return ARM_KEEP;                /* its thread is filling it */
    if (h->wait) {
        G.stats.hot_pages_last++;
        if (!young || --h->wait || follow_first(pg, h))
            return ARM_KEEP;
        G.stats.hot_pages_last--;       /* cooled off enough to try arming it again */
        return arm(pg);
    }
    bool fresh_again = !young && fresh_written(pg);
    if (!young && !fresh_again)
        /* The next young collection learns whether it was written at once (mt_mutator's
         * table, armed by a full one, was armed again by the young one after it, and took
         * a fault per page twice). */
        return arm(pg);
    if (fresh_again)
        run = fresh_run(pg);
    bool again = (h->flags & REWRITTEN) || fresh_again;
    h->flags &= (uint8_t)~REWRITTEN;
    if (h->armed_at || again)
        observe(h, again);
    if (again && keep_hot(h, run)) {
        unsigned first = first_level();
        if (h->level < LEVEL_MAX)
            h->level++;
        if (h->level < first)
            h->level = (uint8_t)first;
        h->wait = (uint8_t)(1u << h->level);
        G.stats.hot_pages_last++;
        return ARM_KEEP;
    }
    if (!again && h->level)
        h->level--;                     /* written again, but not at once: cooling */
    return arm(pg);
}

enum arm_choice policy_decide(size_t pg, bool young, size_t run)
{
    enum arm_choice c = decide(pg, young, run);
    if (active && c != ARM_PROTECT)
        unarm(pg);
    return c;
}

/* A page never armed or hot has a zero entry already: writing it would commit the table's
 * pages for a freed buffer that was hardly touched. */
void policy_forget(size_t pg, size_t n)
{
    if (active)
        for (size_t i = pg; i < pg + n; i++)
            if (heat[i].armed_at || heat[i].level || heat[i].wait || heat[i].flags || heat[i].seen) {
                unarm(i);
                heat[i] = (struct page_heat){ 0 };
            }
    for (int k = 0; active && k < 2; k++)
        if (pg < fresh[k].hi && pg + n > fresh[k].lo)
            dirty_map_clear_range(&fresh[k].map, pg, n);
}

void policy_partly_populated(size_t pg, size_t n)
{
    struct fresh *f = &fresh[G.policy.gc_no & 1];
    if (active && f->gc == G.policy.gc_no && pg < f->hi && pg + n > f->lo)
        dirty_map_clear_range(&f->map, pg, n);
}

void policy_disarmed_all(void)
{
    if (active)
        dirty_map_clear_range(&armed_map, 0, H.top);
    armed_now = 0;
}

uint64_t policy_fault_ns(void)
{
    uint64_t ns = faulted * G.stats.fault_cost_ns;
    faulted = 0;
    return ns;
}

/* Parallel: the markers would share the clean pages' scan while the barrier's costs are
 * one thread's each. */
bool policy_saved_ns(size_t more, uint64_t *ns)
{
    size_t pages = armed_now + more;
    *ns = pages * G.stats.clean_scan_cost_ns / markers_ready(options_markers(&G.cfg));
    return !pages || G.stats.clean_scan_cost_ns;
}

size_t policy_armed_sample(size_t *pg, size_t n)
{
    static size_t cursor;
    size_t found = 0;
    if (G.cfg.arm != ARM_BY_COST)
        return 0;       /* nothing weighs it */
    size_t start = cursor < own_first_page() || cursor >= H.top ? own_first_page() : cursor;
    cursor = start;
    for (bool wrapped = false; armed_now && found < n;) {   /* from where the last sample ended */
        size_t limit = wrapped ? start : H.top;
        cursor = dirty_map_next(&armed_map, cursor, limit);
        if (cursor < limit)
            pg[found++] = cursor++;
        else if (wrapped)
            break;
        else
            wrapped = true, cursor = own_first_page();
    }
    return found;
}

void policy_scanned_clean(uint64_t ns, size_t pages)
{
    if (pages)
        smooth(&G.stats.clean_scan_cost_ns, ns / pages);
}

enum arm_choice policy_decide_untouched(size_t pg, size_t n)
{
    if (!page_has_old(pg))
        return ARM_SKIP;
    if (!active)
        return ARM_PROTECT;
    if (H.pages[pg].flags & PF_ATOMIC)
        return ARM_SKIP;
    struct fresh *f = &fresh[G.policy.gc_no & 1];
    if (f->gc != G.policy.gc_no) {      /* what it held two collections ago was read */
        dirty_map_clear_range(&f->map, f->lo, f->hi - f->lo);
        f->gc = G.policy.gc_no;
        f->lo = f->hi = pg;
    }
    dirty_map_set_range(&f->map, pg, n);
    f->lo = pg < f->lo ? pg : f->lo;
    f->hi = pg + n > f->hi ? pg + n : f->hi;
    count_armed(n);
    return ARM_PROTECT;
}
