/* GCBench-style workload: long-lived tree and array, many short-lived trees built top-down and bottom-up.
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "alloc_api.h"

#define MIN_DEPTH 4
#define DEFAULT_DEPTH 16
#define QUICK_DEPTH 14
#define ARRAY_LEN 500000

struct node {
    struct node *left, *right;
    int depth;   /* checked on the long-lived tree */
    int pad;
};

static struct ba_poll polled;

static struct node *new_node(struct node *l, struct node *r, int depth)
{
    struct node *n = ba_alloc(sizeof *n);
    /* Stores into the object just allocated need no barrier (it is young), as a
     * compiler that emits barriers would know. */
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
    BA_STORE(n, left, new_node(NULL, NULL, depth - 1));
    BA_STORE(n, right, new_node(NULL, NULL, depth - 1));
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

/* A short-lived tree is dropped: the malloc peers free it, node by node. */
static void drop_tree(struct node *n)
{
#if BA_FREES
    if (!n)
        return;
    drop_tree(n->left);
    drop_tree(n->right);
    ba_free(n);
#else
    (void)n;
#endif
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

    int rc = ba_init("gcbench", 0);
    if (rc)
        return rc;

    /* As in GCBench: the stretch tree is two levels deeper than the largest short-lived tree. */
    int stretch_depth = depth + 2;
    double t0 = ba_now_s();

    drop_tree(make_tree(stretch_depth));
    ba_poll(&polled);

    struct node *long_lived = new_node(NULL, NULL, depth);
    populate(long_lived, depth);
    double *array = ba_alloc_atomic(ARRAY_LEN * sizeof *array);
    for (long i = 0; i < ARRAY_LEN; i++)
        array[i] = 1.0 / (double)(i + 1);
    ba_poll(&polled);

    for (int d = MIN_DEPTH; d <= depth; d += 2) {
        /* Equal allocation per depth: twice the stretch tree, in trees of depth d. */
        long iters = 2 * tree_size(stretch_depth) / tree_size(d);
        for (long i = 0; i < iters; i++) {
            struct node *t = new_node(NULL, NULL, d);
            populate(t, d);
            drop_tree(t);
            ba_poll(&polled);
        }
        for (long i = 0; i < iters; i++) {
            drop_tree(make_tree(d));
            ba_poll(&polled);
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
    double elapsed = ba_now_s() - t0;

    struct ba_stats s;
    ba_get_stats(&s);
    ba_print_common("gcbench", elapsed, &s, &polled);
    printf(" depth=%d\n", depth);
    return 0;
}
