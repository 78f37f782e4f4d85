/* binary-trees (as in the benchmarks game): many short-lived complete trees built
 * bottom-up and walked, next to one long-lived tree.  The malloc peers free each tree.
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "alloc_api.h"
#include "trees.h"

#define MIN_DEPTH 4

static struct ba_poll polled;

/* Children first: every store is into the object just allocated, still young. */
static struct node *make(int depth)
{
    struct node *n = ba_alloc(sizeof *n);
    if (depth > 0) {
        n->left = make(depth - 1);
        n->right = make(depth - 1);
    }
    return n;
}

static void usage(void)
{
    fprintf(stderr, "usage: binary_trees [--depth N]   (N from 6 to 24, default 18)\n");
    exit(2);
}

int main(int argc, char **argv)
{
    int depth = 18;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--depth") && i + 1 < argc)
            depth = atoi(argv[++i]);
        else
            usage();
    }
    if (depth < MIN_DEPTH + 2 || depth > 24)
        usage();
    int rc = ba_init("binary_trees", 0);
    if (rc)
        return rc;

    double t0 = ba_now_s();
    struct node *stretch = make(depth + 1);
    long expect = (2L << (depth + 1)) - 1;
    if (tree_check(stretch) != expect) {
        fprintf(stderr, "binary_trees: stretch tree has the wrong size\n");
        abort();
    }
    tree_drop(stretch);
    struct node *long_lived = make(depth);
    long total = 0;
    for (int d = MIN_DEPTH; d <= depth; d += 2) {
        long iters = 1L << (depth - d + MIN_DEPTH);
        for (long i = 0; i < iters; i++) {
            struct node *t = make(d);
            total += tree_check(t);
            tree_drop(t);
            ba_poll(&polled);
        }
    }
    if (tree_check(long_lived) != (2L << depth) - 1) {
        fprintf(stderr, "binary_trees: long-lived tree corrupted\n");
        abort();
    }
    double elapsed = ba_now_s() - t0;
    struct ba_stats s;
    ba_get_stats(&s);
    ba_print_common("binary_trees", elapsed, &s, &polled);
    printf(" depth=%d nodes=%ld\n", depth, total);
    return 0;
}
