/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The software barriers driven directly through barrier.h and the inline code's tables:
 * what each records, how it reports it, that reporting forgets it, that a thread's
 * records outlive the thread, and how a program compiled for them is recognised.
 * No collector involved: the collector tests run under these barriers too. */
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include "barrier.h"
#include "wbrt.h"

/* This test stands for programs compiled for each barrier at once (the marker symbols
 * that -DWB_SOFT_BARRIER defines): attach reads the card size from here. */
const unsigned wb_program_barrier_card = 64;
const unsigned wb_program_barrier_ssb = 1;
const unsigned wb_program_barrier_remset = 1;

#define HEAP_LEN ((size_t)16 << 20)

struct range {
    uintptr_t lo, hi;
    int whole;
};

struct seen {
    struct range r[4096];
    size_t n;
};

static void record(void *ctx, uintptr_t lo, uintptr_t hi, int whole)
{
    struct seen *s = ctx;
    assert_true(s->n < sizeof s->r / sizeof s->r[0]);
    s->r[s->n++] = (struct range){lo, hi, whole};
}

struct fx {
    const struct barrier_ops *b;
    char *heap;
    struct dirty_map dm;
    struct seen seen;
};

static int setup(void **state)
{
    char why[256];
    struct fx *f = calloc(1, sizeof *f);
    f->b = *state;
    f->heap = mmap(NULL, HEAP_LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    assert_true(f->heap != MAP_FAILED);
    assert_int_equal(dirty_map_init(&f->dm, (uintptr_t)f->heap, HEAP_LEN / WB_PAGE_SIZE), 0);
    assert_int_equal(f->b->attach(f->heap, HEAP_LEN, &f->dm, NULL, why, sizeof why), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    f->b->detach();
    dirty_map_destroy(&f->dm);
    munmap(f->heap, HEAP_LEN);
    free(f);
    return 0;
}

/* Everything recorded since the last report, in f->seen. */
static size_t report(struct fx *f)
{
    f->seen.n = 0;
    size_t n = f->b->remembered(f->heap, HEAP_LEN, record, &f->seen);
    assert_int_equal(n, f->seen.n);
    return n;
}

/* The inline barrier of each kind, as WB_STORE compiled for it would run it. */
static void store_card(void *obj, void **slot, void *value)
{
    (void)obj;
    *slot = value;
    uintptr_t off = (uintptr_t)slot - wb_soft_base;
    if (off < wb_soft_len)
        wb_soft_cards[off / wb_program_barrier_card] = 1;
}

static void store_ssb(void *obj, void **slot, void *value)
{
    (void)obj;
    *slot = value;
    if (wb_ssb_cur == wb_ssb_end)
        wb_ssb_overflow();
    *wb_ssb_cur++ = slot;
}

static void store_remset(void *obj, void **slot, void *value)
{
    *slot = value;
    uintptr_t off = (uintptr_t)obj - wb_soft_base;
    if (off < wb_soft_len && !wb_soft_remembered[off / 16])
        wb_remember(obj);
}

static void store(struct fx *f, void *obj, void **slot, void *value)
{
    if (f->b == &barrier_card)
        store_card(obj, slot, value);
    else if (f->b == &barrier_ssb)
        store_ssb(obj, slot, value);
    else
        store_remset(obj, slot, value);
}

static int covered(const struct seen *s, uintptr_t a)
{
    for (size_t i = 0; i < s->n; i++)
        if (a >= s->r[i].lo && a < s->r[i].hi)
            return 1;
    return 0;
}

/* Stores into the heap are reported (covering the slot, or starting at the object for
 * remset), stores elsewhere are not, and a report forgets what it reported. */
static void test_stores_reported_once(void **state)
{
    struct fx *f = *state;
    void *stack_slot = NULL;
    static const size_t at[] = {0, 8, 4096 + 200, 5 * 4096 - 8, HEAP_LEN - 8};
    report(f);
    for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
        char *obj = f->heap + (at[i] & ~(size_t)15);
        store(f, obj, (void **)(f->heap + at[i]), f->heap);
    }
    store(f, &stack_slot, &stack_slot, f->heap);            /* not in the heap */
    assert_ptr_equal(*(void **)(f->heap + 4096 + 200), f->heap);
    assert_true(report(f) >= 1);
    for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
        uintptr_t a = (uintptr_t)f->heap + at[i];
        assert_true(covered(&f->seen, f->b == &barrier_remset ? (a & ~(uintptr_t)15) : a));
    }
    for (size_t i = 0; i < f->seen.n; i++) {
        assert_true(f->seen.r[i].lo >= (uintptr_t)f->heap && f->seen.r[i].hi <= (uintptr_t)f->heap + HEAP_LEN);
        assert_int_equal(f->seen.r[i].whole, f->b == &barrier_remset);
    }
    assert_false(covered(&f->seen, (uintptr_t)f->heap + 3 * 4096));
    assert_int_equal(report(f), 0);
}

/* Card: adjacent dirty cards come as one range of whole cards. */
static void test_card_runs(void **state)
{
    struct fx *f = *state;
    report(f);
    for (size_t a = 1000; a < 1300; a += 8)                 /* cards 15..20 of 64 bytes */
        store_card(f->heap, (void **)(f->heap + a), NULL);
    store_card(f->heap, (void **)(f->heap + 64 * 100), NULL);
    assert_int_equal(report(f), 2);
    assert_int_equal(f->seen.r[0].lo - (uintptr_t)f->heap, 15 * 64);
    assert_int_equal(f->seen.r[0].hi - (uintptr_t)f->heap, 21 * 64);
    assert_int_equal(f->seen.r[1].lo - (uintptr_t)f->heap, 100 * 64);
    assert_int_equal(f->seen.r[1].hi - (uintptr_t)f->heap, 101 * 64);
}

/* SSB: more stores than a buffer holds: the overflow goes to cards, nothing is lost. */
static void test_ssb_overflow(void **state)
{
    struct fx *f = *state;
    enum { N = 20000 };
    report(f);
    for (size_t i = 0; i < N; i++)
        store_ssb(NULL, (void **)(f->heap + i * 512), NULL);
    report(f);
    size_t exact = 0;
    for (size_t i = 0; i < f->seen.n; i++)
        exact += f->seen.r[i].hi - f->seen.r[i].lo == sizeof(void *);
    assert_true(exact > 0 && exact < N);                    /* the buffer's tail, exactly */
    for (size_t i = 0; i < N; i++)
        assert_true(covered(&f->seen, (uintptr_t)f->heap + i * 512));
    assert_int_equal(report(f), 0);
}

/* Remset: an object is logged once however often it is written, until reported. */
static void test_remset_once(void **state)
{
    struct fx *f = *state;
    char *obj = f->heap + 4096;
    report(f);
    for (int i = 0; i < 100; i++)
        store_remset(obj, (void **)(obj + 8 * (i % 4)), obj);
    assert_int_equal(report(f), 1);
    assert_int_equal(f->seen.r[0].lo, (uintptr_t)obj);
    store_remset(obj, (void **)obj, NULL);                  /* remembered again after it */
    assert_int_equal(report(f), 1);
}

static void *store_and_exit(void *arg)
{
    struct fx *f = arg;
    store(f, f->heap + 8192, (void **)(f->heap + 8192), f->heap);
    return NULL;
}

/* A thread's records outlive it, and its log serves the next thread. */
static void test_thread_exit(void **state)
{
    struct fx *f = *state;
    pthread_t t;
    report(f);
    for (int round = 0; round < 3; round++) {
        assert_int_equal(pthread_create(&t, NULL, store_and_exit, f), 0);
        assert_int_equal(pthread_join(t, NULL), 0);
        assert_true(report(f) >= 1);
        assert_true(covered(&f->seen, (uintptr_t)f->heap + 8192));
    }
}

/* The program here carries every marker: selection refuses it and says why; the
 * kernel barriers are refused for a program compiled for a software one. */
static void test_select_mixed(void **state)
{
    (void)state;
    char why[512];
    assert_null(barrier_select("auto", 0, why, sizeof why));
    assert_non_null(strstr(why, "compiled with both -DWB_SOFT_BARRIER=card and -DWB_SOFT_BARRIER=ssb"));
    assert_null(barrier_select("mprotect", 0, why, sizeof why));
    assert_non_null(strstr(barrier_names(), "|card|ssb|remset"));
}

int main(void)
{
    int failed = 0;
    /* Each barrier with the test of its own way of recording. */
    static const struct {
        const struct barrier_ops *b;
        CMUnitTestFunction own;
        const char *own_name;
    } soft[] = {
        {&barrier_card, test_card_runs, "test_card_runs"},
        {&barrier_ssb, test_ssb_overflow, "test_ssb_overflow"},
        {&barrier_remset, test_remset_once, "test_remset_once"},
    };
    for (size_t i = 0; i < sizeof soft / sizeof soft[0]; i++) {
        void *b = (void *)soft[i].b;
        struct CMUnitTest tests[] = {
            cmocka_unit_test_prestate_setup_teardown(test_stores_reported_once, setup, teardown, b),
            cmocka_unit_test_prestate_setup_teardown(test_thread_exit, setup, teardown, b),
            {soft[i].own_name, soft[i].own, setup, teardown, b},
        };
        failed += _cmocka_run_group_tests(soft[i].b->name, tests, 3, NULL, NULL);
    }
    const struct CMUnitTest common[] = {cmocka_unit_test(test_select_mixed)};
    failed += cmocka_run_group_tests_name("software barrier selection", common, NULL, NULL);
    return failed ? 1 : 0;
}
