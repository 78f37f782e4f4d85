/* Realloc chains: growing and shrinking objects keep their bytes and the pointers in
 * them across collections; NULL and 0 arguments; atomic objects stay atomic-sized.
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include <gc.h>
#include "gct.h"

#define CHAINS 64

struct cell {
    long value;
};

/* A chain: an array of pointers to cells, grown one slot at a time. */
static int grow_chains(struct cell ***chains, int steps)
{
    int ok = 1;
    for (int c = 0; c < CHAINS; c++)
        chains[c] = NULL;
    for (int s = 1; s <= steps; s++) {
        for (int c = 0; c < CHAINS; c++) {
            struct cell **a = GC_REALLOC(chains[c], (size_t)s * sizeof *a);
            if (!a)
                return 0;
            a[s - 1] = GC_MALLOC(sizeof(struct cell));
            a[s - 1]->value = (long)c * 100000 + s;
            chains[c] = a;
        }
        if (s % 100 == 0) {
            gct_clear_stack();
            GC_gcollect();
        }
    }
    for (int c = 0; c < CHAINS; c++)
        for (int s = 1; s <= steps; s++)
            ok &= chains[c][s - 1]->value == (long)c * 100000 + s;
    return ok;
}

static int bytes_kept(void)
{
    unsigned char *p = GC_MALLOC_ATOMIC(10);
    for (int i = 0; i < 10; i++)
        p[i] = (unsigned char)(i + 1);
    size_t n = 10;
    for (int round = 0; round < 20; round++) {
        size_t m = round % 3 == 2 ? n / 2 : n * 3; /* grow, grow, shrink */
        p = GC_REALLOC(p, m);
        for (size_t i = n; i < m; i++)
            p[i] = (unsigned char)(i * 7 + 1);
        n = m;
        GC_gcollect();
        for (size_t i = 0; i < n; i++)
            if (p[i] != (unsigned char)(i < 10 ? i + 1 : i * 7 + 1))
                return 0;
    }
    return GC_size(p) >= n;
}

int main(void)
{
    GC_INIT();
    gct_enable_incremental();
    struct cell ***chains = GC_MALLOC(CHAINS * sizeof *chains);
    GCT_CHECK("chains of 500 reallocs keep every pointer", grow_chains(chains, 500));
    GCT_CHECK("bytes kept through growing and shrinking", bytes_kept());
    void *p = GC_REALLOC(NULL, 100);
    GCT_CHECK("realloc(NULL, n) allocates", p != NULL && GC_base(p) == p && GC_size(p) >= 100);
    GCT_CHECK("realloc(p, 0) frees and returns NULL", GC_REALLOC(p, 0) == NULL);
    return gct_exit();
}
