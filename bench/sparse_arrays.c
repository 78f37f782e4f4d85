/* Sparse large arrays: a few big old pointer arrays, each cycle writing young objects
 * into a few random slots of each, then a young collection.  A page barrier scans the
 * whole 4 KiB page of each written slot, a card barrier only its card, a store buffer
 * only the slot: the precision that matters on large objects.
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "alloc_api.h"
#include "bench_args.h"

#define TAG 0x7370617273652121ULL

struct leaf {
    uint64_t tag, slot;
};

static uint64_t rng = 0x2545f4914f6cdd1dULL;

static uint64_t rnd(void)
{
    return ba_xorshift(&rng);
}

static struct leaf *new_leaf(uint64_t slot)
{
    struct leaf *l = ba_alloc_atomic(sizeof *l);
    l->tag = TAG ^ (uintptr_t)l;
    l->slot = slot;
    return l;
}

static void usage(void)
{
    fprintf(stderr, "usage: sparse_arrays [--arrays N] [--array-mb M] [--writes K] [--cycles C] [--young-mb Y]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    unsigned long arrays = 8, array_mb = 16, writes = 16, cycles = 10, young_mb = 4;
    const struct bench_opt opts[] = {{"--arrays", &arrays}, {"--array-mb", &array_mb}, {"--writes", &writes},
                                     {"--cycles", &cycles}, {"--young-mb", &young_mb}};
    if (bench_args(argc, argv, opts, sizeof opts / sizeof *opts) != 0)
        usage();
    size_t slots = (size_t)array_mb << 20 >> 3;
    if (arrays == 0 || arrays > 1024 || slots == 0 || cycles == 0 || writes == 0)
        usage();
    /* Only the explicit collection at the end of each cycle (see barrier_stress). */
    int rc = ba_init("sparse_arrays", (size_t)1 << 30);
    if (rc)
        return rc;

    double t0 = ba_now_s();
    struct leaf ***arr = ba_alloc(arrays * sizeof *arr);
    for (size_t a = 0; a < arrays; a++) {
        BA_STORE_SLOT(arr, &arr[a], ba_alloc(slots * sizeof **arr));
        for (size_t i = 0; i < slots; i += 512)   /* a few old leaves in every array */
            BA_STORE_SLOT(arr[a], &arr[a][i], new_leaf(a * slots + i));
    }
    ba_collect_full();
    double build_s = ba_now_s() - t0;

    struct ba_cycles cyc;
    ba_cycles_begin(&cyc);
    size_t young_n = ((size_t)young_mb << 20) / sizeof(struct leaf);
    double t1 = ba_now_s();
    for (unsigned long c = 0; c < cycles; c++) {
        for (size_t j = 0; j < young_n; j++)   /* young garbage */
            new_leaf(0);
        for (size_t a = 0; a < arrays; a++)
            for (unsigned long w = 0; w < writes; w++) {
                size_t i = rnd() % slots;
                BA_STORE_SLOT(arr[a], &arr[a][i], new_leaf(a * slots + i));
            }
        ba_collect_young();
        ba_cycle_end(&cyc);
    }
    double elapsed = ba_now_s() - t1;

    /* Every non-null slot holds its own, intact leaf. */
    for (size_t a = 0; a < arrays; a++)
        for (size_t i = 0; i < slots; i++) {
            const struct leaf *l = arr[a][i];
            if (l && (l->tag != (TAG ^ (uintptr_t)l) || l->slot != a * slots + i)) {
                fprintf(stderr, "sparse_arrays: CORRUPTION at array %zu slot %zu\n", a, i);
                abort();
            }
        }
    ba_cycles_print("sparse_arrays", elapsed, &cyc);
    printf(" build_s=%.3f arrays=%lu array_mb=%lu writes=%lu cycles=%lu\n", build_s, arrays, array_mb, writes, cycles);
    return 0;
}
