/* Kinds with mark procedures, typed objects and lists of objects of a kind (gc_mark.h,
 * gc_typed.h, gc_inline.h), as Guile uses them: a word the descriptor leaves out keeps
 * nothing; a mark procedure keeps what it marks, memory outside the heap included, also
 * when its object is old and the pointers it marks are young (incremental runs).
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include <gc.h>
#include <gc/gc_inline.h>
#include <gc/gc_mark.h>
#include <gc/gc_typed.h>
#include <stdint.h>
#include <stdlib.h>
#include "gct.h"

#define N 200
#define OBJ 48

/* Weak pairs, as Guile's weak-car pairs: word 0 is left out of the descriptor. */
struct pair { void *weak, *strong; };

/* A kind whose mark procedure marks word 1 of its objects and, if word 2 is set, the
 * pointers in the malloc'd array it points to (Guile's threads and their VM stacks):
 * memory no collector scans by itself. */
struct owner { void *skipped; void *marked; void **outside; size_t n; void *bit; };

static struct GC_ms_entry *mark_owner(GC_word *addr, struct GC_ms_entry *msp, struct GC_ms_entry *lim,
                                      GC_word env)
{
    struct owner *o = (struct owner *)addr;
    if (env != 7)
        abort(); /* the environment of GC_MAKE_PROC */
    msp = GC_MARK_AND_PUSH(o->marked, msp, lim, NULL);
    if (o->bit)
        GC_set_mark_bit(o->bit); /* a pointer-free object: nothing in it to trace */
    for (size_t i = 0; o->outside && i < o->n; i++)
        msp = GC_MARK_AND_PUSH(o->outside[i], msp, lim, NULL);
    return msp;
}

/* A filled object: its bytes say whether it was freed and reused meanwhile. */
static void *filled(int tag)
{
    unsigned char *p = GC_MALLOC_ATOMIC(OBJ);
    memset(p, tag, OBJ);
    return p;
}

static int intact(const void *p, int tag)
{
    const unsigned char *b = p;
    for (int i = 0; i < OBJ; i++)
        if (b[i] != (unsigned char)tag)
            return 0;
    return 1;
}

static void **links; /* atomic: the disappearing links, which keep nothing */

static void collect(void)
{
    for (int round = 0; round < 2; round++) {
        gct_clear_stack();
        GC_gcollect();
    }
}

/* Young garbage, enough for a few young collections in the incremental runs. */
static __attribute__((noinline)) void churn(void)
{
    for (int i = 0; i < 20000; i++)
        GC_MALLOC(64);
}

static unsigned owner_kind;
static struct owner **owners; /* uncollectable: keeps the owners */

static __attribute__((noinline)) void make_owners(void)
{
    for (int i = 0; i < N; i++) {
        struct owner *o = GC_generic_malloc(sizeof *o, (int)owner_kind);
        o->skipped = filled(1);
        o->marked = filled(2);
        o->bit = filled(12);
        links[i] = o->skipped;
        GC_general_register_disappearing_link(&links[i], o->skipped);
        owners[i] = o;
    }
}

/* Young objects stored into old owners, in a word the procedure marks or (no store into
 * the heap at all, no barrier sees it) in memory outside the heap. */
static __attribute__((noinline)) void store_young(int outside)
{
    for (int i = 0; i < N; i++) {
        if (outside)
            owners[i]->outside[0] = filled(4);
        else
            owners[i]->marked = filled(3);
    }
}

static void check_owners(void)
{
    owner_kind = GC_new_kind(GC_new_free_list(), GC_MAKE_PROC(GC_new_proc(mark_owner), 7), 0, 1);
    owners = GC_MALLOC_UNCOLLECTABLE(N * sizeof *owners);
    make_owners();
    for (int i = 0; i < N; i++) {
        owners[i]->outside = malloc(sizeof(void *));
        owners[i]->n = 1;
    }
    collect();
    long cleared = 0, kept = 0, bits = 0;
    for (int i = 0; i < N; i++) {
        cleared += links[i] == NULL;
        kept += intact(owners[i]->marked, 2);
        bits += intact(owners[i]->bit, 12);
    }
    GCT_CHECK("mark procedure: what it marks is kept", kept == N);
    GCT_CHECK("mark procedure: what it sets the mark bit of is kept", bits == N);
    GCT_CHECK("mark procedure: a word it skips keeps nothing", cleared > N / 2);
    store_young(0); /* the owners are old now */
    churn();
    store_young(1);
    churn();
    collect();
    kept = 0;
    long outside = 0;
    for (int i = 0; i < N; i++) {
        kept += intact(owners[i]->marked, 3);
        outside += intact(owners[i]->outside[0], 4);
    }
    GCT_CHECK("mark procedure: young objects stored in old owners are kept", kept == N);
    /* Beyond bdwgc's contract (a mark procedure may look only where the conservative
     * marker would), which its incremental mode breaks: checked on wbrt only. */
    if (getenv("GCT_BARRIER"))
        gct_check_wbrt("mark procedure: young objects stored outside the heap are kept", outside == N);
    for (int i = 0; i < N; i++)
        free(owners[i]->outside), owners[i]->outside = NULL;
}

static __attribute__((noinline)) void make_pairs(struct pair **pairs, GC_descr d)
{
    for (int i = 0; i < N; i++) {
        struct pair *p = GC_malloc_explicitly_typed(sizeof *p, d);
        p->weak = filled(5);
        p->strong = filled(6);
        GC_general_register_disappearing_link(&p->weak, p->weak);
        pairs[i] = p;
    }
}

/* A layout of 100 words: pointers in words 3 and 80 only (longer than a bitmap
 * descriptor holds). */
#define LONG_WORDS 100
static __attribute__((noinline)) void make_long(void ***objs, GC_descr d, void **links90)
{
    for (int i = 0; i < N / 4; i++) {
        void **o = GC_malloc_explicitly_typed(LONG_WORDS * sizeof(void *), d);
        o[3] = filled(7);
        o[80] = filled(8);
        o[90] = filled(9);
        links90[i] = o[90];
        GC_general_register_disappearing_link(&links90[i], o[90]);
        objs[i] = o;
    }
}

static void check_typed(void)
{
    GC_word bm[GC_BITMAP_SIZE(struct pair)] = {0};
    GC_set_bit(bm, GC_WORD_OFFSET(struct pair, strong));
    GC_descr d = GC_make_descriptor(bm, GC_WORD_LEN(struct pair));
    struct pair **pairs = GC_MALLOC_UNCOLLECTABLE(N * sizeof *pairs);
    make_pairs(pairs, d);
    collect();
    long cleared = 0, kept = 0;
    for (int i = 0; i < N; i++) {
        cleared += pairs[i]->weak == NULL;
        kept += intact(pairs[i]->strong, 6);
    }
    GCT_CHECK("typed: the pointer words are kept", kept == N);
    GCT_CHECK("typed: a word the bitmap leaves out keeps nothing", cleared > N / 2);
    for (int i = 0; i < N; i++)
        pairs[i]->strong = filled(10); /* young, in old typed objects */
    churn();
    collect();
    kept = 0;
    for (int i = 0; i < N; i++)
        kept += intact(pairs[i]->strong, 10);
    GCT_CHECK("typed: young objects stored in old typed objects are kept", kept == N);
    GC_FREE(pairs);

    GC_word lbm[(LONG_WORDS + GC_WORDSZ - 1) / GC_WORDSZ] = {0};
    GC_set_bit(lbm, 3);
    GC_set_bit(lbm, 80);
    GC_descr ld = GC_make_descriptor(lbm, LONG_WORDS);
    void ***objs = GC_MALLOC_UNCOLLECTABLE(N / 4 * sizeof *objs);
    void **links90 = GC_MALLOC_ATOMIC(N / 4 * sizeof *links90);
    make_long(objs, ld, links90);
    collect();
    cleared = kept = 0;
    for (int i = 0; i < N / 4; i++) {
        cleared += links90[i] == NULL;
        kept += intact(objs[i][3], 7) && intact(objs[i][80], 8);
    }
    GCT_CHECK("typed, 100 words: the pointer words are kept", kept == N / 4);
    GCT_CHECK("typed, 100 words: the other words keep nothing", cleared > N / 8);
    GC_FREE(objs);
    GC_word none[1] = {0};
    GCT_CHECK("typed: a layout without pointers is atomic", GC_make_descriptor(none, 4) == 0);
}

/* Lists of objects of a kind: linked through their first words, zeroed beyond the link
 * when the kind clears. */
static void check_many(void)
{
    void *list;
    GC_generic_malloc_many(32, GC_I_NORMAL, &list);
    long n = 0, zero = 1, sized = 1;
    for (void *p = list; p; p = GC_NEXT(p), n++) {
        for (size_t w = 1; w < 32 / sizeof(void *); w++)
            zero &= ((void **)p)[w] == NULL;
        sized &= GC_size(p) >= 32;
    }
    GCT_CHECK("GC_generic_malloc_many(normal): several objects", n > 1);
    GCT_CHECK("GC_generic_malloc_many(normal): zeroed and big enough", zero && sized);
    void *atoms;
    GC_generic_malloc_many(100, GC_I_PTRFREE, &atoms);
    n = 0;
    for (void *p = atoms; p; p = GC_NEXT(p))
        n++, sized &= GC_size(p) >= 100;
    GCT_CHECK("GC_generic_malloc_many(pointer-free): several objects of the size", n > 1 && sized);
    void *owned;
    GC_generic_malloc_many(sizeof(struct owner), (int)owner_kind, &owned);
    GCT_CHECK("GC_generic_malloc_many(client kind): objects", owned != NULL && GC_size(owned) >= sizeof(struct owner));
    void *many = GC_malloc_many(24);
    GCT_CHECK("GC_malloc_many: objects", many != NULL && GC_NEXT(many) != NULL);
}

/* Roots pushed by the client: a malloc'd array, kept only while the function pushes it. */
static void **pushed;
static GC_push_other_roots_proc previous;
static int push_calls;

static void push_roots(void)
{
    push_calls++;
    if (pushed) {
        GC_push_all(pushed, pushed + N / 3);
        GC_push_conditional(pushed + N / 3, pushed + 2 * N / 3, 1);
        GC_push_all_eager(pushed + 2 * N / 3, pushed + N);
    }
    if (previous)
        previous();
}

static __attribute__((noinline)) void fill_pushed(void)
{
    for (int i = 0; i < N; i++) {
        pushed[i] = filled(11);
        links[i] = pushed[i];
        GC_general_register_disappearing_link(&links[i], pushed[i]);
    }
}

static void check_push_other_roots(void)
{
    pushed = malloc(N * sizeof *pushed);
    previous = GC_get_push_other_roots();
    GC_set_push_other_roots(push_roots);
    fill_pushed();
    collect();
    churn();
    long kept = 0;
    for (int i = 0; i < N; i++)
        kept += links[i] != NULL && intact(pushed[i], 11);
    GCT_CHECK("push_other_roots: what the client pushes (GC_push_all, _conditional, _eager) is kept",
              kept == N && push_calls > 0);
    void **gone = pushed;
    pushed = NULL;
    memset(gone, 0, N * sizeof *gone);
    free(gone);
    collect();
    long cleared = 0;
    for (int i = 0; i < N; i++)
        cleared += links[i] == NULL;
    GCT_CHECK("push_other_roots: what it no longer pushes is collected", cleared > N / 2);
    GC_set_push_other_roots(previous);
    GCT_CHECK("push_other_roots: the previous function is back", GC_get_push_other_roots() == previous);
}

int main(void)
{
    GC_INIT();
    gct_enable_incremental();
    links = GC_MALLOC_ATOMIC(N * sizeof *links);
    check_owners();
    check_typed();
    check_many();
    check_push_other_roots();
    return gct_exit();
}
