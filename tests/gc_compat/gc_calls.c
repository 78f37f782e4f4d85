/* The calls Nix and Asymptote use: GC_malloc_many lists, ignore_off_page and atomic
 * uncollectable objects, ignore_self finalizers, heap growth settings and queries.
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include <gc.h>
#include <stdint.h>
#include "gct.h"

#define LISTS 64

/* The list heads; each list keeps its objects through their first words. */
static void **lists;
static int self_plain, self_ignored;

/* A list is well formed: every element is a distinct object of at least n bytes starting
 * where it is, its words after the link hold tag (or 0 if tag is 0), and it ends. */
static int well_formed(void *head, size_t n, uintptr_t tag, long *count)
{
    *count = 0;
    for (void *p = head; p; p = GC_NEXT(p), ++*count) {
        if (GC_base(p) != p || GC_size(p) < n || *count > 1000000)
            return 0;
        for (size_t w = 1; w < n / sizeof(uintptr_t); w++)
            if (((uintptr_t *)p)[w] != tag)
                return 0;
    }
    return *count > 0;
}

static __attribute__((noinline)) void fill_lists(size_t n)
{
    for (int i = 0; i < LISTS; i++) {
        lists[i] = GC_malloc_many(n);
        for (void *p = lists[i]; p; p = GC_NEXT(p))
            for (size_t w = 1; w < n / sizeof(uintptr_t); w++)
                ((uintptr_t *)p)[w] = (uintptr_t)i + 1;
    }
}

static void check_many(size_t n)
{
    long count, before = 0, after = 0;
    int fresh = 1, kept = 1;
    void *one = GC_malloc_many(n);
    fresh = well_formed(one, n, 0, &count);
    fill_lists(n);
    for (int i = 0; i < LISTS; i++)
        before += well_formed(lists[i], n, (uintptr_t)i + 1, &count) ? count : 0;
    for (int round = 0; round < 3; round++) {
        gct_clear_stack();
        GC_gcollect();
        (void)GC_malloc_many(n); /* garbage, which may reuse what a list lost */
    }
    for (int i = 0; i < LISTS; i++) {
        kept &= well_formed(lists[i], n, (uintptr_t)i + 1, &count);
        after += count;
    }
    char what[80];
    snprintf(what, sizeof what, "GC_malloc_many(%zu): a zeroed list", n);
    GCT_CHECK(what, fresh);
    snprintf(what, sizeof what, "GC_malloc_many(%zu): lists intact after collections", n);
    GCT_CHECK(what, kept && after == before);
}

static void self_plain_fn(void *obj, void *cd) { (void)obj, (void)cd; self_plain++; }
static void self_ignored_fn(void *obj, void *cd) { (void)obj, (void)cd; self_ignored++; }

static __attribute__((noinline)) void make_self_referring(void)
{
    for (int i = 0; i < 10; i++) {
        void **a = GC_MALLOC(4 * sizeof(void *));
        a[0] = a;
        a[2] = (char *)a + 8; /* interior too: still itself */
        GC_REGISTER_FINALIZER(a, self_plain_fn, NULL, NULL, NULL);
        void **b = GC_MALLOC(4 * sizeof(void *));
        b[1] = b;
        b[3] = (char *)b + 16;
        GC_REGISTER_FINALIZER_IGNORE_SELF(b, self_ignored_fn, NULL, NULL, NULL);
    }
}

static void silent(char *msg, GC_word arg) { (void)msg, (void)arg; } /* cycle warnings */

static void check_ignore_self(void)
{
    GC_set_warn_proc(silent);
    make_self_referring();
    for (int round = 0; round < 3; round++) {
        gct_clear_stack();
        GC_gcollect();
        GC_invoke_finalizers();
    }
    GCT_CHECK("ignore_self: objects that point at themselves are finalized", self_ignored >= 8);
    GCT_CHECK("ordered: objects that point at themselves are not", self_plain == 0);
}

static void check_big(void)
{
    static char *big, *big_atomic;
    const size_t n = 1 << 20;
    big = GC_MALLOC_IGNORE_OFF_PAGE(n);
    big_atomic = GC_MALLOC_ATOMIC_IGNORE_OFF_PAGE(n);
    GC_add_roots(&big, &big + 1);
    GC_add_roots(&big_atomic, &big_atomic + 1);
    int zero = big && big_atomic && GC_size(big) >= n && GC_size(big_atomic) >= n;
    for (size_t i = 0; zero && i < n; i++)
        zero = big[i] == 0;
    memset(big, 'a', n);
    memset(big_atomic, 'b', n);
    for (int round = 0; round < 2; round++) {
        gct_clear_stack();
        GC_gcollect();
        for (int i = 0; i < 1000; i++)
            (void)GC_MALLOC_ATOMIC(1000);
    }
    int intact = 1;
    for (size_t i = 0; i < n; i++)
        intact &= big[i] == 'a' && big_atomic[i] == 'b';
    GCT_CHECK("ignore_off_page: a zeroed object of the size asked for", zero);
    GCT_CHECK("ignore_off_page: objects kept by their start, bytes intact", intact);
}

/* Held only as a hidden pointer, which no collector sees. */
static GC_word hidden;

static __attribute__((noinline)) void make_uncollectable(void)
{
    char *p = GC_malloc_atomic_uncollectable(4000);
    memset(p, 'u', 4000);
    hidden = GC_HIDE_POINTER(p);
}

static void check_atomic_uncollectable(void)
{
    make_uncollectable();
    for (int round = 0; round < 2; round++) {
        gct_clear_stack();
        GC_gcollect();
        for (int i = 0; i < 1000; i++)
            (void)GC_MALLOC_ATOMIC(100);
    }
    char *p = GC_REVEAL_POINTER(hidden);
    int intact = GC_base(p) == p;
    for (int i = 0; intact && i < 4000; i++)
        intact = p[i] == 'u';
    GCT_CHECK("atomic uncollectable: kept without a pointer, bytes intact", intact);
    GC_FREE(p);
}

static void check_heap(void)
{
    GCT_CHECK("free space divisor: 3 by default", GC_get_free_space_divisor() == 3);
    GC_set_free_space_divisor(2);
    GCT_CHECK("free space divisor: as set", GC_get_free_space_divisor() == 2);
    GCT_CHECK("dont_expand: off by default", GC_get_dont_expand() == 0);
    GC_set_dont_expand(1);
    GCT_CHECK("dont_expand: as set", GC_get_dont_expand() == 1);
    GC_set_dont_expand(0);

    size_t before = GC_get_heap_size();
    GCT_CHECK("GC_expand_hp: succeeds", GC_expand_hp((size_t)8 << 20) == 1);
    GCT_CHECK("GC_expand_hp: the heap grew", GC_get_heap_size() > before);
    GC_set_max_heap_size(GC_get_heap_size() + ((size_t)64 << 20));
    GCT_CHECK("GC_expand_hp: fails past the maximum heap size", GC_expand_hp((size_t)1 << 30) == 0);
    GC_set_max_heap_size(0);

    GC_word heap, free_bytes, unmapped, since, total;
    GC_gcollect();
    for (int i = 0; i < 1000; i++)
        (void)GC_MALLOC(64);
    GC_get_heap_usage_safe(&heap, &free_bytes, &unmapped, &since, &total);
    GCT_CHECK("heap usage: the heap size", heap == GC_get_heap_size());
    GCT_CHECK("heap usage: free bytes within the heap", free_bytes <= heap);
    GCT_CHECK("heap usage: bytes since the collection", since >= 64000 && since == GC_get_bytes_since_gc());
    GCT_CHECK("heap usage: total bytes", total >= since && total == GC_get_total_bytes());
    GC_get_heap_usage_safe(NULL, NULL, NULL, NULL, NULL);
}

int main(void)
{
    GC_INIT();
    gct_enable_incremental();
    lists = GC_MALLOC(LISTS * sizeof *lists);
    GC_add_roots(&lists, &lists + 1);
    check_many(16);
    check_many(48);
    check_many(3000);
    check_ignore_self();
    check_big();
    check_atomic_uncollectable();
    check_heap();
    return gct_exit();
}
