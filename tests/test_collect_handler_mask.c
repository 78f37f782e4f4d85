/* Signal handlers installed with every signal in sa_mask (sigfillset, as many programs
 * do): under the mprotect barrier such a handler's write to an armed page is a barrier
 * fault, not a kill, and a thread waiting inside one is still stopped by collections on
 * other threads.  The rest of the handler's mask is kept (docs/guide.md, "Threads and
 * signals").
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include "wbt.h"

#include <pthread.h>
#include <semaphore.h>
#include <signal.h>

enum { OBJ = 128, SEED = 77 };

struct holder {
    void *young;
    uint64_t words[14];
};

static struct holder *g_old;
static sem_t g_entered, g_leave;

static void install(void (*fn)(int))
{
    struct sigaction sa = { .sa_handler = fn };
    sigfillset(&sa.sa_mask);
    assert_int_equal(sigaction(SIGUSR1, &sa, NULL), 0);
}

/* Writes an old object and stores a new object into it, with every signal the program
 * could block blocked. */
static void store_young(int sig)
{
    (void)sig;
    g_old->words[3] = SEED;
    (void)wbt_store_new(g_old, &g_old->young, OBJ, SEED);
}

static __attribute__((noinline)) void make_old_holder(void)
{
    g_old = wb_malloc(sizeof *g_old);
    assert_non_null(g_old);
    wb_collect(WB_COLLECT_FULL); /* old now, its page armed */
}

static void test_handler_writes_armed_page(void **state)
{
    struct sigaction now;

    (void)state;
    make_old_holder();
    install(store_young);
    assert_int_equal(raise(SIGUSR1), 0);
    wbt_scrub_stack();
    wb_collect(WB_COLLECT_YOUNG);
    wbt_churn(OBJ, 2000);
    assert_true(g_old->words[3] == SEED);
    wbt_assert_live(wbt_hide(g_old->young), OBJ, SEED);
    /* the program's mask is kept but for the collector's signals */
    assert_int_equal(sigaction(SIGUSR1, NULL, &now), 0);
    assert_int_equal(sigismember(&now.sa_mask, SIGINT), 1);
    assert_int_equal(sigismember(&now.sa_mask, SIGTERM), 1);
}

/* Waits inside the handler until the main thread has collected. */
static void wait_inside(int sig)
{
    (void)sig;
    sem_post(&g_entered);
    while (sem_wait(&g_leave) != 0)
        ;
}

static void *waiter(void *arg)
{
    (void)arg;
    assert_non_null(wb_malloc(OBJ)); /* registered: collections stop this thread */
    assert_int_equal(pthread_kill(pthread_self(), SIGUSR1), 0);
    return NULL;
}

static void test_collection_stops_thread_in_handler(void **state)
{
    pthread_t th;

    (void)state;
    assert_int_equal(sem_init(&g_entered, 0, 0), 0);
    assert_int_equal(sem_init(&g_leave, 0, 0), 0);
    install(wait_inside);
    assert_int_equal(pthread_create(&th, NULL, waiter, NULL), 0);
    while (sem_wait(&g_entered) != 0)
        ;
    /* with the stop signal blocked in the handler, this would wait for ever */
    wb_collect(WB_COLLECT_FULL);
    wb_collect(WB_COLLECT_YOUNG);
    assert_int_equal(sem_post(&g_leave), 0);
    assert_int_equal(pthread_join(th, NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_handler_writes_armed_page),
        cmocka_unit_test(test_collection_stops_thread_in_handler),
    };

    wbt_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
