/* Hot old data: an old hash table (chained buckets) that every cycle updates all over,
 * as an interpreter's symbol table or a word counter does: nearly every page of it is
 * written again between two young collections.  A kernel barrier that re-protects those
 * pages at each collection takes a fault per page per cycle; the arming policy keeps
 * them writable (docs/guide.md, "Arming policy").
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include "alloc_api.h"
#include "bench_args.h"

#define TAG 0x686f745f6f6c6421ULL

struct entry {
    struct entry *next;
    uint64_t tag, key, count;
};

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
    return ba_xorshift(&rng);
}

static void usage(void)
{
    fprintf(stderr, "usage: hot_old [--table-mb M] [--updates U] [--cycles C] [--young-mb Y]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    unsigned long table_mb = 8, updates = 20000, cycles = 30, young_mb = 4;
    const struct bench_opt opts[] = {{"--table-mb", &table_mb}, {"--updates", &updates},
                                     {"--cycles", &cycles}, {"--young-mb", &young_mb}};
    if (bench_args(argc, argv, opts, sizeof opts / sizeof *opts) != 0)
        usage();
    size_t nb = (size_t)table_mb << 20 >> 3;
    if (nb == 0 || cycles == 0 || updates == 0)
        usage();
    int rc = ba_init("hot_old", (size_t)1 << 30);
    if (rc)
        return rc;

    double t0 = ba_now_s();
    struct entry ***tab = ba_alloc(sizeof *tab);
    BA_STORE_SLOT(tab, tab, ba_alloc(nb * sizeof **tab));
    ba_collect_full();
    double build_s = ba_now_s() - t0;

    struct ba_cycles cyc;
    ba_cycles_begin(&cyc);
    size_t young_n = ((size_t)young_mb << 20) / 64;
    uint64_t inserted = 0;
    double t1 = ba_now_s();
    for (unsigned long c = 0; c < cycles; c++) {
        for (size_t j = 0; j < young_n; j++)     /* young garbage */
            ba_alloc_atomic(64);
        for (unsigned long u = 0; u < updates; u++) {
            uint64_t key = rnd() % (nb * 4);
            struct entry **b = &(*tab)[key % nb], *e = *b;
            while (e && e->key != key)
                e = e->next;
            if (e) {
                e->count++;
                continue;
            }
            e = ba_alloc(sizeof *e);
            e->tag = TAG ^ key;
            e->key = key;
            e->count = 1;
            BA_STORE(e, next, *b);
            BA_STORE_SLOT(*tab, b, e);  /* the old bucket now points at a young entry */
            inserted++;
        }
        ba_collect_young();
        ba_cycle_end(&cyc);
    }
    double elapsed = ba_now_s() - t1;

    uint64_t found = 0;
    for (size_t i = 0; i < nb; i++)
        for (const struct entry *e = (*tab)[i]; e; e = e->next) {
            if (e->tag != (TAG ^ e->key) || e->key % nb != i) {
                fprintf(stderr, "hot_old: CORRUPTION in bucket %zu\n", i);
                abort();
            }
            found++;
        }
    if (found != inserted) {
        fprintf(stderr, "hot_old: %llu entries found, %llu inserted\n", (unsigned long long)found,
                (unsigned long long)inserted);
        abort();
    }
    ba_cycles_print("hot_old", elapsed, &cyc);
    printf(" build_s=%.3f table_mb=%lu updates=%lu cycles=%lu\n", build_s, table_mb, updates, cycles);
    return 0;
}
