/* Barrier stress: a large old pointer graph, a fixed number of old->young stores per cycle, young pauses measured.
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "alloc_api.h"
#include "bench_args.h"

#define OLD_TAG 0x6f6c64206e6f6465ULL
#define YOUNG_TAG 0x796f756e67206f62ULL
/* The store log lives in malloc'd memory; masking its pointers guarantees that a
 * conservative scan of that memory could never keep the young objects alive. */
#define LOG_MASK ((uintptr_t)0xa5a5a5a5a5a5a5a5ULL)

struct node {
    struct node *f[4];
    uint64_t payload[4];
};
_Static_assert(sizeof(struct node) == 64, "nodes are meant to be 64 bytes");

struct store_rec {
    uint32_t node;
    uint32_t field;
    uintptr_t young;   /* masked with LOG_MASK */
};

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

/* splitmix64: fixed seed, so every barrier sees the same stores. */
static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t young_check(const struct node *y, uint64_t cycle, uint64_t seq)
{
    return (YOUNG_TAG ^ (uintptr_t)y) + cycle * 0x100000001b3ULL + seq;
}

static struct node *new_young(uint64_t cycle, uint64_t seq, struct node *child)
{
    struct node *y = ba_alloc(sizeof *y);
    y->f[0] = child;            /* into the object just allocated: no barrier needed */
    y->payload[0] = YOUNG_TAG ^ (uintptr_t)y;
    y->payload[1] = cycle;
    y->payload[2] = seq;
    y->payload[3] = young_check(y, cycle, seq);
    return y;
}

static int young_intact(const struct node *y)
{
    return y->payload[0] == (YOUNG_TAG ^ (uintptr_t)y) &&
           y->payload[3] == young_check(y, y->payload[1], y->payload[2]);
}

static void corrupt(const char *what, uint64_t a, uint64_t b)
{
    fprintf(stderr, "barrier_stress: CORRUPTION: %s (%llu, %llu)\n", what, (unsigned long long)a,
            (unsigned long long)b);
    abort();
}

static void usage(void)
{
    fprintf(stderr, "usage: barrier_stress [--old-mb N] [--cycles N] [--stores K] [--young-mb M]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    unsigned long old_mb = 256, cycles = 10, stores = 1000, young_mb = 4;
    const struct bench_opt opts[] = {{"--old-mb", &old_mb}, {"--cycles", &cycles},
                                     {"--stores", &stores}, {"--young-mb", &young_mb}};
    if (bench_args(argc, argv, opts, sizeof opts / sizeof *opts) != 0)
        usage();
    size_t n_old = (size_t)old_mb << 20 >> 6;
    size_t n_young = (size_t)young_mb << 20 >> 6;
    /* Each stored young object takes the one before it as an unshared child. */
    if (n_old == 0 || n_old > UINT32_MAX || cycles == 0 || stores == 0 || n_young < 2 * stores)
        usage();

    /* Building the graph allocates the whole old generation: with the default young
     * trigger that would be many young collections, each scanning every old page under
     * none.  A cycle allocates far less, so only its explicit collection runs. */
    int rc = ba_init("barrier_stress", (size_t)1 << 30);
    if (rc)
        return rc;

    double t0 = ba_now_s();
    struct node **old = ba_alloc(n_old * sizeof *old);
    for (size_t i = 0; i < n_old; i++) {
        BA_STORE_SLOT(old, &old[i], ba_alloc(sizeof(struct node)));
        old[i]->payload[0] = OLD_TAG ^ i;
    }
    for (size_t i = 0; i < n_old; i++)
        for (int k = 0; k < 4; k++)
            BA_STORE(old[i], f[k], old[rnd() % n_old]);
    ba_collect_full();
    double build_s = ba_now_s() - t0;

    struct store_rec *log = malloc(cycles * stores * sizeof *log);
    if (!log) {
        fprintf(stderr, "barrier_stress: out of memory for the store log\n");
        return 1;
    }
    size_t nlog = 0;
    size_t stride = n_young / stores;
    struct ba_cycles cyc;
    ba_cycles_begin(&cyc);

    double t1 = ba_now_s();
    for (uint64_t c = 0; c < cycles; c++) {
        struct node *last = NULL;
        for (size_t j = 0; j < n_young; j++) {
            if (j % stride != stride - 1 || nlog - c * stores == stores) {
                last = new_young(c, j, NULL);
                continue;
            }
            struct node *y = new_young(c, j, last);
            uint32_t idx = (uint32_t)(rnd() % n_old);
            uint32_t field = (uint32_t)(rnd() % 4);
            BA_STORE(old[idx], f[field], y);
            log[nlog++] = (struct store_rec){idx, field, (uintptr_t)y ^ LOG_MASK};
            last = NULL;
        }
        ba_collect_young();
        ba_cycle_end(&cyc);
    }
    double elapsed = ba_now_s() - t1;

    /* Walk the log newest first: the first record seen for a field is the value it
     * must hold now; older records for that field were overwritten by the program. */
    uint8_t *seen = calloc(n_old, 1);
    if (!seen) {
        fprintf(stderr, "barrier_stress: out of memory for the check\n");
        return 1;
    }
    for (size_t r = nlog; r-- > 0;) {
        const struct store_rec *rec = &log[r];
        if (seen[rec->node] & (1u << rec->field))
            continue;
        seen[rec->node] |= (uint8_t)(1u << rec->field);
        struct node *y = (struct node *)(rec->young ^ LOG_MASK);
        if (old[rec->node]->f[rec->field] != y)
            corrupt("old field lost its young pointer: node, field", rec->node, rec->field);
        if (!young_intact(y))
            corrupt("stored young object overwritten: node, field", rec->node, rec->field);
        if (!y->f[0] || !young_intact(y->f[0]) || y->f[0]->payload[2] + 1 != y->payload[2])
            corrupt("child of a stored young object overwritten: node, field", rec->node, rec->field);
    }
    for (size_t i = 0; i < n_old; i++)
        if (old[i]->payload[0] != (OLD_TAG ^ i))
            corrupt("old node overwritten: index, payload", i, old[i]->payload[0]);
    free(seen);
    free(log);

    ba_cycles_print("barrier_stress", elapsed, &cyc);
    printf(" build_s=%.3f old_mb=%lu cycles=%lu stores=%lu young_mb=%lu\n", build_s, old_mb, cycles, stores, young_mb);
    return 0;
}
