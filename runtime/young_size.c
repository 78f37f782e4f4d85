/* The young generation's size, adapted at each young collection within
 * [WBRT_YOUNG_BYTES, YOUNG_GROWTH_MAX x WBRT_YOUNG_BYTES].  A young collection costs a part
 * that does not depend on the young size (harvest, roots, the old pages written, and the
 * faults the mutator took on armed pages, counted at the cost measured at the first collection) and a
 * part that grows with it (tracing and sweeping the young objects).  While the fixed part
 * is more than half the cost, doubling the young size halves how often it is paid; once
 * it is under an eighth, the pauses are the young generation's own, and halving it
 * shortens them.  The parts are the collecting thread's CPU time (wall time counted
 * preemptions), and the share is smoothed over collections.
 * It also grows while most of what is allocated survives its first young collection:
 * such a collection frees little, so collecting less often keeps hardly more garbage,
 * and each one pays the fixed part again (mt_mutator, whose lists all live: its 64 MiB
 * table, dirty all over, was scanned at every 16 MiB).  (Smoothed too, so that building
 * one long-lived structure does not grow it.)
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include "young_size.h"
#include "gc.h"

#define GROW_PERMILLE 500
#define SHRINK_PERMILLE 125
#define SURVIVED_PERMILLE 500

static unsigned survived_permille;   /* smoothed share of the allocation promoted */

size_t young_size_budget(void)
{
    return G.stats.young_bytes ? G.stats.young_bytes : G.cfg.young_bytes;
}

void young_size_adapt(uint64_t fixed_ns, uint64_t cycle_ns, size_t written, size_t promoted, size_t allocated)
{
    size_t floor = G.cfg.young_bytes, now = young_size_budget();
    uint64_t faults_ns = written * G.stats.fault_cost_ns, total = cycle_ns + faults_ns;
    uint64_t share = total ? 1000 * (fixed_ns + faults_ns) / total : 0;
    if (floor > SIZE_MAX / YOUNG_GROWTH_MAX)
        return;     /* never collected (the preload's leak mode) */
    G.stats.fixed_permille = G.stats.fixed_permille ? (3 * G.stats.fixed_permille + share) / 4 : share;
    unsigned survived = allocated ? (unsigned)(1000 * (promoted < allocated ? promoted : allocated) / allocated) : 0;
    survived_permille = (3 * survived_permille + survived) / 4;
    bool surviving = survived_permille > SURVIVED_PERMILLE;
    if ((G.stats.fixed_permille > GROW_PERMILLE || surviving) && now < floor * YOUNG_GROWTH_MAX)
        now *= 2;
    else if (G.stats.fixed_permille < SHRINK_PERMILLE && !surviving && now > floor)
        now /= 2;
    G.stats.young_bytes = now < floor ? floor : now > floor * YOUNG_GROWTH_MAX ? floor * YOUNG_GROWTH_MAX : now;
}
