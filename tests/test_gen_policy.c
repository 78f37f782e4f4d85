/* The arming policy (docs/guide.md, "Arming policy"): old pages written at every cycle are kept
 * writable and scanned as dirty; once they cool they are armed again and a later store is
 * still seen.  Run under every barrier with WBRT_VERIFY=1, which checks at each young
 * collection that every old->young pointer lies on a page of the dirty map.
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include "wbt.h"
#include "test_hooks.h"

#include <stdio.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>

/* The table: a large object (its own pages: no allocation writes them), one slot per page. */
enum { TABLE_PAGES = 16, PAGE = 4096, SLOT = 64, YOUNG = 128, HOT_CYCLES = 8, MAX_COOL = 200 };

static wbt_hidden table;

static void **slot_of(int page)
{
    return (void **)((char *)wbt_reveal(table) + (size_t)page * PAGE + SLOT);
}

static __attribute__((noinline)) void make_old_table(void)
{
    void *t = wb_malloc(TABLE_PAGES * PAGE);

    assert_non_null(t);
    wb_collect(WB_COLLECT_FULL);       /* t, on the stack, keeps it: now old */
    assert_ptr_equal(wb_base(t), t);
    table = wbt_hide(t);               /* hidden: young collections never free old objects */
}

/* A new young object in the slot of every table page (seeds base + page). */
static __attribute__((noinline)) void store_young(wbt_hidden *young, uint64_t base)
{
    for (int i = 0; i < TABLE_PAGES; i++)
        young[i] = wbt_store_new(wbt_reveal(table), slot_of(i), YOUNG, base + (uint64_t)i);
}

/* The young objects survived the collection, reachable only from the table. */
static __attribute__((noinline)) void assert_kept(const wbt_hidden *young, int n, uint64_t base)
{
    for (int i = 0; i < n; i++) {
        wbt_assert_live(young[i], YOUNG, base + (uint64_t)i);
        assert_ptr_equal(*slot_of(i), wbt_reveal(young[i]));
    }
}

static __attribute__((noinline)) void clear_table(void)
{
    for (int i = 0; i < TABLE_PAGES; i++)
        wb_store(wbt_reveal(table), slot_of(i), NULL);
}

static struct wb_stats young_collection(void)
{
    struct wb_stats st;

    wbt_scrub_stack();
    wb_collect(WB_COLLECT_YOUNG);
    wb_get_stats(&st);
    return st;
}

/* The table written at every cycle turns hot (WBRT_ARM=hot: whatever the costs); the young objects stored into its unprotected pages survive every collection;
 * once the writes stop it cools, is armed again (its clean pages are not scanned) and a
 * store into it is seen. */
static void test_gen_hot_page_cools(void **state)
{
    wbt_hidden young[TABLE_PAGES];
    struct wb_stats st;
    uint64_t most_hot = 0;

    (void)state;
    WBT_FRESH_PROCESS("WBRT_TENURE_AGE=0", "WBRT_ARM=hot");
    make_old_table();
    for (int c = 0; c < HOT_CYCLES; c++) {
        wb_get_stats(&st);
        uint64_t faults = st.barrier_faults, was_hot = st.hot_pages_last;
        store_young(young, 1000 * (uint64_t)c);
        if (was_hot >= TABLE_PAGES) {
            /* the stores found the pages writable: no fault */
            wb_get_stats(&st);
            assert_int_equal(st.barrier_faults, faults);
        }
        st = young_collection();
        assert_kept(young, TABLE_PAGES, 1000 * (uint64_t)c);
        if (st.hot_pages_last > most_hot)
            most_hot = st.hot_pages_last;
    }
    print_message("%s: fault %llu ns, page scan %llu ns, most hot pages %llu\n", wb_barrier_name(),
                  (unsigned long long)st.fault_cost_ns, (unsigned long long)st.scan_cost_ns,
                  (unsigned long long)most_hot);
    if (st.fault_cost_ns)
        assert_true(most_hot >= TABLE_PAGES);
    else
        assert_int_equal(most_hot, 0);   /* no policy (none, a software barrier): never hot */

    /* No more writes: it cools within the longest back-off. */
    clear_table();
    int cycles = 0;
    do
        st = young_collection();
    while (st.hot_pages_last && ++cycles < MAX_COOL);
    assert_int_equal(st.hot_pages_last, 0);
    st = young_collection();
    if (strcmp(wb_barrier_name(), "none") != 0)
        assert_true(st.pages_scanned_last < TABLE_PAGES);   /* armed again, clean */

    /* Armed again: a store into it is seen. */
    uint64_t faults = st.barrier_faults;
    store_young(young, 99000);
    st = young_collection();
    assert_kept(young, TABLE_PAGES, 99000);
    if (faults)
        assert_true(st.barrier_faults > faults);
}

/* A full collection arms the table; the program writes all of it at once: the next young
 * collection counts that arming's outcome and keeps the pages hot (WBRT_ARM=hot: whatever
 * the costs), where it once armed them again for a second fault each.  The young objects
 * stored there survive, and a later store into the kept pages is seen without a fault. */
static void test_gen_hot_after_full(void **state)
{
    wbt_hidden young[TABLE_PAGES];
    struct wb_stats st;

    (void)state;
    WBT_FRESH_PROCESS("WBRT_TENURE_AGE=0", "WBRT_ARM=hot");
    make_old_table();                   /* promoted and armed by a full collection */
    store_young(young, 0);
    st = young_collection();
    assert_kept(young, TABLE_PAGES, 0);
    print_message("%s: hot pages after the first young collection: %llu\n", wb_barrier_name(),
                  (unsigned long long)st.hot_pages_last);
    if (!st.fault_cost_ns) {
        assert_int_equal(st.hot_pages_last, 0);   /* no policy (none, a software barrier) */
        return;
    }
    assert_true(st.hot_pages_last >= TABLE_PAGES);
    uint64_t faults = st.barrier_faults;
    store_young(young, 500);
    wb_get_stats(&st);
    assert_int_equal(st.barrier_faults, faults);  /* kept writable */
    st = young_collection();
    assert_kept(young, TABLE_PAGES, 500);
}

/* A table made old before anything was written into it: its pages are armed untouched
 * (the policy keeps a bit for each, not a table entry: a big buffer's entries would commit
 * its table).  Written all over, they turn hot at the next collection, young or full
 * (WBRT_ARM=hot: whatever the costs), where they were armed again for a second fault each
 * (mt_mutator's table, made old by its first young collection, then a full one).  The
 * young objects stored there survive, and later stores take no fault.  With one page
 * written before it was made old, it is an array being filled, not a table: the full
 * collection arms it all (barrier_stress's pointer array, whose pages kept hot made the
 * young pause for an 8x old generation 1.8x). */
enum { FRESH_PAGES = 128 };
void *fresh_root;   /* a global, not static: a full collection frees what is only hidden */

static __attribute__((noinline)) void make_old_untouched(int filled)
{
    char *t = wb_malloc(FRESH_PAGES * PAGE);
    unsigned char resident[FRESH_PAGES];

    assert_non_null(t);
    if (filled)
        t[0] = 1;
    /* The case tested: the pages beyond the filled one never populated when the collection
     * decides. */
    assert_int_equal(mincore(t, FRESH_PAGES * PAGE, resident), 0);
    for (int i = filled; i < FRESH_PAGES; i++)
        assert_int_equal(resident[i] & 1, 0);
    fresh_root = t;
    wb_collect(WB_COLLECT_YOUNG);      /* now old */
}

static void hot_after_untouched(int kind, int filled)
{
    wbt_hidden young[FRESH_PAGES];
    struct wb_stats st;

    make_old_untouched(filled);
    for (int i = 0; i < FRESH_PAGES; i++)
        young[i] = wbt_store_new(fresh_root, (void **)((char *)fresh_root + (size_t)i * PAGE + SLOT), YOUNG,
                                 (uint64_t)i);
    wbt_scrub_stack();
    wb_collect(kind);
    wb_get_stats(&st);
    for (int i = 0; i < FRESH_PAGES; i++)
        wbt_assert_live(young[i], YOUNG, (uint64_t)i);
    print_message("%s: hot pages after the %s collection: %llu\n", wb_barrier_name(),
                  kind == WB_COLLECT_FULL ? "full" : "young", (unsigned long long)st.hot_pages_last);
    if (!st.fault_cost_ns || filled) {
        assert_int_equal(st.hot_pages_last, 0);   /* no policy (none), or an array being filled */
        return;
    }
    assert_true(st.hot_pages_last >= FRESH_PAGES);
    uint64_t faults = st.barrier_faults;
    for (int i = 0; i < FRESH_PAGES; i++)
        young[i] = wbt_store_new(fresh_root, (void **)((char *)fresh_root + (size_t)i * PAGE + SLOT), YOUNG,
                                 500 + (uint64_t)i);
    wb_get_stats(&st);
    assert_int_equal(st.barrier_faults, faults);  /* kept writable */
    st = young_collection();
    for (int i = 0; i < FRESH_PAGES; i++)
        wbt_assert_live(young[i], YOUNG, 500 + (uint64_t)i);
}

static void test_gen_hot_after_untouched(void **state)
{
    (void)state;
    WBT_FRESH_PROCESS("WBRT_TENURE_AGE=0", "WBRT_ARM=hot");
    hot_after_untouched(WB_COLLECT_YOUNG, 0);
}

static void test_gen_hot_after_untouched_at_full(void **state)
{
    (void)state;
    WBT_FRESH_PROCESS("WBRT_TENURE_AGE=0", "WBRT_ARM=hot");
    hot_after_untouched(WB_COLLECT_FULL, 0);
}

static void test_gen_filled_array_armed_at_full(void **state)
{
    (void)state;
    WBT_FRESH_PROCESS("WBRT_TENURE_AGE=0", "WBRT_ARM=hot");
    hot_after_untouched(WB_COLLECT_FULL, 1);
}

/* The same by cost: the full collection's arming is counted for the program's share too,
 * so the young collection after it has one (the table's pages written at once), where its
 * prior of 0 made p = 1/3 and armed mt_mutator's table again for a second fault per page.
 * Whether the pages then turn hot depends on the measured costs: printed, not asserted. */
static void test_gen_share_after_full(void **state)
{
    wbt_hidden young[TABLE_PAGES];
    struct wb_stats st;

    (void)state;
    WBT_FRESH_PROCESS("WBRT_TENURE_AGE=0");
    make_old_table();
    store_young(young, 0);
    st = young_collection();
    assert_kept(young, TABLE_PAGES, 0);
    print_message("%s: share %llu per 1000, hot pages %llu after the first young collection\n",
                  wb_barrier_name(), (unsigned long long)st.rewrite_permille,
                  (unsigned long long)st.hot_pages_last);
    if (st.fault_cost_ns)
        assert_true(st.rewrite_permille > 0);
    else
        assert_int_equal(st.rewrite_permille, 0);   /* no policy (none, a software barrier) */
}

/* Protection off for the whole heap (runtime/protection_off.h), forced by a test hook so
 * that the costs of this machine do not decide it: while it is off no page is armed and
 * none harvested (the barrier reports nothing), every old page is scanned, and the young
 * objects stored into the old table survive.  Past its back-off (2 collections) it stays
 * off while the old generation has not grown by an eighth (what did not pay is what is
 * there); once it has, the table is armed again and a store into it is reported by the
 * barrier, its object kept.  The table is not written in the collection that switches
 * protection off, so that none of its pages turns hot and stays writable when protection
 * resumes. */
enum { BALLAST = 1 << 20, GROWTH_CHUNKS = 32, CHUNK = 64 << 10, OFF_CYCLES = 4 };

/* Globals, volatile: never read, their stores would be optimized away with what they keep. */
static void *volatile ballast;              /* old: an eighth of it is more than the stores */
static void *volatile growth[GROWTH_CHUNKS];    /* promoted at once: twice the ballast */

static void test_gen_protection_off(void **state)
{
    wbt_hidden young[TABLE_PAGES];
    struct wb_stats st;

    (void)state;
    WBT_FRESH_PROCESS("WBRT_TENURE_AGE=0");
    ballast = wb_malloc_atomic(BALLAST);
    assert_non_null(ballast);
    make_old_table();                   /* armed by a full collection, which timed a fault */
    wbrt_test_protection_off_next();    /* the first weighing: no other decided before */
    st = young_collection();            /* the table clean; protection off at its end */
    bool policy = st.fault_cost_ns != 0;   /* none: no policy, nothing to switch off */
    assert_int_equal(st.unprotected_collections, 0);
    uint64_t reported = st.barrier_pages_total;
    for (uint64_t c = 1; c <= OFF_CYCLES; c++) {
        store_young(young, 100 * c);
        st = young_collection();
        assert_kept(young, TABLE_PAGES, 100 * c);
        assert_int_equal(st.unprotected_collections, policy ? c : 0);
        if (policy) {
            assert_int_equal(st.barrier_pages_total, reported);
            assert_true(st.pages_scanned_last >= TABLE_PAGES);
        }
    }
    for (int i = 0; i < GROWTH_CHUNKS; i++)
        assert_non_null(growth[i] = wb_malloc_atomic(CHUNK));
    st = young_collection();            /* promotes them: protection resumes at its end */
    assert_int_equal(st.unprotected_collections, policy ? OFF_CYCLES + 1 : 0);
    uint64_t faults = st.barrier_faults;
    store_young(young, 900);
    st = young_collection();
    assert_kept(young, TABLE_PAGES, 900);
    print_message("%s: %llu collections unprotected, pages reported %llu -> %llu, faults %llu -> %llu\n",
                  wb_barrier_name(), (unsigned long long)st.unprotected_collections,
                  (unsigned long long)reported, (unsigned long long)st.barrier_pages_total,
                  (unsigned long long)faults, (unsigned long long)st.barrier_faults);
    assert_int_equal(st.unprotected_collections, policy ? OFF_CYCLES + 1 : 0);
    if (policy)
        assert_true(st.barrier_pages_total >= reported + TABLE_PAGES);
    if (faults)
        assert_true(st.barrier_faults >= faults + TABLE_PAGES);  /* the barriers that count them */
}

/* A table of GROUPS_PAGES pages written all over at every cycle (WBRT_ARM=hot): when its
 * pages' wait ends, only the first page of each aligned group of 16 is armed to test
 * whether they cooled; the others of a group whose first page is in the table stay hot
 * throughout, where they were all armed again (and faulted again) at each re-check.  The
 * young objects stored there survive every collection. */
enum { GROUPS_PAGES = 64, GROUP_PAGES = 16, GROUP_CYCLES = 12 };

static void test_gen_hot_group_rechecked_by_first(void **state)
{
    wbt_hidden young[GROUPS_PAGES];
    struct wb_stats st;

    (void)state;
    WBT_FRESH_PROCESS("WBRT_TENURE_AGE=0", "WBRT_ARM=hot");
    char *t = wb_malloc(GROUPS_PAGES * PAGE);
    assert_non_null(t);
    wb_collect(WB_COLLECT_FULL);        /* t, on the stack, keeps it: now old and armed */
    wbt_hidden big = wbt_hide(t);
    t = NULL;
    /* The pages whose group's first page lies in the table, less those first pages. */
    uintptr_t lo = (uintptr_t)wbt_reveal(big) / PAGE, hi = lo + GROUPS_PAGES;
    uintptr_t first = (lo + GROUP_PAGES - 1) / GROUP_PAGES * GROUP_PAGES;
    uint64_t followers = hi - first - (hi - first + GROUP_PAGES - 1) / GROUP_PAGES, least = UINT64_MAX;
    for (int c = 0; c < GROUP_CYCLES; c++) {
        for (int i = 0; i < GROUPS_PAGES; i++)
            young[i] = wbt_store_new(wbt_reveal(big), (void **)((char *)wbt_reveal(big) + (size_t)i * PAGE + SLOT),
                                     YOUNG, 100 * (uint64_t)c + (uint64_t)i);
        st = young_collection();
        for (int i = 0; i < GROUPS_PAGES; i++)
            wbt_assert_live(young[i], YOUNG, 100 * (uint64_t)c + (uint64_t)i);
        if (c > 0 && st.hot_pages_last < least)
            least = st.hot_pages_last;
    }
    print_message("%s: at least %llu hot pages once hot (%llu follow their group's first page)\n",
                  wb_barrier_name(), (unsigned long long)least, (unsigned long long)followers);
    if (!st.fault_cost_ns)
        assert_int_equal(least, 0);     /* no policy (none, a software barrier): never hot */
    else
        assert_true(least >= followers);
}

/* Pages [first, first + n) of the table written at every cycle, among cold_objs fresh old
 * objects a cycle (armed, never written again): the most pages kept hot at once.  In a
 * fresh process with WBRT_TENURE_AGE=0. */
enum { COLD_OBJS = 256, COLD_SIZE = 1024, OWN_CYCLES = 16 };

/* Not static: stores into an array never read would be dropped, and its objects freed. */
void *cold[OWN_CYCLES][COLD_OBJS];

/* Protection held on: the heap here is small, and where the barrier's calls cost more
 * than its few clean pages save (a loaded VM), protection went off for the whole heap at
 * the second collection, and no page was judged alone. */
static uint64_t most_hot_writing(int first, int n, int cold_objs, struct wb_stats *st)
{
    wbt_hidden young[TABLE_PAGES];
    uint64_t most_hot = 0;

    wbrt_test_protection_held_on(1);
    make_old_table();
    for (int c = 0; c < OWN_CYCLES; c++) {
        for (int i = 0; i < cold_objs; i++) {
            cold[c][i] = wb_malloc(COLD_SIZE);
            assert_non_null(cold[c][i]);
        }
        for (int i = 0; i < n; i++)
            young[i] = wbt_store_new(wbt_reveal(table), slot_of(first + i), YOUNG, 1000 * (uint64_t)c + (uint64_t)i);
        *st = young_collection();
        for (int i = 0; i < n; i++) {
            wbt_assert_live(young[i], YOUNG, 1000 * (uint64_t)c + (uint64_t)i);
            assert_ptr_equal(*slot_of(first + i), wbt_reveal(young[i]));
        }
        if (st->hot_pages_last > most_hot)
            most_hot = st->hot_pages_last;
    }
    print_message("%s: fault %llu ns, re-protect %llu ns, page scan %llu ns, call %llu ns, program's share %llu "
                  "permille, most hot pages %llu\n", wb_barrier_name(), (unsigned long long)st->fault_cost_ns,
                  (unsigned long long)st->reprotect_cost_ns, (unsigned long long)st->scan_cost_ns,
                  (unsigned long long)st->call_cost_ns, (unsigned long long)st->rewrite_permille,
                  (unsigned long long)most_hot);
    wbrt_test_protection_held_on(0);
    return most_hot;
}

/* A page written at every cycle turns hot by its own outcomes while the pages armed with
 * it (fresh old objects, never written again) keep the program's share small: judged by
 * that share alone (1 page in 65 rewritten) it stayed armed and faulted at every cycle.
 * Its p reaches 3/4 within HISTORY armings, so it must turn hot wherever a fault and its
 * re-protection cost more than a page scan and the call that opens it (alone: its
 * neighbours, the table's other pages, are clean), and never where that call, paid at each
 * collection (the harvest's scan over the neighbours protects the page again), costs more
 * than the faults it saves. */
static void test_gen_hot_page_among_cold(void **state)
{
    struct wb_stats st;

    (void)state;
    WBT_FRESH_PROCESS("WBRT_TENURE_AGE=0");
    uint64_t most_hot = most_hot_writing(TABLE_PAGES / 2, 1, COLD_OBJS, &st);
    uint64_t fault = st.fault_cost_ns + st.reprotect_cost_ns;
    if (!st.fault_cost_ns)
        assert_int_equal(most_hot, 0);   /* no policy (none, a software barrier): never hot */
    else if (fault > st.scan_cost_ns + 2 * st.call_cost_ns)
        assert_true(most_hot >= 1);
    else if (st.rewrite_permille <= 500 && 7 * fault <= st.scan_cost_ns + 8 * st.call_cost_ns)
        assert_int_equal(most_hot, 0);   /* p < 7/8 (the share under a half): not worth the call */
}

/* The whole table written at every cycle, and little else: its pages are opened by one
 * call, which each of them pays a sixteenth of.  Their p reaches 15/16 at once (the program's
 * share is as high), so they turn hot wherever a fault costs more than an eighth of a
 * scan and of a call, even where a lone page stays armed (test_gen_hot_page_among_cold). */
static void test_gen_hot_run_among_cold(void **state)
{
    struct wb_stats st;

    (void)state;
    WBT_FRESH_PROCESS("WBRT_TENURE_AGE=0");
    uint64_t most_hot = most_hot_writing(0, TABLE_PAGES, 0, &st);
    if (!st.fault_cost_ns)
        assert_int_equal(most_hot, 0);
    else if (st.fault_cost_ns + st.reprotect_cost_ns > (st.scan_cost_ns + st.call_cost_ns) / 8)
        assert_true(most_hot >= TABLE_PAGES);
}

/* Committing the buffer would cost 2 GiB; what describes it costs 8 bytes a page (4 MiB
 * of page descriptors: its tail pages name their head) and, under WBRT_VERIFY=1, the
 * verifier's 8 bytes a page of arming times (measured: 8 MiB without the verifier, 21 MiB
 * with it, against 94 MiB when side bitmaps were cleared or the policy's table written
 * over the whole buffer).  Protecting its never-populated pages would cost 4 MiB of page
 * tables (a marker per page). */
enum { BIG_GIB = 2, RSS_SLACK_KIB = 32 * 1024, PTE_SLACK_KIB = 1024, OLD_CYCLES = 3 };

static void *big_root;     /* a global: the collections keep the buffer */

static __attribute__((noinline)) void *big_buffer(void)
{
    void *b = wb_malloc((size_t)BIG_GIB << 30);

    assert_non_null(b);
    big_root = b;
    return b;
}

/* A 2 GiB buffer written in one place: allocating it, collecting it young and old, and
 * young collections after stores into it (old) commit no memory and scan a few pages,
 * under every barrier (none too: it scans only the old pages the kernel has data for);
 * with page_tables, no page tables either (under WBRT_VERIFY=0: the verifier reads every
 * old page, which maps the zero page into each).  Except under uffd: only a fault tells
 * it of a write, so it must protect never-populated pages too, a marker in each. */
static void big_untouched_buffer(bool page_tables)
{
    const size_t at = ((size_t)1 << 30) + 8, later = ((size_t)3 << 29) + 8;
    struct wb_stats st;

    long before = (long)wbt_status_kib("VmRSS"), pte_before = (long)wbt_status_kib("VmPTE");
    wbt_hidden big = wbt_hide(big_buffer());
    wbt_hidden y = wbt_store_new(wbt_reveal(big), (void **)((char *)wbt_reveal(big) + at), YOUNG, 7);
    wbt_scrub_stack();
    wb_collect(WB_COLLECT_YOUNG);               /* scans the young buffer, promotes it */
    wbt_assert_live(y, YOUNG, 7);
    long after_young = (long)wbt_status_kib("VmRSS");
    print_message("%s: VmRSS %ld KiB before, %ld KiB after a young collection\n", wb_barrier_name(),
                  before, after_young);
    assert_true(after_young - before < RSS_SLACK_KIB);

    for (int i = 0; i < OLD_CYCLES; i++) {
        size_t off = later + ((size_t)i << 20);
        wbt_hidden z = wbt_store_new(wbt_reveal(big), (void **)((char *)wbt_reveal(big) + off), YOUNG, 8 + i);
        wbt_scrub_stack();
        wb_collect(WB_COLLECT_YOUNG);
        wb_get_stats(&st);
        wbt_assert_live(z, YOUNG, 8 + i);
        long after_old = (long)wbt_status_kib("VmRSS"), pte = (long)wbt_status_kib("VmPTE");
        print_message("%s: old buffer: %llu pages scanned, VmRSS %ld KiB, VmPTE %ld KiB (%ld before)\n",
                      wb_barrier_name(), (unsigned long long)st.pages_scanned_last, after_old, pte, pte_before);
        assert_true(st.pages_scanned_last <= 16);
        assert_true(after_old - before < RSS_SLACK_KIB);
        if (page_tables && strcmp(wb_barrier_name(), "uffd") != 0)
            assert_true(pte - pte_before < PTE_SLACK_KIB);
    }
    /* The first of those pages, populated since (uffd-async: harvested from its sparse
     * run, protected, walked with the others now): a second store into it is seen. */
    wbt_hidden again = wbt_store_new(wbt_reveal(big), (void **)((char *)wbt_reveal(big) + later + 64), YOUNG, 20);
    wbt_scrub_stack();
    wb_collect(WB_COLLECT_YOUNG);
    wbt_assert_live(again, YOUNG, 20);
}

static void test_gen_big_untouched_buffer(void **state)
{
    (void)state;
    WBT_FRESH_PROCESS("WBRT_TENURE_AGE=0");
    big_untouched_buffer(false);
}

static void test_gen_big_untouched_page_tables(void **state)
{
    (void)state;
    WBT_FRESH_PROCESS("WBRT_TENURE_AGE=0", "WBRT_VERIFY=0");
    big_untouched_buffer(true);
}

/* A big untouched buffer written at every cycle in a few places, which stay writable (hot),
 * and in a new place each cycle, between them: uffd-async asks about the never-populated
 * pages around the writable ones in one walk (docs/design/barrier.md), and must still
 * report each new place, and see a second store into one.  WBRT_ARM=hot: the places stay
 * writable whatever the costs. */
enum { PLACES = 8, PLACE_CYCLES = 6 };

static __attribute__((noinline)) void store_places(wbt_hidden *young, char *buf, int c)
{
    size_t stride = ((size_t)BIG_GIB << 30) / PLACES;
    for (int p = 0; p < PLACES; p++)
        young[p] = wbt_store_new(buf, (void **)(buf + (size_t)p * stride + 64), YOUNG, 100 * (uint64_t)c + (uint64_t)p);
    /* a new place at each cycle, pages away from the last */
    size_t at = (size_t)(c % PLACES) * stride + stride / 2 + (size_t)c * 3 * PAGE + 128;
    young[PLACES] = wbt_store_new(buf, (void **)(buf + at), YOUNG, 100 * (uint64_t)c + PLACES);
}

static void test_gen_big_buffer_new_places_between_hot(void **state)
{
    wbt_hidden young[PLACES + 1];
    struct wb_stats st;
    uint64_t most_hot = 0;

    (void)state;
    WBT_FRESH_PROCESS("WBRT_TENURE_AGE=0", "WBRT_ARM=hot");
    big_buffer();
    wb_collect(WB_COLLECT_FULL);                /* old, untouched */
    for (int c = 0; c < PLACE_CYCLES; c++) {
        store_places(young, big_root, c);
        st = young_collection();
        for (int p = 0; p <= PLACES; p++)
            wbt_assert_live(young[p], YOUNG, 100 * (uint64_t)c + (uint64_t)p);
        if (st.hot_pages_last > most_hot)
            most_hot = st.hot_pages_last;
    }
    print_message("%s: most hot pages %llu\n", wb_barrier_name(), (unsigned long long)most_hot);
    if (st.fault_cost_ns)
        assert_true(most_hot >= PLACES);        /* the walk had writable pages to bridge */
    /* The first new place, populated and protected since: a second store into it is seen. */
    size_t stride = ((size_t)BIG_GIB << 30) / PLACES;
    char *buf = big_root;
    wbt_hidden again = wbt_store_new(buf, (void **)(buf + stride / 2 + 128 + 64), YOUNG, 77);
    young_collection();
    wbt_assert_live(again, YOUNG, 77);
}

/* A freed large object's pages stay committed through the collection that frees them, so
 * that the allocator refilling them soon takes no fault, and go back to the OS at the next
 * one (docs/design/heap.md, "Free pages"). */
enum { FREED_MIB = 32, FREED_KIB = FREED_MIB * 1024 };

static __attribute__((noinline)) void fill_and_drop(void)
{
    char *p = wb_malloc((size_t)FREED_MIB << 20);

    assert_non_null(p);
    memset(p, 1, (size_t)FREED_MIB << 20);
}

static void test_gen_freed_pages_given_back(void **state)
{
    (void)state;
    WBT_FRESH_PROCESS("WBRT_TENURE_AGE=0");
    long before = (long)wbt_status_kib("VmRSS");
    fill_and_drop();
    long filled = (long)wbt_status_kib("VmRSS");
    wbt_scrub_stack();
    wb_collect(WB_COLLECT_YOUNG);               /* frees it: its pages are kept a cycle */
    long kept = (long)wbt_status_kib("VmRSS");
    wb_collect(WB_COLLECT_YOUNG);               /* still free: given back */
    long back = (long)wbt_status_kib("VmRSS");
    print_message("%s: VmRSS %ld KiB before, %ld filled, %ld after the freeing collection, %ld after the next\n",
                  wb_barrier_name(), before, filled, kept, back);
    assert_true(filled - before >= FREED_KIB * 3 / 4);
    assert_true(kept - before >= FREED_KIB * 3 / 4);
    assert_true(back - before < FREED_KIB / 4);
}

/* A run taken again once given back, but for its first pages, used since and freed: only
 * those are zeroed by hand (they must read as zero), the rest is left to read as zero
 * without being populated.  Zeroing the whole run committed it all again. */
enum { USED_KIB = 1024 };

static void test_gen_reused_run_zeroed_where_used(void **state)
{
    (void)state;
    WBT_FRESH_PROCESS("WBRT_TENURE_AGE=0");
    fill_and_drop();
    wbt_scrub_stack();
    wb_collect(WB_COLLECT_YOUNG);               /* frees it */
    wb_collect(WB_COLLECT_YOUNG);               /* gives it back */
    char *used = wb_malloc((size_t)USED_KIB << 10);  /* the run's first pages (first fit) */
    assert_non_null(used);
    memset(used, 0x5a, (size_t)USED_KIB << 10);
    wb_free(used);                               /* free, still committed */
    long before = (long)wbt_status_kib("VmRSS");
    char *big = wb_malloc((size_t)(FREED_MIB / 2) << 20);
    long after = (long)wbt_status_kib("VmRSS");
    print_message("%s: VmRSS %ld KiB before the reused run, %ld after\n", wb_barrier_name(), before, after);
    assert_ptr_equal(big, used);                 /* the same pages, else this tests nothing */
    for (size_t i = 0; i < (size_t)USED_KIB << 10; i++)
        assert_int_equal(big[i], 0);
    assert_true(after - before < FREED_KIB / 8);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gen_hot_page_cools),
        cmocka_unit_test(test_gen_hot_after_full),
        cmocka_unit_test(test_gen_hot_after_untouched),
        cmocka_unit_test(test_gen_hot_after_untouched_at_full),
        cmocka_unit_test(test_gen_filled_array_armed_at_full),
        cmocka_unit_test(test_gen_share_after_full),
        cmocka_unit_test(test_gen_protection_off),
        cmocka_unit_test(test_gen_hot_group_rechecked_by_first),
        cmocka_unit_test(test_gen_hot_page_among_cold),
        cmocka_unit_test(test_gen_hot_run_among_cold),
        cmocka_unit_test(test_gen_big_untouched_buffer),
        cmocka_unit_test(test_gen_big_untouched_page_tables),
        cmocka_unit_test(test_gen_big_buffer_new_places_between_hot),
        cmocka_unit_test(test_gen_freed_pages_given_back),
        cmocka_unit_test(test_gen_reused_run_zeroed_where_used),
    };

    wbt_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
