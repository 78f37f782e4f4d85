/* Finalizers: counts, client data, bdwgc's ordering (a chain is finalized head first, the
 * _no_order variant in one go, a cycle never), unregistering, resurrection, on demand.
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include <gc/gc.h>
#include <stdint.h>
#include "gct.h"

#define N 1000 /* ids: singles [0, N), pairs [N, N + 6 PAIRS), the rest from 3N */
#define PAIRS 100

struct obj {
    struct obj *next;
    long id;
    long tag;
};

/* Order in which objects were finalized, by id (0: not yet). */
static long when[4 * N];
static long clock_, bad_cd;
static struct obj *resurrected[PAIRS]; /* set by a finalizer */
static int nresurrected;

static void note(void *p, void *cd)
{
    struct obj *o = p;
    if ((long)(intptr_t)cd != o->tag)
        bad_cd++;
    when[o->id] = ++clock_;
}

static void keep_it(void *p, void *cd)
{
    note(p, cd);
    if (nresurrected < PAIRS)
        resurrected[nresurrected++] = p;
}

static struct obj *new_obj(long id, GC_finalization_proc fn, int ordered)
{
    struct obj *o = GC_MALLOC(sizeof *o);
    o->id = id;
    o->tag = id * 7 + 1;
    if (fn && ordered)
        GC_REGISTER_FINALIZER(o, fn, (void *)(intptr_t)o->tag, NULL, NULL);
    else if (fn)
        GC_REGISTER_FINALIZER_NO_ORDER(o, fn, (void *)(intptr_t)o->tag, NULL, NULL);
    return o;
}

static long finalized(long from, long to)
{
    long n = 0;
    for (long i = from; i < to; i++)
        n += when[i] != 0;
    return n;
}

/* Objects [from, from+n): dropped at once. */
static __attribute__((noinline)) void singles(long from, long n)
{
    for (long i = from; i < from + n; i++)
        new_obj(i, note, 1);
}

/* Pairs head -> tail at ids (from+2i, from+2i+1); cycle: tail -> head too. */
static __attribute__((noinline)) void pairs(long from, int ordered, int cycle)
{
    for (long i = 0; i < PAIRS; i++) {
        struct obj *head = new_obj(from + 2 * i, note, ordered);
        head->next = new_obj(from + 2 * i + 1, note, ordered);
        if (cycle)
            head->next->next = head;
    }
}

static void collect(int times)
{
    for (int i = 0; i < times; i++) {
        gct_clear_stack();
        GC_gcollect();
        GC_invoke_finalizers();
    }
}

/* Pairs of which the head was finalized, the tail not, or the tail before the head. */
static void pair_counts(long from, long *head_only, long *both, long *tail_first)
{
    *head_only = *both = *tail_first = 0;
    for (long i = 0; i < PAIRS; i++) {
        long h = when[from + 2 * i], t = when[from + 2 * i + 1];
        *head_only += h && !t;
        *both += h && t;
        *tail_first += t && (!h || t < h);
    }
}

static __attribute__((noinline)) void resurrecting(long from)
{
    for (long i = 0; i < PAIRS; i++) {
        struct obj *o = new_obj(from + 2 * i, keep_it, 1);
        o->next = new_obj(from + 2 * i + 1, NULL, 1);
        o->next->tag = 4242;
    }
}

static int resurrected_intact(void)
{
    for (int i = 0; i < nresurrected; i++)
        if (resurrected[i]->id % 2 || resurrected[i]->next->tag != 4242)
            return 0;
    return 1;
}

/* bdwgc warns about each cycle it meets; wbrt does not. */
static void quiet(char *msg, GC_word arg)
{
    (void)msg, (void)arg;
}

static __attribute__((noinline)) int unregistered(long id)
{
    struct obj *o = new_obj(id, note, 1);
    GC_finalization_proc ofn = NULL;
    void *ocd = NULL;
    GC_register_finalizer(o, NULL, NULL, &ofn, &ocd);
    return ofn == note && ocd == (void *)(intptr_t)o->tag;
}

int main(void)
{
    GC_INIT();
    gct_enable_incremental();
    GC_set_finalize_on_demand(1);
    GC_set_warn_proc(quiet);
    char msg[80];

    singles(0, N);
    collect(3);
    snprintf(msg, sizeof msg, "finalized >= %d of %d", N - 10, N);
    GCT_CHECK(msg, finalized(0, N) >= N - 10);
    GCT_CHECK("client data passed", bad_cd == 0);

    long head_only, both, tail_first;
    pairs(N, 1, 0);
    collect(1);
    pair_counts(N, &head_only, &both, &tail_first);
    GCT_CHECK("ordered: first collection finalizes heads only (>= 90 of 100)", head_only >= 90 && both == 0);
    collect(3);
    pair_counts(N, &head_only, &both, &tail_first);
    GCT_CHECK("ordered: later collections finalize the tails (>= 90 of 100)", both >= 90);
    GCT_CHECK("ordered: no tail before its head", tail_first == 0);

    pairs(N + 2 * PAIRS, 0, 0);
    collect(1);
    pair_counts(N + 2 * PAIRS, &head_only, &both, &tail_first);
    GCT_CHECK("no_order: one collection finalizes both (>= 90 of 100)", both >= 90);

    pairs(N + 4 * PAIRS, 1, 1);
    collect(3);
    GCT_CHECK("ordered cycles never finalized", finalized(N + 4 * PAIRS, N + 6 * PAIRS) == 0);

    GCT_CHECK("unregistering returns the old finalizer and data", unregistered(3 * N));
    collect(2);
    GCT_CHECK("unregistered object not finalized", when[3 * N] == 0);

    resurrecting(3 * N + 2);
    collect(2);
    GCT_CHECK("resurrecting finalizers ran (>= 90 of 100)", nresurrected >= 90);
    GCT_CHECK("resurrected objects and what they reach intact", resurrected_intact());
    memset(resurrected, 0, sizeof resurrected);
    collect(2);
    long runs = clock_;
    collect(2);
    GCT_CHECK("a resurrected object is not finalized again", clock_ == runs);

    /* On demand: nothing runs until GC_invoke_finalizers. */
    long before = clock_;
    singles(3 * N + 300, 100);
    gct_clear_stack();
    GC_gcollect();
    GCT_CHECK("on demand: nothing ran inside GC_gcollect", clock_ == before);
    GCT_CHECK("on demand: GC_should_invoke_finalizers", GC_should_invoke_finalizers());
    GCT_CHECK("on demand: GC_invoke_finalizers ran >= 90 of 100", GC_invoke_finalizers() >= 90);

    /* By default they run after the collection, on the collecting thread. */
    GC_set_finalize_on_demand(0);
    before = clock_;
    singles(3 * N + 400, 100);
    gct_clear_stack();
    GC_gcollect();
    GCT_CHECK("default: >= 90 of 100 ran by the end of GC_gcollect", clock_ - before >= 90);
    return gct_exit();
}
