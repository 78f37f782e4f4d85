/* Which old pages the barrier protects after a collection: protection pays only where
 * the fault it may cost is dearer than scanning the page as dirty.
 * Design: docs/design/generations.md
 * SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef WBRT_ARM_POLICY_H
#define WBRT_ARM_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "dirty_map.h"

enum arm_choice {
    ARM_SKIP,    /* nothing to track (no old object, or no pointers): leave it writable */
    ARM_PROTECT, /* arm the barrier on it */
    ARM_KEEP,    /* leave it writable and keep it in the dirty map (hot, or being filled) */
};

/* After the barrier is attached (heap locked, no other thread allocating yet or the world
 * stopped): allocates the page table. */
void policy_init(void);
/* World stopped, at a collection: measures the barrier's fault cost if not yet known. */
void policy_measure(void);
/* Young collection: page pg was reported written (called for every dirty page). */
void policy_saw_write(size_t pg);
/* Full collection, its harvest in dm: learns which pages the last collection armed
 * untouched were written since (the young collections learn it in policy_saw_write). */
void policy_saw_writes_at_full(const struct dirty_map *dm);
/* Starts fetching page pg's entry, which policy_saw_write and policy_decide read. */
void policy_prefetch(size_t pg);
/* The clock of the costs below: the calling thread's CPU time (gc_cpu_ns) where the policy
 * acts, else 0: each call is a system call, where a loaded machine may preempt the
 * collector inside the young size's wall-clock measure (test_reclamation_bound's young
 * size grew under ssb, its RSS with it). */
uint64_t policy_clock(void);
/* Young collection: the harvest took ns of CPU time and reported `written` pages, which
 * it protected again (what that costs in this program's heap and threads: a TLB flush
 * reaches every CPU that runs one of them). */
void policy_harvested(uint64_t ns, size_t written);
/* Young collection, after its root scan: scanning `pages` old pages took ns (CPU time). */
void policy_scanned(uint64_t ns, size_t pages);
/* After the sweep: what to do with page pg (young: a dirty page at a young collection, one
 * of `run` consecutive ones; else any page at a full one). */
enum arm_choice policy_decide(size_t pg, bool young, size_t run);
/* policy_decide for the pages [pg, pg+n) of one large object that the kernel has no data
 * for (never written, or given back): they cannot be hot, so their table entries stay
 * untouched, and one answer serves them all; a bit each records that they were armed so,
 * for the next collection to learn whether they were written at once.  A run at a time:
 * re-arming an untouched 2 GiB buffer page by page took 8 ms. */
enum arm_choice policy_decide_untouched(size_t pg, size_t n);
/* The large object part [pg, pg+n) just decided has data in places: its untouched pages
 * are being filled (an array filled in order, the collection in between), not a table
 * waiting to be written all over: their untouched arming is not recorded. */
void policy_partly_populated(size_t pg, size_t n);
/* The barrier no longer tracks [pg, pg+n) (freed): forget what was learned of it. */
void policy_forget(size_t pg, size_t n);
/* Every page was made writable: none is armed any more (what was learned of them stays). */
void policy_disarmed_all(void);
/* Young collection, after its scan: what the faults on the pages armed since cost (the
 * pages found written, at the measured fault cost; counted from 0 again), and into *ns
 * what the pages armed and still clean, and `more` pages, save at each young collection
 * (their scan, at the measured cost, shared by the markers): false if that is unknown
 * (there are such pages, and none was timed yet). */
uint64_t policy_fault_ns(void);
bool policy_saved_ns(size_t more, uint64_t *ns);
/* Young collection, after its scan: up to n of the pages armed and still clean, from where
 * the last call stopped (round the heap), into pg; returns how many (none unless
 * WBRT_ARM=cost: nothing else weighs them).  Scanning a dirty page
 * marks the young objects it points at: what scanning a clean one costs is timed apart. */
size_t policy_armed_sample(size_t *pg, size_t n);
/* Scanning `pages` clean pages took ns (CPU time). */
void policy_scanned_clean(uint64_t ns, size_t pages);

#endif
