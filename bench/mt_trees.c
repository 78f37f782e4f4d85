/* Trees from several threads: each thread keeps a long-lived complete tree and builds
 * short-lived trees bottom-up; one in KEEP of them replaces a random subtree of the same
 * depth in the thread's long-lived tree (an old->young store; the replaced subtree dies,
 * freed by the malloc peers), the others are dropped once walked.  The live size stays
 * the long-lived trees' (about 10 MiB with the defaults).
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "alloc_api.h"
#include "bench_args.h"
#include "trees.h"

#define KEEP 8

struct worker {
    pthread_t tid;
    struct node *long_lived;
    unsigned long iters, live_depth, depth;
    uint64_t rng;
};

static struct node *make(unsigned long depth)
{
    struct node *n = ba_alloc(sizeof *n);
    if (depth > 0) {
        /* Through BA_STORE although n is new: another thread's collection may promote it
         * before the store (a software barrier must see that store). */
        BA_STORE(n, left, make(depth - 1));
        BA_STORE(n, right, make(depth - 1));
    }
    return n;
}

/* t (depth w->depth) in place of a random subtree of that depth of the long-lived tree. */
static void replace_subtree(struct worker *w, struct node *t)
{
    struct node *parent = w->long_lived;
    uint64_t path = ba_xorshift(&w->rng);
    for (unsigned long i = 0; i + 1 < w->live_depth - w->depth; i++, path >>= 1)
        parent = path & 1 ? parent->right : parent->left;
    struct node *old;
    if (path & 1) {
        old = parent->right;
        BA_STORE(parent, right, t);
    } else {
        old = parent->left;
        BA_STORE(parent, left, t);
    }
    tree_drop(old);
}

static void *work(void *arg)
{
    struct worker *w = arg;
    BA_STORE(w, long_lived, make(w->live_depth));
    long expect = (2L << w->depth) - 1;
    for (unsigned long i = 0; i < w->iters; i++) {
        struct node *t = make(w->depth);
        if (tree_check(t) != expect) {
            fprintf(stderr, "mt_trees: CORRUPTION: a short-lived tree has the wrong size\n");
            abort();
        }
        if (ba_xorshift(&w->rng) % KEEP == 0)
            replace_subtree(w, t);
        else
            tree_drop(t);
    }
    return NULL;
}

static void usage(void)
{
    fprintf(stderr, "usage: mt_trees [--threads N] [--iters K] [--live-depth L] [--depth D]\n"
                    "  (per thread: a long-lived tree of depth L, K trees of depth D < L; defaults 4, 800, 16, 12)\n");
    exit(2);
}

int main(int argc, char **argv)
{
    unsigned long threads = 4, iters = 800, live_depth = 16, depth = 12;
    const struct bench_opt opts[] = {
        {"--threads", &threads}, {"--iters", &iters}, {"--live-depth", &live_depth}, {"--depth", &depth}};
    if (bench_args(argc, argv, opts, sizeof opts / sizeof *opts) != 0)
        usage();
    /* the random path to a subtree takes one bit per level of a 64-bit draw */
    if (threads == 0 || threads > 64 || iters == 0 || live_depth > 24 || depth < 1 || depth >= live_depth ||
        live_depth - depth > 64)
        usage();
    int rc = ba_init("mt_trees", 0);
    if (rc)
        return rc;

    /* In the heap, where the collector sees the long-lived trees (the workers array may be
     * old by the time a worker stores its tree there). */
    struct worker *ws = ba_alloc(threads * sizeof *ws);
    double t0 = ba_now_s();
    for (unsigned long i = 0; i < threads; i++) {
        ws[i] = (struct worker){.iters = iters, .live_depth = live_depth, .depth = depth,
                                .rng = 0x9e3779b97f4a7c15ULL * (i + 1)};
        int e = pthread_create(&ws[i].tid, NULL, work, &ws[i]);
        if (e) {
            fprintf(stderr, "mt_trees: pthread_create: %s\n", strerror(e));
            return 1;
        }
    }
    for (unsigned long i = 0; i < threads; i++)
        pthread_join(ws[i].tid, NULL);
    double elapsed = ba_now_s() - t0;
    for (unsigned long i = 0; i < threads; i++)
        if (tree_check(ws[i].long_lived) != (2L << live_depth) - 1) {
            fprintf(stderr, "mt_trees: CORRUPTION: thread %lu's long-lived tree has the wrong size\n", i);
            abort();
        }
    struct ba_stats s;
    ba_get_stats(&s);
    ba_print_common("mt_trees", elapsed, &s, NULL);
    printf(" threads=%lu iters=%lu live_depth=%lu depth=%lu\n", threads, iters, live_depth, depth);
    ba_free(ws);
    return 0;
}
