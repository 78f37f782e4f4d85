/* Test-only: break the collector's invariants on purpose, so that a test can watch
 * WBRT_VERIFY name the breakage.  Not part of the API (wbrt.h), hidden in libwbrt.so:
 * tests reach them by linking the static library.
 * SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef WBRT_TEST_HOOKS_H
#define WBRT_TEST_HOOKS_H

/* *slot = value behind the barrier's back: its page is disarmed for the store and armed
 * again, so that no barrier reports it (a software barrier records nothing either). */
void wbrt_test_store_unseen(void **slot, void *value);
/* Takes the page holding p out of the dirty map, as if the collector had forgotten it. */
void wbrt_test_forget_dirty(void *p);
/* Makes the live object obj look as if the last sweep had freed it (its allocation bit
 * cleared, its freed bit set): the next collection's reachability check must name it. */
void wbrt_test_mark_freed(void *obj);

/* The next young collection under a kernel barrier that tracks pages switches protection
 * off for the whole heap, as if protecting had cost more than it saved (protection_off.h):
 * off for 2 collections, then armed again. */
void wbrt_test_protection_off_next(void);
/* While held (1), no young collection switches protection off for the whole heap, whatever
 * the costs: a test of the per-page policy on a heap too small for protection to pay. */
void wbrt_test_protection_held_on(int held);

/* The young size weighs this fixed share (permille) of each young collection in place of
 * the one it measures, so that a test can put it where it wants; negative: measured again. */
void wbrt_test_fixed_share(int permille);

#endif
