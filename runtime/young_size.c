/* The young generation's size, adapted at each young collection within
 * [least, YOUNG_GROWTH_MAX x least], least being WBRT_YOUNG_BYTES or, where less than that
 * is live, the live bytes (at least a quarter of it).  A young collection costs a part
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
 * one long-lived structure does not grow it.)  Those doublings are undone once survival
 * falls under a quarter, unless the fixed part dominates: GCBench at its original size, its
 * long-lived tree built first, kept the 32 MiB its start grew to, or went back to 16 MiB, as
 * its fixed share at the fifth collection fell just over or under an eighth (66 collections
 * and 0.79 s, or 127 and 0.64 s).  Not at a higher share: where what survives is in flight
 * (a batch being built), halving the size doubles it, and the size grew again at once.
 * The tenure age (WBRT_TENURE_AGE=auto) is chosen per young collection from the last
 * one's survival: where most of its young objects died, the few caught alive are mostly
 * temporaries in flight (GCBench's trees half built), and promoting them kept them until
 * a full collection (peak RSS 38 MiB against bdwgc's 32); they stay young one more cycle.
 * Where most survived, the program builds what it keeps: promoting at once spares
 * tracing it twice (mt_mutator's lists: twice the CPU when kept young).
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include "young_size.h"
#include "gc.h"

#define GROW_PERMILLE 500
#define SHRINK_PERMILLE 125
#define SURVIVED_PERMILLE 500
/* A young collection after less than this part of the young size (an explicit one)
 * measures too little to choose the tenure age from. */
#define SAMPLE_DIVISOR 4

/* Where little is live, the young generation is most of the heap: its least size is the
 * live bytes (binary_trees: 2 MiB live, peak RSS 23 MiB against bdwgc's 18 with 16 MiB
 * young), but no less than a SMALL_DIVISOR-th of WBRT_YOUNG_BYTES, and it grows to
 * YOUNG_GROWTH_MAX times that least, not WBRT_YOUNG_BYTES (when the fixed share, timed in
 * wall time then, passed one half on a loaded machine, gcbench's grew to 64 MiB: 77 MiB RSS).
 * The first young collection, the live size unknown, comes after a START_DIVISOR-th. */
#define SMALL_DIVISOR 4
#define START_DIVISOR 2

static unsigned survived_permille;   /* smoothed share of the allocation promoted */
static unsigned survival_doublings;  /* of the young size, while most survived, not undone */
static int fixed_share = -1;         /* young_size_fix_share's */
static unsigned last_survival = 1000;    /* nothing measured yet: as if all survived */
/* Of the survivors last kept young, the share that survived again: where most did, they
 * were not temporaries (mt_trees' kept trees), and keeping them young only traced them
 * twice (its CPU +35%, its peak RSS no lower).  Decays while nothing is kept young, so
 * that keeping is tried again every few collections. */
static unsigned kept_survival;

int young_size_tenure(void)
{
    if (G.cfg.tenure_age != TENURE_AUTO)
        return G.cfg.tenure_age;
    return last_survival <= SURVIVED_PERMILLE && kept_survival <= SURVIVED_PERMILLE;
}

static unsigned permille(size_t part, size_t whole)
{
    return (unsigned)(1000 * (part < whole ? part : whole) / whole);
}

/* The least young size.  Live as the last full collection found, if any: the old
 * generation has grown since by objects that may have died (mt_trees' replaced subtrees),
 * and a young size following it grew with its garbage. */
static size_t young_size_least(void)
{
    size_t floor = G.cfg.young_bytes;
    size_t live = G.stats.full_collections ? G.policy.old_after_full : G.stats.live_bytes;
    size_t least = live < floor ? live : floor;
    return least > floor / SMALL_DIVISOR ? least : floor / SMALL_DIVISOR;
}

size_t young_size_budget(void)
{
    return G.stats.young_bytes ? G.stats.young_bytes : G.cfg.young_bytes / START_DIVISOR;
}

void young_size_adapt(uint64_t fixed_ns, uint64_t cycle_ns, size_t written, size_t promoted, size_t allocated,
                      size_t carried, size_t reachable)
{
    size_t floor = G.cfg.young_bytes, now = young_size_budget(), least = young_size_least();
    uint64_t faults_ns = written * G.stats.fault_cost_ns, total = cycle_ns + faults_ns;
    uint64_t share = fixed_share >= 0 ? (uint64_t)fixed_share : total ? 1000 * (fixed_ns + faults_ns) / total : 0;
    if (floor > SIZE_MAX / YOUNG_GROWTH_MAX)
        return;     /* never collected (the preload's leak mode) */
    G.stats.fixed_permille = G.stats.fixed_permille ? (3 * G.stats.fixed_permille + share) / 4 : share;
    unsigned survived = allocated ? permille(promoted, allocated) : 0;
    survived_permille = (3 * survived_permille + survived) / 4;
    bool surviving = survived_permille > SURVIVED_PERMILLE;
    /* With tenure age 1, the survivors promoted are the kept ones that survived again. */
    if (young_size_tenure() == 1 && carried)
        kept_survival = permille(promoted, carried);
    else
        kept_survival = kept_survival * 7 / 8;
    if (allocated >= floor / SAMPLE_DIVISOR)
        last_survival = permille(reachable, allocated + carried);
    bool fixed_dominates = G.stats.fixed_permille > GROW_PERMILLE;
    if ((fixed_dominates || surviving) && now < least * YOUNG_GROWTH_MAX) {
        now *= 2;
        survival_doublings += !fixed_dominates;
    } else if (!surviving && now > least &&
               (G.stats.fixed_permille < SHRINK_PERMILLE ||
                (survival_doublings && !fixed_dominates && survived_permille < SURVIVED_PERMILLE / 2))) {
        now /= 2;
        survival_doublings -= survival_doublings > 0;
    }
    if (now <= least)
        survival_doublings = 0;
    G.stats.young_bytes = now < least ? least : now > least * YOUNG_GROWTH_MAX ? least * YOUNG_GROWTH_MAX : now;
}

void young_size_fix_share(int permille)
{
    fixed_share = permille;
}
