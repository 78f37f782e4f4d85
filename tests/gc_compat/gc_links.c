/* Disappearing links: cleared when the object dies (also when the link lies in an old,
 * write-protected object), before its finalizer runs; kept while it lives; return values.
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include <gc.h>
#include "gct.h"

#define N 1000

struct obj {
    long id;
};

/* The links live in atomic memory, which is not scanned: they do not keep their objects. */
static void **links;
static struct obj **keep; /* the even objects */
static long saw_cleared, finalized;

static __attribute__((noinline)) void make(long from, long n, int even_kept)
{
    for (long i = from; i < from + n; i++) {
        struct obj *o = GC_MALLOC(sizeof *o);
        o->id = i;
        links[i] = o;
        GC_GENERAL_REGISTER_DISAPPEARING_LINK(&links[i], o);
        if (even_kept && i % 2 == 0)
            keep[i] = o;
    }
}

static void check_link(void *p, void *cd)
{
    struct obj *o = p;
    (void)cd;
    saw_cleared += links[o->id] == NULL;
    finalized++;
}

static __attribute__((noinline)) void make_finalizable(long from, long n)
{
    for (long i = from; i < from + n; i++) {
        struct obj *o = GC_MALLOC(sizeof *o);
        o->id = i;
        links[i] = o;
        GC_general_register_disappearing_link(&links[i], o);
        GC_register_finalizer(o, check_link, NULL, NULL, NULL);
    }
}

static void collect(void)
{
    gct_clear_stack();
    GC_gcollect();
    GC_invoke_finalizers();
}

static long count(long from, long to, int want_null, int parity)
{
    long n = 0;
    for (long i = from; i < to; i++)
        if (parity < 0 || i % 2 == parity)
            n += (links[i] == NULL) == want_null;
    return n;
}

/* Allocation enough for several collections (young ones on wbrt once incremental). */
static void churn(void)
{
    for (int i = 0; i < 200000; i++)
        GC_MALLOC(48);
}

int main(void)
{
    GC_INIT();
    links = GC_MALLOC_ATOMIC(4 * N * sizeof *links);
    keep = GC_MALLOC(4 * N * sizeof *keep);
    memset(links, 0, 4 * N * sizeof *links);

    make(0, N, 1);
    collect();
    GCT_CHECK("links of live objects kept: 500 of 500", count(0, N, 0, 0) == N / 2);
    GCT_CHECK("links of dead objects cleared >= 490 of 500", count(0, N, 1, 1) >= N / 2 - 10);

    /* The holder of the links is old now (on wbrt its pages are write-protected). */
    for (long i = 0; i < N; i += 2)
        keep[i] = NULL;
    collect();
    GCT_CHECK("links in an old object cleared >= 490 of 500", count(0, N, 1, 0) >= N / 2 - 10);

    struct obj *o = GC_MALLOC(sizeof *o);
    links[N] = o;
    GCT_CHECK("first registration", GC_general_register_disappearing_link(&links[N], o) == GC_SUCCESS);
    GCT_CHECK("second registration is a duplicate",
              GC_general_register_disappearing_link(&links[N], o) == GC_DUPLICATE);
    GCT_CHECK("unregister a registered link", GC_unregister_disappearing_link(&links[N]) == 1);
    GCT_CHECK("unregister it again", GC_unregister_disappearing_link(&links[N]) == 0);
    links[N] = GC_REVEAL_POINTER(GC_HIDE_POINTER(o));
    o = NULL;
    collect();
    GCT_CHECK("an unregistered link is left alone", links[N] != NULL);

    make_finalizable(N + 1, 100);
    collect();
    collect();
    GCT_CHECK("finalized >= 90 of 100", finalized >= 90);
    GCT_CHECK("each finalizer found its link cleared", saw_cleared == finalized);

    /* Young objects dying (in the incremental runs: in the generational mode) while their
     * links are in old memory. */
    gct_enable_incremental();
    gct_store_into_old();
    make(2 * N, N, 0);
    churn();
    gct_check_old_holder();
    collect();
    GCT_CHECK("links of young objects cleared >= 990 of 1000", count(2 * N, 3 * N, 1, -1) >= N - 10);

    /* A link inside an object that dies with its target is forgotten (the slot may be
     * reused: clearing it later would corrupt another object); one in a kept holder is
     * cleared. */
    void ***holders = GC_MALLOC(100 * sizeof *holders);
    for (int i = 0; i < 100; i++) {
        void **holder = GC_MALLOC_ATOMIC(sizeof *holder);
        *holder = GC_MALLOC(16);
        GC_general_register_disappearing_link(holder, *holder);
        if (i % 2)
            holders[i] = holder;
    }
    churn();
    collect();
    long cleared = 0;
    for (int i = 1; i < 100; i += 2)
        cleared += *holders[i] == NULL;
    GCT_CHECK("links in kept holders cleared >= 45 of 50", cleared >= 45);
    return gct_exit();
}
