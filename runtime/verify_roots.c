/* WBRT_VERIFY=1 where the barrier tracks the program's own mappings (roots.c): a root
 * page a young collection did not scan must hold no young pointer but words older than
 * their targets.  A page is known by a hash of its words when it was last scanned: the
 * same words since (the kernel did see no write) and a target allocated after that scan
 * make a dangling word, as in verify.c's older_than_target; any other young pointer on it
 * was stored behind the barrier's back, or the page should have stayed pending.  Pages are
 * read and hashed when the barrier has just reported them, before the collection itself
 * writes any (wbrt's own thread-local variables share pages with the program's): what the
 * kernel reports and what the hashes compare are then the same writes.
 * Design: docs/design/verifier.md
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdio.h>
#include "gc.h"
#include "heap.h"
#include "page_scan.h"
#include "roots.h"
#include "vm.h"

/* An open-addressed table by page address, mapped at the first use: only pages ever seen
 * non-zero have a record (one without reads as zero, hash 0).  Full (a program with more
 * than 3 GiB of root pages written): the pages without a record are not checked. */
struct root_record {
    uintptr_t page;
    uint64_t hash, gc;      /* when last scanned */
};
#define RECORDS_SHIFT 20
#define RECORDS ((size_t)1 << RECORDS_SHIFT)
static struct root_record *records;
static size_t used;
static bool full;

/* 0 for a page of zeros. */
static uint64_t page_hash(uintptr_t lo, uintptr_t hi)
{
    uint64_t h = 0;
    for (uintptr_t p = lo; p + 8 <= hi; p += 8)
        h = (h ^ *(const uint64_t *)p) * 0x100000001b3ull;
    return h;
}

static struct root_record *record_of(uintptr_t page, bool add)
{
    size_t i = (size_t)((page >> WB_PAGE_SHIFT) * 0x9e3779b97f4a7c15ull >> (64 - RECORDS_SHIFT));
    for (;; i = (i + 1) & (RECORDS - 1)) {
        if (records[i].page == page)
            return &records[i];
        if (records[i].page)
            continue;
        if (!add || used >= RECORDS / 4 * 3) {
            full |= add;
            return NULL;
        }
        used++;
        records[i].page = page;
        return &records[i];
    }
}

static const struct root_record *checked;   /* the unscanned page being checked, and its hash now */
static uint64_t checked_hash;

static bool older_than_target(uintptr_t slot, uintptr_t young, size_t size)
{
    (void)slot;
    (void)size;
    uint64_t age = H.age ? H.age[gran_of(young)] : 0;
    if (!checked && full)
        return true;    /* not known */
    if (checked_hash != (checked ? checked->hash : 0) || (checked && checked->gc + age >= G.policy.gc_no))
        return false;
    bit_set(H.stale_bits, gran_of(young));
    return true;
}

static void check_page(uintptr_t lo, uintptr_t hi, bool scanned, void *ctx)
{
    (void)ctx;
    uint64_t h = page_hash(lo, hi);
    struct root_record *r = record_of(lo, scanned && h);
    if (scanned) {
        if (r)
            *r = (struct root_record){lo, h, G.policy.gc_no};
        return;
    }
    checked = r;
    checked_hash = h;
    uintptr_t slot = range_young_slot(lo, hi, older_than_target);
    if (slot) {
        char msg[300];
        int n = snprintf(msg, sizeof msg,
                         "wbrt: verify: barrier %s missed a store into the program's memory: root page %#lx, "
                         "not scanned by this young collection, holds young pointer %#lx in slot %#lx (%s)\n",
                         G.barrier->name, (unsigned long)lo, (unsigned long)*(const uintptr_t *)slot,
                         (unsigned long)slot, checked_hash != (r ? r->hash : 0)
                             ? "the page changed since it was last scanned"
                             : "the page did not change, but pointed at that object then: it should have stayed pending");
        verify_fail(msg, n);
    }
}

int verify_roots_init(void)
{
    return records || (records = os_table(RECORDS * sizeof *records)) ? 0 : -1;
}

void verify_roots(void)
{
    roots_each_tracked(check_page, NULL);
}
