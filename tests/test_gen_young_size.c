/* The young size adapts (docs/guide.md, "Young size"): it grows while a young collection's
 * fixed part (here the roots: a big root range with no pointer in it) dominates, and
 * returns to WBRT_YOUNG_BYTES once the collections cost what the young objects do (here
 * tracing a list of young survivors that a high tenure age keeps young); it never leaves
 * [WBRT_YOUNG_BYTES / 4, YOUNG_GROWTH x WBRT_YOUNG_BYTES]; where less than WBRT_YOUNG_BYTES
 * is live, its bounds are the live bytes and YOUNG_GROWTH times them (an old list of more
 * keeps them at WBRT_YOUNG_BYTES here).  Each phase's share lies well
 * beyond its threshold (measured: 0.67-0.94 against 0.5, then the smoothed share reaches
 * 0.125 within 8-11 collections), and the loops allow 40 for the smoothing to get there.
 * It also grows while most of the allocation survives (promoted at once): there the
 * fixed part is small, so without that rule it would stay at WBRT_YOUNG_BYTES.  Once
 * survival ends, that growth is undone unless the fixed part dominates: the fixed share is
 * set there (a test hook), between an eighth and a half (where a size the fixed part chose
 * holds), then over a half.
 * With the default tenure age (auto), temporaries caught alive by young collections where
 * most objects die stay young one more cycle: they do not pile up in the old generation;
 * and with nothing else live, the young generation stays within WBRT_YOUNG_BYTES.
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include "test_hooks.h"
#include "wbt.h"

#include <stdlib.h>
#include <string.h>

enum { MIB = 1 << 20, FLOOR = 4 * MIB, YOUNG_GROWTH = 4, ROOTS = 64 * MIB, MAX_CYCLES = 40, OBJ = 64,
       SURVIVORS = 8 * MIB / OBJ, LEAST = FLOOR / 4, TEMP = 256 * 1024, TEMP_CYCLES = 30 };

/* Globals: the head of the young survivors' list is a root, and so is the old buffer
 * (volatile: written only, its store would be optimized away). */
static void **survivors;
static void *volatile kept;

/* More than WBRT_YOUNG_BYTES live and old, so that the young size is bounded by
 * WBRT_YOUNG_BYTES (a smaller live heap lowers the bounds): one pointer-free buffer, which
 * no young collection scans, not even without a barrier (a list of 5 MiB there kept the
 * fixed share over an eighth in the Debug tree). */
static void keep_old(size_t bytes)
{
    kept = wb_malloc_atomic(bytes);
    assert_non_null(kept);
    wb_collect(WB_COLLECT_FULL);
}

static struct wb_stats stats(void)
{
    struct wb_stats st;
    wb_get_stats(&st);
    assert_true(st.young_bytes >= LEAST && st.young_bytes <= (uint64_t)YOUNG_GROWTH * FLOOR);
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
    WBT_FRESH_PROCESS("WBRT_YOUNG_BYTES=4M", "WBRT_TENURE_AGE=100");
    keep_old(FLOOR + MIB);
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
    for (int i = 0; i < SURVIVORS; i++) {
        void **n = wb_malloc(OBJ);
        assert_non_null(n);
        n[0] = survivors;
        survivors = n;
    }
    cycles = 0;
    while (st.young_bytes > FLOOR && cycles++ < MAX_CYCLES)
        st = one_young_collection();
    print_message("%s: young objects dominate: young size %llu KiB after %d collections (fixed %llu permille)\n",
                  wb_barrier_name(), (unsigned long long)st.young_bytes >> 10, cycles,
                  (unsigned long long)st.fixed_permille);
    assert_int_equal(st.young_bytes, FLOOR);
}

/* Everything allocated stays reachable (a list from a global), so every young collection
 * promotes what it finds; the smoothed survival share passes one half after 3 collections
 * and each one more doubles the size. */
static struct wb_stats grow_by_survival(void)
{
    struct wb_stats st = stats();
    uint64_t start = st.young_collections;
    while (st.young_bytes < (uint64_t)YOUNG_GROWTH * FLOOR && st.young_collections - start < MAX_CYCLES) {
        for (int i = 0; i < 1024; i++) {
            void **n = wb_malloc(OBJ);
            assert_non_null(n);
            n[0] = survivors;
            survivors = n;
        }
        st = stats();
    }
    print_message("%s: survivors: young size %llu KiB after %llu collections\n", wb_barrier_name(),
                  (unsigned long long)st.young_bytes >> 10, (unsigned long long)(st.young_collections - start));
    assert_int_equal(st.young_bytes, (uint64_t)YOUNG_GROWTH * FLOOR);
    return st;
}

static void test_gen_young_size_grows_when_all_survive(void **state)
{
    (void)state;
    WBT_FRESH_PROCESS("WBRT_YOUNG_BYTES=4M");
    grow_by_survival();
    survivors = NULL;
}

/* Garbage only, for the smoothed survival share to fall under a quarter (5 collections) and
 * the size to halve at each collection after it (2): FALLEN_CYCLES is ample. */
enum { FALLEN_CYCLES = 12, BAND_SHARE = 300, DOMINANT_SHARE = 700 };

static struct wb_stats after_survival(void)
{
    struct wb_stats st = stats();
    for (int i = 0; i < FALLEN_CYCLES; i++)
        st = one_young_collection();
    return st;
}

static void test_gen_young_size_survival_growth_undone(void **state)
{
    (void)state;
    WBT_FRESH_PROCESS("WBRT_YOUNG_BYTES=4M");
    wbrt_test_fixed_share(BAND_SHARE);
    grow_by_survival();
    struct wb_stats st = after_survival();
    print_message("%s: survival ended, fixed share %d permille: young size %llu KiB\n", wb_barrier_name(),
                  BAND_SHARE, (unsigned long long)st.young_bytes >> 10);
    assert_int_equal(st.young_bytes, FLOOR);

    wbrt_test_fixed_share(DOMINANT_SHARE);
    grow_by_survival();
    st = after_survival();
    print_message("%s: survival ended, fixed share %d permille: young size %llu KiB\n", wb_barrier_name(),
                  DOMINANT_SHARE, (unsigned long long)st.young_bytes >> 10);
    assert_int_equal(st.young_bytes, (uint64_t)YOUNG_GROWTH * FLOOR);
    wbrt_test_fixed_share(-1);
    survivors = NULL;
}

/* Temporary lists of TEMP bytes built one after the other, each dropped once built: a young
 * collection finds the one in progress alive (in flight), and little else.  Promoted, those
 * fill the old generation until a full collection (with WBRT_TENURE_AGE=0: 7.5 MiB old
 * after 30 collections); kept young one more cycle, they die young.  Only the first
 * collection, with no survival measured yet, promotes its list. */
static void **temps;

static void test_gen_young_size_temporaries_stay_young(void **state)
{
    (void)state;
    WBT_FRESH_PROCESS("WBRT_YOUNG_BYTES=4M", "WBRT_FULL_MIN=1G");
    struct wb_stats st = stats();
    uint64_t start = st.young_collections;
    while (st.young_collections - start < TEMP_CYCLES) {
        temps = NULL;
        for (int i = 0; i < TEMP / OBJ; i++) {
            void **n = wb_malloc(OBJ);
            assert_non_null(n);
            n[0] = temps;
            temps = n;
        }
        st = stats();
    }
    temps = NULL;
    print_message("%s: temporaries: old %llu KiB after %llu young collections, %llu full, young size %llu KiB\n",
                  wb_barrier_name(), (unsigned long long)st.old_bytes >> 10,
                  (unsigned long long)(st.young_collections - start), (unsigned long long)st.full_collections,
                  (unsigned long long)st.young_bytes >> 10);
    assert_int_equal(st.full_collections, 0);
    assert_true(st.old_bytes <= 2 * TEMP);
    assert_true(st.young_bytes <= FLOOR);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gen_young_size_adapts),
        cmocka_unit_test(test_gen_young_size_grows_when_all_survive),
        cmocka_unit_test(test_gen_young_size_survival_growth_undone),
        cmocka_unit_test(test_gen_young_size_temporaries_stay_young),
    };

    wbt_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
