/* Pagemap read cost for the softdirty barrier's harvest: on a populated range, times
 *   pread of the 8-byte entries in batches of several sizes (decoding bit 55),
 *   the same reads through io_uring with several in flight (with IOSQE_ASYNC: on io-wq
 *   workers, which read in parallel; without it, procfs reads run one at a time),
 *   PAGEMAP_SCAN for PAGE_IS_SOFT_DIRTY (and PAGE_IS_PRESENT, where every page matches),
 *   and writing "4" to /proc/self/clear_refs (the other half of a harvest).
 * Methods alternate within each round; prints median/min/max per method, side by side.
 * Usage: pagemap_read [rounds] [MiB...]   (default 9 rounds, 256 and 2048 MiB)
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include "pagemap.h"

#define PAGE ((size_t)1 << PAGEMAP_PAGE_SHIFT)
#define MAX_ROUNDS 64
#define MAX_INFLIGHT 8
#define SCAN_REGIONS 512

static int pagemap, clear_refs;
static char *range;
static size_t npages;
static uint64_t *entries;       /* MAX_INFLIGHT buffers of at most 4 MiB (512 Ki entries) */
static struct page_region *regions;
static size_t reported;         /* pages reported by the last method */

static void die(const char *what)
{
    fprintf(stderr, "pagemap_read: %s: %s\n", what, strerror(errno));
    exit(1);
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void count(void *ctx, uintptr_t start, uintptr_t end)
{
    (void)ctx;
    reported += (end - start) / PAGE;
}

static void by_pread(size_t batch)
{
    for (size_t p = 0; p < npages; p += batch) {
        size_t n = npages - p < batch ? npages - p : batch;
        uintptr_t a = (uintptr_t)range + p * PAGE;
        if (pagemap_read(pagemap, a, entries, n) < 0)
            die("pread /proc/self/pagemap");
        pagemap_soft_dirty_runs(entries, n, a, count, NULL);
    }
}

static struct io_uring ring;

static unsigned sqe_flags;

static void submit(size_t slot, size_t p, size_t batch)
{
    size_t n = npages - p < batch ? npages - p : batch;
    struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
    io_uring_prep_read(sqe, pagemap, entries + slot * batch, (unsigned)(n * 8), (p + (uintptr_t)range / PAGE) * 8);
    io_uring_sqe_set_data64(sqe, slot | (uint64_t)p << 8);
    io_uring_sqe_set_flags(sqe, sqe_flags);
}

/* Batches of `batch` entries, `depth` reads in flight, each decoded as it completes. */
static void by_uring(size_t batch, size_t depth, unsigned flags)
{
    sqe_flags = flags;
    size_t next = 0, inflight = 0;
    for (size_t s = 0; s < depth && next < npages; s++, next += batch, inflight++)
        submit(s, next, batch);
    while (inflight) {
        struct io_uring_cqe *cqe;
        if (io_uring_submit_and_wait(&ring, 1) < 0 || io_uring_wait_cqe(&ring, &cqe) < 0)
            die("io_uring wait");
        size_t slot = cqe->user_data & 0xff, p = cqe->user_data >> 8;
        size_t n = npages - p < batch ? npages - p : batch;
        if (cqe->res != (int)(n * 8)) {
            errno = cqe->res < 0 ? -cqe->res : EIO;
            die("io_uring read of /proc/self/pagemap");
        }
        io_uring_cqe_seen(&ring, cqe);
        pagemap_soft_dirty_runs(entries + slot * batch, n, (uintptr_t)range + p * PAGE, count, NULL);
        inflight--;
        if (next < npages) {
            submit(slot, next, batch);
            next += batch;
            inflight++;
        }
    }
}

static void by_scan(uint64_t category)
{
    if (pagemap_scan(pagemap, (uintptr_t)range, (uintptr_t)range + npages * PAGE, 0, category,
                     regions, SCAN_REGIONS, count, NULL) < 0)
        die("PAGEMAP_SCAN");
}

enum kind { PREAD, URING, SCAN, CLEAR };
static const struct method {
    const char *name;
    enum kind kind;
    size_t batch, depth;        /* entries per read, reads in flight */
    uint64_t category;          /* SCAN: PAGE_IS_*; URING: sqe flags */
} methods[] = {
    {"pread    4 KiB batches", PREAD, 512, 1, 0},
    {"pread   64 KiB batches", PREAD, 8192, 1, 0},
    {"pread  512 KiB batches", PREAD, 65536, 1, 0},
    {"pread    4 MiB batches", PREAD, 524288, 1, 0},
    {"uring   64 KiB x4 in flight", URING, 8192, 4, 0},
    {"uring  512 KiB x8 in flight", URING, 65536, 8, 0},
    {"uring   16 KiB x4 IOSQE_ASYNC", URING, 2048, 4, IOSQE_ASYNC},
    {"uring   64 KiB x2 IOSQE_ASYNC", URING, 8192, 2, IOSQE_ASYNC},
    {"uring   64 KiB x4 IOSQE_ASYNC", URING, 8192, 4, IOSQE_ASYNC},
    {"uring  512 KiB x8 IOSQE_ASYNC", URING, 65536, 8, IOSQE_ASYNC},
    {"PAGEMAP_SCAN SOFT_DIRTY", SCAN, 0, 0, PAGE_IS_SOFT_DIRTY},
    {"PAGEMAP_SCAN PRESENT (all match)", SCAN, 0, 0, PAGE_IS_PRESENT},
    {"clear_refs 4 (whole process)", CLEAR, 0, 0, 0},
};
#define NMETHODS (sizeof methods / sizeof methods[0])

static double run(const struct method *m)
{
    reported = 0;
    double t = now_ms();
    switch (m->kind) {
    case PREAD: by_pread(m->batch); break;
    case URING: by_uring(m->batch, m->depth, (unsigned)m->category); break;
    case SCAN: by_scan(m->category); break;
    case CLEAR:
        if (clear_refs_soft_dirty(clear_refs) < 0)
            die("write /proc/self/clear_refs");
        break;
    }
    t = now_ms() - t;
    /* Nothing writes the range between passes, so soft-dirty pages may show only before
     * the first clear; every page is present. */
    if (m->kind == SCAN && m->category == PAGE_IS_PRESENT ? reported != npages : reported > npages) {
        fprintf(stderr, "pagemap_read: %s reported %zu of %zu pages\n", m->name, reported, npages);
        exit(1);
    }
    return t;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Every page of the range must read back present: the entries are real. */
static void check_present(void)
{
    size_t batch = 524288;
    for (size_t p = 0; p < npages; p += batch) {
        size_t n = npages - p < batch ? npages - p : batch;
        if (pagemap_read(pagemap, (uintptr_t)range + p * PAGE, entries, n) < 0)
            die("pread /proc/self/pagemap");
        for (size_t i = 0; i < n; i++)
            if (!(entries[i] >> 63)) {
                fprintf(stderr, "pagemap_read: page %zu not present\n", p + i);
                exit(1);
            }
    }
}

static void bench(size_t mib, int rounds)
{
    static double t[NMETHODS][MAX_ROUNDS];
    npages = mib << 20 >> PAGEMAP_PAGE_SHIFT;
    range = mmap(NULL, npages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (range == MAP_FAILED)
        die("mmap");
    madvise(range, npages * PAGE, MADV_NOHUGEPAGE);
    for (size_t i = 0; i < npages; i++)
        range[i * PAGE] = 1;
    check_present();
    for (int r = 0; r < rounds; r++)
        for (size_t m = 0; m < NMETHODS; m++)
            t[m][r] = run(&methods[m]);
    printf("\n%zu MiB populated (%zu pages), %d rounds: ms per pass over the range\n", mib, npages, rounds);
    printf("%-34s %9s %9s %9s %11s\n", "method", "median", "min", "max", "ns/page");
    for (size_t m = 0; m < NMETHODS; m++) {
        qsort(t[m], (size_t)rounds, sizeof t[m][0], cmp);
        double med = t[m][rounds / 2];
        printf("%-34s %9.2f %9.2f %9.2f %11.2f\n", methods[m].name, med, t[m][0], t[m][rounds - 1],
               med * 1e6 / (double)npages);
    }
    munmap(range, npages * PAGE);
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 9;
    if (rounds < 1 || rounds > MAX_ROUNDS) {
        fprintf(stderr, "usage: pagemap_read [rounds 1..%d] [MiB...]\n", MAX_ROUNDS);
        return 2;
    }
    if ((pagemap = pagemap_open(true)) < 0)
        die("open /proc/self/pagemap");
    if ((clear_refs = clear_refs_open()) < 0)
        die("open /proc/self/clear_refs");
    entries = mmap(NULL, MAX_INFLIGHT * ((size_t)4 << 20), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    regions = mmap(NULL, SCAN_REGIONS * sizeof *regions, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (entries == MAP_FAILED || regions == MAP_FAILED)
        die("mmap buffers");
    memset(entries, 0, MAX_INFLIGHT * ((size_t)4 << 20));      /* no first-touch faults in the timings */
    int err = io_uring_queue_init(MAX_INFLIGHT, &ring, 0);
    if (err < 0) {
        errno = -err;
        die("io_uring_queue_init");
    }
    if (argc > 2)
        for (int i = 2; i < argc; i++)
            bench((size_t)atol(argv[i]), rounds);
    else {
        bench(256, rounds);
        bench(2048, rounds);
    }
    return 0;
}
