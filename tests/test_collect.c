/* Collector tests: what is a root, what is reclaimed, bounds, deep and wide graphs, threads.
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include "wbt.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define KiB ((size_t)1 << 10)
#define MiB ((size_t)1 << 20)
#define GiB ((size_t)1 << 30)

struct node {
    struct node *next;
    uint64_t payload;
};

/* A node payload: top bit set so that it never looks like a heap address. */
static uint64_t stamp(uint64_t list, uint64_t i)
{
    return 1ull << 63 | list << 32 | i;
}

static void collect_all(void)
{
    wbt_scrub_stack();
    wb_collect(WB_COLLECT_FULL);
    wb_collect(WB_COLLECT_YOUNG);
}

/* Each of depth + 1 frames keeps one object, referenced only from its own stack slot. */
static __attribute__((noinline)) void deep_frames(int depth)
{
    void *volatile mine = wb_malloc(48);

    wbt_fill(mine, 48, 5000 + depth);
    if (depth > 0)
        deep_frames(depth - 1);
    else
        collect_all();
    wbt_churn(48, 100);
    assert_ptr_equal(wb_base(mine), mine);
    assert_true(wbt_intact(mine, 48, 5000 + depth));
}

static void test_stack_roots(void **state)
{
    void *volatile young;

    (void)state;
    deep_frames(200);
    wb_collect(WB_COLLECT_FULL);
    young = wb_malloc(3 * MiB);   /* young, reachable only from this frame */
    wbt_fill(young, 3 * MiB, 77);
    wb_collect(WB_COLLECT_YOUNG);
    wbt_churn(3 * MiB, 4);
    assert_ptr_equal(wb_base(young), young);
    assert_true(wbt_intact(young, 3 * MiB, 77));
}

/* p lives in a local the compiler may keep in a callee-saved register: it is used after
 * the collections, so it must have been a root. */
static void test_register_root(void **state)
{
    uint64_t *p = wb_malloc(64);

    (void)state;
    wbt_fill(p, 64, 42);
    collect_all();
    wbt_churn(64, 20000);
    assert_ptr_equal(wb_base(p), p);
    assert_true(wbt_intact(p, 64, 42));
}

static void *g_data_root = &g_data_root;   /* initialised: lives in .data */
static void *g_bss_root;                   /* lives in .bss */

static void check_global_root(void **slot, size_t n, uint64_t seed)
{
    wbt_hidden h = wbt_store_new(NULL, slot, n, seed);

    collect_all();
    wbt_assert_live(h, n, seed);
    *slot = NULL;
    collect_all();
    wbt_assert_reclaimed(&h, 1);
}

static void test_global_roots(void **state)
{
    (void)state;
    check_global_root(&g_data_root, 100, 1);
    check_global_root(&g_bss_root, 100, 2);
    check_global_root(&g_data_root, 5 * 4096, 3);
    check_global_root(&g_bss_root, 5 * 4096, 4);
}

/* glibc malloc memory is not a root until it is registered, and no longer one once it is
 * removed; a registered range is a root for young collections too. */
static void test_registered_roots(void **state)
{
    enum { WORDS = 512 };
    void **block = calloc(WORDS, sizeof *block);
    wbt_hidden h, young;

    (void)state;
    assert_non_null(block);
    h = wbt_store_new(NULL, &block[100], 256, 10);
    collect_all();
    wbt_assert_reclaimed(&h, 1);

    h = wbt_store_new(NULL, &block[100], 256, 11);
    wb_add_roots(block, block + WORDS);
    collect_all();
    wbt_assert_live(h, 256, 11);
    wb_collect(WB_COLLECT_FULL);
    young = wbt_store_new(NULL, &block[WORDS - 1], 2 * MiB, 12);   /* young, in a registered slot */
    wbt_scrub_stack();
    wb_collect(WB_COLLECT_YOUNG);
    wbt_assert_live(young, 2 * MiB, 12);
    wbt_assert_live(h, 256, 11);

    wb_remove_roots(block, block + WORDS);
    collect_all();
    wbt_assert_reclaimed(&h, 1);
    wbt_assert_reclaimed(&young, 1);
    free(block);
}

/* Three globals in a row: excluding the middle one's words leaves its neighbours roots. */
static struct { void *before, *excluded[4], *after; } g_exclude;

static void test_excluded_roots(void **state)
{
    wbt_hidden kept[2], dropped;

    (void)state;
    kept[0] = wbt_store_new(NULL, &g_exclude.before, 128, 21);
    dropped = wbt_store_new(NULL, &g_exclude.excluded[2], 128, 22);
    kept[1] = wbt_store_new(NULL, &g_exclude.after, 128, 23);
    collect_all();
    wbt_assert_live(dropped, 128, 22);
    wb_exclude_roots(g_exclude.excluded, g_exclude.excluded + 4);
    collect_all();
    wbt_assert_reclaimed(&dropped, 1);
    wbt_assert_live(kept[0], 128, 21);
    wbt_assert_live(kept[1], 128, 23);
    g_exclude.before = g_exclude.after = NULL;
    collect_all();
    wbt_assert_reclaimed(kept, 2);
}

static char *volatile g_interior;   /* volatile: only ever written, yet a root */

static __attribute__((noinline)) wbt_hidden keep_by_interior(size_t n, size_t offset, uint64_t seed)
{
    char *p;
    wbt_hidden h = wbt_store_new(NULL, (void **)&p, n, seed);

    g_interior = p + offset;
    return h;
}

static void check_interior(size_t n, size_t offset, uint64_t seed)
{
    wbt_hidden h = keep_by_interior(n, offset, seed);

    collect_all();
    wbt_churn(n, 4);
    wbt_assert_live(h, n, seed);
    g_interior = NULL;
    collect_all();
    wbt_assert_reclaimed(&h, 1);
}

static void test_interior_pointers(void **state)
{
    (void)state;
    check_interior(64, 8, 20);
    check_interior(64, 63, 21);
    check_interior(2048, 1500, 22);
    check_interior(3 * MiB, 2 * MiB + 5, 23);
    check_interior(3 * MiB, 3 * MiB - 1, 24);
}

enum { CHAIN = 1000, BIG = 8192 };
static struct node *g_chain;
static char *g_big_chain;
static wbt_hidden g_chain_nodes[CHAIN], g_big_nodes[CHAIN / 10];

/* A list of small nodes, and a list of large objects each pointing at the middle of the
 * next from its last word. */
static __attribute__((noinline)) void build_chains(void)
{
    for (int i = CHAIN - 1; i >= 0; i--) {
        struct node *n = wb_malloc(sizeof *n);
        assert_non_null(n);
        WB_STORE(n, next, g_chain);
        n->payload = stamp(1, i);
        g_chain = n;
        g_chain_nodes[i] = wbt_hide(n);
    }
    for (int i = CHAIN / 10 - 1; i >= 0; i--) {
        char *b = wb_malloc(BIG);
        assert_non_null(b);
        wbt_fill(b, BIG - sizeof(char *), 300 + i);
        wb_store(b, (void **)(b + BIG - sizeof(char *)), g_big_chain);
        g_big_chain = b + BIG / 2;
        g_big_nodes[i] = wbt_hide(b);
    }
}

static __attribute__((noinline)) void check_chains(void)
{
    struct node *n = g_chain;
    char *mid = g_big_chain;

    for (int i = 0; i < CHAIN; i++, n = n->next) {
        assert_ptr_equal(n, wbt_reveal(g_chain_nodes[i]));
        assert_true(n->payload == stamp(1, i));
    }
    assert_null(n);
    for (int i = 0; i < CHAIN / 10; i++) {
        char *b = mid - BIG / 2;
        assert_ptr_equal(b, wbt_reveal(g_big_nodes[i]));
        assert_true(wbt_intact(b, BIG - sizeof(char *), 300 + i));
        memcpy(&mid, b + BIG - sizeof(char *), sizeof(char *));
    }
    assert_null(mid);
}

static void test_heap_chains(void **state)
{
    (void)state;
    build_chains();
    collect_all();
    check_chains();
    collect_all();
    check_chains();
    g_chain = NULL;
    g_big_chain = NULL;
    collect_all();
    wbt_assert_reclaimed(g_chain_nodes, CHAIN);
    wbt_assert_reclaimed(g_big_nodes, CHAIN / 10);
}

/* Pointer arrays marking splits: one a few chunks long (16 KiB each), one big enough for
 * the populated-pages query, each holding fresh objects in every chunk and page. */
static void **g_arrays[2];
static const size_t g_array_bytes[2] = { 64 * KiB + 16, 2 * MiB };
#define ARRAY_STRIDE 509 /* words: about one object per page, at varying offsets */

static __attribute__((noinline)) size_t fill_arrays(wbt_hidden *h)
{
    size_t n = 0;
    for (int a = 0; a < 2; a++) {
        g_arrays[a] = wb_malloc(g_array_bytes[a]);
        assert_non_null(g_arrays[a]);
        for (size_t i = 0; i < g_array_bytes[a] / sizeof(void *); i += ARRAY_STRIDE, n++)
            h[n] = wbt_store_new(g_arrays[a], &g_arrays[a][i], 64, 700 + n);
    }
    return n;
}

static void test_big_pointer_arrays(void **state)
{
    enum { MAX = 2 * (2 * MiB / 8 / ARRAY_STRIDE + 1) };
    wbt_hidden *h = malloc(MAX * sizeof *h);

    (void)state;
    assert_non_null(h);
    size_t n = fill_arrays(h);
    assert_true(n <= MAX);
    wbt_scrub_stack();
    wb_collect(WB_COLLECT_YOUNG); /* the arrays are young: traced, a chunk at a time */
    for (size_t i = 0; i < n; i++)
        wbt_assert_live(h[i], 64, 700 + i);
    collect_all();
    for (size_t i = 0; i < n; i++)
        wbt_assert_live(h[i], 64, 700 + i);
    g_arrays[0] = g_arrays[1] = NULL;
    collect_all();
    wbt_assert_reclaimed(h, n);
    free(h);
}

static void *g_atomic_holder, *g_scanned_holder;

/* holder = new object of size n (atomic or not) whose first word is the only reference to
 * a fresh 64-byte object, whose hidden address is returned. */
static __attribute__((noinline)) wbt_hidden hold_in(void **holder, size_t n, int atomic, uint64_t seed)
{
    void **h = atomic ? wb_malloc_atomic(n) : wb_malloc(n);

    assert_non_null(h);
    memset(h, 0, n);
    *holder = h;
    return wbt_store_new(h, &h[0], 64, seed);
}

static void test_atomic_not_scanned(void **state)
{
    static const size_t sizes[] = { 64, 64 * KiB };

    (void)state;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        wbt_hidden in_atomic = hold_in(&g_atomic_holder, sizes[i], 1, 30);
        wbt_hidden in_scanned = hold_in(&g_scanned_holder, sizes[i], 0, 31);

        collect_all();
        wbt_assert_reclaimed(&in_atomic, 1);
        wbt_assert_live(in_scanned, 64, 31);
        assert_ptr_equal(wb_base(g_atomic_holder), g_atomic_holder);
    }
    g_atomic_holder = g_scanned_holder = NULL;
}

static void test_unreachable_reclaimed(void **state)
{
    enum { N = 200 };
    wbt_hidden h[N];

    (void)state;
    for (int round = 0; round < 2; round++) {
        int kind = round == 0 ? WB_COLLECT_FULL : WB_COLLECT_YOUNG;

        wb_collect(WB_COLLECT_FULL);
        for (int i = 0; i < N; i++)
            h[i] = wbt_garbage(i % 10 == 0 ? 20 * KiB + i : (size_t)16 + i, i);
        wbt_scrub_stack();
        wb_collect(kind);
        wbt_assert_reclaimed(h, N);
    }
}

static size_t rss_bytes(void)
{
    unsigned long size, resident;
    FILE *f = fopen("/proc/self/statm", "r");

    assert_non_null(f);
    assert_int_equal(fscanf(f, "%lu %lu", &size, &resident), 2);
    fclose(f);
    return resident * (size_t)sysconf(_SC_PAGESIZE);
}

static uint64_t xorshift(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* One word per page, so that every page of the object is really touched (and counted
 * in RSS), and so that a wrongly reclaimed and reused object is noticed. */
static void stamp_pages(uint64_t *p, size_t n, uint64_t seed)
{
    for (size_t off = 0; off < n; off += 4096)
        p[off / 8] = stamp(seed & 0x7fffffff, off / 4096);
}

static int pages_intact(const uint64_t *p, size_t n, uint64_t seed)
{
    for (size_t off = 0; off < n; off += 4096)
        if (p[off / 8] != stamp(seed & 0x7fffffff, off / 4096))
            return 0;
    return 1;
}

/* 10 GiB allocated in all with about 16 MiB live (large pointer-free objects, and small
 * scanned ones): heap and RSS stay under 256 MiB. */
static void test_reclamation_bound(void **state)
{
    enum { SLOTS = 40, SMALL_PER_LARGE = 8 };
    static const size_t large[] = { 64 * KiB, 128 * KiB, 256 * KiB, 512 * KiB, MiB };
    uint64_t **ring, seeds[SLOTS] = { 0 }, rng = 88172645463325252ull;
    size_t sizes[SLOTS] = { 0 }, total = 0, max_heap = 0, max_rss = 0;
    struct wb_stats st;

    (void)state;
    WBT_FRESH_PROCESS(NULL);
    ring = wb_malloc(SLOTS * sizeof *ring);
    assert_non_null(ring);
    for (uint64_t round = 1; total < 2 * GiB; round++) { /* 8x the bound below */
        int slot = (int)(xorshift(&rng) % SLOTS);
        size_t n = large[xorshift(&rng) % 5];

        if (ring[slot] != NULL)
            assert_true(pages_intact(ring[slot], sizes[slot], seeds[slot]));
        /* pointer-free: no scanning cost, same reclaiming */
        wb_store(ring, (void **)&ring[slot], wb_malloc_atomic(n));
        assert_non_null(ring[slot]);
        stamp_pages(ring[slot], n, round);
        sizes[slot] = n;
        seeds[slot] = round;
        total += n;
        for (int i = 0; i < SMALL_PER_LARGE; i++) {
            size_t m = 16 + xorshift(&rng) % 1024;
            uint64_t *s = wb_malloc(m);
            assert_non_null(s);
            s[0] = round;
            total += m;
        }
        if (round % 64 == 0) {
            size_t rss = rss_bytes();
            wb_get_stats(&st);
            if (st.heap_bytes > max_heap)
                max_heap = st.heap_bytes;
            if (rss > max_rss)
                max_rss = rss;
        }
    }
    wb_get_stats(&st);
    printf("reclamation bound: max heap_bytes %zu MiB, max RSS %zu MiB, %llu young + %llu full collections\n",
           max_heap / MiB, max_rss / MiB, (unsigned long long)st.young_collections,
           (unsigned long long)st.full_collections);
    assert_true(st.young_collections + st.full_collections > 0);
    assert_true(max_heap < 256 * MiB);
    assert_true(max_rss < 256 * MiB);
    for (int i = 0; i < SLOTS; i++)
        assert_true(ring[i] == NULL || pages_intact(ring[i], sizes[i], seeds[i]));
}

static void check_list(const struct node *n, uint64_t list, uint64_t count)
{
    for (uint64_t i = 0; i < count; i++, n = n->next) {
        assert_non_null(n);
        if (n->payload != stamp(list, i))
            fail_msg("list %llu node %llu: payload %#llx", (unsigned long long)list,
                     (unsigned long long)i, (unsigned long long)n->payload);
    }
    assert_null(n);
}

/* A list of LIST_NODES nodes survives three full collections, every node intact: the
 * mark stack must not recurse (a million nodes would need tens of MiB of C stack) or lose
 * work.  10 million nodes where the build is optimized; a million at -O0 with UBSan (the
 * Debug tree), where 10 million took 35 s of the program's 45 s in each of its ten runs. */
#ifdef __OPTIMIZE__
enum { LIST_NODES = 10 * 1000 * 1000 };
#else
enum { LIST_NODES = 1000 * 1000 };
#endif

static void test_long_list(void **state)
{
    struct node *head = NULL;

    (void)state;
    for (uint64_t i = LIST_NODES; i-- > 0;) {
        struct node *n = wb_malloc(sizeof *n);
        assert_non_null(n);
        n->payload = stamp(2, i);
        WB_STORE(n, next, head);
        head = n;
    }
    for (int c = 0; c < 3; c++) {
        wb_collect(WB_COLLECT_FULL);
        check_list(head, 2, LIST_NODES);
    }
}

enum { FAN = 512, LEAVES = 128, LEAF = 32 };

static __attribute__((noinline)) void **new_mid(uint64_t tag)
{
    void **mid = wb_malloc(LEAVES * sizeof *mid);

    assert_non_null(mid);
    for (int j = 0; j < LEAVES; j++) {
        wb_store(mid, &mid[j], wb_malloc(LEAF));
        assert_non_null(mid[j]);
        wbt_fill(mid[j], LEAF, tag * LEAVES + j);
    }
    return mid;
}

static void check_tree(void ***root, uint64_t first_tag)
{
    for (int i = 0; i < FAN; i++)
        for (int j = 0; j < LEAVES; j++)
            assert_true(wbt_intact(root[i][j], LEAF, (i == 0 ? first_tag : (uint64_t)i) * LEAVES + j));
}

/* A wide tree (512 x 128 leaves) with an 8-entry mark stack: the overflow path must still
 * keep every object, in full and young collections, and still reclaim garbage. */
static void test_tiny_mark_stack(void **state)
{
    void ***root;
    wbt_hidden junk[100];

    (void)state;
    WBT_FRESH_PROCESS("WBRT_MARK_STACK_MAX=8");
    root = wb_malloc(FAN * sizeof *root);
    assert_non_null(root);
    for (int i = 0; i < FAN; i++)
        wb_store(root, (void **)&root[i], new_mid(i));
    for (int i = 0; i < 100; i++)
        junk[i] = wbt_garbage(48, i);
    wbt_scrub_stack();
    wb_collect(WB_COLLECT_FULL);
    check_tree(root, 0);
    wbt_assert_reclaimed(junk, 100);
    wb_collect(WB_COLLECT_FULL);
    check_tree(root, 0);
    /* A young subtree hanging from the old root. */
    wb_store(root, (void **)&root[0], new_mid(FAN));
    wbt_scrub_stack();
    wb_collect(WB_COLLECT_YOUNG);
    wbt_churn(LEAF, 5000);
    check_tree(root, FAN);
}

enum { THREADS = 4, PER_THREAD = 200000 };
static struct node *g_heads[THREADS];
static int g_collections, g_done;

/* Appends to its list (so stores often go into a node a collection already made old) and
 * drops a garbage object per node; halfway it waits for the main thread to collect. */
static void *list_builder(void *arg)
{
    uint64_t t = (uintptr_t)arg;
    struct node *tail = NULL;

    for (uint64_t i = 0; i < PER_THREAD; i++) {
        struct node *n = wb_malloc(sizeof *n);
        assert_non_null(n);
        n->payload = stamp(10 + t, i);
        if (tail == NULL)
            g_heads[t] = n;
        else
            WB_STORE(tail, next, n);
        tail = n;
        assert_non_null(wb_malloc(48 + i % 200));
        if (i == PER_THREAD / 2)
            wbt_await_collections(&g_collections, 3);
    }
    __atomic_add_fetch(&g_done, 1, __ATOMIC_RELEASE);
    return NULL;
}

static void test_threads_with_collections(void **state)
{
    pthread_t th[THREADS];

    (void)state;
    for (uintptr_t t = 0; t < THREADS; t++)
        assert_int_equal(pthread_create(&th[t], NULL, list_builder, (void *)t), 0);
    for (int i = 0; __atomic_load_n(&g_done, __ATOMIC_ACQUIRE) < THREADS; i++) {
        wb_collect(i % 5 == 4 ? WB_COLLECT_FULL : WB_COLLECT_YOUNG);
        __atomic_add_fetch(&g_collections, 1, __ATOMIC_RELEASE);
        usleep(2000);   /* pacing only: back-to-back collections would starve the builders */
    }
    for (int t = 0; t < THREADS; t++)
        assert_int_equal(pthread_join(th[t], NULL), 0);
    wb_collect(WB_COLLECT_YOUNG);
    for (int t = 0; t < THREADS; t++)
        check_list(g_heads[t], 10 + t, PER_THREAD);
    wb_collect(WB_COLLECT_FULL);
    for (int t = 0; t < THREADS; t++)
        check_list(g_heads[t], 10 + t, PER_THREAD);
}

enum { SHORT_THREADS = 200, BATCH = 20 };
static void *g_short[SHORT_THREADS];

static void *short_thread(void *arg)
{
    uintptr_t i = (uintptr_t)arg;

    wbt_store_new(NULL, &g_short[i], 64 + i, 100 + i);
    if (i % BATCH == 0)
        wb_collect(WB_COLLECT_YOUNG);
    return NULL;
}

/* Threads that have exited are no longer stopped or scanned by collections. */
static void test_short_threads(void **state)
{
    pthread_t th[BATCH];

    (void)state;
    for (uintptr_t b = 0; b < SHORT_THREADS; b += BATCH) {
        for (uintptr_t i = 0; i < BATCH; i++)
            assert_int_equal(pthread_create(&th[i], NULL, short_thread, (void *)(b + i)), 0);
        for (int i = 0; i < BATCH; i++)
            assert_int_equal(pthread_join(th[i], NULL), 0);
    }
    wb_collect(WB_COLLECT_FULL);
    wb_collect(WB_COLLECT_YOUNG);
    for (int i = 0; i < SHORT_THREADS; i++)
        wbt_assert_live(wbt_hide(g_short[i]), 64 + i, 100 + i);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stack_roots),
        cmocka_unit_test(test_register_root),
        cmocka_unit_test(test_global_roots),
        cmocka_unit_test(test_registered_roots),
        cmocka_unit_test(test_excluded_roots),
        cmocka_unit_test(test_interior_pointers),
        cmocka_unit_test(test_heap_chains),
        cmocka_unit_test(test_big_pointer_arrays),
        cmocka_unit_test(test_atomic_not_scanned),
        cmocka_unit_test(test_unreachable_reclaimed),
        cmocka_unit_test(test_reclamation_bound),
        cmocka_unit_test(test_tiny_mark_stack),
        cmocka_unit_test(test_threads_with_collections),
        cmocka_unit_test(test_short_threads),
        cmocka_unit_test(test_long_list),
    };

    wbt_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
