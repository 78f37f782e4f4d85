/* Barrier stress: a large old pointer graph, a fixed number of old->young stores per cycle, young pauses measured.
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include "wbrt.h"

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

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *xalloc(size_t n)
{
    void *p = wb_malloc(n);
    if (!p) {
        fprintf(stderr, "barrier_stress: out of GC memory (%zu bytes)\n", n);
        exit(1);
    }
    return p;
}

static uint64_t young_check(const struct node *y, uint64_t cycle, uint64_t seq)
{
    return (YOUNG_TAG ^ (uintptr_t)y) + cycle * 0x100000001b3ULL + seq;
}

static struct node *new_young(uint64_t cycle, uint64_t seq, struct node *child)
{
    struct node *y = xalloc(sizeof *y);
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
    for (int i = 1; i < argc; i++) {
        unsigned long *dst = NULL;
        if (!strcmp(argv[i], "--old-mb"))
            dst = &old_mb;
        else if (!strcmp(argv[i], "--cycles"))
            dst = &cycles;
        else if (!strcmp(argv[i], "--stores"))
            dst = &stores;
        else if (!strcmp(argv[i], "--young-mb"))
            dst = &young_mb;
        if (!dst || i + 1 >= argc)
            usage();
        *dst = strtoul(argv[++i], NULL, 0);
    }
    size_t n_old = (size_t)old_mb << 20 >> 6;
    size_t n_young = (size_t)young_mb << 20 >> 6;
    /* Each stored young object takes the one before it as an unshared child. */
    if (n_old == 0 || n_old > UINT32_MAX || cycles == 0 || stores == 0 || n_young < 2 * stores)
        usage();

    /* Building the graph allocates the whole old generation: with the default young
     * trigger that would be many young collections, each scanning every old page under
     * none.  A cycle allocates far less, so only its explicit collection runs. */
    struct wb_options opt = {.young_bytes = getenv("WBRT_YOUNG_BYTES") ? 0 : (size_t)1 << 30};
    if (wb_init(&opt) != 0) {
        /* 77: the harness reports the barrier as skipped rather than failed. */
        fprintf(stderr, "barrier_stress: wbrt unavailable: %s\n", wb_last_error());
        return 77;
    }

    double t0 = now_s();
    struct node **old = xalloc(n_old * sizeof *old);
    for (size_t i = 0; i < n_old; i++) {
        wb_store(old, (void **)&old[i], xalloc(sizeof(struct node)));
        old[i]->payload[0] = OLD_TAG ^ i;
    }
    for (size_t i = 0; i < n_old; i++)
        for (int k = 0; k < 4; k++)
            WB_STORE(old[i], f[k], old[rnd() % n_old]);
    wb_collect(WB_COLLECT_FULL);
    double build_s = now_s() - t0;

    struct store_rec *log = malloc(cycles * stores * sizeof *log);
    if (!log) {
        fprintf(stderr, "barrier_stress: out of memory for the store log\n");
        return 1;
    }
    size_t nlog = 0;
    size_t stride = n_young / stores;
    struct wb_stats before, prev, s;
    wb_get_stats(&before);
    prev = before;
    uint64_t pause_max = 0, dirty_sum = 0, scanned_sum = 0, remembered_sum = 0;

    double t1 = now_s();
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
            WB_STORE(old[idx], f[field], y);
            log[nlog++] = (struct store_rec){idx, field, (uintptr_t)y ^ LOG_MASK};
            last = NULL;
        }
        wb_collect(WB_COLLECT_YOUNG);
        wb_get_stats(&s);
        uint64_t pause = s.young_pause_ns_total - prev.young_pause_ns_total;
        if (pause > pause_max)
            pause_max = pause;
        dirty_sum += s.dirty_pages_last;
        scanned_sum += s.pages_scanned_last;
        remembered_sum += s.remembered_last;
        prev = s;
    }
    double elapsed = now_s() - t1;

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

    uint64_t young = s.young_collections - before.young_collections;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("barrier_stress barrier=%s old_mb=%lu cycles=%lu stores=%lu young_mb=%lu build_s=%.3f "
           "time_s=%.3f young=%llu full=%llu young_pause_mean_ms=%.3f young_pause_max_ms=%.3f "
           "dirty_pages_mean=%.1f pages_scanned_mean=%.1f remembered_mean=%.1f faults=%llu peak_rss_mb=%.1f\n",
           wb_barrier_name(), old_mb, cycles, stores, young_mb, build_s, elapsed,
           (unsigned long long)young, (unsigned long long)(s.full_collections - before.full_collections),
           young ? (s.young_pause_ns_total - before.young_pause_ns_total) / 1e6 / (double)young : 0.0,
           pause_max / 1e6, (double)dirty_sum / (double)cycles, (double)scanned_sum / (double)cycles,
           (double)remembered_sum / (double)cycles,
           (unsigned long long)(s.barrier_faults - before.barrier_faults), ru.ru_maxrss / 1024.0);
    return 0;
}
