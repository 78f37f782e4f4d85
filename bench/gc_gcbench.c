/* GCBench written against gc.h only, so that the same source builds on bdwgc (-lgc) and
 * on wbrt (runtime/include/wbrt-gc): a long-lived tree and array, then for each depth
 * many short-lived trees built top-down (parents first) and bottom-up.  Both collectors
 * run generational (GC_enable_incremental).  Prints the elapsed seconds on stdout.
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include <gc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct tnode {
    struct tnode *l, *r;
    long depth;
};

static struct tnode *alloc_node(void)
{
    struct tnode *n = GC_NEW(struct tnode);
    if (!n) {
        fprintf(stderr, "gc_gcbench: out of memory\n");
        exit(1);
    }
    return n;
}

static long nodes_at(int depth) { return (2L << depth) - 1; }

/* Parents first: each child is stored into an older object. */
static void grow_down(struct tnode *n, int depth)
{
    n->depth = depth;
    if (depth == 0)
        return;
    n->l = alloc_node();
    n->r = alloc_node();
    grow_down(n->l, depth - 1);
    grow_down(n->r, depth - 1);
}

/* Children first: every store goes into the newest object. */
static struct tnode *grow_up(int depth)
{
    struct tnode *l = depth ? grow_up(depth - 1) : NULL, *r = depth ? grow_up(depth - 1) : NULL;
    struct tnode *n = alloc_node();
    n->l = l;
    n->r = r;
    n->depth = depth;
    return n;
}

static long walk(const struct tnode *n, int depth)
{
    if (!n || n->depth != depth) {
        fprintf(stderr, "gc_gcbench: tree damaged at depth %d\n", depth);
        abort();
    }
    return depth ? 1 + walk(n->l, depth - 1) + walk(n->r, depth - 1) : 1;
}

int main(int argc, char **argv)
{
    int max = 16;
    if (argc == 3 && strcmp(argv[1], "--depth") == 0)
        max = atoi(argv[2]);
    if ((argc != 1 && argc != 3) || max < 4 || max > 22) {
        fprintf(stderr, "usage: gc_gcbench [--depth N]   (4..22, default 16)\n");
        return 2;
    }
    GC_INIT();
    GC_enable_incremental();
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);

    grow_up(max + 2); /* stretch the heap once */
    struct tnode *lasting = alloc_node();
    grow_down(lasting, max);
    long len = 500000;
    double *numbers = GC_MALLOC_ATOMIC(len * sizeof *numbers);
    for (long i = 0; i < len / 2; i++)
        numbers[i] = 1.0 / (double)(i + 1);

    for (int d = 4; d <= max; d += 2) {
        long iters = 2 * nodes_at(max) / nodes_at(d);
        for (long i = 0; i < iters; i++) {
            struct tnode *t = alloc_node();
            grow_down(t, d);
            if (walk(t, d) != nodes_at(d))
                abort();
            if (walk(grow_up(d), d) != nodes_at(d))
                abort();
        }
    }
    if (walk(lasting, max) != nodes_at(max) || numbers[1000] != 1.0 / 1001) {
        fprintf(stderr, "gc_gcbench: long-lived data damaged\n");
        return 1;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("%.3f\n", (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    return 0;
}
