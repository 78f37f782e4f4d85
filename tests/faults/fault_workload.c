/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The model-checked workload of fault_workload.h.  Heap pointers are handled only in
 * noinline helpers, so that a scrubbed stack keeps no stale copy of a dropped object. */
#include "fault_workload.h"
#include "wbt.h"

#include <errno.h>
#include <stdio.h>

#define OBJ 4096                /* one page each: a page run of its own */
#define YOUNG 96
#define GARBAGE_PER_ROUND 16
#define DEAD_MAX 8192

struct fw_figures fw;

/* The spine is a global, hence a root; the model (seeds, hidden pointers) is not. */
static void **spine;
static size_t count;
static uint64_t child_seed[FW_MAX], young_seed[FW_MAX];
/* Old objects dropped (reclaimed by the next full collection) and this round's garbage
 * (young: reclaimed by the round's young collection).  Each is checked right after that
 * collection: later, its memory may hold a new object.  So an old object is checked only
 * if no full collection (the program's or an automatic one) ran since it was dropped. */
static wbt_hidden dead[DEAD_MAX], garbage[GARBAGE_PER_ROUND];
static uint64_t dead_fulls[DEAD_MAX];   /* full collections when it was dropped */
static size_t ndead;

static uint64_t fulls(void)
{
    struct wb_stats s;
    wb_get_stats(&s);
    return s.full_collections;
}

static uint64_t seed_of(size_t i, unsigned round, unsigned what)
{
    return ((uint64_t)what << 48) ^ ((uint64_t)round << 24) ^ i ^ 0x5eedu;
}

static void note_dead(wbt_hidden h)
{
    if (ndead < DEAD_MAX) {
        dead_fulls[ndead] = fulls();
        dead[ndead++] = h;
    }
}

static __attribute__((noinline)) void new_child(size_t i, uint64_t seed)
{
    void **c = wb_malloc(OBJ);
    assert_non_null(c);
    wbt_fill(c + 1, OBJ - sizeof *c, seed);
    if (spine[i])
        note_dead(wbt_hide(spine[i]));
    wb_store(spine, &spine[i], c);
    child_seed[i] = seed;
    young_seed[i] = 0;
}

static __attribute__((noinline)) void new_young(size_t i, uint64_t seed)
{
    void **c = spine[i];
    void *y = wb_malloc(YOUNG);
    assert_non_null(y);
    wbt_fill(y, YOUNG, seed);
    wb_store(c, &c[0], y);
    young_seed[i] = seed;
    fw.old_stores++;
}

static __attribute__((noinline)) void check_one(size_t i)
{
    void **c = spine[i];
    assert_non_null(c);
    if (!wbt_intact(c + 1, OBJ - sizeof *c, child_seed[i]))
        fail_msg("old object %zu at %p: payload damaged", i, (void *)c);
    fw.objects_checked++;
    if (young_seed[i]) {
        if (!c[0] || !wbt_intact(c[0], YOUNG, young_seed[i]))
            fail_msg("young object of old object %zu (%p): lost or damaged", i, c[0]);
        fw.objects_checked++;
    }
}

void fw_check(void)
{
    for (size_t i = 0; i < count; i++)
        check_one(i);
}

static __attribute__((noinline)) void make_spine(size_t n)
{
    spine = wb_malloc(n * sizeof *spine);
    assert_non_null(spine);
}

void fw_build(size_t n)
{
    assert_true(n <= FW_MAX);
    make_spine(n);
    count = n;
    for (size_t i = 0; i < n; i++)
        new_child(i, seed_of(i, 0, 1));
    wbt_scrub_stack();
    wb_collect(WB_COLLECT_FULL);
    fw_check();
}

void fw_round(unsigned round)
{
    for (size_t i = round % 2; i < count; i += 2)
        new_young(i, seed_of(i, round, 2));
    for (size_t i = (round / 2) % 8 * 2 + 1 - round % 2; i < count; i += 16)
        new_child(i, seed_of(i, round, 3));
    for (int g = 0; g < GARBAGE_PER_ROUND; g++)
        garbage[g] = wbt_garbage(YOUNG, seed_of((size_t)g, round, 4));
    wbt_scrub_stack();
    wb_collect(WB_COLLECT_YOUNG);
    wbt_assert_reclaimed(garbage, GARBAGE_PER_ROUND);
    fw.reclaimed_checked += GARBAGE_PER_ROUND;
    fw_check();
}

void fw_finish(void)
{
    wbt_scrub_stack();
    uint64_t before = fulls();
    wb_collect(WB_COLLECT_FULL);
    size_t n = 0;
    for (size_t i = 0; i < ndead; i++)
        if (dead_fulls[i] == before)
            dead[n++] = dead[i];
    wbt_assert_reclaimed(dead, n);
    fw.reclaimed_checked += n;
    ndead = 0;
    fw_check();
}

#define BLOCKS_MAX 100000

static void *chain;             /* newest block; a global, hence a root */
static size_t nblocks;
static wbt_hidden block_at[BLOCKS_MAX];
static size_t block_size[BLOCKS_MAX];

static size_t block_size_for(size_t i) { return i % 4 == 3 ? 40000 : 1000; }

/* Prepends a block; 0, or -1 with errno from wb_malloc. */
static __attribute__((noinline)) int grow(void)
{
    size_t n = block_size_for(nblocks);
    void **b = wb_malloc(n);
    if (!b)
        return -1;
    wbt_fill(b + 1, n - sizeof *b, 1000 + nblocks);
    wb_store(b, &b[0], chain);
    chain = b;
    block_at[nblocks] = wbt_hide(b);
    block_size[nblocks++] = n;
    return 0;
}

size_t fw_fill(void)
{
    size_t before = nblocks;
    errno = 0;
    while (nblocks < BLOCKS_MAX && grow() == 0)
        ;
    assert_true(nblocks < BLOCKS_MAX);
    assert_int_equal(errno, ENOMEM);
    return nblocks - before;
}

void fw_check_blocks(void)
{
    void **b = chain;
    for (size_t i = nblocks; i-- > 0; b = b[0]) {
        assert_ptr_equal(b, wbt_reveal(block_at[i]));
        if (!wbt_intact(b + 1, block_size[i] - sizeof *b, 1000 + i))
            fail_msg("block %zu of %zu at %p damaged", i, nblocks, (void *)b);
        fw.objects_checked++;
    }
    assert_null(b);
}

size_t fw_drop_newer_blocks(void)
{
    size_t dropped = nblocks - nblocks / 2;
    nblocks /= 2;
    chain = nblocks ? wbt_reveal(block_at[nblocks - 1]) : NULL;
    return dropped;
}

void *fw_oldest_block(void)
{
    assert_true(nblocks > 0);
    return wbt_reveal(block_at[0]);
}

void fw_report(const char *test)
{
    struct wb_stats s;
    wb_get_stats(&s);
    printf("%s: objects checked %llu, reclaimed checked %llu, old-to-young stores %llu, "
           "collections young %llu full %llu, barrier %s faults %llu\n", test,
           (unsigned long long)fw.objects_checked, (unsigned long long)fw.reclaimed_checked,
           (unsigned long long)fw.old_stores, (unsigned long long)s.young_collections,
           (unsigned long long)s.full_collections, wb_barrier_name(),
           (unsigned long long)s.barrier_faults);
    fflush(stdout);
}
