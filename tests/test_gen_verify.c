/* WBRT_VERIFY's checks fire: a store behind the barrier's back and an object freed
 * although reachable are named, under every barrier (test hooks break the invariants on
 * purpose); and what the program freed does not blind them.
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include "wbt.h"

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "test_hooks.h"

/* The holder is a large object (its own pages): no allocation writes to its page. */
enum { HOLDER = 16 * 1024, SMALL = 96, YOUNG = 256, REUSE_TRIES = 100000 };

static int tracks(void)
{
    return strcmp(wb_barrier_name(), "none") != 0;
}

/* A young object of YOUNG bytes stored into the old holder's slot unseen; the slot and
 * the young object's address go to stdout for the parent to look for. */
static __attribute__((noinline)) wbt_hidden store_unseen(void **holder, int i)
{
    void *y = wb_malloc(YOUNG);

    assert_non_null(y);
    wbt_fill(y, YOUNG, 1600);
    wbrt_test_store_unseen(&holder[i], y);
    printf("slot under test %#lx\n", (unsigned long)(uintptr_t)&holder[i]);
    fflush(stdout);
    return wbt_hide(y);
}

static __attribute__((noinline)) wbt_hidden new_old_holder(void)
{
    void *h = wb_malloc(HOLDER);

    assert_non_null(h);
    wb_collect(WB_COLLECT_FULL);
    return wbt_hide(h);
}

/* The young collection after an unseen store: the verifier stops the process, except
 * under none, which scans every old page and so keeps the young object. */
static void collect_after_unseen(wbt_hidden y, size_t n)
{
    wbt_scrub_stack();
    wb_collect(WB_COLLECT_YOUNG);
    wbt_assert_live(y, n, 1600);
}

static void missed_store(void *arg)
{
    (void)arg;
    collect_after_unseen(store_unseen(wbt_reveal(new_old_holder()), 1), YOUNG);
}

/* A dangling pointer in the holder (to a small object the program freed, old by then),
 * the freed slot handed out again to a young object, and that object stored unseen into
 * the same holder page: the dangling word is excused, the unseen store is still named. */
static __attribute__((noinline)) wbt_hidden dangling_then_unseen(wbt_hidden holder)
{
    void **h = wbt_reveal(holder), *x = wb_malloc(SMALL), *y = NULL;

    assert_non_null(x);
    wb_store(h, &h[0], x);
    wb_collect(WB_COLLECT_FULL);
    wb_free(x);
    for (int i = 0; i < REUSE_TRIES && y != x; i++)
        y = wb_malloc(SMALL); /* the others are garbage */
    if (y != x)
        fail_msg("the freed slot %p was not handed out again", x);
    wbt_fill(y, SMALL, 1600);
    wbrt_test_store_unseen(&h[1], y);
    printf("slot under test %#lx\n", (unsigned long)(uintptr_t)&h[1]);
    fflush(stdout);
    return wbt_hide(y);
}

static void missed_store_after_free(void *arg)
{
    (void)arg;
    collect_after_unseen(dangling_then_unseen(new_old_holder()), SMALL);
}

/* Runs fn in a child: under a tracking barrier it must be stopped by the verifier naming
 * the slot the child printed; under none it must finish. */
static void expect_missed_store_named(void (*fn)(void *))
{
    struct wbt_child *c = malloc(sizeof *c);
    const char *at;
    unsigned long slot;
    char want[64];

    assert_non_null(c);
    wbt_fork(c, NULL, fn, NULL);
    if (!tracks()) {
        if (!wbt_exited(c, 0))
            fail_msg("none: child status 0x%x, output:\n%s", c->status, c->out);
        free(c);
        return;
    }
    at = strstr(c->out, "slot under test ");
    if (at == NULL || sscanf(at, "slot under test %lx", &slot) != 1)
        fail_msg("%s: the child did not get to the store; status 0x%x, output:\n%s",
                 wb_barrier_name(), c->status, c->out);
    snprintf(want, sizeof want, "in slot %#lx,", slot);
    if (!wbt_killed_by(c, SIGABRT) || !strstr(c->out, "missed a store") || !strstr(c->out, want))
        fail_msg("%s: expected the verifier to name the store (\"%s\"); child status 0x%x, "
                 "output:\n%s", wb_barrier_name(), want, c->status, c->out);
    free(c);
}

static void test_verify_names_unseen_store(void **state)
{
    (void)state;
    expect_missed_store_named(missed_store);
}

static void test_verify_names_unseen_store_after_free(void **state)
{
    (void)state;
    expect_missed_store_named(missed_store_after_free);
}

/* With a tenure age, a page whose old objects point at a young survivor must stay in the
 * dirty map: forgotten there, its word (unchanged since the page was last armed, but
 * younger than the survivor) is named, not taken for a dangling pointer. */
static void forgotten_survivor(void *arg)
{
    void **h = wbt_reveal(new_old_holder());
    wbt_hidden y = wbt_store_new(h, &h[1], YOUNG, 1600);

    (void)arg;
    printf("slot under test %#lx\n", (unsigned long)(uintptr_t)&h[1]);
    fflush(stdout);
    wbt_scrub_stack();
    wb_collect(WB_COLLECT_YOUNG);   /* y survives, still young; h's page stays dirty */
    wbrt_test_forget_dirty(h);
    h = NULL;
    collect_after_unseen(y, YOUNG);
}

static void test_verify_names_forgotten_survivor(void **state)
{
    (void)state;
    WBT_FRESH_PROCESS("WBRT_TENURE_AGE=1");
    expect_missed_store_named(forgotten_survivor);
}

/* The excuse for a dangling pointer holds however its page changes: a store the barrier
 * records into the same holder page (under a software barrier: its slot only) leaves the
 * dangling word excused, and the young object it points at reclaimed although the
 * verifier's trace reaches the holder. */
static void *g_holder;

static __attribute__((noinline)) void dangling_beside_store(wbt_hidden holder, wbt_hidden *dangling,
                                                            wbt_hidden *kept)
{
    void **h = wbt_reveal(holder), *x = wb_malloc(SMALL), *y = NULL;

    assert_non_null(x);
    g_holder = h;
    wb_store(h, &h[0], x);
    wb_collect(WB_COLLECT_FULL);
    wb_free(x);
    for (int i = 0; i < REUSE_TRIES && y != x; i++)
        y = wb_malloc(SMALL);
    assert_ptr_equal(y, x);
    *dangling = wbt_hide(x);
    *kept = wbt_store_new(h, &h[2], YOUNG, 1700);
}

static void test_verify_excuses_dangling_beside_store(void **state)
{
    wbt_hidden holder, dangling, kept;

    (void)state;
    WBT_FRESH_PROCESS(NULL);
    holder = new_old_holder();
    dangling_beside_store(holder, &dangling, &kept);
    wbt_scrub_stack();
    wb_collect(WB_COLLECT_YOUNG);   /* verified: the process goes on */
    wbt_assert_live(kept, YOUNG, 1700);
    assert_ptr_equal(((void **)wbt_reveal(holder))[0], wbt_reveal(dangling));
    g_holder = NULL;
}

/* A store a software barrier recorded changes its word legitimately although the page is
 * not armed again (tenure age 0: it stays out of the dirty map): once the object it
 * stored is freed and its memory handed out again, the word is a dangling pointer, not a
 * missed store. */
static __attribute__((noinline)) wbt_hidden dangling_after_recorded_store(wbt_hidden holder)
{
    void **h = wbt_reveal(holder), *x = wb_malloc(SMALL), *y = NULL;

    assert_non_null(x);
    wb_store(h, &h[1], x);
    wb_collect(WB_COLLECT_YOUNG);   /* x promoted; the record is used and forgotten */
    wb_free(x);
    for (int i = 0; i < REUSE_TRIES && y != x; i++)
        y = wb_malloc(SMALL);
    assert_ptr_equal(y, x);
    return wbt_hide(x);
}

static void test_verify_excuses_dangling_after_recorded_store(void **state)
{
    wbt_hidden holder, dangling;

    (void)state;
    WBT_FRESH_PROCESS("WBRT_TENURE_AGE=0");
    holder = new_old_holder();
    dangling = dangling_after_recorded_store(holder);
    wbt_scrub_stack();
    wb_collect(WB_COLLECT_YOUNG);   /* verified: the process goes on */
    assert_ptr_equal(((void **)wbt_reveal(holder))[1], wbt_reveal(dangling));
}

/* With a tenure age, a software barrier's record keeps the page of the recorded object in
 * the dirty map while it points at a young survivor, though only that object was scanned.
 * A dangling pointer in another old object on the same page is still excused: the
 * verifier went by the dirty map and skipped the page, then found the reused memory
 * "freed although reachable" (tests/soak, soak_remset --phase 2,8). */
enum { DANGLED = 48 };
static void *g_dangler, *g_recorded, *g_neighbour;

static __attribute__((noinline)) void dangling_beside_retained(wbt_hidden *kept)
{
    void *x;
    void *y = NULL;

    g_dangler = wb_malloc(SMALL);
    g_recorded = wb_malloc(SMALL);
    x = wb_malloc(DANGLED);          /* another class: reusing it fills another page */
    assert_non_null(g_dangler);
    assert_non_null(g_recorded);
    assert_non_null(x);
    assert_int_equal((uintptr_t)g_dangler / 4096, (uintptr_t)g_recorded / 4096);
    wb_store(g_dangler, (void **)g_dangler, x);
    wb_collect(WB_COLLECT_FULL);    /* all three old, their pages armed */
    wb_free(x);
    for (int i = 0; i < REUSE_TRIES && y != x; i++)
        y = wb_malloc(DANGLED);
    assert_ptr_equal(y, x);         /* young now, and only the dangling word points at it */
    g_neighbour = wb_malloc(DANGLED); /* its page stays in use: the verifier sees it freed */
    assert_non_null(g_neighbour);
    *kept = wbt_store_new(g_recorded, (void **)g_recorded, YOUNG, 1800);
}

static void test_verify_excuses_dangling_beside_retained(void **state)
{
    wbt_hidden kept;

    (void)state;
    WBT_FRESH_PROCESS("WBRT_TENURE_AGE=2");
    dangling_beside_retained(&kept);
    for (int i = 0; i < 2; i++) {
        wbt_scrub_stack();
        wb_collect(WB_COLLECT_YOUNG);   /* verified: the process goes on */
        wbt_assert_live(kept, YOUNG, 1800);
    }
    g_dangler = g_recorded = g_neighbour = NULL;
}

/* A reachable object made to look freed by the last sweep. */
static void *g_victim;

static __attribute__((noinline)) void make_victim(void)
{
    g_victim = wb_malloc(SMALL);
    g_neighbour = wb_malloc(SMALL); /* keeps the page in use */
    assert_non_null(g_victim);
    assert_non_null(g_neighbour);
    wbrt_test_mark_freed(g_victim);
    printf("victim %#lx\n", (unsigned long)(uintptr_t)g_victim);
    fflush(stdout);
}

static void freed_reachable(void *arg)
{
    make_victim();
    wb_collect(*(int *)arg);
}

static void expect_freed_reachable_named(int kind)
{
    struct wbt_child *c = malloc(sizeof *c);
    const char *at;
    unsigned long victim;
    char want[64];

    assert_non_null(c);
    wbt_fork(c, NULL, freed_reachable, &kind);
    at = strstr(c->out, "victim ");
    if (at == NULL || sscanf(at, "victim %lx", &victim) != 1)
        fail_msg("the child did not get to the collection; status 0x%x, output:\n%s", c->status,
                 c->out);
    snprintf(want, sizeof want, "points into object %#lx, which the last sweep freed", victim);
    if (!wbt_killed_by(c, SIGABRT) || !strstr(c->out, want))
        fail_msg("%s: expected \"%s\"; child status 0x%x, output:\n%s", wb_barrier_name(), want,
                 c->status, c->out);
    free(c);
}

static void test_verify_names_freed_reachable(void **state)
{
    (void)state;
    expect_freed_reachable_named(WB_COLLECT_YOUNG);
    expect_freed_reachable_named(WB_COLLECT_FULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_verify_names_unseen_store),
        cmocka_unit_test(test_verify_names_unseen_store_after_free),
        cmocka_unit_test(test_verify_names_forgotten_survivor),
        cmocka_unit_test(test_verify_excuses_dangling_beside_store),
        cmocka_unit_test(test_verify_excuses_dangling_after_recorded_store),
        cmocka_unit_test(test_verify_excuses_dangling_beside_retained),
        cmocka_unit_test(test_verify_names_freed_reachable),
    };

    /* Stores behind the barrier's back are missed only on armed pages: every old page
     * stays protected (the policy could switch protection off, every page then scanned). */
    setenv("WBRT_ARM", "always", 0);
    wbt_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
