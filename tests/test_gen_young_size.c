/* The young size adapts (docs/guide.md, "Young size"): it grows while a young collection's
 * fixed part (here the roots: a big root range with no pointer in it) dominates, and
 * returns to WBRT_YOUNG_BYTES once the collections cost what the young objects do; it
 * never leaves [WBRT_YOUNG_BYTES, YOUNG_GROWTH x WBRT_YOUNG_BYTES].  The shares compared
 * differ a hundredfold either way, so machine noise cannot flip a decision.
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include "wbt.h"

#include <stdlib.h>
#include <string.h>

enum { MIB = 1 << 20, FLOOR = 4 * MIB, YOUNG_GROWTH = 4, ROOTS = 64 * MIB, MAX_CYCLES = 40, OBJ = 64 };

static struct wb_stats stats(void)
{
    struct wb_stats st;
    wb_get_stats(&st);
    assert_true(st.young_bytes >= FLOOR && st.young_bytes <= (uint64_t)YOUNG_GROWTH * FLOOR);
    return st;
}

/* Allocates garbage until one more young collection has run. */
static struct wb_stats one_young_collection(void)
{
    uint64_t n = stats().young_collections;
    while (stats().young_collections == n)
        wbt_churn(OBJ, 1024);
    return stats();
}

static void test_gen_young_size_adapts(void **state)
{
    (void)state;
    WBT_FRESH_PROCESS("WBRT_YOUNG_BYTES=4M");
    /* Written all over, so that its pages exist and are read; no heap pointer in it. */
    char *roots = malloc(ROOTS);
    assert_non_null(roots);
    memset(roots, 0x5a, ROOTS);
    wb_add_roots(roots, roots + ROOTS);
    struct wb_stats st = stats();
    int cycles = 0;
    while (st.young_bytes < (uint64_t)YOUNG_GROWTH * FLOOR && cycles++ < MAX_CYCLES)
        st = one_young_collection();
    print_message("%s: roots dominate: young size %llu KiB after %d collections (fixed %llu permille)\n",
                  wb_barrier_name(), (unsigned long long)st.young_bytes >> 10, cycles,
                  (unsigned long long)st.fixed_permille);
    assert_int_equal(st.young_bytes, (uint64_t)YOUNG_GROWTH * FLOOR);

    wb_remove_roots(roots, roots + ROOTS);
    free(roots);
    cycles = 0;
    while (st.young_bytes > FLOOR && cycles++ < MAX_CYCLES)
        st = one_young_collection();
    print_message("%s: young objects dominate: young size %llu KiB after %d collections (fixed %llu permille)\n",
                  wb_barrier_name(), (unsigned long long)st.young_bytes >> 10, cycles,
                  (unsigned long long)st.fixed_permille);
    assert_int_equal(st.young_bytes, FLOOR);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gen_young_size_adapts),
    };

    wbt_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
