/* Multi-threaded mutator: THREADS threads allocate short lists and store them into
 * random slots of their own part of one shared old table (old->young stores from every
 * thread), dropping the lists they overwrite.  Every pointer store into a heap object
 * goes through BA_STORE: another thread's collection may promote an object between its
 * allocation and a store into it, so software barriers must see those stores too.
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "alloc_api.h"
#include "bench_args.h"

#define TAG 0x6d756c7469746872ULL
#define LIST_LEN 8

struct node {
    struct node *next;
    uint64_t tag, owner, seq;
};

struct worker {
    pthread_t tid;
    struct node **table;   /* the whole table, for BA_STORE_SLOT's object */
    size_t first, n;       /* this worker's slots */
    unsigned long ops;
    uint64_t rng;
    unsigned id;
};

static uint64_t node_tag(const struct node *n)
{
    return TAG ^ (uintptr_t)n;
}

static uint64_t next_rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void *work(void *arg)
{
    struct worker *w = arg;
    for (unsigned long op = 0; op < w->ops; op++) {
        struct node *head = NULL;
        for (int k = 0; k < LIST_LEN; k++) {
            struct node *n = ba_alloc(sizeof *n);
            BA_STORE(n, next, head);
            n->tag = node_tag(n);
            n->owner = w->id;
            n->seq = LIST_LEN - 1 - (uint64_t)k;
            head = n;
        }
        size_t slot = w->first + next_rnd(&w->rng) % w->n;
        BA_STORE_SLOT(w->table, &w->table[slot], head);
    }
    return NULL;
}

static void usage(void)
{
    fprintf(stderr, "usage: mt_mutator [--threads N] [--ops K] [--table-mb M]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    unsigned long threads = 4, ops = 400000, table_mb = 64;
    const struct bench_opt opts[] = {{"--threads", &threads}, {"--ops", &ops}, {"--table-mb", &table_mb}};
    if (bench_args(argc, argv, opts, sizeof opts / sizeof *opts) != 0)
        usage();
    size_t slots = (size_t)table_mb << 20 >> 3;
    if (threads == 0 || threads > 64 || ops == 0 || slots < threads)
        usage();
    int rc = ba_init("mt_mutator", 0);
    if (rc)
        return rc;

    /* Old after the first collection (wbrt promotes survivors en masse); no collection is
     * forced before the timing, so every pause counted is the workload's own. */
    struct node **table = ba_alloc(slots * sizeof *table);
    struct worker *ws = ba_checked(calloc(threads, sizeof *ws), threads * sizeof *ws);
    double t0 = ba_now_s();
    for (unsigned i = 0; i < threads; i++) {
        ws[i] = (struct worker){.table = table, .first = slots / threads * i, .n = slots / threads,
                                .ops = ops, .rng = 0x9e3779b97f4a7c15ULL * (i + 1), .id = i};
        int e = pthread_create(&ws[i].tid, NULL, work, &ws[i]);
        if (e) {
            fprintf(stderr, "mt_mutator: pthread_create: %s\n", strerror(e));
            return 1;
        }
    }
    for (unsigned i = 0; i < threads; i++)
        pthread_join(ws[i].tid, NULL);
    double elapsed = ba_now_s() - t0;

    /* Every stored list is whole and in the slice of the thread that made it. */
    size_t lists = 0;
    for (size_t i = 0; i < slots; i++) {
        size_t len = 0;
        for (const struct node *n = table[i]; n; n = n->next, len++)
            if (n->tag != node_tag(n) || n->seq != len || n->owner != i / (slots / threads)) {
                fprintf(stderr, "mt_mutator: CORRUPTION in the list of slot %zu at node %zu\n", i, len);
                abort();
            }
        if (table[i] && len != LIST_LEN) {
            fprintf(stderr, "mt_mutator: CORRUPTION: slot %zu holds %zu nodes\n", i, len);
            abort();
        }
        lists += table[i] != NULL;
    }
    struct ba_stats s;
    ba_get_stats(&s);
    ba_print_common("mt_mutator", elapsed, &s, NULL);
    printf(" threads=%lu ops=%lu table_mb=%lu lists=%zu\n", threads, ops, table_mb, lists);
    free(ws);
    return 0;
}
