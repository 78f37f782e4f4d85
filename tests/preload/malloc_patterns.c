/* SPDX-License-Identifier: GPL-2.0-or-later */
/* malloc's common patterns under the preload, as a program relies on them: free then
 * malloc (or calloc) of one size reuses the block at once; realloc stays in place within
 * the usable size, and for a large block when shrinking and growing back; every
 * allocation call's malloc_usable_size is honest: all of it is written, and after
 * collections (the garbage made here forces some) every byte is intact. */
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "served.h"

#define MiB ((size_t)1 << 20)
#define NBLOCKS 3000

static unsigned char *block[NBLOCKS];   /* globals: the program's own roots */
static size_t usable[NBLOCKS];
static int failures;

static void fail(const char *what, const void *p, size_t n)
{
    printf("FAIL: %s (block %p, size %zu)\n", what, p, n);
    failures++;
}

static unsigned char byte(size_t i, size_t k) { return (unsigned char)(i * 131 + k * 7 + 1); }

/* Reuse at once: the block freed is the next one of its size (calloc's zeroed). */
static void free_then_malloc(void)
{
    static const size_t sizes[] = { 1, 24, 100, 700, 2048 };
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        size_t n = sizes[s];
        unsigned char *p = malloc(n);
        for (int round = 0; round < 500; round++) {
            memset(p, 0xa5, malloc_usable_size(p));
            free(p);
            unsigned char *q = round % 2 ? malloc(n) : calloc(1, n);
            if (q != p)
                fail("free then malloc/calloc of one size gave another block", q, n);
            if (!(round % 2))
                for (size_t k = 0; k < n; k++)
                    if (q[k]) {
                        fail("calloc's block is not zero", q, n);
                        break;
                    }
            p = q;
        }
        free(p);
    }
}

/* *p = realloc(*p, n), which must not move the block. */
static void realloc_stays(unsigned char **p, size_t n, const char *what)
{
    uintptr_t was = (uintptr_t)*p;
    *p = realloc(*p, n);
    if ((uintptr_t)*p != was)
        fail(what, *p, n);
}

static void realloc_in_place(void)
{
    unsigned char *p = malloc(20);
    realloc_stays(&p, malloc_usable_size(p), "realloc within the usable size moved");
    free(p);
    unsigned char *big = malloc(2 * MiB);
    memset(big, 0x5c, 2 * MiB);
    realloc_stays(&big, MiB, "realloc shrinking a large block moved");
    if (malloc_usable_size(big) < MiB || malloc_usable_size(big) >= 2 * MiB)
        fail("malloc_usable_size after shrinking", big, malloc_usable_size(big));
    realloc_stays(&big, 2 * MiB, "realloc growing a large block into its own freed pages moved");
    for (size_t k = 0; k < MiB; k++)
        if (big[k] != 0x5c) {
            fail("realloc lost the block's bytes", big, k);
            break;
        }
    free(big);
}

/* Block i from one of the allocation calls, of a size from 1 byte to 40 KiB. */
static unsigned char *allocate(size_t i)
{
    size_t n = 1 + (i * 2654435761u) % (i % 10 ? 2100 : 40000);
    void *p = NULL;
    switch (i % 8) {
    case 0: p = malloc(n); break;
    case 1: p = calloc(n, 1); break;
    case 2: p = realloc(malloc(n / 2 + 1), n); break;
    case 3: p = memalign(64, n); break;
    case 4: p = aligned_alloc(256, (n + 255) & ~(size_t)255); break;
    case 5: if (posix_memalign(&p, 4096, n) != 0) p = NULL; break;
    case 6: p = valloc(n); break;
    default: p = realloc(malloc(n * 2), n); break;
    }
    if (!p) {
        fail("allocation failed", p, n);
        exit(1);
    }
    if (malloc_usable_size(p) < n)
        fail("malloc_usable_size below the size asked for", p, n);
    return p;
}

/* Every block written to its whole usable size, garbage made (collections), then read. */
static void usable_sizes_honest(void)
{
    for (size_t i = 0; i < NBLOCKS; i++) {
        block[i] = allocate(i);
        usable[i] = malloc_usable_size(block[i]);
        for (size_t k = 0; k < usable[i]; k++)
            block[i][k] = byte(i, k);
    }
    for (int i = 0; i < 100000; i++) {
        char *volatile garbage = malloc(1000);
        garbage[0] = 1;
    }
    for (size_t i = 0; i < NBLOCKS; i++) {
        if (!wbt_preload_base(block[i]))
            fail("a block kept is not wbrt's", block[i], usable[i]);
        for (size_t k = 0; k < usable[i]; k++)
            if (block[i][k] != byte(i, k)) {
                fail("a byte within malloc_usable_size was lost", block[i], k);
                break;
            }
        free(block[i]);
    }
}

int main(void)
{
    int served = wbt_preload_served();
    if (served != 0)
        return served;
    free_then_malloc();
    realloc_in_place();
    usable_sizes_honest();
    if (failures)
        return 1;
    printf("ok: malloc's patterns (reuse at once, realloc in place, honest usable sizes)\n");
    return 0;
}
