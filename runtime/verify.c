/* WBRT_VERIFY=1: check the barrier and the sweep against a brute-force scan.
 * Design: docs/design/verifier.md
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "gc.h"
#include "hash.h"
#include "heap.h"
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

/* A program that frees by hand may keep a dangling pointer to what it freed: once the
 * memory is reused it points at a young object without any store.  The page tested is
 * the one the pointer points to, not the young object's first: the freed object may be
 * reused by a large object that starts on an earlier page. */
static bool maybe_dangling(uintptr_t slot, uintptr_t young, size_t size)
{
    return bit_test(H.program_freed, page_of(*(const uintptr_t *)slot)) ||
           (G.barrier->remembered && recorded_or_held(slot, young, size));
}

static uint64_t page_sum(size_t pg)
{
    return hash_words(HASH_SEED, (const void *)page_addr(pg), WB_PAGE_SIZE);
}

/* What each page held when the barrier was last armed on it. */
void verify_note_armed(size_t pg, size_t n)
{
    for (size_t i = pg; i < pg + n; i++)
        H.armed_sum[i] = page_sum(i);
}

/* Every old->young pointer must lie on a page in the dirty map, or (software barriers)
 * in a word the barrier recorded.  A page whose content did not change since it was
 * armed saw no store at all: a young-looking word there was written before its young
 * object existed (a conservative false pointer, e.g. cc1's, into heap space then unused).
 * Runs after marking, before the sweep. */
void verify_barrier(uintptr_t my_sp)
{
    if (!G.barrier->tracks)
        return; /* every old page is scanned */
    verify_sp = my_sp;
    slot_excuse_fn excused = maybe_dangling;
    for (size_t pg = 1; pg < H.top; pg++) {
        uintptr_t obj, slot;
        if (!dirty_map_test(&H.dirty, pg) && (slot = old_page_young_slot(pg, &obj, excused)) &&
            page_sum(pg) != H.armed_sum[pg])
            missed(pg, obj, slot, *(const uintptr_t *)slot);
    }
    remembered_forget();
}

/* After a sweep: trace everything from the roots (and, unless the collection was global,
 * from every perm object, which it kept whatever points at it); reaching an object this
 * sweep freed aborts (in mark_word).  Leaves mark and freed bits clear. */
void verify_reachable(uintptr_t my_sp, bool global)
{
    size_t bytes = (H.top * GRANS_PER_PAGE) / 8;
    mark_begin(false, true, false, G.cfg.mark_stack_max);
    roots_mark(my_sp);
    for (size_t pg = 1; !global && pg < H.perm_end; pg++)
        scan_old_page(pg);
    mark_finish();
    memset(H.mark_bits, 0, bytes);
    memset(H.freed_bits, 0, bytes);
}
