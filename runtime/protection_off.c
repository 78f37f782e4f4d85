/* Protection off for the whole heap, with a back-off: off after a young collection where
 * protecting cost more than it saved, for 2^level collections; each time it is switched
 * off again the level grows (up to 2^LEVEL_MAX collections off), each young collection
 * where protection paid lowers it.  At level 0 it takes two such collections in a row
 * unless protecting cost over twice what it saved, one after a retry; and for at least as
 * long as it takes to gain what switching off and on costs, and until the old generation
 * has grown (GROWN_DIVISOR).  A retry arms the old pages again (those the policy keeps hot
 * stay writable) and weighs the next young collection.  hot_old, whose hash
 * table's entry pages are written every other cycle, paid 1.2-1.9 ms a collection in
 * faults, harvest and calls to save 0.3 ms: a clean page's scan costs 0.2-0.4 us, a fifth
 * of a written one's (which marks the young objects it points at).  Only where the policy
 * weighs costs (WBRT_ARM=cost).
 * Design: docs/design/generations.md
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include "protection_off.h"
#include "gc.h"

#define LEVEL_MAX 6
/* Switched off only to gain more than 1/NOTICEABLE of the cycle: a small heap's harvest and
 * calls (microseconds) may well cost more than its few clean pages save, but a retry arms
 * every page again and a weighing may be off by a preemption. */
#define NOTICEABLE 32

/* The old generation's growth since protection went off that may make it pay again: new
 * old pages, clean at first.  Until then the old pages are still those whose protection
 * did not pay, and a retry waits for the longest back-off (hot_old's table and big_buffer's
 * buffer, written in the same places at every cycle, paid a retry every few collections:
 * 1 ms each for big_buffer, a ninth of its 20 cycles). */
#define GROWN_DIVISOR 8

static bool off, forced, held;
static unsigned level, left, off_for;
static size_t old_at_off;
static unsigned strikes;    /* young collections in a row where protecting did not pay */

bool protection_off(void)
{
    return off;
}

/* The level whose collections off gain, at gain_ns each, what switching costs (LEVEL_MAX + 1
 * if none does). */
static unsigned payback_level(uint64_t gain_ns, uint64_t switch_ns)
{
    unsigned l = 0;
    while (l <= LEVEL_MAX && gain_ns << l <= switch_ns)
        l++;
    return l;
}

bool protection_weigh(uint64_t barrier_ns, uint64_t cycle_ns, uint64_t switch_ns, bool (*saved_ns)(uint64_t *ns))
{
    /* No policy (none, a software barrier), or WBRT_ARM=always or hot: no fault measured. */
    if (G.cfg.arm != ARM_BY_COST || !G.stats.fault_cost_ns || held)
        return false;
    uint64_t margin = cycle_ns / NOTICEABLE, saved = 0;
    unsigned payback = 0;
    if (forced)
        forced = false;
    /* The collections it stays off must gain what switching off and on again costs:
     * big_buffer's 2 GiB buffer, touched in 64 places, took 8.7 ms to re-arm for a gain of
     * 0.3 ms a collection; with the re-arming down to 0.3 ms, switching off for 2 collections
     * then on again cost it 1 ms each time, for 0.1 ms gained a collection. */
    else if (barrier_ns <= margin || !saved_ns(&saved) || barrier_ns <= saved + margin ||
             (payback = payback_level(barrier_ns - saved - margin, switch_ns)) > LEVEL_MAX) {
        if (level)
            level--;
        strikes = 0;
        return false;
    } else if (++strikes < (level || barrier_ns > 2 * (saved + margin) ? 1u : 2u))
        return false;   /* a little dearer once may be a spike (mt_trees: 1.8 ms, 0.3-0.8 most cycles) */
    strikes = 0;
    if (level < LEVEL_MAX)
        level++;
    if (level < payback)
        level = payback;
    left = 1u << level;
    return true;
}

bool protection_retry_due(void)
{
    if (left)
        left--;
    off_for++;
    return off && !left && (G.policy.old_bytes >= old_at_off + old_at_off / GROWN_DIVISOR || off_for >= 1u << LEVEL_MAX);
}

void protection_set(bool now_off)
{
    off = now_off;
    old_at_off = G.policy.old_bytes;
    off_for = 0;
}

void protection_force_next(void)
{
    forced = true;
}

void protection_hold_on(bool now_held)
{
    held = now_held;
}
