/* One 64-bit hash of memory, for the heap image checksum and the verifier's page sums.
 * Design: docs/design/heap.md
 * SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef WBRT_HASH_H
#define WBRT_HASH_H
#include <stddef.h>
#include <stdint.h>

#define HASH_SEED 0xcbf29ce484222325ull /* FNV-1a 64's offset basis */

/* FNV-1a over 64-bit words (n is a multiple of 8): every step is a bijection of the
 * state, so any change of one word changes the result. */
static inline uint64_t hash_words(uint64_t h, const void *p, size_t n)
{
    const uint64_t *w = p;
    for (size_t i = 0; i < n / 8; i++)
        h = (h ^ w[i]) * 0x100000001b3ull;
    return h;
}
#endif
