/* WBRT_VERIFY=1: check the barrier and the sweep against a brute-force scan.
 * Design: docs/design/verifier.md
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "gc.h"
#include "heap.h"
#include "vm.h"
#include "mark.h"
#include "roots.h"
#include "page_scan.h"
#include "remembered.h"
#include "sys.h"

/* Stops the process on a verifier finding.  The world is stopped and the heap locked: a
 * SIGABRT handler of the program's that allocates would wait forever, so it is not run. */
void verify_fail(const char *msg, int len)
{
    if (write(2, msg, (size_t)len) < 0) {
        /* nothing more to say */
    }
    signal(SIGABRT, SIG_DFL);
    sigset_t abrt;
    sigemptyset(&abrt);
    sigaddset(&abrt, SIGABRT);
    os_sigmask(SIG_UNBLOCK, &abrt, NULL);
    abort();
}

static __attribute__((noreturn)) void missed(size_t pg, uintptr_t obj, uintptr_t slot, uintptr_t young)
{
    char msg[360];
    int n = pg < H.perm_end ? snprintf(msg, sizeof msg,
                     "wbrt: verify: a store into perm object %#lx on page %zu (young pointer %#lx "
                     "in slot %#lx) was missed: the kernel does not show the page as written (a private copy)\n",
                     (unsigned long)obj, pg, (unsigned long)young, (unsigned long)slot)
                     : snprintf(msg, sizeof msg,
                     "wbrt: verify: barrier %s missed a store: old object %#lx on page %#lx "
                     "(page %zu) holds young pointer %#lx in slot %#lx, and %s\n", G.barrier->name,
                     (unsigned long)obj, (unsigned long)page_addr(pg), pg, (unsigned long)young,
                     (unsigned long)slot, G.barrier->remembered
                         ? "neither the page is in the dirty map nor the slot was recorded"
                         : "the page is not in the dirty map");
    verify_fail(msg, n);
}

static uintptr_t verify_sp;

/* A software barrier records a store just after it, keeping the stored value alive until
 * then: a thread stopped between the two holds the young object in a register or on its
 * stack, and records the store when it resumes. */
static bool recorded_or_held(uintptr_t slot, uintptr_t young, size_t size)
{
    return remembered_covers(slot) || roots_hold(verify_sp, young, young + size);
}

/* The pages whose old objects the young collection scanned whole: the dirty map as it was
 * before the software barrier's records were visited.  (Visiting them puts the pages of
 * the recorded objects into the map for tenuring, but scans only those objects: the map
 * itself then overstates what was scanned.) */
static uint64_t *scanned;

void verify_note_scanned(void)
{
    memcpy(scanned, H.dirty.bits, (H.top + 63) / 64 * sizeof *scanned);
}

/* Maps what verify_note_armed and verify_barrier keep: a copy of every armed page, so that
 * the words a store changed are told from those older than the young objects they point
 * at (both lazily committed: only pages ever armed cost memory). */
int verify_init(char *why, size_t whylen)
{
    if (!H.armed_copy && !(H.armed_copy = os_table(H.npages << WB_PAGE_SHIFT))) {
        snprintf(why, whylen, "WBRT_VERIFY: cannot map a copy of the heap: %s", strerror(errno));
        return -1;
    }
    if ((!H.stale_bits && !(H.stale_bits = os_table(H.npages * GRANS_PER_PAGE / 8))) ||
        (!scanned && !(scanned = os_table(H.npages / 8 + 8))) ||
        (!H.armed_at && !(H.armed_at = os_table(H.npages * sizeof *H.armed_at))) || verify_roots_init() != 0) {
        snprintf(why, whylen, "WBRT_VERIFY: cannot map a side table: %s", strerror(errno));
        return -1;
    }
    return 0;
}

/* Copies [p, p + n) of the heap into the copy where they differ: memory never written
 * reads as zero on both sides and stays uncommitted (a big buffer touched in one place
 * must not cost its size again). */
static void copy_changed(uintptr_t p, size_t n)
{
    uint64_t *copy = (uint64_t *)(H.armed_copy + (p - H.base));
    const uint64_t *now = (const uint64_t *)p;
    /* A loop of our own, not memcmp: a fuzzer's memcmp hook keeps the bytes it compares
     * in tables of its own, where the collector then finds them as roots. */
    for (size_t i = 0; i < n / 8; i++)
        if (copy[i] != now[i]) {
            memcpy(copy + i, now + i, n - i * 8);
            return;
        }
}

/* What each page held when the barrier was last armed on it. */
void verify_note_armed(size_t pg, size_t n)
{
    if (!G.barrier->tracks)
        return;
    for (size_t i = pg; i < pg + n; i++)
        copy_changed(page_addr(i), WB_PAGE_SIZE);
    for (size_t i = pg; i < pg + n; i++)
        H.armed_at[i] = G.policy.gc_no;
}

/* A word that did not change since its page was armed, when the young object it points
 * at did not exist yet, is older than that object: a pointer the program left dangling
 * after wb_free whose memory was handed out again, or a conservative false pointer such
 * as cc1's into heap space then unused.  (A young object that survived `age` young
 * collections was allocated after collection gc_no - 1 - age; a page armed later while
 * pointing at it must have stayed in the dirty map.)  Its target is noted for
 * verify_reachable: the collection rightly did not scan the word.  Perm pages are never
 * armed (their copy reads zero): the kernel tells which of them were written. */
static bool older_than_target(uintptr_t slot, uintptr_t young)
{
    uintptr_t was = *(const uintptr_t *)(H.armed_copy + (slot - H.base));
    size_t pg = page_of(slot);
    uint64_t age = H.age ? H.age[gran_of(young)] : 0;
    if (pg < H.perm_end || *(const uintptr_t *)slot != was || H.armed_at[pg] + age >= G.policy.gc_no)
        return false;
    bit_set(H.stale_bits, gran_of(young));
    return true;
}

static bool excused(uintptr_t slot, uintptr_t young, size_t size)
{
    return older_than_target(slot, young) ||
           (G.barrier->remembered && recorded_or_held(slot, young, size));
}

/* A word the software barrier recorded changed as it should: the copy takes it (its page
 * is armed again only if it went into the dirty map). */
static void recopy(uintptr_t granule)
{
    copy_changed(granule, GRAN);
}

/* Every old->young pointer must lie on a page the collection scanned, or (software barriers)
 * in a word the barrier recorded, or be older than its target: any other was stored
 * behind the barrier's back.  Runs after marking, before the sweep. */
void verify_barrier(uintptr_t my_sp)
{
    if (!G.barrier->tracks)
        return; /* every old page is scanned */
    verify_sp = my_sp;
    for (size_t pg = 1; pg < H.top; pg++) {
        uintptr_t obj, slot;
        if (!bit_test(scanned, pg) && (slot = old_page_young_slot(pg, &obj, excused)))
            missed(pg, obj, slot, *(const uintptr_t *)slot);
    }
    remembered_each_covered(recopy);
    remembered_forget();
}

/* After a sweep: trace everything from the roots (and, unless the collection was global,
 * from every perm object, which it kept whatever points at it); reaching an object this
 * sweep freed aborts (in mark_word), unless a word older than it points there.  Leaves
 * mark, freed and stale bits clear. */
void verify_reachable(uintptr_t my_sp, bool global)
{
    size_t bytes = (H.top * GRANS_PER_PAGE) / 8;
    mark_begin(false, true, false, G.cfg.mark_stack_max);
    roots_mark_settled(my_sp);
    for (size_t pg = 1; !global && pg < H.perm_end; pg++)
        scan_old_page(pg);
    mark_finish();
    heap_clear_marks();
    os_table_clear(H.freed_bits, bytes);
    os_table_clear(H.stale_bits, bytes);
}
