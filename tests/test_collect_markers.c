/* Collector tests for parallel marking (run with WBRT_MARKERS=2 and 4 by the .markersN
 * variants): what a collection with several markers leaves behind keeps nothing alive.
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include "wbt.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

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

/* Old objects written all over before a young collection: a large table (its dirty pages
 * go to the markers in pieces) and small holders on many pages (a page each), more pages
 * than the collecting thread scans itself. */
#define TABLE ((size_t)2 << 20)
#define TABLE_SLOTS (TABLE / 4096)  /* one slot a page */
#define HOLDERS 2048
#define HOLDER 256                  /* 16 to a page: 128 pages */
#define YOUNG 48

static void *g_old[HOLDERS + 1];    /* visible only while the full collection promotes them */
static wbt_hidden g_table, g_holders[HOLDERS];
static wbt_hidden g_young_t[TABLE_SLOTS], g_young_h[HOLDERS];

static __attribute__((noinline)) void make_old(void)
{
    for (size_t i = 0; i <= HOLDERS; i++) {
        g_old[i] = wb_malloc(i < HOLDERS ? HOLDER : TABLE);
        assert_non_null(g_old[i]);
    }
    wb_collect(WB_COLLECT_FULL);
    for (size_t i = 0; i < HOLDERS; i++)
        g_holders[i] = wbt_hide(g_old[i]);
    g_table = wbt_hide(g_old[HOLDERS]);
    for (size_t i = 0; i <= HOLDERS; i++)
        g_old[i] = NULL;
}

/* Slot i of the table: on page i, at an offset that differs from page to page. */
static void **table_slot(size_t i)
{
    return (void **)((char *)wbt_reveal(g_table) + i * 4096 + (i * 72 % 4096 & ~(size_t)7));
}

static __attribute__((noinline)) void store_young(void)
{
    for (size_t i = 0; i < TABLE_SLOTS; i++)
        g_young_t[i] = wbt_store_new(wbt_reveal(g_table), table_slot(i), YOUNG, i);
    for (size_t i = 0; i < HOLDERS; i++)
        g_young_h[i] = wbt_store_new(wbt_reveal(g_holders[i]), (void **)wbt_reveal(g_holders[i]) + i % 8,
                                     YOUNG, TABLE_SLOTS + i);
}

static __attribute__((noinline)) void assert_young_kept(void)
{
    for (size_t i = 0; i < TABLE_SLOTS; i++) {
        wbt_assert_live(g_young_t[i], YOUNG, i);
        assert_ptr_equal(*table_slot(i), wbt_reveal(g_young_t[i]));
    }
    for (size_t i = 0; i < HOLDERS; i++) {
        wbt_assert_live(g_young_h[i], YOUNG, TABLE_SLOTS + i);
        assert_ptr_equal(((void **)wbt_reveal(g_holders[i]))[i % 8], wbt_reveal(g_young_h[i]));
    }
}

/* Young objects reachable only from old objects on dirty pages, which the markers scan
 * (mark.h, mark_range_later): every one survives the young collection, intact. */
static void check_dirty_pages_shared(void)
{
    struct wb_stats st;

    make_old();
    store_young();
    wbt_scrub_stack();
    wb_get_stats(&st);
    uint64_t young = st.young_collections;
    wb_collect(WB_COLLECT_YOUNG);
    wb_get_stats(&st);
    assert_int_equal(st.young_collections, young + 1);
    if (!WBT_SOFT) /* (a software barrier's records are scanned instead) */
        assert_true(st.pages_scanned_last >= TABLE_SLOTS + HOLDERS / 16);
    wbt_churn(YOUNG, 4 * (TABLE_SLOTS + HOLDERS));
    assert_young_kept();
}

static void test_collect_markers_dirty_pages(void **state)
{
    (void)state;
    check_dirty_pages_shared();
}

/* The same with a mark stack too small for the pages pushed: those it cannot take are
 * scanned at once, none dropped (overflow recovery would not find them again). */
static void test_collect_markers_dirty_pages_small_stack(void **state)
{
    (void)state;
    WBT_FRESH_PROCESS("WBRT_MARK_STACK_MAX=64");
    check_dirty_pages_shared();
}

/* Lists whose nodes lie side by side (node i of every list, then node i + 1): workers
 * tracing different lists mark neighbouring objects, whose mark bits share words.  A bit
 * lost to another worker's write of the word frees a reachable node, which the churn
 * overwrites (and WBRT_VERIFY=1 reports). */
#define LISTS 64
#define LIST_LEN 1000

struct node {
    struct node *next;
    uint64_t tag;
};

static struct node *g_heads[LISTS];

static __attribute__((noinline)) void build_lists(void)
{
    for (uint64_t i = 0; i < LIST_LEN; i++)
        for (uint64_t k = 0; k < LISTS; k++) {
            struct node *n = wb_malloc(sizeof *n);
            assert_non_null(n);
            n->tag = k << 32 | i;
            WB_STORE(n, next, g_heads[k]);
            g_heads[k] = n;
        }
}

static void assert_lists_intact(void)
{
    for (uint64_t k = 0; k < LISTS; k++) {
        uint64_t i = LIST_LEN;
        for (const struct node *n = g_heads[k]; n; n = n->next)
            assert_int_equal(n->tag, k << 32 | --i);
        assert_int_equal(i, 0);
    }
}

/* Rounds of fresh lists, each collected (kind) and then checked after a churn. */
static void check_neighbours_kept(int kind)
{
    for (int round = 0; round < 8; round++) {
        memset(g_heads, 0, sizeof g_heads);
        build_lists();
        wbt_scrub_stack();
        wb_collect(kind);
        wbt_churn(sizeof(struct node), LISTS * LIST_LEN);
        assert_lists_intact();
    }
}

static void test_collect_markers_neighbours_full(void **state)
{
    (void)state;
    check_neighbours_kept(WB_COLLECT_FULL);
}

/* Young objects: the workers' marks are gathered from the young pages only. */
static void test_collect_markers_neighbours_young(void **state)
{
    (void)state;
    check_neighbours_kept(WB_COLLECT_YOUNG);
}

/* A stack too small for the lists' heads: overflow recovery rescans the objects marked,
 * by every worker, in the phases before. */
static void test_collect_markers_neighbours_overflow(void **state)
{
    (void)state;
    WBT_FRESH_PROCESS("WBRT_MARK_STACK_MAX=16");
    check_neighbours_kept(WB_COLLECT_FULL);
    check_neighbours_kept(WB_COLLECT_YOUNG);
}

/* Enough young pages (8 MiB) that the sweep runs on every marker: every third object of
 * the first half kept, the second half all dead (its pages go back).  A page swept twice
 * or by no worker, or a result lost, shows as a kept object overwritten by the churn
 * or dead ones not reclaimed. */
#define SWEPT 131072
#define SWEPT_SIZE 64

static wbt_hidden g_swept[SWEPT];
static void *g_kept[SWEPT / 6 + 1];

static __attribute__((noinline)) void make_swept(void)
{
    for (size_t i = 0; i < SWEPT; i++)
        if (i < SWEPT / 2 && i % 3 == 0)
            g_swept[i] = wbt_store_new(NULL, &g_kept[i / 3], SWEPT_SIZE, i);
        else
            g_swept[i] = wbt_garbage(SWEPT_SIZE, i);
}

/* Conservative roots may keep the odd dead object (a stale word): a few are allowed, not
 * a chunk of pages that no worker swept (32 pages, 2048 objects). */
static void assert_swept(void)
{
    size_t left = 0, dead = 0;
    for (size_t i = 0; i < SWEPT; i++)
        if (i < SWEPT / 2 && i % 3 == 0) {
            wbt_assert_live(g_swept[i], SWEPT_SIZE, i);
        } else {
            dead++;
            left += wb_base(wbt_reveal(g_swept[i])) != NULL;
        }
    print_message("dead objects left: %zu of %zu\n", left, dead);
    assert_true(left <= SWEPT / 1000);
}

static void check_swept(int kind)
{
    make_swept();
    wbt_scrub_stack();
    wb_collect(kind);
    assert_swept();
    wbt_churn(SWEPT_SIZE, SWEPT);
    for (size_t i = 0; i < SWEPT / 2; i += 3)
        wbt_assert_live(g_swept[i], SWEPT_SIZE, i);
    memset(g_kept, 0, sizeof g_kept);
}

static void test_collect_markers_sweep_young(void **state)
{
    (void)state;
    WBT_FRESH_PROCESS(NULL);
    check_swept(WB_COLLECT_YOUNG);
}

static void test_collect_markers_sweep_full(void **state)
{
    (void)state;
    WBT_FRESH_PROCESS(NULL);
    check_swept(WB_COLLECT_FULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_collect_markers_leave_nothing),
        cmocka_unit_test(test_collect_markers_dirty_pages),
        cmocka_unit_test(test_collect_markers_dirty_pages_small_stack),
        cmocka_unit_test(test_collect_markers_neighbours_full),
        cmocka_unit_test(test_collect_markers_neighbours_young),
        cmocka_unit_test(test_collect_markers_neighbours_overflow),
        cmocka_unit_test(test_collect_markers_sweep_young),
        cmocka_unit_test(test_collect_markers_sweep_full),
    };

    wbt_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
