/* Binary trees, long- and short-lived, before and after GC_enable_incremental (in the
 * incremental runs; the others stay non-incremental throughout).
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include <gc.h>
#include "gct.h"

struct node {
    struct node *left, *right;
    long *payload; /* atomic */
};

static struct node *make(int depth, long *next)
{
    struct node *n = GC_MALLOC(sizeof *n);
    if (!n)
        return NULL;
    n->payload = GC_MALLOC_ATOMIC(sizeof(long));
    *n->payload = (*next)++;
    if (depth > 0) {
        n->left = make(depth - 1, next);
        n->right = make(depth - 1, next);
    }
    return n;
}

static long count(const struct node *n, long *sum)
{
    if (!n)
        return 0;
    *sum += *n->payload;
    return 1 + count(n->left, sum) + count(n->right, sum);
}

/* Many short-lived trees; true if each was whole. */
static int churn(int rounds)
{
    int ok = 1;
    for (int i = 0; i < rounds; i++) {
        long next = 0, sum = 0;
        struct node *t = make(10, &next);
        ok &= count(t, &sum) == 2047 && sum == 2047L * 2046 / 2;
        GC_collect_a_little(); /* its result differs between collectors: not printed */
    }
    return ok;
}

int main(void)
{
    GC_INIT();
    long next = 0, sum = 0;
    struct node *keep = make(16, &next);
    GCT_CHECK("not incremental before GC_enable_incremental", !GC_is_incremental_mode());
    GCT_CHECK("short-lived trees whole", churn(200));
    GC_gcollect();
    GCT_CHECK("long-lived tree whole", count(keep, &sum) == 131071 && sum == 131071L * 131070 / 2);
    gct_enable_incremental();
    GCT_CHECK("incremental mode as asked", GC_is_incremental_mode() == gct_env_is("GCT_INCREMENTAL", "1"));
    GCT_CHECK("short-lived trees whole (second round)", churn(200));
    sum = 0;
    GCT_CHECK("long-lived tree whole (second round)", count(keep, &sum) == 131071 && sum == 131071L * 131070 / 2);
    GCT_CHECK("collections ran", GC_get_gc_no() > 2);
    GCT_CHECK("heap stayed under 256 MiB", GC_get_heap_size() < (256u << 20));
    return gct_exit();
}
