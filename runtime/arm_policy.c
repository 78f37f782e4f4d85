/* The arming policy.  Protecting an old page saves scanning it at each young collection
 * while it stays clean, and costs a fault each time it is written.  A page that is
 * written again in the cycle right after it was armed is "hot": with p the share of the
 * pages armed at one young collection that were written again by the next (this
 * program's), it stays writable and is scanned as dirty while p x fault > (1 - p) x scan
 * (a fault, and scanning one page's old objects, both measured on this machine), and is
 * armed again after 2, 4, 8 ... 64 young collections to see whether it has cooled.
 * Pages a thread allocates into are never armed.  WBRT_ARM=always turns hotness off
 * (every old page armed, as before the policy), =hot ignores the costs.
 * Design: docs/design/generations.md
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include "arm_policy.h"
#include "gc.h"
#include "heap.h"
#include "page_scan.h"
#include "vm.h"

#define LEVEL_MAX 6          /* longest hot period: 64 young collections */
#define PROBE_PAGES 8        /* pages written under the barrier to time its fault */

enum { REWRITTEN = 1 };      /* written since it was armed at the collection before */

struct page_heat {
    uint32_t armed_at;       /* low bits of the collection that last armed it (young) */
    uint8_t flags;
    uint8_t level;           /* hot periods last 2^level young collections */
    uint16_t wait;           /* > 0: hot, young collections left before it is armed again */
};

static struct page_heat *heat;
/* For p: pages armed by young collection armed_gc, and how many of them the next one
 * found written. */
static size_t armed, rewritten;
static uint64_t armed_gc;
/* Policy on: a kernel barrier that tracks pages (none scans everything; a software
 * barrier's tables cost no fault). */
static bool active;

/* Times a first write to each of PROBE_PAGES armed pages at the end of the reservation
 * (never handed out yet: the caller checks), then leaves them as they were: unarmed, not
 * dirty, decommitted.  The median resists a preemption in the middle. */
static uint64_t measure_fault_ns(void)
{
    size_t pg = H.npages - PROBE_PAGES, len = PROBE_PAGES << WB_PAGE_SHIFT;
    volatile char *p = (volatile char *)page_addr(pg);
    uint64_t t[PROBE_PAGES];
    for (size_t i = 0; i < PROBE_PAGES; i++)
        p[i << WB_PAGE_SHIFT] = 1;          /* populated: time the barrier, not first touch */
    G.barrier->arm((void *)p, len);
    for (size_t i = 0; i < PROBE_PAGES; i++) {
        uint64_t t0 = gc_now_ns();
        p[i << WB_PAGE_SHIFT] = 2;
        t[i] = gc_now_ns() - t0;
    }
    G.barrier->harvest(&H.dirty, (void *)p, len);
    G.barrier->disarm((void *)p, len);
    dirty_map_clear_range(&H.dirty, pg, PROBE_PAGES);
    os_decommit((void *)p, len);
    for (size_t i = 1; i < PROBE_PAGES; i++)        /* insertion sort of 8 */
        for (size_t j = i; j > 0 && t[j] < t[j - 1]; j--) {
            uint64_t x = t[j];
            t[j] = t[j - 1], t[j - 1] = x;
        }
    return t[PROBE_PAGES / 2];
}

void policy_init(void)
{
    if (!heat)
        heat = os_table_scaled(H.npages * sizeof *heat);
    /* without its table (out of memory) the policy arms every old page, as if off */
    active = heat && G.barrier->tracks && !G.barrier->remembered;
}

/* At the first collection, not at start-up: most short processes never collect (make and
 * bash start hundreds), and paid it in each (about a twentieth of their start-up).  Once:
 * a forked child inherits the figure. */
void policy_measure(void)
{
    if (active && !G.stats.fault_cost_ns && H.top < H.npages - PROBE_PAGES &&
        H.npages > H.perm_end + PROBE_PAGES + 1)
        G.stats.fault_cost_ns = measure_fault_ns();
}

void policy_saw_write(size_t pg)
{
    if (active && heat[pg].armed_at && heat[pg].armed_at + 1 == (uint32_t)G.policy.gc_no) {
        heat[pg].flags |= REWRITTEN;
        rewritten++;
    }
}

/* Smoothed: one cycle may be preempted, or unusual. */
static void smooth(uint64_t *avg, uint64_t sample)
{
    *avg = *avg ? (3 * *avg + sample) / 4 : sample;
}

void policy_scanned(uint64_t ns, size_t pages)
{
    if (pages)
        smooth(&G.stats.scan_cost_ns, ns / pages);
    if (armed && armed_gc + 1 == G.policy.gc_no)
        smooth(&G.stats.rewrite_permille, 1000 * rewritten / armed);
    armed = rewritten = 0;
    armed_gc = G.policy.gc_no;
}

/* Keeping a page that was just written again writable pays if p x fault > (1 - p) x scan. */
static bool keep_hot(void)
{
    if (G.cfg.arm != ARM_BY_COST)
        return G.cfg.arm == ARM_HOT;
    uint64_t p = G.stats.rewrite_permille;
    return p * G.stats.fault_cost_ns > (1000 - p) * G.stats.scan_cost_ns;
}

static enum arm_choice arm(struct page_heat *h)
{
    h->armed_at = (uint32_t)G.policy.gc_no;
    armed++;
    return ARM_PROTECT;
}

enum arm_choice policy_decide(size_t pg, bool young)
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
        if (!young || --h->wait)
            return ARM_KEEP;
        G.stats.hot_pages_last--;       /* cooled off enough to try arming it again */
        return arm(h);
    }
    if (!young)
        return ARM_PROTECT;
    bool again = h->flags & REWRITTEN;
    h->flags &= (uint8_t)~REWRITTEN;
    if (again && keep_hot()) {
        if (h->level < LEVEL_MAX)
            h->level++;
        h->wait = (uint16_t)(1u << h->level);
        G.stats.hot_pages_last++;
        return ARM_KEEP;
    }
    if (!again && h->level)
        h->level--;                     /* written again, but not at once: cooling */
    return arm(h);
}

/* A page never armed or hot has a zero entry already: writing it would commit the table's
 * pages for a freed buffer that was hardly touched. */
void policy_forget(size_t pg, size_t n)
{
    if (active)
        for (size_t i = pg; i < pg + n; i++)
            if (heat[i].armed_at || heat[i].level || heat[i].wait || heat[i].flags)
                heat[i] = (struct page_heat){ 0 };
}

enum arm_choice policy_decide_untouched(size_t pg)
{
    if (!page_has_old(pg))
        return ARM_SKIP;
    return active && (H.pages[pg].flags & PF_ATOMIC) ? ARM_SKIP : ARM_PROTECT;
}
