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

#define HEADROOM ((size_t)4 << 20)

static uint64_t refusals;

/* Requests that can never fit: NULL and ENOMEM, the block passed to realloc untouched. */
static __attribute__((noinline)) void impossible_requests(void)
{
    errno = 0;
    assert_null(wb_malloc((size_t)1 << 30));
    assert_int_equal(errno, ENOMEM);
    errno = 0;
    assert_null(wb_calloc(SIZE_MAX / 2, 4));
    assert_int_equal(errno, ENOMEM);
    void *old = fw_oldest_block();
    errno = 0;
    assert_null(wb_realloc(old, (size_t)1 << 30));
    assert_int_equal(errno, ENOMEM);
    refusals += 3;
}

static void child(void *arg)
{
    (void)arg;
    wbt_init();
    fw_build(256);
    fw_round(1);
    struct rlimit as = {(wbt_status_kib("VmSize") << 10) + HEADROOM, RLIM_INFINITY};
    assert_int_equal(setrlimit(RLIMIT_AS, &as), 0);
    void *p = mmap(NULL, (size_t)64 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(p == MAP_FAILED && errno == ENOMEM);
    refusals++;

    size_t first = fw_fill();
    refusals++;
    impossible_requests();
    fw_check_blocks();
    fw_check();
    size_t dropped = fw_drop_newer_blocks();
    wbt_scrub_stack();
    wb_collect(WB_COLLECT_FULL);
    fw_check_blocks();
    for (unsigned r = 2; r <= 4; r++)
        fw_round(r);
    size_t again = fw_fill();
    refusals++;
    assert_true(again >= dropped / 4);
    fw_check_blocks();
    fw_finish();
    fw_check_blocks();
    printf("figures: refusals (NULL+ENOMEM, mmap ENOMEM) %llu, blocks until full %zu, dropped %zu, "
           "allocated again %zu\n", (unsigned long long)refusals, first, dropped, again);
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
