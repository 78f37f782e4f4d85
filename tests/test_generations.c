/* Generation tests: old->young pointers found through the barrier, tenure, page-granular
 * scanning of large objects, kernel writes, and faults that are not the barrier's.
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include "wbt.h"

#include <errno.h>
#include <fcntl.h>
#include <immintrin.h>
#include <liburing.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#define MiB ((size_t)1 << 20)

/* Holders are large objects (own page run), so that no allocation of the young object or
 * the controls writes to their pages: only the store under test can make them dirty. */
enum { HOLDER = 16 * 1024, SLOT = 4096 + 64, YOUNG = 256, CONTROLS = 16 };

/* An object of n bytes made old by a full collection, hidden: a young collection never
 * frees an old object, so it stays there while nothing visible points at it, and the
 * young object stored into it is reachable only through the barrier. */
static __attribute__((noinline)) wbt_hidden new_old_holder(size_t n)
{
    void *h = wb_malloc(n);

    assert_non_null(h);
    wb_collect(WB_COLLECT_FULL);
    assert_ptr_equal(wb_base(h), h);
    return wbt_hide(h);
}

static void **slot_at(wbt_hidden holder, size_t off)
{
    return (void **)((char *)wbt_reveal(holder) + off);
}

static __attribute__((noinline)) void clear_slot(wbt_hidden holder, size_t off)
{
    wb_store(wbt_reveal(holder), slot_at(holder, off), NULL);
}

/* Fails unless the holder's slot holds y (noinline: no revealed copy stays in the test). */
static __attribute__((noinline)) void assert_slot_holds(wbt_hidden holder, size_t off, wbt_hidden y)
{
    assert_ptr_equal(*slot_at(holder, off), wbt_reveal(y));
}

/* Stores young into slot, which is in the object starting at holder. */
typedef void store_fn(void *holder, void **slot, void *young);

/* A new young object with seed's payload, stored into the holder's slot by store. */
static __attribute__((noinline)) wbt_hidden young_into(wbt_hidden holder, size_t off,
                                                       store_fn *store, uint64_t seed)
{
    void *y = wb_malloc(YOUNG);

    assert_non_null(y);
    wbt_fill(y, YOUNG, seed);
    store(wbt_reveal(holder), slot_at(holder, off), y);
    return wbt_hide(y);
}

/* An ordinary assignment, as a program for any barrier writes it: a plain store under a
 * kernel barrier, one that also feeds a software barrier. */
static void store_plain(void *holder, void **slot, void *young)
{
    wb_store(holder, slot, young);
}

/* The routes below bypass wb_store: only a kernel barrier can see them. */

/* From glibc malloc memory, which is no root. */
static void store_memmove(void *holder, void **slot, void *young)
{
    void **buf = calloc(8, sizeof *buf);

    assert_non_null(buf);
    buf[3] = young;
    memmove(slot - 3, buf, 8 * sizeof *buf);
    explicit_bzero(buf, 8 * sizeof *buf);
    free(buf);
    (void)holder;
}

static void store_cas(void *holder, void **slot, void *young)
{
    void *expected = NULL;

    (void)holder;
    assert_true(__atomic_compare_exchange_n(slot, &expected, young, 0, __ATOMIC_SEQ_CST,
                                            __ATOMIC_SEQ_CST));
}

static void store_sse(void *holder, void **slot, void *young)
{
    (void)holder;
    _mm_storeu_si128((__m128i *)slot, _mm_set_epi64x(0, (long long)(uintptr_t)young));
}

__attribute__((target("avx"))) static void store_avx(void *holder, void **slot, void *young)
{
    (void)holder;
    _mm256_storeu_si256((__m256i *)slot, _mm256_set_epi64x(0, 0, 0, (long long)(uintptr_t)young));
}

/* The handler's operands, hidden so that they are no roots themselves. */
static volatile wbt_hidden g_sig_holder, g_sig_slot, g_sig_young;

/* Through wb_store, so that a software barrier sees it too. */
static void store_in_handler(int sig)
{
    (void)sig;
    wb_store(wbt_reveal(g_sig_holder), wbt_reveal(g_sig_slot), wbt_reveal(g_sig_young));
}

static void store_raise(void *holder, void **slot, void *young)
{
    struct sigaction sa, old;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = store_in_handler;
    sigemptyset(&sa.sa_mask);
    assert_int_equal(sigaction(SIGUSR1, &sa, &old), 0);
    g_sig_holder = wbt_hide(holder);
    g_sig_slot = wbt_hide(slot);
    g_sig_young = wbt_hide(young);
    assert_int_equal(raise(SIGUSR1), 0);
    assert_int_equal(sigaction(SIGUSR1, &old, NULL), 0);
    g_sig_holder = g_sig_slot = g_sig_young = 0;
}

struct thread_job {
    wbt_hidden holder, young;
    uint64_t seed;
};

static void *store_from_thread(void *arg)
{
    struct thread_job *job = arg;

    job->young = young_into(job->holder, SLOT, store_plain, job->seed);
    return NULL;
}

static int tracking_barrier(void)
{
    return strcmp(wb_barrier_name(), "none") != 0;
}

/* After a full collection, a young object whose only reference is a slot of an old
 * object, written by store (in another thread if threaded), survives a young collection
 * with its bytes intact, while young objects nothing references are reclaimed.  A
 * software barrier recorded that one store: a range or two, not every store of the test. */
static void check_barrier(size_t holder_size, store_fn *store, int threaded, uint64_t seed)
{
    wbt_hidden holder = new_old_holder(holder_size), young, controls[CONTROLS];
    size_t off = holder_size > SLOT ? SLOT : 8;
    struct wb_stats before, after;

    wb_get_stats(&before);
    if (threaded) {
        struct thread_job job = { holder, 0, seed };
        pthread_t th;
        assert_int_equal(pthread_create(&th, NULL, store_from_thread, &job), 0);
        assert_int_equal(pthread_join(th, NULL), 0);
        young = job.young;
    } else {
        young = young_into(holder, off, store, seed);
    }
    for (int i = 0; i < CONTROLS; i++)
        controls[i] = wbt_garbage(YOUNG, seed + 1 + i);
    wbt_scrub_stack();
    wb_collect(WB_COLLECT_YOUNG);
    wb_get_stats(&after);

    wbt_assert_reclaimed(controls, CONTROLS);
    assert_true(after.young_collections == before.young_collections + 1);
    assert_true(after.full_collections == before.full_collections);
    if (strcmp(wb_barrier_name(), "mprotect") == 0)
        assert_true(after.barrier_faults > before.barrier_faults);
    if (WBT_SOFT)
        assert_true(after.remembered_last >= 1 && after.remembered_last <= 2);
    assert_slot_holds(holder, off, young);
    wbt_assert_live(young, YOUNG, seed);
    wbt_churn(YOUNG, 1000);
    wbt_assert_live(young, YOUNG, seed);
}

static void test_store_plain(void **state)
{
    (void)state;
    check_barrier(HOLDER, store_plain, 0, 100);
}

static void test_store_small_holder(void **state)
{
    (void)state;
    check_barrier(64, store_plain, 0, 200);
}

static void test_store_memmove(void **state)
{
    (void)state;
    WBT_NEEDS_KERNEL_BARRIER("memmove bypasses WB_STORE");
    check_barrier(HOLDER, store_memmove, 0, 300);
}

static void test_store_cas(void **state)
{
    (void)state;
    WBT_NEEDS_KERNEL_BARRIER("a compare-and-swap bypasses WB_STORE");
    check_barrier(HOLDER, store_cas, 0, 400);
}

static void test_store_other_thread(void **state)
{
    (void)state;
    check_barrier(HOLDER, NULL, 1, 500);
}

static void test_store_signal_handler(void **state)
{
    (void)state;
    check_barrier(HOLDER, store_raise, 0, 600);
}

static void test_store_sse(void **state)
{
    (void)state;
    WBT_NEEDS_KERNEL_BARRIER("an SSE store bypasses WB_STORE");
    check_barrier(HOLDER, store_sse, 0, 700);
}

static void test_store_avx(void **state)
{
    (void)state;
    WBT_NEEDS_KERNEL_BARRIER("an AVX store bypasses WB_STORE");
    if (!__builtin_cpu_supports("avx"))
        skip();
    check_barrier(HOLDER, store_avx, 0, 800);
}

static void test_counters(void **state)
{
    struct wb_stats a, b, c;
    void *volatile kept = wb_malloc(MiB);

    (void)state;
    wbt_fill(kept, MiB, 900);
    wb_get_stats(&a);
    wb_collect(WB_COLLECT_FULL);
    wb_get_stats(&b);
    wb_collect(WB_COLLECT_YOUNG);
    wb_get_stats(&c);
    assert_true(b.full_collections == a.full_collections + 1);
    assert_true(b.young_collections == a.young_collections);
    assert_true(c.young_collections == b.young_collections + 1);
    assert_true(c.full_collections == b.full_collections);
    assert_true(b.live_bytes >= MiB);
    assert_true(b.old_bytes >= MiB);   /* every survivor of a full collection is old */
    assert_true(b.heap_bytes >= b.live_bytes);
    assert_true(wbt_intact(kept, MiB, 900));
}

/* By default a survivor of a young collection is old at once: dropping its last reference
 * does not let the next young collection free it, a full one does. */
static void test_promotion_at_once(void **state)
{
    wbt_hidden holder = new_old_holder(HOLDER), z;

    (void)state;
    z = young_into(holder, SLOT, store_plain, 1000);
    wbt_scrub_stack();
    wb_collect(WB_COLLECT_YOUNG);
    wbt_assert_live(z, YOUNG, 1000);
    clear_slot(holder, SLOT);
    wbt_scrub_stack();
    wb_collect(WB_COLLECT_YOUNG);
    wbt_assert_live(z, YOUNG, 1000);
    wbt_scrub_stack();
    wb_collect(WB_COLLECT_FULL);
    wbt_assert_reclaimed(&z, 1);
}

/* WBRT_TENURE_AGE=2: a survivor stays young for two young collections.  One referenced
 * only from an old page that is not written again survives three young collections;
 * one whose reference is dropped after the first is freed by the second. */
static void test_tenure_age(void **state)
{
    wbt_hidden holder, y, z;

    (void)state;
    WBT_FRESH_PROCESS("WBRT_TENURE_AGE=2");
    holder = new_old_holder(HOLDER);
    y = young_into(holder, SLOT, store_plain, 1100);
    z = young_into(holder, SLOT + 2 * 4096, store_plain, 1200);
    wbt_scrub_stack();
    wb_collect(WB_COLLECT_YOUNG);
    wbt_assert_live(y, YOUNG, 1100);
    wbt_assert_live(z, YOUNG, 1200);
    clear_slot(holder, SLOT + 2 * 4096);
    for (int i = 0; i < 3; i++) {
        wbt_scrub_stack();
        wb_collect(WB_COLLECT_YOUNG);
        if (i == 0)
            wbt_assert_reclaimed(&z, 1);
        wbt_churn(YOUNG, 500);
        wbt_assert_live(y, YOUNG, 1100);
        assert_slot_holds(holder, SLOT, y);
    }
}

/* One slot written in a 4 MiB old object: a tracking barrier makes the next young
 * collection scan a handful of pages; none scans the object's pages that hold data (all
 * 1024 if its run was reused and zeroed, else the few written).  A software barrier
 * dirties no page for it: it recorded one range (a card, a slot, the object). */
static void test_large_old_object(void **state)
{
    const size_t size = 4 * MiB, off = 2 * MiB + 8;
    wbt_hidden holder = new_old_holder(size), y, controls[CONTROLS];
    struct wb_stats st;

    (void)state;
    y = young_into(holder, off, store_plain, 1300);
    for (int i = 0; i < CONTROLS; i++)
        controls[i] = wbt_garbage(YOUNG, 1301 + i);
    wbt_scrub_stack();
    wb_collect(WB_COLLECT_YOUNG);
    wb_get_stats(&st);
    print_message("%s: pages_scanned_last %llu, dirty_pages_last %llu, remembered_last %llu\n",
                  wb_barrier_name(), (unsigned long long)st.pages_scanned_last,
                  (unsigned long long)st.dirty_pages_last, (unsigned long long)st.remembered_last);
    if (WBT_SOFT) {
        assert_true(st.remembered_last >= 1 && st.remembered_last <= 2);
        assert_true(st.pages_scanned_last <= 16);
    } else if (tracking_barrier()) {
        assert_true(st.pages_scanned_last >= 1 && st.pages_scanned_last <= 16);
        assert_true(st.dirty_pages_last >= 1);
    } else {
        assert_true(st.pages_scanned_last >= 1 && st.pages_scanned_last <= size / 4096);
    }
    wbt_assert_reclaimed(controls, CONTROLS);
    wbt_assert_live(y, YOUNG, 1300);
    assert_slot_holds(holder, off, y);
}

/* What the kernel-write tests have the kernel copy into an old object: under a kernel
 * barrier the address of a new young object (then the copy is its only reference), then
 * KW_BYTES of plain payload.  A software barrier cannot see a kernel write, so a program
 * built for one has the kernel write plain bytes only: there, the payload alone. */
enum { KW_BYTES = 64 };
#define KW_LEN ((WBT_SOFT ? 0 : sizeof(void *)) + KW_BYTES)

/* Writes that data (KW_LEN bytes) into fd (a pipe or a file); returns the young object
 * hidden, or 0 under a software barrier. */
static __attribute__((noinline)) wbt_hidden kernel_data_into(int fd, uint64_t seed)
{
    unsigned char buf[sizeof(void *) + KW_BYTES];
    void *y = NULL;

    if (!WBT_SOFT) {
        y = wb_malloc(YOUNG);
        assert_non_null(y);
        wbt_fill(y, YOUNG, seed);
        memcpy(buf, &y, sizeof y);
    }
    wbt_fill(buf + KW_LEN - KW_BYTES, KW_BYTES, seed + 1);
    assert_int_equal(write(fd, buf, KW_LEN), KW_LEN);
    explicit_bzero(buf, sizeof buf);
    return y == NULL ? 0 : wbt_hide(y);
}

/* After young collections: the data the kernel copied to the holder at off is intact,
 * and the young object whose address it held is live. */
static void check_kernel_data(wbt_hidden holder, size_t off, wbt_hidden y, uint64_t seed)
{
    if (!WBT_SOFT) {
        wbt_assert_live(y, YOUNG, seed);
        assert_slot_holds(holder, off, y);
    }
    assert_true(wbt_intact((char *)slot_at(holder, off) + KW_LEN - KW_BYTES, KW_BYTES, seed + 1));
}

/* read(2) of n bytes into the holder at off, after wb_prepare_kernel_write() if prepare. */
static __attribute__((noinline)) ssize_t read_into(int fd, wbt_hidden holder, size_t off,
                                                   size_t n, int prepare)
{
    if (prepare)
        wb_prepare_kernel_write(slot_at(holder, off), n);
    return read(fd, slot_at(holder, off), n);
}

/* read(2) into an old object: under uffd-async (and software barriers) it just works;
 * under mprotect it fails with EFAULT unless wb_prepare_kernel_write() came first.  Either
 * way the young object whose address the kernel wrote there survives the next young
 * collections, and the bytes it wrote stay. */
static void test_kernel_write(void **state)
{
    wbt_hidden holder = new_old_holder(HOLDER), y;
    int mprotect = strcmp(wb_barrier_name(), "mprotect") == 0;
    ssize_t r;
    int p[2];

    (void)state;
    assert_int_equal(pipe2(p, O_NONBLOCK), 0);   /* a failed read may or may not consume */
    if (mprotect) {
        char junk[8] = "12345678";
        assert_int_equal(write(p[1], junk, sizeof junk), sizeof junk);
        errno = 0;
        assert_int_equal(read_into(p[0], holder, 3 * 4096, sizeof junk, 0), -1);
        assert_int_equal(errno, EFAULT);
        r = read(p[0], junk, sizeof junk);   /* drain */
        assert_true(r == sizeof junk || (r < 0 && errno == EAGAIN));
    }
    y = kernel_data_into(p[1], 1400);
    assert_int_equal(read_into(p[0], holder, SLOT, KW_LEN, mprotect), KW_LEN);
    close(p[0]);
    close(p[1]);
    for (int i = 0; i < 2; i++) {
        wbt_scrub_stack();
        wb_collect(WB_COLLECT_YOUNG);
        wbt_churn(YOUNG, 500);
        check_kernel_data(holder, SLOT, y, 1400);
    }
}

/* A page another thread filled before one young collection and gave up before the next:
 * the objects promoted there must still be tracked (regression: under mprotect such a
 * page was left writable, and a later store into its old object went unseen). */
enum { ODD_CLASS = 1360 };   /* a size class no other test uses: a fresh page */
static void *g_promoted;
static sem_t g_filled, g_collected, g_released;

static void *fill_page_across_collection(void *arg)
{
    (void)arg;
    wbt_garbage(ODD_CLASS, 1600);            /* the page's first object dies */
    wbt_scrub_stack();
    sem_post(&g_filled);
    sem_wait(&g_collected);
    g_promoted = wb_malloc(ODD_CLASS);       /* same page, not dirty any more */
    assert_non_null(g_promoted);
    sem_post(&g_released);
    return NULL;                             /* exiting gives the page back */
}

static void test_promoted_on_released_page(void **state)
{
    pthread_t th;
    wbt_hidden y, controls[CONTROLS];

    (void)state;
    sem_init(&g_filled, 0, 0);
    sem_init(&g_collected, 0, 0);
    sem_init(&g_released, 0, 0);
    wb_collect(WB_COLLECT_FULL);
    assert_int_equal(pthread_create(&th, NULL, fill_page_across_collection, NULL), 0);
    sem_wait(&g_filled);
    wb_collect(WB_COLLECT_YOUNG);            /* the page is the thread's, and holds nothing */
    sem_post(&g_collected);
    sem_wait(&g_released);
    assert_int_equal(pthread_join(th, NULL), 0);
    wb_collect(WB_COLLECT_YOUNG);            /* promotes g_promoted */
    y = young_into(wbt_hide(g_promoted), 8, store_plain, 1603);
    for (int i = 0; i < CONTROLS; i++)
        controls[i] = wbt_garbage(YOUNG, 1604 + i);
    wbt_scrub_stack();
    wb_collect(WB_COLLECT_YOUNG);
    wbt_assert_reclaimed(controls, CONTROLS);
    wbt_assert_live(y, YOUNG, 1603);
    g_promoted = NULL;
}

/* A program that frees by hand may leave a dangling pointer in a live old object.  When
 * a young large object reuses the freed pages but starts on an earlier page (freed by a
 * collection, not by the program), the pointer points into its middle without any store:
 * WBRT_VERIFY must take it for neither a missed store (the young object kept by a root)
 * nor a reachable object freed (the young object reclaimed).  Found by tests/soak. */
enum { RUN = 2 * 4096 };
static void *g_dangling_holder, *g_reused;

static __attribute__((noinline)) wbt_hidden dangling_into_run_setup(void)
{
    void **o = wb_malloc(64), *a = wb_malloc(RUN), *x = wb_malloc(RUN);

    assert_non_null(o);
    assert_ptr_equal(x, (char *)a + RUN);   /* first fit in a fresh process: adjacent runs */
    wb_store(o, &o[0], x);
    g_dangling_holder = o;
    return wbt_hide(x);                      /* a is garbage: the next collection frees it */
}

static __attribute__((noinline)) void dangling_into_run_reuse(wbt_hidden x, int keep)
{
    void *n;

    wb_free(wbt_reveal(x));                  /* the holder's slot dangles */
    n = wb_malloc(2 * RUN);
    assert_non_null(n);
    assert_ptr_equal(wb_base(wbt_reveal(x)), n);   /* the slot points into n's middle */
    wbt_fill(n, 2 * RUN, 1700);
    if (keep)
        g_reused = n;
}

/* After the collection: the holder is intact, and so is the young object if kept; else
 * it was reclaimed (unless every old page is scanned, as under none). */
static __attribute__((noinline)) void dangling_into_run_check(wbt_hidden x, int keep)
{
    assert_ptr_equal(((void **)g_dangling_holder)[0], wbt_reveal(x));
    if (keep)
        wbt_assert_live(wbt_hide(g_reused), 2 * RUN, 1700);
    else if (strcmp(wb_barrier_name(), "none") != 0)
        assert_null(wb_base(wbt_reveal(x)));
    g_dangling_holder = g_reused = NULL;
}

static void check_dangling_into_run(int keep)
{
    static volatile wbt_hidden x;   /* not in a register across the collections */

    x = dangling_into_run_setup();
    wbt_scrub_stack();
    wb_collect(WB_COLLECT_FULL);             /* the holder is old, a freed by the sweep */
    dangling_into_run_reuse(x, keep);
    wbt_scrub_stack();
    wb_collect(WB_COLLECT_YOUNG);            /* verified: the process goes on */
    dangling_into_run_check(x, keep);
}

static void test_dangling_into_young_kept(void **state)
{
    (void)state;
    WBT_FRESH_PROCESS(NULL);
    check_dangling_into_run(1);
}

static void test_dangling_into_young_reclaimed(void **state)
{
    (void)state;
    WBT_FRESH_PROCESS(NULL);
    check_dangling_into_run(0);
}

/* The same with a small object: the freed slot is handed out again at the same address
 * and the young object there is reclaimed (its page stays in use); the live holder still
 * points at it. */
enum { DANGLING_SMALL = 1200 };   /* a size class no other test here uses */

static __attribute__((noinline)) wbt_hidden dangling_small_setup(void)
{
    void **o = wb_malloc(64), *x = wb_malloc(DANGLING_SMALL);

    assert_non_null(o);
    assert_non_null(x);
    wb_store(o, &o[0], x);
    g_dangling_holder = o;
    g_reused = wb_malloc(DANGLING_SMALL);   /* a live neighbour keeps x's page in use */
    return wbt_hide(x);
}

static __attribute__((noinline)) void dangling_small_reuse(wbt_hidden x)
{
    int i;

    wb_free(wbt_reveal(x));
    for (i = 0; i < 64 && wb_malloc(DANGLING_SMALL) != wbt_reveal(x); i++)
        ;
    assert_true(i < 64);   /* the freed slot was handed out again */
}

static void test_dangling_into_young_small(void **state)
{
    static volatile wbt_hidden x;

    (void)state;
    WBT_FRESH_PROCESS(NULL);
    x = dangling_small_setup();
    wbt_scrub_stack();
    wb_collect(WB_COLLECT_FULL);
    dangling_small_reuse(x);
    wbt_scrub_stack();
    wb_collect(WB_COLLECT_YOUNG);
    dangling_into_run_check(x, 0);
}

/* A page freed by hand and reused before the next collection is on the young page list
 * twice.  With a tenure age, the young collection swept it twice, and the second sweep
 * (its marks cleared by the first) freed the young survivors.  Found by tests/soak. */
enum { RELISTED_SMALL = 1500 };   /* a size class no other test here uses: a fresh page */
static void *g_relisted;

static __attribute__((noinline)) void relisted_page_setup(void)
{
    void *large = wb_malloc(3 * 4096);

    assert_non_null(large);
    wb_free(large);                          /* its first page stays on the young list */
    g_relisted = wb_malloc(RELISTED_SMALL);
    assert_non_null(g_relisted);
    assert_ptr_equal(g_relisted, large);     /* first fit in a fresh process: the same page */
    wbt_fill(g_relisted, RELISTED_SMALL, 1800);
}

static void test_relisted_page_tenured(void **state)
{
    (void)state;
    WBT_FRESH_PROCESS("WBRT_TENURE_AGE=2");
    relisted_page_setup();
    wbt_scrub_stack();
    for (int i = 0; i < 3; i++) {            /* young, young, then promoted */
        wb_collect(WB_COLLECT_YOUNG);
        wbt_assert_live(wbt_hide(g_relisted), RELISTED_SMALL, 1800);
    }
    g_relisted = NULL;
}

/* A young object stored into the holder's slot off (seed), a young collection, another
 * stored into off + 8 (seed + 1); both must stay live there over three young collections. */
static void stored_across_collection(wbt_hidden holder, size_t off, uint64_t seed)
{
    wbt_hidden before = young_into(holder, off, store_plain, seed);
    wbt_scrub_stack();
    wb_collect(WB_COLLECT_YOUNG);
    wbt_hidden after = young_into(holder, off + 8, store_plain, seed + 1);
    for (int i = 0; i < 3; i++) {
        wbt_scrub_stack();
        wb_collect(WB_COLLECT_YOUNG);
        wbt_assert_live(before, YOUNG, seed);
        wbt_assert_live(after, YOUNG, seed + 1);
        assert_slot_holds(holder, off, before);
        assert_slot_holds(holder, off + 8, after);
    }
}

/* A large object that stays young for a while and is then promoted: the pages after
 * its first must be tracked as well.  One young object is stored into its last page
 * while it is young (found at promotion), another after it is old (found by the
 * barrier).  Only the first page went into the dirty map at promotion: the last page
 * was neither kept dirty nor armed, and both young objects were freed. */
enum { TAIL_RUN = 4 * 4096, TAIL_OFF = 3 * 4096 + 64 };
static void *g_tail_holder;

static void test_tenured_large_object_tail(void **state)
{
    (void)state;
    WBT_FRESH_PROCESS("WBRT_TENURE_AGE=2");
    g_tail_holder = wb_malloc(TAIL_RUN);
    assert_non_null(g_tail_holder);
    wbt_hidden holder = wbt_hide(g_tail_holder);
    for (int i = 0; i < 2; i++) {           /* ages 1 and 2: still young */
        wbt_scrub_stack();
        wb_collect(WB_COLLECT_YOUNG);
    }
    stored_across_collection(holder, TAIL_OFF, 1900);  /* its collection promotes the holder */
    g_tail_holder = NULL;
}

/* An old large object grown in place by wb_realloc into the free pages after it: the
 * pages it gained must be tracked like the rest of it.  One young object is stored into
 * the new part before the next young collection, another after it. */
enum { GROW_FROM = 2 * 4096, GROW_TO = 6 * 4096, GROW_OFF = 5 * 4096 + 64 };
static void *g_grown;

static void test_old_object_grown_in_place(void **state)
{
    (void)state;
    g_grown = wb_malloc(GROW_TO);
    assert_non_null(g_grown);
    wbt_hidden holder = wbt_hide(g_grown);
    assert_ptr_equal(wb_realloc(g_grown, GROW_FROM), wbt_reveal(holder)); /* its last pages free */
    wbt_scrub_stack();
    wb_collect(WB_COLLECT_YOUNG);           /* promotes it */
    assert_ptr_equal(wb_realloc(g_grown, GROW_TO), wbt_reveal(holder));   /* grown in place */
    stored_across_collection(holder, GROW_OFF, 1920);
    g_grown = NULL;
}

enum kernel_route { ROUTE_PREAD, ROUTE_PREADV, ROUTE_IO_URING, ROUTES };

/* The kernel copies n bytes of fd (from offset 0) to dst; -1 with errno on failure. */
static ssize_t kernel_copy(enum kernel_route route, int fd, void *dst, size_t n)
{
    struct iovec iov = { dst, n };
    struct io_uring ring;
    struct io_uring_cqe *cqe;
    int res;

    switch (route) {
    case ROUTE_PREAD:
        return pread(fd, dst, n, 0);
    case ROUTE_PREADV:
        return preadv(fd, &iov, 1, 0);
    default:
        assert_int_equal(io_uring_queue_init(4, &ring, 0), 0);
        io_uring_prep_read(io_uring_get_sqe(&ring), fd, dst, (unsigned)n, 0);
        assert_int_equal(io_uring_submit(&ring), 1);
        assert_int_equal(io_uring_wait_cqe(&ring, &cqe), 0);
        res = cqe->res;
        io_uring_cqe_seen(&ring, cqe);
        io_uring_queue_exit(&ring);
        if (res < 0) {
            errno = -res;
            return -1;
        }
        return res;
    }
}

/* pread, preadv and io_uring reads into an old object: they just work under uffd-async
 * (and software barriers), fail with EFAULT under mprotect until wb_prepare_kernel_write(),
 * and the young object whose address the kernel wrote survives the next young
 * collection, and the bytes it wrote stay. */
static void test_kernel_write_routes(void **state)
{
    int mprotect = strcmp(wb_barrier_name(), "mprotect") == 0;

    (void)state;
    for (int route = 0; route < ROUTES; route++) {
        char path[] = "/tmp/wbt-kernel-write-XXXXXX";
        int fd = mkstemp(path);
        wbt_hidden holder = new_old_holder(HOLDER), y;

        assert_true(fd >= 0);
        unlink(path);
        y = kernel_data_into(fd, 1500 + 2 * (uint64_t)route);   /* the file is y's only reference */
        if (mprotect) {
            errno = 0;
            assert_int_equal(kernel_copy(route, fd, slot_at(holder, SLOT), KW_LEN), -1);
            assert_int_equal(errno, EFAULT);
            wb_prepare_kernel_write(slot_at(holder, SLOT), KW_LEN);
        }
        assert_int_equal(kernel_copy(route, fd, slot_at(holder, SLOT), KW_LEN), KW_LEN);
        close(fd);
        wbt_scrub_stack();
        wb_collect(WB_COLLECT_YOUNG);
        check_kernel_data(holder, SLOT, y, 1500 + 2 * (uint64_t)route);
    }
}

/* The tests below write old objects only by WB_STORE, as a program built for a software
 * barrier must: they check that barrier's soundness, and under a kernel barrier the same
 * property by the kernel's means. */

/* An old object seen as an array of pointer slots. */
struct slots {
    uint64_t n;
    void *slot[];
};

/* count old objects of nslots[i] slots each, made old together by one full collection
 * (a full collection frees an old object that is only hidden), hidden into out[]. */
static __attribute__((noinline)) void new_old_slots(wbt_hidden *out, const size_t *nslots, int count)
{
    struct slots *volatile s[16];

    assert_true(count <= 16);
    for (int i = 0; i < count; i++) {
        s[i] = wb_malloc(sizeof(struct slots) + nslots[i] * sizeof(void *));
        assert_non_null(s[i]);
    }
    wb_collect(WB_COLLECT_FULL);
    for (int i = 0; i < count; i++) {
        assert_ptr_equal(wb_base(s[i]), s[i]);
        s[i]->n = nslots[i];
        out[i] = wbt_hide(s[i]);
        s[i] = NULL;
    }
}

/* A young object that points on at the next of its chain. */
struct link {
    struct link *next;
    unsigned char payload[YOUNG - sizeof(struct link *)];
};

enum { CHAIN_LEN = 3 };

/* Stores a chain of CHAIN_LEN new young objects (link k with payload seed + k) into slot i
 * of the old object, then links each to the next, all by WB_STORE; h[] gets them hidden. */
static __attribute__((noinline)) void chain_into(wbt_hidden old, size_t i, uint64_t seed, wbt_hidden *h)
{
    struct slots *s = wbt_reveal(old);
    struct link *prev = NULL;

    for (int k = 0; k < CHAIN_LEN; k++) {
        struct link *l = wb_malloc(sizeof *l);
        assert_non_null(l);
        wbt_fill(l->payload, sizeof l->payload, seed + (uint64_t)k);
        if (prev == NULL)
            WB_STORE(s, slot[i], l);
        else
            WB_STORE(prev, next, l);
        h[k] = wbt_hide(l);
        prev = l;
    }
}

static __attribute__((noinline)) void assert_chain(wbt_hidden old, size_t i, uint64_t seed, const wbt_hidden *h)
{
    struct slots *s = wbt_reveal(old);
    struct link *l = s->slot[i];

    for (int k = 0; k < CHAIN_LEN; k++, l = l->next) {
        assert_ptr_equal(l, wbt_reveal(h[k]));
        assert_ptr_equal(wb_base(l), l);
        assert_true(wbt_intact(l->payload, sizeof l->payload, seed + (uint64_t)k));
    }
    assert_null(l);
}

enum { WB_OLD = 6, WB_PER_OLD = 3 };
static const size_t g_wb_old_slots[WB_OLD] = { 3, 8, 30, 500, 2048, 40000 };   /* small and large */

/* Slot j of the WB_PER_OLD written in old object o: its first, middle and last. */
static size_t wb_slot(int o, int j)
{
    return (g_wb_old_slots[o] - 1) * (size_t)j / (WB_PER_OLD - 1);
}

static uint64_t wb_chain_seed(int round, int o, int j)
{
    return 2000 + (uint64_t)((round * WB_OLD + o) * WB_PER_OLD + j) * CHAIN_LEN;
}

/* Old objects (small and large) written only by WB_STORE with chains of young objects,
 * which nothing else references: young collections keep every chain, links and payloads
 * intact, also after a second round rewrites one slot of each old object, and reclaim the
 * young objects nothing references.  A software barrier remembered the writes for the
 * collection after them, and nothing for one with no write since the last. */
static void test_old_to_young_by_wb_store(void **state)
{
    static wbt_hidden old[WB_OLD], chains[2][WB_OLD][WB_PER_OLD][CHAIN_LEN];
    wbt_hidden controls[CONTROLS];
    struct wb_stats st;

    (void)state;
    new_old_slots(old, g_wb_old_slots, WB_OLD);
    for (int round = 0; round < 2; round++) {
        for (int o = 0; o < WB_OLD; o++)
            for (int j = round; j < (round ? 2 : WB_PER_OLD); j++)   /* round 1: the middle slot */
                chain_into(old[o], wb_slot(o, j), wb_chain_seed(round, o, j), chains[round][o][j]);
        for (int i = 0; i < CONTROLS; i++)
            controls[i] = wbt_garbage(YOUNG, 2900 + (uint64_t)i);
        wbt_scrub_stack();
        wb_collect(WB_COLLECT_YOUNG);
        wb_get_stats(&st);
        print_message("%s: round %d: remembered_last %llu, pages_scanned_last %llu\n", wb_barrier_name(),
                      round, (unsigned long long)st.remembered_last,
                      (unsigned long long)st.pages_scanned_last);
        wbt_assert_reclaimed(controls, CONTROLS);
        /* a range at least per old object written: they are on pages of their own */
        if (WBT_SOFT)
            assert_true(st.remembered_last >= (WB_CARD_SIZE <= 4096 ? WB_OLD : 1));
        wbt_churn(YOUNG, 1000);
        for (int o = 0; o < WB_OLD; o++)
            for (int j = 0; j < WB_PER_OLD; j++) {
                int from = round == 1 && j == 1;   /* rewritten in round 1 */
                assert_chain(old[o], wb_slot(o, j), wb_chain_seed(from, o, j), chains[from][o][j]);
            }
    }
    wbt_scrub_stack();
    wb_collect(WB_COLLECT_YOUNG);
    wb_get_stats(&st);
    if (WBT_SOFT)
        assert_int_equal(st.remembered_last, 0);
    for (int o = 0; o < WB_OLD; o++)
        for (int j = 0; j < WB_PER_OLD; j++)
            assert_chain(old[o], wb_slot(o, j), wb_chain_seed(j == 1, o, j), chains[j == 1][o][j]);
}

/* WB_THREADS threads each own WB_OWN slots of every one of WB_SHARED old objects (small ones
 * with their slots side by side, so that threads share cards, and large ones with theirs
 * 512 bytes apart), and rewrite them by WB_STORE with new young objects while the main
 * thread runs young collections; before rewriting a slot a thread checks the object it
 * stored there last, which only the old object references. */
enum { WB_THREADS = 4, WB_SHARED = 8, WB_OWN = 8, WB_ROUNDS = 4000 };
static wbt_hidden g_shared[WB_SHARED];
static int g_shared_collections, g_shared_done, g_shared_errors;
static char g_shared_error[256];

static size_t shared_stride(int o)
{
    return o % 2 ? 64 : 1;
}

static size_t shared_slot(int o, int t, int j)
{
    return (size_t)(j * WB_THREADS + t) * shared_stride(o);
}

static size_t shared_size(int o)
{
    return 48 + 32 * (size_t)(o % 4);
}

static uint64_t shared_seed(int t, int o, int j, int gen)
{
    return 1ull << 40 | (uint64_t)t << 32 | (uint64_t)o << 24 | (uint64_t)j << 16 | (uint64_t)gen;
}

/* Checks (and counts as an error, with the first one's description) that slot j of
 * thread t in old object o holds its gen-th object intact, or NULL before its first. */
static int shared_intact(struct slots *s, int o, int t, int j, int gen)
{
    void *y = s->slot[shared_slot(o, t, j)];
    int ok = gen == 0 ? y == NULL
                      : y != NULL && wb_base(y) == y &&
                            wbt_intact(y, shared_size(o), shared_seed(t, o, j, gen - 1));

    if (!ok && __atomic_fetch_add(&g_shared_errors, 1, __ATOMIC_RELAXED) == 0)
        snprintf(g_shared_error, sizeof g_shared_error,
                 "thread %d, old object %d, slot %d, object %d: %p, wb_base %p", t, o, j, gen - 1, y,
                 y ? wb_base(y) : NULL);
    return ok;
}

static void *shared_writer(void *arg)
{
    int t = (int)(uintptr_t)arg, gen[WB_SHARED][WB_OWN] = { { 0 } };

    for (int r = 0; r < WB_ROUNDS; r++) {
        int j = r % WB_OWN;

        for (int o = 0; o < WB_SHARED; o++) {
            struct slots *s = wbt_reveal(g_shared[o]);
            void *y;

            shared_intact(s, o, t, j, gen[o][j]);
            y = wb_malloc(shared_size(o));
            if (y == NULL) {
                __atomic_fetch_add(&g_shared_errors, 1, __ATOMIC_RELAXED);
                continue;
            }
            wbt_fill(y, shared_size(o), shared_seed(t, o, j, gen[o][j]++));
            WB_STORE(s, slot[shared_slot(o, t, j)], y);
        }
        if (r == WB_ROUNDS / 2)
            wbt_await_collections(&g_shared_collections, 3);
    }
    __atomic_add_fetch(&g_shared_done, 1, __ATOMIC_RELEASE);
    return NULL;
}

static __attribute__((noinline)) void assert_shared_intact(void)
{
    for (int o = 0; o < WB_SHARED; o++)
        for (int t = 0; t < WB_THREADS; t++)
            for (int j = 0; j < WB_OWN; j++)
                shared_intact(wbt_reveal(g_shared[o]), o, t, j, WB_ROUNDS / WB_OWN);
    if (g_shared_errors != 0)
        fail_msg("%d lost or damaged young objects; first: %s", g_shared_errors, g_shared_error);
}

static void test_threads_wb_store_shared_old(void **state)
{
    size_t nslots[WB_SHARED];
    pthread_t th[WB_THREADS];
    struct wb_stats before, st;
    uint64_t max_remembered = 0;

    (void)state;
    for (int o = 0; o < WB_SHARED; o++)
        nslots[o] = WB_THREADS * WB_OWN * shared_stride(o);
    new_old_slots(g_shared, nslots, WB_SHARED);
    wb_get_stats(&before);
    for (uintptr_t t = 0; t < WB_THREADS; t++)
        assert_int_equal(pthread_create(&th[t], NULL, shared_writer, (void *)t), 0);
    while (__atomic_load_n(&g_shared_done, __ATOMIC_ACQUIRE) < WB_THREADS) {
        wb_collect(WB_COLLECT_YOUNG);
        __atomic_add_fetch(&g_shared_collections, 1, __ATOMIC_RELEASE);
        wb_get_stats(&st);
        if (st.remembered_last > max_remembered)
            max_remembered = st.remembered_last;
        usleep(1000);   /* pacing only: back-to-back collections would starve the writers */
    }
    for (int t = 0; t < WB_THREADS; t++)
        assert_int_equal(pthread_join(th[t], NULL), 0);
    for (int i = 0; i < 2; i++) {
        wbt_scrub_stack();
        wb_collect(WB_COLLECT_YOUNG);
        wbt_churn(64, 2000);
        wb_get_stats(&st);
        /* a full collection would have freed the old objects, which are only hidden */
        assert_true(st.full_collections == before.full_collections);
        assert_shared_intact();
    }
    print_message("%s: %d young collections during the stores, max remembered_last %llu\n",
                  wb_barrier_name(), g_shared_collections, (unsigned long long)max_remembered);
    assert_true(g_shared_collections >= 3);
    if (WBT_SOFT)
        assert_true(max_remembered > 0);
}

static int g_report_fd = -1;

static void report_fault(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)uc;
    if (write(g_report_fd, &si->si_addr, sizeof si->si_addr) != sizeof si->si_addr)
        _exit(2);
    _exit(0);
}

struct wild {
    int own_handler;  /* else the default action (cmocka's handler is dropped) */
    void *old_slot;   /* written (a barrier fault, not ours) before the wild store, or NULL */
    void *target;
};

#define OLD_WRITE_DONE "old slot written\n"

static void wild_store(void *arg)
{
    struct wild *w = arg;
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    if (w->own_handler) {
        sa.sa_sigaction = report_fault;
        sa.sa_flags = SA_SIGINFO;
    } else {
        sa.sa_handler = SIG_DFL;
    }
    assert_int_equal(sigaction(SIGSEGV, &sa, NULL), 0);
    if (w->old_slot != NULL) {
        *(void *volatile *)w->old_slot = w->old_slot;
        fputs(OLD_WRITE_DONE, stdout);
        fflush(stdout);
    }
    *(volatile int *)w->target = 1;
    _exit(3);   /* the store did not fault */
}

static void *unmapped_address(void)
{
    void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

    assert_true(p != MAP_FAILED);
    assert_int_equal(munmap(p, 4096), 0);
    return p;
}

/* The child's own SIGSEGV handler sees the wild store at its own address. */
static void check_reported(struct wild *w)
{
    struct wbt_child *c = malloc(sizeof *c);
    void *reported = NULL;
    int p[2];

    assert_non_null(c);
    assert_int_equal(pipe(p), 0);
    g_report_fd = p[1];
    wbt_fork(c, NULL, wild_store, w);
    close(p[1]);
    if (!wbt_exited(c, 0))
        fail_msg("child status 0x%x, output:\n%s", c->status, c->out);
    assert_int_equal(read(p[0], &reported, sizeof reported), sizeof reported);
    close(p[0]);
    if (w->old_slot != NULL && reported == w->old_slot)
        fail_msg("the barrier fault at %p reached the program's own handler", reported);
    assert_ptr_equal(reported, w->target);
    free(c);
}

static void test_wild_store_own_handler(void **state)
{
    struct wild w = { 1, NULL, unmapped_address() };
    void *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

    (void)state;
    check_reported(&w);
    assert_true(ro != MAP_FAILED);
    w.target = (char *)ro + 100;   /* a write-protected page that is not the heap's */
    check_reported(&w);
    munmap(ro, 4096);
}

/* As a debugger pokes memory: the kernel writes with FOLL_FORCE, which uffd-async
 * write-protection still sees and a page mprotect'ed read-only does not.  Under uffd the
 * kernel cannot wait for the handler thread in a remote access and refuses the write
 * (EIO): nothing is missed, and the child ends there. */
static void store_proc_mem(void *holder, void **slot, void *young)
{
    int fd = open("/proc/self/mem", O_RDWR | O_CLOEXEC);
    ssize_t r;

    (void)holder;
    assert_true(fd >= 0);
    r = pwrite(fd, &young, sizeof young, (off_t)(uintptr_t)slot);
    if (r < 0 && errno == EIO && strcmp(wb_barrier_name(), "uffd") == 0) {
        printf("uffd: the write through /proc/self/mem was refused (EIO)\n");
        exit(0);
    }
    if (r != sizeof young)
        fail_msg("pwrite /proc/self/mem: %zd (%s)", r, strerror(errno));
    close(fd);
}

/* Would wait forever for the heap lock the verifier holds when it aborts. */
static void abort_handler_allocates(int sig)
{
    (void)sig;
    wb_malloc(16);
    _exit(3);
}

static void proc_mem_store_collected(void *arg)
{
    (void)arg;
    signal(SIGABRT, abort_handler_allocates);
    alarm(120); /* a hang becomes SIGALRM, which the test reports */
    check_barrier(HOLDER, store_proc_mem, 0, 1700);
}

/* The verifier, on which every collector test relies, names a store its barrier did not
 * see (mprotect: a write through /proc/self/mem; software barriers: any store bypassing
 * WB_STORE), and stops the process even if the program's SIGABRT handler allocates;
 * under the barriers that do see the store, the young object is kept. */
static void test_verifier_names_missed_store(void **state)
{
    const char *name;
    int seen, refused;
    struct wbt_child *c;

    (void)state;
    WBT_FRESH_PROCESS("WBRT_VERIFY=1");
    name = wb_barrier_name();
    seen = !WBT_SOFT && strcmp(name, "mprotect") != 0;
    c = malloc(sizeof *c);
    assert_non_null(c);
    wbt_fork(c, NULL, proc_mem_store_collected, NULL);
    /* Under uffd the kernel refuses the write (the page is write-protected and nobody
     * resolves a fault taken on behalf of /proc/self/mem): nothing to miss then, and
     * test_gen_verify shows the verifier naming a store under uffd by other means. */
    refused = strcmp(name, "uffd") == 0;
    if (seen ? !wbt_exited(c, 0) || (strstr(c->out, "refused (EIO)") != NULL) != refused
             : !wbt_killed_by(c, SIGABRT) || !strstr(c->out, "missed a store"))
        fail_msg("%s: expected the store %s; child status 0x%x, output:\n%s", name,
                 refused ? "refused with EIO" : seen ? "seen and the young object kept" : "named by the verifier",
                 c->status, c->out);
    free(c);
}

/* Installing a SIGSEGV handler after wb_init must not route barrier faults to it. */
static void test_own_handler_keeps_barrier(void **state)
{
    wbt_hidden holder;
    struct wild w;

    (void)state;
    WBT_NEEDS_KERNEL_BARRIER("it is about barrier faults, which a software barrier never takes");
    holder = new_old_holder(HOLDER);
    w = (struct wild){ 1, slot_at(holder, SLOT), unmapped_address() };
    check_reported(&w);
}

/* With no handler of its own, a barrier fault is still handled, and the wild store then
 * kills the child with SIGSEGV. */
static void test_wild_store_default_action(void **state)
{
    wbt_hidden holder;
    struct wild w;
    struct wbt_child *c;

    (void)state;
    WBT_NEEDS_KERNEL_BARRIER("it is about barrier faults, which a software barrier never takes");
    holder = new_old_holder(HOLDER);
    w = (struct wild){ 0, slot_at(holder, SLOT), unmapped_address() };
    c = malloc(sizeof *c);
    assert_non_null(c);
    wbt_fork(c, NULL, wild_store, &w);
    if (!wbt_killed_by(c, SIGSEGV) || strstr(c->out, OLD_WRITE_DONE) == NULL)
        fail_msg("child status 0x%x, output:\n%s", c->status, c->out);
    free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_store_plain),
        cmocka_unit_test(test_store_small_holder),
        cmocka_unit_test(test_store_memmove),
        cmocka_unit_test(test_store_cas),
        cmocka_unit_test(test_store_other_thread),
        cmocka_unit_test(test_store_signal_handler),
        cmocka_unit_test(test_store_sse),
        cmocka_unit_test(test_store_avx),
        cmocka_unit_test(test_counters),
        cmocka_unit_test(test_promotion_at_once),
        cmocka_unit_test(test_tenure_age),
        cmocka_unit_test(test_large_old_object),
        cmocka_unit_test(test_kernel_write),
        cmocka_unit_test(test_kernel_write_routes),
        cmocka_unit_test(test_promoted_on_released_page),
        cmocka_unit_test(test_dangling_into_young_kept),
        cmocka_unit_test(test_dangling_into_young_reclaimed),
        cmocka_unit_test(test_dangling_into_young_small),
        cmocka_unit_test(test_relisted_page_tenured),
        cmocka_unit_test(test_tenured_large_object_tail),
        cmocka_unit_test(test_old_object_grown_in_place),
        cmocka_unit_test(test_old_to_young_by_wb_store),
        cmocka_unit_test(test_threads_wb_store_shared_old),
        cmocka_unit_test(test_wild_store_own_handler),
        cmocka_unit_test(test_own_handler_keeps_barrier),
        cmocka_unit_test(test_wild_store_default_action),
        cmocka_unit_test(test_verifier_names_missed_store),
    };

    /* The barrier's own work is under test (a store into an old page faults under mprotect,
     * an old->young pointer on an armed page...): every old page stays protected, where the
     * policy could switch protection off (test_gen_policy tests that). */
    setenv("WBRT_ARM", "always", 0);
    wbt_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
