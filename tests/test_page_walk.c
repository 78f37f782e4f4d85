/* SPDX-License-Identifier: GPL-2.0-or-later */
/* page_walk, which a young collection's scan and arming of its dirty pages go through,
 * must give exactly the pages dirty_map_next gives, in order, however far the caller
 * jumps ahead (a large object's pages are passed over at once) and whatever it does to
 * the bits of the pages it was given (arming clears them, keeps hot ones set).
 * Randomized: the seed is printed; WBT_SEED=N repeats a run. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <setjmp.h>
#include <cmocka.h>

#include "page_walk.h"

#define NPAGES 70001        /* not a whole number of bitmap words */

static uint64_t rng;

static uint64_t rnd(void)
{
    uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Pages set with a chance of permille / 1000, in runs of up to run pages. */
static void fill_map(struct dirty_map *dm, unsigned permille, size_t run)
{
    dirty_map_clear_range(dm, 0, NPAGES);
    for (size_t pg = 0; pg < NPAGES; pg++)
        if (rnd() % 1000 < permille)
            dirty_map_set_range(dm, pg, pg + run <= NPAGES ? 1 + rnd() % run : 1);
}

/* One walk from page 1, the caller jumping up to jump pages past some of the pages given
 * and rewriting the bits of those it was given. */
static void check_walk(struct dirty_map *dm, size_t jump)
{
    struct page_walk w;
    size_t from = 1;
    page_walk_begin(&w, dm, 1, NPAGES);
    for (;;) {
        size_t want = dirty_map_next(dm, from, NPAGES), pg = page_walk_next(&w, from);
        assert_int_equal(pg, want);
        if (pg == NPAGES)
            break;
        size_t end = pg + 1 + (jump && rnd() % 4 == 0 ? rnd() % jump : 0);
        if (end > NPAGES)
            end = NPAGES;
        for (size_t i = pg; i < end; i++)    /* below the next from: allowed */
            if (rnd() % 2)
                dirty_map_clear_range(dm, i, 1);
            else
                dirty_map_set(dm, i);
        from = end;
    }
}

static void test_page_walk_matches_dirty_map(void **state)
{
    (void)state;
    struct dirty_map dm;
    const unsigned density[] = {0, 1, 50, 500, 1000};
    const size_t runs[] = {1, 16, 600}, jumps[] = {0, 3, 100, 5000};
    assert_int_equal(dirty_map_init(&dm, 0, NPAGES), 0);
    for (size_t d = 0; d < sizeof density / sizeof *density; d++)
        for (size_t r = 0; r < sizeof runs / sizeof *runs; r++)
            for (size_t j = 0; j < sizeof jumps / sizeof *jumps; j++) {
                fill_map(&dm, density[d], runs[r]);
                check_walk(&dm, jumps[j]);
            }
    dirty_map_destroy(&dm);
}

int main(void)
{
    const char *s = getenv("WBT_SEED");
    rng = s ? strtoull(s, NULL, 0) : (uint64_t)time(NULL);
    printf("test_page_walk: seed %llu (WBT_SEED=%llu repeats it)\n", (unsigned long long)rng,
           (unsigned long long)rng);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_page_walk_matches_dirty_map),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
