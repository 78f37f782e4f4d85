/* GCBench-style workload: long-lived tree and array, many short-lived trees built top-down and bottom-up.
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include "wbrt.h"

#define MIN_DEPTH 4
#define DEFAULT_DEPTH 16
#define QUICK_DEPTH 14
#define ARRAY_LEN 500000

struct node {
    struct node *left, *right;
    int depth;   /* checked on the long-lived tree */
    int pad;
};

/* Young collections happen inside wb_malloc, so dirty-page counts are sampled by
 * polling: each new collection seen contributes its dirty_pages_last. */
static struct {
    uint64_t seen_young;
    uint64_t samples;
    uint64_t dirty_sum;
    uint64_t remembered_sum;
} poll;

static void poll_stats(void)
{
    struct wb_stats s;
    wb_get_stats(&s);
    if (s.young_collections != poll.seen_young) {
        poll.seen_young = s.young_collections;
        poll.samples++;
        poll.dirty_sum += s.dirty_pages_last;
        poll.remembered_sum += s.remembered_last;
    }
}

static struct node *new_node(struct node *l, struct node *r, int depth)
{
    struct node *n = wb_malloc(sizeof *n);
    /* Stores into the object just allocated need no barrier (it is young), as a
     * compiler that emits barriers would know. */
    if (!n) {
        fprintf(stderr, "gcbench: out of memory\n");
        exit(1);
    }
    n->left = l;
    n->right = r;
    n->depth = depth;
    return n;
}

/* Nodes in a complete binary tree of this depth. */
static long tree_size(int depth)
{
    return (1L << (depth + 1)) - 1;
}

/* Top-down: the parent exists (and may already be old) before its children. */
static void populate(struct node *n, int depth)
{
    if (depth <= 0)
        return;
    WB_STORE(n, left, new_node(NULL, NULL, depth - 1));
    WB_STORE(n, right, new_node(NULL, NULL, depth - 1));
    populate(n->left, depth - 1);
    populate(n->right, depth - 1);
}

/* Bottom-up: children first, so every store is into the newest object. */
static struct node *make_tree(int depth)
{
    if (depth <= 0)
        return new_node(NULL, NULL, 0);
    struct node *l = make_tree(depth - 1);
    struct node *r = make_tree(depth - 1);
    return new_node(l, r, depth);
}

static long check_tree(const struct node *n, int depth)
{
    if (!n || n->depth != depth) {
        fprintf(stderr, "gcbench: long-lived tree corrupted at depth %d (node %p)\n", depth, (const void *)n);
        abort();
    }
    if (depth == 0)
        return 1;
    return 1 + check_tree(n->left, depth - 1) + check_tree(n->right, depth - 1);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void usage(void)
{
    fprintf(stderr, "usage: gcbench [--quick] [--depth N]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    int depth = DEFAULT_DEPTH;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick"))
            depth = QUICK_DEPTH;
        else if (!strcmp(argv[i], "--depth") && i + 1 < argc)
            depth = atoi(argv[++i]);
        else
            usage();
    }
    if (depth < MIN_DEPTH || depth > 24)
        usage();

    if (wb_init(NULL) != 0) {
        /* 77: the harness reports the barrier as skipped rather than failed. */
        fprintf(stderr, "gcbench: wbrt unavailable: %s\n", wb_last_error());
        return 77;
    }

    /* As in GCBench: the stretch tree is two levels deeper than the largest short-lived tree. */
    int stretch_depth = depth + 2;
    double t0 = now_s();

    make_tree(stretch_depth);
    poll_stats();

    struct node *long_lived = new_node(NULL, NULL, depth);
    populate(long_lived, depth);
    double *array = wb_malloc_atomic(ARRAY_LEN * sizeof *array);
    if (!array) {
        fprintf(stderr, "gcbench: out of memory\n");
        return 1;
    }
    for (long i = 0; i < ARRAY_LEN; i++)
        array[i] = 1.0 / (double)(i + 1);
    poll_stats();

    for (int d = MIN_DEPTH; d <= depth; d += 2) {
        /* Equal allocation per depth: twice the stretch tree, in trees of depth d. */
        long iters = 2 * tree_size(stretch_depth) / tree_size(d);
        for (long i = 0; i < iters; i++) {
            struct node *t = new_node(NULL, NULL, d);
            populate(t, d);
            poll_stats();
        }
        for (long i = 0; i < iters; i++) {
            make_tree(d);
            poll_stats();
        }
    }

    if (check_tree(long_lived, depth) != tree_size(depth)) {
        fprintf(stderr, "gcbench: long-lived tree has the wrong size\n");
        abort();
    }
    for (long i = 0; i < ARRAY_LEN; i++) {
        if (array[i] != 1.0 / (double)(i + 1)) {
            fprintf(stderr, "gcbench: long-lived array corrupted at %ld\n", i);
            abort();
        }
    }
    double elapsed = now_s() - t0;

    struct wb_stats s;
    wb_get_stats(&s);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("gcbench barrier=%s time_s=%.3f young=%llu full=%llu pause_max_ms=%.3f "
           "young_pause_max_ms=%.3f young_pause_mean_ms=%.3f dirty_pages_mean=%.1f remembered_mean=%.1f "
           "faults=%llu peak_rss_mb=%.1f depth=%d\n",
           wb_barrier_name(), elapsed, (unsigned long long)s.young_collections,
           (unsigned long long)s.full_collections, s.pause_ns_max / 1e6, s.young_pause_ns_max / 1e6,
           s.young_collections ? s.young_pause_ns_total / 1e6 / (double)s.young_collections : 0.0,
           poll.samples ? (double)poll.dirty_sum / (double)poll.samples : 0.0,
           poll.samples ? (double)poll.remembered_sum / (double)poll.samples : 0.0,
           (unsigned long long)s.barrier_faults, ru.ru_maxrss / 1024.0, depth);
    return 0;
}
