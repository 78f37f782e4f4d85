/* Generations across fork(): the parent keeps tracking stores into its old objects while
 * the child lives (their pages shared copy-on-write) and after; the child re-attaches its
 * barrier (its first collection is full, as docs/guide.md says) and then tracks its own
 * stores.  Also with a thread collecting in the parent while it forks.
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include "wbt.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Holders are large objects (own page run), so that only the store under test writes
 * their pages. */
enum { HOLDER = 16 * 1024, YOUNG = 256, CONTROLS = 16, SLOTS = 4 };

/* Old holders: a root keeps them, so that a full collection (the child's first) keeps them
 * too; their slots are the young objects' only references. */
static void **g_holder, **g_child_holder;

static __attribute__((noinline)) void **new_old_holder(void)
{
    void **h = wb_malloc(HOLDER);

    assert_non_null(h);
    wb_collect(WB_COLLECT_FULL);
    assert_ptr_equal(wb_base(h), h);
    return h;
}

/* Slot i of holder h (one per page) gets a new young object with seed's payload. */
static __attribute__((noinline)) wbt_hidden young_into(void **h, int i, uint64_t seed)
{
    return wbt_store_new(h, &h[(size_t)i * 4096 / sizeof(void *)], YOUNG, seed);
}

static __attribute__((noinline)) void assert_holds(void **h, int i, wbt_hidden y, uint64_t seed)
{
    assert_ptr_equal(h[(size_t)i * 4096 / sizeof(void *)], wbt_reveal(y));
    wbt_assert_live(y, YOUNG, seed);
}

static __attribute__((noinline)) void new_controls(wbt_hidden *c, uint64_t seed)
{
    for (int i = 0; i < CONTROLS; i++)
        c[i] = wbt_garbage(YOUNG, seed + (uint64_t)i);
}

/* One collection of kind: by this thread, or (collector != NULL) two by that thread. */
static void collect(struct wbt_collector *collector, int kind)
{
    wbt_scrub_stack();
    if (collector != NULL)
        wbt_await_collections(&collector->count, 2);
    else
        wb_collect(kind);
}

/* After the stores of slots [from, to) of g_holder (seeds base + i), made since the
 * statistics before: a young collection, the young objects stored are live and intact,
 * the unreferenced ones reclaimed, and the collection was young (a full one would keep
 * them without the barrier). */
static void check_young_collection(struct wbt_collector *collector, const struct wb_stats *before,
                                   const wbt_hidden *y, int from, int to, uint64_t base)
{
    wbt_hidden controls[CONTROLS];
    struct wb_stats after;

    new_controls(controls, base + 50);
    collect(collector, WB_COLLECT_YOUNG);
    wb_get_stats(&after);
    if (collector == NULL) {   /* a thread collecting meanwhile may allocate them again */
        wbt_assert_reclaimed(controls, CONTROLS);
        assert_true(after.young_collections == before->young_collections + 1);
    }
    assert_true(after.full_collections == before->full_collections);
    if (strcmp(wb_barrier_name(), "mprotect") == 0)
        assert_true(after.barrier_faults > before->barrier_faults);
    wbt_churn(YOUNG, 500);
    for (int i = from; i < to; i++)
        assert_holds(g_holder, i, y[i], base + (uint64_t)i);
}

/* The child: the parent's store before the fork and one of its own before its first
 * collection survive that collection, which is full; then a new old holder's store is
 * tracked by the re-attached barrier through young collections. */
static void child(const wbt_hidden *y)
{
    wbt_hidden mine, later, controls[CONTROLS];
    struct wb_stats before, after;

    setenv("CMOCKA_TEST_ABORT", "1", 1);   /* a failed assertion ends the child */
    mine = young_into(g_holder, 1, 301);
    new_controls(controls, 350);
    wb_get_stats(&before);
    wbt_scrub_stack();
    wb_collect(WB_COLLECT_YOUNG);
    wb_get_stats(&after);
    assert_true(after.full_collections == before.full_collections + 1);
    wbt_assert_reclaimed(controls, CONTROLS);
    assert_holds(g_holder, 0, y[0], 300);
    assert_holds(g_holder, 1, mine, 301);

    g_child_holder = new_old_holder();
    wb_get_stats(&before);
    later = young_into(g_child_holder, 2, 302);
    new_controls(controls, 360);
    wbt_scrub_stack();
    wb_collect(WB_COLLECT_YOUNG);
    wb_get_stats(&after);
    assert_true(after.young_collections == before.young_collections + 1);
    assert_true(after.full_collections == before.full_collections);
    if (strcmp(wb_barrier_name(), "mprotect") == 0)
        assert_true(after.barrier_faults > before.barrier_faults);
    wbt_assert_reclaimed(controls, CONTROLS);
    wbt_churn(YOUNG, 500);
    assert_holds(g_child_holder, 2, later, 302);
    assert_holds(g_holder, 1, mine, 301);
}

/* Forks with a store into the parent's old holder pending (slot 0); the parent stores
 * into slot 2 and collects while the child waits on a pipe (their pages still shared),
 * then the child runs; after it exited, the parent stores into slot 3 and collects again. */
static void check_fork(struct wbt_collector *collector)
{
    wbt_hidden y[SLOTS];
    struct wb_stats st;
    int go[2];
    char byte = 'g';
    pid_t pid;
    int status;

    g_holder = new_old_holder();
    if (collector != NULL)
        wbt_collector_start(collector, WB_COLLECT_YOUNG);
    y[0] = young_into(g_holder, 0, 300);
    assert_int_equal(pipe(go), 0);
    fflush(stdout);
    fflush(stderr);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(go[1]);
        if (read(go[0], &byte, 1) != 1)
            _exit(2);
        child(y);
        fflush(stdout);
        _exit(0);
    }
    close(go[0]);
    wb_get_stats(&st);
    y[2] = young_into(g_holder, 2, 302);
    check_young_collection(collector, &st, y, 2, 3, 300);
    assert_holds(g_holder, 0, y[0], 300);
    assert_int_equal(write(go[1], &byte, 1), 1);
    close(go[1]);
    while (waitpid(pid, &status, 0) < 0)
        assert_int_equal(errno, EINTR);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("the child failed (status 0x%x)", status);
    wb_get_stats(&st);
    y[3] = young_into(g_holder, 3, 303);
    check_young_collection(collector, &st, y, 2, 4, 300);
    assert_holds(g_holder, 0, y[0], 300);
    if (collector != NULL)
        wbt_collector_stop(collector);
    g_holder = NULL;
}

static void test_gen_fork(void **state)
{
    (void)state;
    check_fork(NULL);
}

static void test_gen_fork_while_collecting(void **state)
{
    struct wbt_collector collector;

    (void)state;
    check_fork(&collector);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gen_fork),
        cmocka_unit_test(test_gen_fork_while_collecting),
    };

    /* The children count the mprotect barrier's faults: every old page stays protected. */
    setenv("WBRT_ARM", "always", 0);
    wbt_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
