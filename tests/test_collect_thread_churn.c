/* Thread churn with collections: threads end in every way a program ends them (return,
 * pthread_exit, detached) while other threads collect, and allocate, free and collect in
 * thread-specific-data destructors that run after wbrt's own (including the last round
 * glibc runs), so that no collection waits for, stops or scans a thread that is gone.
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include "wbt.h"

#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>

enum { ROUNDS = 40, BATCH = 16, WORKERS = ROUNDS * BATCH, OBJ = 96 };

/* Created after wb_init (so after wbrt's own key): its destructor runs after wbrt's. */
static pthread_key_t late_key;
static void *g_kept[WORKERS], *g_to_free[WORKERS], *g_late[WORKERS];
static int g_exited, g_collections, g_stop;
/* Bumped by each worker as it starts and ends: the collector waits for one between its
 * collections.  Back to back, its collections won the heap lock again before any woken
 * waiter ran (a wake-up takes tens of microseconds in a VM), so the churn crawled along:
 * 20-60 s and 200 000 collections instead of under a second and about a thousand. */
static int g_events, g_churn_over;

static uint64_t seed_kept(uintptr_t i) { return 1000 + i; }
static uint64_t seed_late(uintptr_t i) { return 5000 + i; }

/* One destructor call per round of glibc's (PTHREAD_DESTRUCTOR_ITERATIONS): it sets its
 * value again until the last round, and there it allocates, frees and (for some workers)
 * collects: wbrt's exit destructor ran rounds before, so no collection stops this thread
 * or scans its stack.  What it allocates there is kept until the thread is gone, so it may
 * store it in a global after any collection has scanned the globals (docs/guide.md); what
 * it frees was allocated before and kept by a global. */
struct late_state {
    uintptr_t worker;
    int round;
};

static void late_destructor(void *v)
{
    struct late_state *s = v;

    if (++s->round < PTHREAD_DESTRUCTOR_ITERATIONS) {
        assert_int_equal(pthread_setspecific(late_key, s), 0);
        return;
    }
    void *late;
    wbt_hidden h = wbt_store_new(NULL, &late, OBJ, seed_late(s->worker));
    for (int k = 0; k < 20; k++)
        (void)wbt_garbage(OBJ, k);
    if (s->worker % 4 == 0)
        wb_collect(WB_COLLECT_YOUNG); /* only this thread's unscanned stack holds h's object */
    g_late[s->worker] = wbt_reveal(h);
    wb_free(g_to_free[s->worker]);
    free(s);
    __atomic_add_fetch(&g_events, 1, __ATOMIC_RELEASE);
    __atomic_add_fetch(&g_exited, 1, __ATOMIC_RELEASE);
}

static __attribute__((noreturn, noinline)) void exit_nested(int depth)
{
    if (depth > 0)
        exit_nested(depth - 1);
    pthread_exit(NULL);
}

static void *worker(void *arg)
{
    uintptr_t i = (uintptr_t)arg;
    struct late_state *s = calloc(1, sizeof *s); /* glibc's: the collector does not scan
                                                  * thread-specific data */

    assert_non_null(s);
    s->worker = i;
    assert_int_equal(pthread_setspecific(late_key, s), 0);
    __atomic_add_fetch(&g_events, 1, __ATOMIC_RELEASE);
    wbt_store_new(NULL, &g_kept[i], OBJ, seed_kept(i));
    (void)wbt_store_new(NULL, &g_to_free[i], OBJ, 0);
    for (int k = 0; k < 50; k++)
        (void)wbt_garbage(OBJ + k, k);
    if (i % 8 == 1)
        wb_collect(WB_COLLECT_YOUNG);
    if (i % 2)
        exit_nested(3);
    return NULL;
}

/* Collects while the workers come and go: once for each worker that starts or ends, so
 * that every stage of a thread's life meets collections; back to back once the churn is over. */
static void *collector(void *arg)
{
    (void)arg;
    for (int n = 0; !__atomic_load_n(&g_stop, __ATOMIC_ACQUIRE); n++) {
        int seen = __atomic_load_n(&g_events, __ATOMIC_ACQUIRE);
        wb_collect(n % 7 == 6 ? WB_COLLECT_FULL : WB_COLLECT_YOUNG);
        __atomic_add_fetch(&g_collections, 1, __ATOMIC_RELEASE);
        do
            sched_yield();
        while (__atomic_load_n(&g_events, __ATOMIC_ACQUIRE) == seen &&
               !__atomic_load_n(&g_churn_over, __ATOMIC_ACQUIRE));
    }
    return NULL;
}

static void test_thread_churn(void **state)
{
    pthread_t th[BATCH], coll;
    pthread_attr_t detached;

    (void)state;
    assert_int_equal(pthread_key_create(&late_key, late_destructor), 0);
    assert_int_equal(pthread_attr_init(&detached), 0);
    assert_int_equal(pthread_attr_setdetachstate(&detached, PTHREAD_CREATE_DETACHED), 0);
    assert_int_equal(pthread_create(&coll, NULL, collector, NULL), 0);
    for (uintptr_t r = 0; r < ROUNDS; r++) {
        /* workers 2 and 3 of every 4 are detached: nobody joins them */
        for (uintptr_t b = 0; b < BATCH; b++)
            assert_int_equal(pthread_create(&th[b], b % 4 >= 2 ? &detached : NULL, worker,
                                            (void *)(r * BATCH + b)), 0);
        for (uintptr_t b = 0; b < BATCH; b++)
            if (b % 4 < 2)
                assert_int_equal(pthread_join(th[b], NULL), 0);
        while (__atomic_load_n(&g_exited, __ATOMIC_ACQUIRE) < (int)((r + 1) * BATCH))
            sched_yield();
        wb_collect(r % 5 == 4 ? WB_COLLECT_FULL : WB_COLLECT_YOUNG);
    }
    /* the collector overlapped the churn, and goes on working now that it is over */
    __atomic_store_n(&g_churn_over, 1, __ATOMIC_RELEASE);
    wbt_await_collections(&g_collections, 2);
    __atomic_store_n(&g_stop, 1, __ATOMIC_RELEASE);
    assert_int_equal(pthread_join(coll, NULL), 0);
    assert_int_equal(pthread_attr_destroy(&detached), 0);
    wb_collect(WB_COLLECT_FULL);
    wbt_churn(OBJ, 2000);
    for (uintptr_t i = 0; i < WORKERS; i++) {
        wbt_assert_live(wbt_hide(g_kept[i]), OBJ, seed_kept(i));
        wbt_assert_live(wbt_hide(g_late[i]), OBJ, seed_late(i));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_thread_churn),
    };

    wbt_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
