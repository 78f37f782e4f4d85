/* Allocator tests: size classes, large runs, zeroing, alignment, realloc, wb_size/wb_base, limits.
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include "wbt.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define SMALL_MAX 2048
#define MiB ((size_t)1 << 20)

static int all_zero(const void *p, size_t n)
{
    const unsigned char *b = p;

    return n == 0 || (b[0] == 0 && memcmp(b, b + 1, n - 1) == 0);
}

static void check_fresh(void *p, size_t n)
{
    assert_non_null(p);
    assert_int_equal((uintptr_t)p % 16, 0);
    assert_true(wb_size(p) >= n);
    assert_ptr_equal(wb_base(p), p);
    assert_true(all_zero(p, wb_size(p)));
}

/* Every small size: a 16-byte multiple within the small range, zeroed, aligned, and no
 * two live objects overlap (each keeps its own payload while all are live). */
static void test_small_sizes(void **state)
{
    static void *objs[SMALL_MAX + 1];

    (void)state;
    for (size_t n = 1; n <= SMALL_MAX; n++) {
        objs[n] = wb_malloc(n);
        check_fresh(objs[n], n);
        assert_int_equal(wb_size(objs[n]) % 16, 0);
        assert_true(wb_size(objs[n]) <= SMALL_MAX);
        wbt_fill(objs[n], wb_size(objs[n]), n);
    }
    for (size_t n = 1; n <= SMALL_MAX; n++)
        assert_true(wbt_intact(objs[n], wb_size(objs[n]), n));
    for (size_t n = 1; n <= SMALL_MAX; n++) {
        wb_free(objs[n]);
        objs[n] = NULL;
    }
}

static void test_large_sizes(void **state)
{
    static const size_t sizes[] = {
        SMALL_MAX + 1, 4095, 4096, 4097, 3 * 4096, 65536 - 1, 65536 + 16,
        MiB - 1, MiB, MiB + 1, 7 * MiB + 5, 64 * MiB,
    };
    enum { N = sizeof sizes / sizeof sizes[0] };
    void *objs[N];

    (void)state;
    for (int i = 0; i < N; i++) {
        objs[i] = wb_malloc(sizes[i]);
        check_fresh(objs[i], sizes[i]);
        wbt_fill(objs[i], sizes[i], 1000 + i);
    }
    for (int i = 0; i < N; i++) {
        assert_true(wbt_intact(objs[i], sizes[i], 1000 + i));
        wb_free(objs[i]);
    }
}

/* wb_malloc'd memory is zero even where an earlier object left a pattern, whether that
 * object went back by wb_free or by a collection. */
static void test_zeroed_after_reuse(void **state)
{
    static const size_t sizes[] = { 16, 48, 256, 2048, 8192, 200000 };
    enum { COUNT = 256 };

    (void)state;
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        size_t n = sizes[s];

        for (int i = 0; i < COUNT; i++) {
            void *p = wb_malloc(n);
            assert_non_null(p);
            memset(p, 0xa5, n);
            wb_free(p);
        }
        for (int i = 0; i < COUNT; i++) {
            void *p = wb_malloc(n);
            check_fresh(p, n);
            memset(p, 0x5a, n);   /* and dropped: only the collector can reuse it */
        }
        wbt_scrub_stack();
        wb_collect(WB_COLLECT_FULL);
        for (int i = 0; i < COUNT; i++)
            check_fresh(wb_malloc(n), n);
    }
}

enum { REUSE_MAX = 4096, REUSE_SIZE = 1300 };
static wbt_hidden reuse_got[REUSE_MAX];

/* Allocates into reuse_got until slot h came back, and a few more; returns the count.
 * Out of line: no register of the test keeps h's address through its collection. */
static __attribute__((noinline)) int alloc_until_reused(wbt_hidden h)
{
    int n = 0, at = -1;

    while (n < REUSE_MAX && (at < 0 || n < at + 4)) {
        void *q = wb_malloc(REUSE_SIZE);
        assert_non_null(q);
        if (wbt_hide(q) == h)
            at = n;
        reuse_got[n++] = wbt_hide(q);
    }
    assert_true(at >= 0);
    return n;
}

/* An old object freed by the program leaves its slot marked old in the side tables; the
 * young object that reuses the slot must be young: a young collection reclaims it.  The
 * slot comes back once the pages with free slots listed before it are used up: in a fresh
 * process, since the free pages earlier tests leave (as many as the adapted young size
 * lets them allocate) would come first. */
static void test_reused_old_slot_is_young(void **state)
{
    (void)state;
    WBT_FRESH_PROCESS("WBRT_TENURE_AGE=0");
    void *old = wb_malloc(REUSE_SIZE);
    assert_non_null(old);
    wb_collect(WB_COLLECT_YOUNG);   /* promotes it */
    wbt_hidden h = wbt_hide(old);
    wb_free(old);
    old = NULL;
    int n = alloc_until_reused(h);
    wbt_scrub_stack();
    wb_collect(WB_COLLECT_YOUNG);
    for (int i = 0; i < n; i++)
        assert_int_equal(wb_size(wbt_reveal(reuse_got[i])), 0);
}

static void test_atomic(void **state)
{
    (void)state;
    for (size_t n = 1; n <= 4 * MiB; n = n * 3 + 1) {
        unsigned char *p = wb_malloc_atomic(n);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % 16, 0);
        assert_true(wb_size(p) >= n);
        wbt_fill(p, n, n);
        assert_true(wbt_intact(p, n, n));
        assert_ptr_equal(wb_base(p + n - 1), p);
    }
}

static void test_calloc_zeroed(void **state)
{
    unsigned char *p;

    (void)state;
    p = wb_calloc(100, 24);
    check_fresh(p, 2400);
    p = wb_calloc(3, MiB);
    check_fresh(p, 3 * MiB);
}

/* realloc keeps min(old, new) bytes, across every pair of small/large sizes. */
static void test_realloc_keeps_contents(void **state)
{
    static const size_t sizes[] = { 1, 16, 100, 2048, 2049, 5000, 65536, 3 * MiB };
    enum { N = sizeof sizes / sizeof sizes[0] };

    (void)state;
    for (int a = 0; a < N; a++) {
        for (int b = 0; b < N; b++) {
            size_t from = sizes[a], to = sizes[b], keep = from < to ? from : to;
            unsigned char *p = wb_malloc(from), *q;

            assert_non_null(p);
            wbt_fill(p, from, a * N + b);
            q = wb_realloc(p, to);
            assert_non_null(q);
            assert_int_equal((uintptr_t)q % 16, 0);
            assert_true(wb_size(q) >= to);
            assert_ptr_equal(wb_base(q), q);
            assert_true(wbt_intact(q, keep, a * N + b));
            memset(q, 0x77, to);   /* all of the new size is usable */
        }
    }
    /* realloc(NULL, n) is malloc(n). */
    check_fresh(wb_realloc(NULL, 300), 300);
}

/* free then malloc of one size gives the same slot back at once, zeroed unless atomic
 * (malloc's commonest pattern: a temporary buffer per call); more rounds than a page has
 * slots, so no fresh slot could stand in for it. */
static void test_free_then_malloc_reuses(void **state)
{
    static const size_t sizes[] = { 1, 24, 100, 256, 1000, 2048 };

    (void)state;
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        for (int atomic = 0; atomic < 2; atomic++) {
            size_t n = sizes[s];
            unsigned char *p = atomic ? wb_malloc_atomic(n) : wb_malloc(n);

            assert_non_null(p);
            for (int round = 0; round < 300; round++) {
                memset(p, 0xa5, wb_size(p));
                wb_free(p);
                unsigned char *q = atomic ? wb_malloc_atomic(n) : wb_malloc(n);
                assert_ptr_equal(q, p);
                if (!atomic)
                    assert_true(all_zero(q, wb_size(q)));
            }
            wb_free(p);
        }
    }
}

/* realloc keeps an object where it is when it can: within its slot, when a large one
 * shrinks (its last pages go back) and when it grows into free pages after it; wb_size
 * follows, all of it is usable, and the grown part is zero. */
static void test_realloc_in_place(void **state)
{
    (void)state;
    unsigned char *p = wb_malloc(20);
    assert_non_null(p);
    size_t slot = wb_size(p);
    assert_ptr_equal(wb_realloc(p, slot), p);
    assert_ptr_equal(wb_realloc(p, slot - 8), p);
    wbt_fill(p, slot, 1);

    unsigned char *big = wb_malloc(2 * MiB);
    assert_non_null(big);
    wbt_fill(big, 2 * MiB, 2);
    assert_ptr_equal(wb_realloc(big, MiB + 100), big);
    assert_int_equal(wb_size(big), MiB + 4096);
    assert_true(wbt_intact(big, MiB + 100, 2));
    assert_ptr_equal(wb_realloc(big, 2 * MiB), big);   /* its old pages are free again */
    assert_int_equal(wb_size(big), 2 * MiB);
    assert_true(wbt_intact(big, MiB + 100, 2));
    assert_true(all_zero(big + MiB + 4096, MiB - 4096));
    wbt_fill(big, wb_size(big), 3);
    wb_collect(WB_COLLECT_YOUNG);
    assert_true(wbt_intact(big, 2 * MiB, 3));
    assert_true(wbt_intact(p, slot, 1));
}

/* Growing in place never takes another object's pages: large objects with every other one
 * freed, the rest grown by realloc (into the freed neighbour where it follows, elsewhere
 * if not), each filled to its usable size; a collection later, all are intact. */
static void test_realloc_grow_keeps_neighbours(void **state)
{
    enum { K = 32, PAGE = 4096 };
    unsigned char *o[K];

    (void)state;
    for (int i = 0; i < K; i++) {
        o[i] = wb_malloc(3 * PAGE);
        assert_non_null(o[i]);
        wbt_fill(o[i], wb_size(o[i]), i);
    }
    for (int i = 1; i < K; i += 2) {
        wb_free(o[i]);
        o[i] = NULL;
    }
    for (int i = 0; i < K; i += 2) {
        size_t n = (i % 4 ? 6 : 7) * PAGE;    /* 7: more than the freed neighbour */
        o[i] = wb_realloc(o[i], n);
        assert_non_null(o[i]);
        assert_true(wbt_intact(o[i], 3 * PAGE, i));
        assert_true(wb_size(o[i]) >= n);
        wbt_fill(o[i], wb_size(o[i]), 100 + i);
    }
    wb_collect(WB_COLLECT_FULL);
    for (int i = 0; i < K; i += 2)
        assert_true(wbt_intact(o[i], wb_size(o[i]), 100 + i));
}

static void test_size(void **state)
{
    static char global_byte;
    char local;
    char *m = malloc(64);
    unsigned char *p = wb_malloc(100), *big = wb_malloc(MiB);

    (void)state;
    assert_non_null(m);
    assert_true(wb_size(p) >= 100 && wb_size(p) <= SMALL_MAX && wb_size(p) % 16 == 0);
    assert_true(wb_size(big) >= MiB);
    assert_int_equal(wb_size(p + 16), 0);
    assert_int_equal(wb_size(big + 4096), 0);
    assert_int_equal(wb_size(&local), 0);
    assert_int_equal(wb_size(&global_byte), 0);
    assert_int_equal(wb_size(m), 0);
    assert_int_equal(wb_size(NULL), 0);
    free(m);
}

static void test_base(void **state)
{
    static char global_byte;
    char local;
    char *m = malloc(64);
    unsigned char *small = wb_malloc(200), *big = wb_malloc(5 * 4096 + 100), *freed;
    size_t small_size = wb_size(small), big_size = wb_size(big);

    (void)state;
    assert_non_null(m);
    for (size_t i = 0; i < small_size; i++)
        assert_ptr_equal(wb_base(small + i), small);
    for (size_t i = 0; i < big_size; i += 509)
        assert_ptr_equal(wb_base(big + i), big);
    assert_ptr_equal(wb_base(big + big_size - 1), big);
    /* One past the end belongs to some other object or to none. */
    assert_ptr_not_equal(wb_base(small + small_size), small);
    assert_ptr_not_equal(wb_base(big + big_size), big);

    assert_null(wb_base(&local));
    assert_null(wb_base(&global_byte));
    assert_null(wb_base(m));
    assert_null(wb_base(NULL));
    free(m);

    freed = wb_malloc(64);
    wb_free(freed);
    assert_null(wb_base(freed));
    assert_null(wb_base(freed + 10));
    freed = wb_malloc(3 * MiB);
    wb_free(freed);
    assert_null(wb_base(freed));
    assert_null(wb_base(freed + 2 * MiB));
}

static void expect_enomem(void *p)
{
    int e = errno;

    assert_null(p);
    assert_int_equal(e, ENOMEM);
}

/* Absurd sizes fail with NULL and ENOMEM, never a crash, and the heap goes on working. */
static void test_huge(void **state)
{
    unsigned char *keep = wb_malloc(64);

    (void)state;
    wbt_fill(keep, 64, 7);
    errno = 0;
    expect_enomem(wb_malloc(SIZE_MAX));
    errno = 0;
    expect_enomem(wb_malloc(SIZE_MAX / 2));
    errno = 0;
    expect_enomem(wb_malloc(SIZE_MAX - 15));
    errno = 0;
    expect_enomem(wb_malloc_atomic(SIZE_MAX));
    errno = 0;
    expect_enomem(wb_malloc((size_t)128 << 30));   /* twice the default WBRT_HEAP_MAX */
    errno = 0;
    expect_enomem(wb_calloc(SIZE_MAX / 2, 3));
    errno = 0;
    expect_enomem(wb_calloc((size_t)1 << 33, (size_t)1 << 33));
    errno = 0;
    expect_enomem(wb_calloc(SIZE_MAX, SIZE_MAX));
    errno = 0;
    expect_enomem(wb_realloc(keep, SIZE_MAX));
    assert_ptr_equal(wb_base(keep), keep);   /* a failed realloc leaves the object alone */
    assert_true(wbt_intact(keep, 64, 7));
    check_fresh(wb_malloc(1000), 1000);
}

/* With WBRT_HEAP_MAX=64M: dropped objects are collected rather than running into the cap;
 * objects kept alive run into it with NULL/ENOMEM; freeing them makes room again. */
static void test_heap_cap(void **state)
{
    enum { CAP_MIB = 64 };
    static void *kept[4 * CAP_MIB];
    size_t n = 0;

    (void)state;
    WBT_FRESH_PROCESS("WBRT_HEAP_MAX=64M");
    for (int i = 0; i < 4 * CAP_MIB; i++)
        assert_non_null(wb_malloc(MiB));
    errno = 0;
    expect_enomem(wb_malloc(2 * CAP_MIB * MiB));
    for (n = 0; n < sizeof kept / sizeof kept[0]; n++) {
        kept[n] = wb_malloc(MiB);
        if (kept[n] == NULL)
            break;
        wbt_fill(kept[n], MiB, n);
    }
    assert_int_equal(errno, ENOMEM);
    assert_true(n <= CAP_MIB);
    assert_true(n >= CAP_MIB / 4);
    for (size_t i = 0; i < n; i++)
        assert_true(wbt_intact(kept[i], MiB, i));
    memset(kept, 0, sizeof kept);
    wbt_scrub_stack();
    wb_collect(WB_COLLECT_FULL);
    check_fresh(wb_malloc(MiB), MiB);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_small_sizes),
        cmocka_unit_test(test_large_sizes),
        cmocka_unit_test(test_zeroed_after_reuse),
        cmocka_unit_test(test_reused_old_slot_is_young),
        cmocka_unit_test(test_atomic),
        cmocka_unit_test(test_calloc_zeroed),
        cmocka_unit_test(test_realloc_keeps_contents),
        cmocka_unit_test(test_free_then_malloc_reuses),
        cmocka_unit_test(test_realloc_in_place),
        cmocka_unit_test(test_realloc_grow_keeps_neighbours),
        cmocka_unit_test(test_size),
        cmocka_unit_test(test_base),
        cmocka_unit_test(test_huge),
        cmocka_unit_test(test_heap_cap),
    };

    wbt_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
