/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fault injection: memory refused.  In a child with WBRT_HEAP_MAX=32M, once the workload
 * has an old generation, RLIMIT_AS is set a few MiB above the address space in use, so
 * that any new mapping (a side table, the mark stack growing) is refused too; the test
 * proves it (a 64 MiB mmap fails with ENOMEM).  Then:
 *   - requests that can never fit (1 GiB, a calloc whose size overflows, a realloc past
 *     the heap) return NULL with errno ENOMEM and leave the old block alone;
 *   - a chain of checksummed blocks (1000 and 40000 bytes) grows until wb_malloc returns
 *     NULL: errno must be ENOMEM and every block and old object must be intact;
 *   - the newer half of the chain is dropped, a full collection runs, and the program
 *     must be able to allocate again (at least a quarter of what it dropped) and keep
 *     collecting, everything checked after each step.
 * Runs under every barrier. */
#include "fault_child.h"
#include "fault_workload.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>

#define BLOCKS_MAX 100000
#define HEADROOM ((size_t)4 << 20)

static void *chain;             /* newest block; a global, hence a root */
static size_t nblocks;
static wbt_hidden block_at[BLOCKS_MAX];
static size_t block_size[BLOCKS_MAX];
static uint64_t checked, refusals;

static size_t size_for(size_t i) { return i % 4 == 3 ? 40000 : 1000; }

/* Prepends a block; 0, or -1 with errno from wb_malloc. */
static __attribute__((noinline)) int grow(void)
{
    size_t n = size_for(nblocks);
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

/* Grows the chain until the heap is full: returns the blocks added. */
static size_t fill(void)
{
    size_t before = nblocks;
    while (nblocks < BLOCKS_MAX && grow() == 0)
        ;
    assert_true(nblocks < BLOCKS_MAX);
    assert_int_equal(errno, ENOMEM);
    refusals++;
    return nblocks - before;
}

static __attribute__((noinline)) void check_chain(void)
{
    void **b = chain;
    for (size_t i = nblocks; i-- > 0; b = b[0]) {
        assert_ptr_equal(b, wbt_reveal(block_at[i]));
        if (!wbt_intact(b + 1, block_size[i] - sizeof *b, 1000 + i))
            fail_msg("block %zu of %zu at %p damaged", i, nblocks, (void *)b);
        checked++;
    }
    assert_null(b);
}

static __attribute__((noinline)) void drop_newer_half(void)
{
    nblocks /= 2;
    chain = nblocks ? wbt_reveal(block_at[nblocks - 1]) : NULL;
}

/* Requests that can never fit: NULL and ENOMEM, the block passed to realloc untouched. */
static __attribute__((noinline)) void impossible_requests(void)
{
    errno = 0;
    assert_null(wb_malloc((size_t)1 << 30));
    assert_int_equal(errno, ENOMEM);
    errno = 0;
    assert_null(wb_calloc(SIZE_MAX / 2, 4));
    assert_int_equal(errno, ENOMEM);
    void *old = wbt_reveal(block_at[0]);
    errno = 0;
    assert_null(wb_realloc(old, (size_t)1 << 30));
    assert_int_equal(errno, ENOMEM);
    refusals += 3;
}

static size_t vm_size(void)
{
    char line[256];
    size_t kb = 0;
    FILE *f = fopen("/proc/self/status", "re");
    assert_non_null(f);
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmSize: %zu kB", &kb) == 1)
            break;
    fclose(f);
    assert_true(kb > 0);
    return kb << 10;
}

static void child(void *arg)
{
    (void)arg;
    fault_init();
    fw_build(256);
    fw_round(1);
    struct rlimit as = {vm_size() + HEADROOM, RLIM_INFINITY};
    assert_int_equal(setrlimit(RLIMIT_AS, &as), 0);
    void *p = mmap(NULL, (size_t)64 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(p == MAP_FAILED && errno == ENOMEM);
    refusals++;

    size_t first = fill();
    impossible_requests();
    check_chain();
    fw_check();
    size_t dropped = nblocks - nblocks / 2;
    drop_newer_half();
    wbt_scrub_stack();
    wb_collect(WB_COLLECT_FULL);
    check_chain();
    for (unsigned r = 2; r <= 4; r++)
        fw_round(r);
    size_t again = fill();
    assert_true(again >= dropped / 4);
    check_chain();
    fw_finish();
    check_chain();
    printf("figures: refusals (NULL+ENOMEM, mmap ENOMEM) %llu, blocks until full %zu, dropped %zu, "
           "allocated again %zu, block checks %llu\n", (unsigned long long)refusals, first, dropped,
           again, (unsigned long long)checked);
    fw_report("figures: memory refused");
}

static void test_memory_refused(void **state)
{
    (void)state;
    struct wbt_child c;
    fault_run(&c, (const char *const[]){"WBRT_HEAP_MAX=32M", NULL}, child, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_memory_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
