/* Collector tests for parallel marking (run with WBRT_MARKERS=2 and 4 by the .markersN
 * variants): what a collection with several markers leaves behind keeps nothing alive.
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include "wbt.h"

#include <pthread.h>
#include <stdlib.h>

#define FAN 15     /* leaves per node: a wide graph, so that marking shares work */
#define NODES 2000
#define ROUNDS 20  /* collections by the thread that built the graph */

struct wide {
    struct wide *next;
    void *leaf[FAN];
};

static struct wide *g_root;
static wbt_hidden g_objs[NODES * (FAN + 1)];
static pthread_barrier_t g_parked, g_checked;

/* A list of NODES nodes, each with FAN leaves, reached from g_root alone. */
static __attribute__((noinline)) void build(void)
{
    size_t n = 0;
    g_objs[n++] = wbt_store_new(NULL, (void **)&g_root, sizeof(struct wide), 1);
    struct wide *w = g_root;
    for (int i = 0; i < NODES; i++) {
        for (int k = 0; k < FAN; k++, n++)
            g_objs[n] = wbt_store_new(w, &w->leaf[k], 32, n);
        if (i + 1 < NODES) {
            g_objs[n] = wbt_store_new(w, (void **)&w->next, sizeof(struct wide), n);
            n++;
            w = w->next;
        } else {
            wb_store(w, (void **)&w->next, NULL);
        }
    }
}

static __attribute__((noinline)) void drop(void) { g_root = NULL; }

/* Clears the stack below the caller with scalar stores only: unlike wbt_scrub_stack it
 * leaves the vector registers as the collections left them. */
static __attribute__((noinline)) void scrub_stack_only(void)
{
    volatile char junk[16384];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = 0;
}

/* Builds the graph, collects with it live (its markers move mark-stack entries, heap
 * addresses, between stacks through memcpy's vector registers), drops it, and parks
 * while the main thread collects: a stopped thread's vector registers are saved on its
 * stack and scanned as words. */
static void *builder(void *arg)
{
    (void)arg;
    build();
    for (int i = 0; i < ROUNDS; i++)
        wb_collect(WB_COLLECT_FULL);
    drop();
    scrub_stack_only();
    pthread_barrier_wait(&g_parked);
    pthread_barrier_wait(&g_checked);
    return NULL;
}

static void test_collect_markers_leave_nothing(void **state)
{
    pthread_t t;

    (void)state;
    assert_int_equal(pthread_barrier_init(&g_parked, NULL, 2), 0);
    assert_int_equal(pthread_barrier_init(&g_checked, NULL, 2), 0);
    assert_int_equal(pthread_create(&t, NULL, builder, NULL), 0);
    pthread_barrier_wait(&g_parked);
    wbt_scrub_stack();
    wb_collect(WB_COLLECT_FULL);
    wbt_assert_reclaimed(g_objs, sizeof g_objs / sizeof g_objs[0]);
    pthread_barrier_wait(&g_checked);
    assert_int_equal(pthread_join(t, NULL), 0);
    pthread_barrier_destroy(&g_parked);
    pthread_barrier_destroy(&g_checked);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_collect_markers_leave_nothing),
    };

    wbt_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
