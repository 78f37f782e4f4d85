/* Kernel writes into old objects (their pages armed by the barrier): read(2) from a pipe,
 * pread(2) from a file and io_uring reads, while another thread collects; and one kernel
 * write into a wb_prepare_kernel_write() range that crosses pages, objects and page runs.
 * The calls succeed, the bytes arrive, and young objects whose addresses the kernel wrote
 * into old objects survive young collections.  Under mprotect the program calls
 * wb_prepare_kernel_write() first, as docs/guide.md says it must; elsewhere too, harmlessly.
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include "wbt.h"

#include <errno.h>
#include <liburing.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PAGE 4096
enum { YOUNG = 256, PAYLOAD = 64, ROUNDS = 4, PREAD_ROUNDS = 20 };

enum route { ROUTE_READ, ROUTE_PREAD, ROUTE_IO_URING };
static const char *const route_name[] = { "read", "pread", "io_uring" };

/* Where the reader blocks: read(2), or io_uring_enter(2) (liburing waits for the read there). */
static const long in_read[] = { SYS_read, -1 }, in_uring[] = { SYS_io_uring_enter, -1 };

/* The kernel copies n bytes of fd to dst: a pipe (read, io_uring, at its current
 * position, until n bytes came) or a file (pread, io_uring, from offset 0).  Returns the
 * bytes copied, or -1 with errno at the first failure.  EINTR from the collector's stop
 * signal (io_uring_enter(2) does not restart) is retried. */
static ssize_t kernel_copy(enum route route, int fd, int is_pipe, void *dst, size_t n)
{
    size_t done = 0;
    struct io_uring ring;

    if (route == ROUTE_PREAD)
        return pread(fd, dst, n, 0);
    if (route == ROUTE_IO_URING)
        assert_int_equal(io_uring_queue_init(4, &ring, 0), 0);
    while (done < n) {
        ssize_t r;
        if (route == ROUTE_READ) {
            r = read(fd, (char *)dst + done, n - done);
        } else {
            struct io_uring_cqe *cqe;
            int w;
            io_uring_prep_read(io_uring_get_sqe(&ring), fd, (char *)dst + done, (unsigned)(n - done),
                               is_pipe ? (uint64_t)-1 : done);
            assert_int_equal(io_uring_submit(&ring), 1);
            while ((w = io_uring_wait_cqe(&ring, &cqe)) == -EINTR)
                ;
            assert_int_equal(w, 0);
            r = cqe->res;
            io_uring_cqe_seen(&ring, cqe);
            if (r < 0) {
                errno = (int)-r;
                r = -1;
            }
        }
        if (r <= 0)
            break;
        done += (size_t)r;
    }
    if (route == ROUTE_IO_URING)
        io_uring_queue_exit(&ring);
    return done == n ? (ssize_t)n : -1;
}

/* A young object with seed's payload, its address written at buf+at. */
static __attribute__((noinline)) wbt_hidden young_address_at(unsigned char *buf, size_t at, uint64_t seed)
{
    void *y = wb_malloc(YOUNG);

    assert_non_null(y);
    wbt_fill(y, YOUNG, seed);
    memcpy(buf + at, &y, sizeof y);
    return wbt_hide(y);
}

/* Fails unless the word at p holds y, live with seed's payload. */
static __attribute__((noinline)) void assert_holds(const void *p, wbt_hidden y, uint64_t seed)
{
    void *got;

    memcpy(&got, p, sizeof got);
    assert_ptr_equal(got, wbt_reveal(y));
    wbt_assert_live(y, YOUNG, seed);
}

/* ---- Kernel writes while another thread collects ---- */

enum { HOLDER = 4 * PAGE, MSG = sizeof(void *) + PAYLOAD };

/* Old holders (a root keeps them: the collector thread might turn a young collection
 * into a full one); the message the kernel copies (a root too, until the copy is done:
 * before that only the kernel would hold the young object's address). */
static void *g_holder;
static unsigned char g_msg[MSG];

struct feeder {
    int fd;
    pid_t reader;
    const long *blocked_in;
    struct wbt_collector *collector;
};

/* Once the reader blocks in its call and two collections (re-arming every page they
 * scanned) have run meanwhile, the message arrives. */
static void *feed(void *arg)
{
    struct feeder *f = arg;

    wbt_await_syscall(f->reader, f->blocked_in);
    wbt_await_collections(&f->collector->count, 2);
    if (write(f->fd, g_msg, MSG) != MSG)
        abort();
    return NULL;
}

static __attribute__((noinline)) void *holder_at(size_t off)
{
    return (char *)g_holder + off;
}

/* One round: y's address and a payload reach the holder at off through route. */
static __attribute__((noinline)) wbt_hidden kernel_write_round(enum route route, struct wbt_collector *c,
                                                               size_t off, uint64_t seed)
{
    wbt_hidden y = young_address_at(g_msg, 0, seed);
    int fd[2], is_pipe = route != ROUTE_PREAD;
    pthread_t feeder;
    ssize_t got;
    struct feeder f = { 0, (pid_t)syscall(SYS_gettid), route == ROUTE_READ ? in_read : in_uring, c };

    wbt_fill(g_msg + sizeof(void *), PAYLOAD, seed + 1);
    if (is_pipe) {
        assert_int_equal(pipe(fd), 0);
        f.fd = fd[1];
        assert_int_equal(pthread_create(&feeder, NULL, feed, &f), 0);
    } else {
        char path[] = "/tmp/wbt-kernel-writes-XXXXXX";
        fd[0] = fd[1] = mkstemp(path);
        assert_true(fd[0] >= 0);
        unlink(path);
        assert_int_equal(write(fd[1], g_msg, MSG), MSG);
        wbt_await_collections(&c->count, 1);
    }
    wb_prepare_kernel_write(holder_at(off), MSG);
    errno = 0;
    got = kernel_copy(route, fd[0], is_pipe, holder_at(off), MSG);
    if (got != MSG)
        fail_msg("%s of %d bytes into an old object at offset %zu: %zd (%s)", route_name[route], MSG, off,
                 got, strerror(errno));
    if (is_pipe) {
        assert_int_equal(pthread_join(feeder, NULL), 0);
        close(fd[1]);
    }
    close(fd[0]);
    explicit_bzero(g_msg, MSG);
    return y;
}

/* Where round r of rounds writes in the holder: spread over its pages, word-aligned. */
static size_t round_offset(int r, int rounds)
{
    return (size_t)r * (HOLDER - MSG) / (size_t)(rounds - 1) / 8 * 8;
}

static void check_kernel_writes_while_collecting(enum route route)
{
    struct wbt_collector c;
    wbt_hidden y[PREAD_ROUNDS];   /* the most rounds */
    int rounds = route == ROUTE_PREAD ? PREAD_ROUNDS : ROUNDS;
    struct wb_stats st;

    WBT_NEEDS_KERNEL_BARRIER("the kernel's writes bypass WB_STORE");
    g_holder = wb_malloc(HOLDER);
    assert_non_null(g_holder);
    wb_collect(WB_COLLECT_FULL);   /* old: its pages are armed */
    wbt_collector_start(&c, WB_COLLECT_YOUNG);
    for (int r = 0; r < rounds; r++) {
        y[r] = kernel_write_round(route, &c, round_offset(r, rounds), 100 * (uint64_t)r);
    }
    wbt_scrub_stack();
    wbt_await_collections(&c.count, 2);   /* the young objects' only references: the holder */
    wbt_collector_stop(&c);
    wbt_churn(YOUNG, 500);
    for (int r = 0; r < rounds; r++) {
        size_t off = round_offset(r, rounds);
        assert_holds(holder_at(off), y[r], 100 * (uint64_t)r);
        assert_true(wbt_intact(holder_at(off + sizeof(void *)), PAYLOAD, 100 * (uint64_t)r + 1));
    }
    wb_get_stats(&st);
    print_message("%s: %s: %d kernel writes, %d collections meanwhile, %llu barrier faults\n",
                  wb_barrier_name(), route_name[route], rounds, c.count,
                  (unsigned long long)st.barrier_faults);
    wb_prepare_kernel_write(NULL, 0);
    g_holder = NULL;
}

static void test_collect_read_while_collecting(void **state)
{
    (void)state;
    check_kernel_writes_while_collecting(ROUTE_READ);
}

static void test_collect_pread_while_collecting(void **state)
{
    (void)state;
    check_kernel_writes_while_collecting(ROUTE_PREAD);
}

static void test_collect_io_uring_while_collecting(void **state)
{
    (void)state;
    check_kernel_writes_while_collecting(ROUTE_IO_URING);
}

/* ---- One kernel write over a prepared range across pages, objects and page runs ---- */

/* Three large objects, each alone in a run of three pages (the last page half used),
 * side by side; the range runs from the end of the first one's first page to just past
 * the start of the third one's second page. */
enum { RUN = 3 * PAGE, OBJ = RUN - PAGE / 2, OBJS = 3 };
#define RANGE_LO ((size_t)PAGE - 200)
#define RANGE_HI ((size_t)(OBJS - 1) * RUN + PAGE + 200)
#define RANGE_LEN (RANGE_HI - RANGE_LO)
static void *g_objs[OBJS];

/* Where the range holds young objects' addresses: one in every page it crosses that
 * belongs to an object (offsets from the first object). */
static const size_t pointer_at[] = { PAGE + 64, 2 * PAGE + 64, RUN + 64, RUN + PAGE + 64,
                                     RUN + 2 * PAGE + 64, 2 * RUN + 64, 2 * RUN + PAGE + 64 };
#define POINTERS (sizeof pointer_at / sizeof pointer_at[0])

static __attribute__((noinline)) void new_adjacent_old_objects(void)
{
    for (int i = 0; i < OBJS; i++) {
        g_objs[i] = wb_malloc(OBJ);
        assert_non_null(g_objs[i]);
        wbt_fill(g_objs[i], OBJ, 900 + (uint64_t)i);
    }
    for (int i = 1; i < OBJS; i++)
        if ((char *)g_objs[i] != (char *)g_objs[0] + (size_t)i * RUN)
            fail_msg("objects %p %p %p are not side by side in runs of %d bytes", g_objs[0], g_objs[1],
                     g_objs[2], RUN);
    wb_collect(WB_COLLECT_FULL);
}

/* The range's new content: a payload with young objects' addresses at pointer_at[]. */
static __attribute__((noinline)) void range_content(unsigned char *buf, wbt_hidden *y)
{
    wbt_fill(buf, RANGE_LEN, 950);
    for (size_t i = 0; i < POINTERS; i++)
        y[i] = young_address_at(buf, pointer_at[i] - RANGE_LO, 960 + i);
}

/* The range holds the payload and the live young objects; the bytes around it are the
 * objects' own. */
static __attribute__((noinline)) void assert_range(const wbt_hidden *y)
{
    unsigned char *lo = (unsigned char *)g_objs[0] + RANGE_LO, *expect = malloc(RANGE_LEN);

    assert_non_null(expect);
    wbt_fill(expect, RANGE_LEN, 950);
    for (size_t i = 0; i < POINTERS; i++) {
        assert_holds(lo + pointer_at[i] - RANGE_LO, y[i], 960 + i);
        memcpy(expect + pointer_at[i] - RANGE_LO, lo + pointer_at[i] - RANGE_LO, sizeof(void *));
    }
    assert_memory_equal(lo, expect, RANGE_LEN);
    free(expect);
    expect = malloc(OBJ);
    assert_non_null(expect);
    wbt_fill(expect, OBJ, 900 + OBJS - 1);
    assert_true(wbt_intact(g_objs[0], RANGE_LO, 900));
    assert_memory_equal((char *)g_objs[0] + RANGE_HI, expect + RANGE_HI - (OBJS - 1) * RUN,
                        OBJ - (RANGE_HI - (OBJS - 1) * RUN));
    free(expect);
}

/* In a fresh process (WBT_FRESH_PROCESS, first in the test: it runs the test of that
 * name), whose empty heap puts the runs side by side. */
#define PREPARED_RANGE_TEST(name, route)                                                  \
    static void name(void **state)                                                      \
    {                                                                                   \
        (void)state;                                                                    \
        WBT_NEEDS_KERNEL_BARRIER("the kernel's writes bypass WB_STORE");                \
        WBT_FRESH_PROCESS("WBRT_YOUNG_BYTES=64M");                                      \
        check_prepared_range(route);                                                    \
    }

static void check_prepared_range(enum route route)
{
    unsigned char *buf = malloc(RANGE_LEN);
    wbt_hidden y[POINTERS];
    ssize_t got;
    int fd[2];

    assert_non_null(buf);
    new_adjacent_old_objects();
    range_content(buf, y);
    if (route == ROUTE_PREAD) {
        char path[] = "/tmp/wbt-kernel-writes-XXXXXX";
        fd[0] = fd[1] = mkstemp(path);
        assert_true(fd[0] >= 0);
        unlink(path);
    } else {
        assert_int_equal(pipe(fd), 0);   /* 64 KiB: holds the range */
    }
    assert_int_equal(write(fd[1], buf, RANGE_LEN), RANGE_LEN);
    explicit_bzero(buf, RANGE_LEN);
    free(buf);
    wb_prepare_kernel_write((char *)g_objs[0] + RANGE_LO, RANGE_LEN);
    errno = 0;
    got = kernel_copy(route, fd[0], route != ROUTE_PREAD, (char *)g_objs[0] + RANGE_LO, RANGE_LEN);
    if (got != (ssize_t)RANGE_LEN)
        fail_msg("%s over %zu prepared bytes: %zd (%s)", route_name[route], RANGE_LEN, got, strerror(errno));
    close(fd[0]);
    if (fd[1] != fd[0])
        close(fd[1]);
    for (int i = 0; i < 2; i++) {
        wbt_scrub_stack();
        wb_collect(WB_COLLECT_YOUNG);
        wbt_churn(YOUNG, 500);
        assert_range(y);
    }
    wb_prepare_kernel_write(NULL, 0);
}

PREPARED_RANGE_TEST(test_collect_prepared_range_read, ROUTE_READ)
PREPARED_RANGE_TEST(test_collect_prepared_range_pread, ROUTE_PREAD)
PREPARED_RANGE_TEST(test_collect_prepared_range_io_uring, ROUTE_IO_URING)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_collect_read_while_collecting),
        cmocka_unit_test(test_collect_pread_while_collecting),
        cmocka_unit_test(test_collect_io_uring_while_collecting),
        cmocka_unit_test(test_collect_prepared_range_read),
        cmocka_unit_test(test_collect_prepared_range_pread),
        cmocka_unit_test(test_collect_prepared_range_io_uring),
    };

    wbt_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
