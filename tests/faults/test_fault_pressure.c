/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fault injection: a full collection under memory pressure.  In a child with a mark stack
 * of one entry (WBRT_MARK_STACK_MAX=1: every second push overflows, and marking recovers
 * by rescanning) and a 16 MiB heap (WBRT_HEAP_MAX=16M): a linked list 40000 nodes deep,
 * each node also holding a leaf, so that every node has two children to push; then
 * checksummed blocks until the heap is full (wb_malloc NULL with ENOMEM).  Full
 * collections run with the heap full and the stack overflowing: every node, leaf and
 * block must survive intact; after the newer blocks are dropped the program allocates
 * and collects again.  Runs under every barrier. */
#include "fault_child.h"
#include "fault_workload.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#define DEPTH 40000
#define LEAF 32

struct node {
    struct node *next;
    void *leaf;
    uint64_t seed;
};

static struct node *list;       /* newest node; a global, hence a root */
static uint64_t nodes_checked;

static __attribute__((noinline)) void build_list(void)
{
    for (size_t i = 0; i < DEPTH; i++) {
        struct node *n = wb_malloc(sizeof *n);
        assert_non_null(n);
        void *leaf = wb_malloc(LEAF);
        assert_non_null(leaf);
        n->seed = 7000000 + i;
        wbt_fill(leaf, LEAF, n->seed);
        WB_STORE(n, leaf, leaf);
        WB_STORE(n, next, list);
        list = n;
    }
}

static __attribute__((noinline)) void check_list(void)
{
    size_t i = DEPTH;
    for (struct node *n = list; n; n = n->next) {
        assert_true(i > 0);
        i--;
        if (n->seed != 7000000 + i || !wbt_intact(n->leaf, LEAF, n->seed))
            fail_msg("node %zu (%p) or its leaf damaged", i, (void *)n);
        nodes_checked += 2;
    }
    assert_int_equal(i, 0);
}

static void child(void *arg)
{
    (void)arg;
    wbt_init();
    fw_build(256);
    build_list();
    wbt_scrub_stack();
    wb_collect(WB_COLLECT_FULL);
    check_list();
    size_t first = fw_fill();
    wb_collect(WB_COLLECT_FULL);        /* the heap full, the mark stack overflowing */
    check_list();
    fw_check_blocks();
    fw_check();
    size_t dropped = fw_drop_newer_blocks();
    wbt_scrub_stack();
    wb_collect(WB_COLLECT_FULL);
    for (unsigned r = 1; r <= 3; r++)
        fw_round(r);
    size_t again = fw_fill();
    assert_true(again >= dropped / 4);
    fw_finish();
    check_list();
    fw_check_blocks();
    printf("figures: list depth %d, list objects checked %llu, blocks until full %zu, dropped %zu, "
           "allocated again %zu\n", DEPTH, (unsigned long long)nodes_checked, first, dropped, again);
    fw_report("figures: full collections under pressure");
}

static void test_pressure(void **state)
{
    (void)state;
    struct wbt_child c;
    fault_run(&c, (const char *const[]){"WBRT_MARK_STACK_MAX=1", "WBRT_HEAP_MAX=16M", NULL}, child, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pressure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
