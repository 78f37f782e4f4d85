/* The young generation's size: how much is allocated between young collections.  It grows
 * while the parts of a young pause that do not depend on it (roots, dirty old pages, the
 * barrier's faults) dominate or while most young objects survive, and shrinks back when
 * tracing the young survivors does.  The tenure age too, from what survives.
 * SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef WBRT_YOUNG_SIZE_H
#define WBRT_YOUNG_SIZE_H

#include <stddef.h>
#include <stdint.h>

/* The bounds: from the least size (WBRT_YOUNG_BYTES, or the live bytes where fewer, down to
 * a quarter of it) up to this many times it. */
#define YOUNG_GROWTH_MAX 4

/* Bytes to allocate before the next young collection. */
size_t young_size_budget(void);
/* After a young collection's sweep: harvesting, the roots and the dirty old pages took
 * fixed_ns of its cycle_ns (the verifier's checks left out); the barrier reported
 * `written` pages, each (about) one fault the mutator paid; it promoted `promoted` bytes of
 * the `allocated` since the last collection; of those and the `carried` bytes it found young,
 * `reachable` bytes were reached.  Adapts the size and the tenure age. */
void young_size_adapt(uint64_t fixed_ns, uint64_t cycle_ns, size_t written, size_t promoted, size_t allocated,
                      size_t carried, size_t reachable);
/* Test-only (test_hooks.c): the fixed share, in permille, that the young size weighs in
 * place of the one measured; negative: the measured one again. */
void young_size_fix_share(int permille);
/* The tenure age for the next young collection: WBRT_TENURE_AGE, or by default 1 where
 * most of the last young collection's objects died, else 0 (promote at once). */
int young_size_tenure(void);

#endif
