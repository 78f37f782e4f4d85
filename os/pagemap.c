/* SPDX-License-Identifier: GPL-2.0-or-later */
/* /proc/self/pagemap (PAGEMAP_SCAN, entries) and /proc/self/clear_refs.
 * Design: docs/design/os.md */
#include "pagemap.h"
#include "sys.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/types.h>
#include <unistd.h>

int pagemap_open(bool kept)
{
    int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    return kept ? os_fd_aside(fd) : fd;
}

/* Runs the walk arg describes to its end, one ioctl per full buffer. */
static int scan_all(int fd, struct pm_scan_arg *arg, struct page_region *buf, pagemap_region_fn fn, void *ctx)
{
    for (;;) {
        long n = ioctl(fd, PAGEMAP_SCAN, arg);
        if (n < 0)
            return -1;
        for (long i = 0; i < n; i++)
            fn(ctx, buf[i].start, buf[i].end);
        /* The walk stops early only when the buffer is full. */
        if (arg->walk_end >= arg->end)
            return 0;
        arg->start = arg->walk_end;
    }
}

/* A walk over [start, end) for the pages whose categories, XORed with inverted, have
 * every bit of all and one of anyof (if not 0). */
static int scan_for(int fd, uintptr_t start, uintptr_t end, uint64_t flags, uint64_t all, uint64_t inverted,
                    uint64_t anyof, struct page_region *buf, size_t nbuf, pagemap_region_fn fn, void *ctx)
{
    struct pm_scan_arg arg = {
        .size = sizeof arg,
        .flags = flags,
        .start = start,
        .end = end,
        .vec = (uintptr_t)buf,
        .vec_len = nbuf,
        .category_inverted = inverted,
        .category_mask = all,
        .category_anyof_mask = anyof,
        .return_mask = all | anyof,
    };
    return scan_all(fd, &arg, buf, fn, ctx);
}

int pagemap_scan(int fd, uintptr_t start, uintptr_t end, uint64_t flags, uint64_t categories,
                 struct page_region *buf, size_t nbuf, pagemap_region_fn fn, void *ctx)
{
    return scan_for(fd, start, end, flags, categories, 0, 0, buf, nbuf, fn, ctx);
}

/* A never-populated page has no uffd-wp bit, so the kernel counts it as written; and with
 * PM_SCAN_WP_MATCHING it would install a protection marker in it (measured on 6.18: 2 GiB
 * never touched, 8.6 ms and 4 MiB of page tables, after which it reads as swapped out).
 * Nor is a page that was only read (the shared zero page) written. */
int pagemap_scan_written(int fd, uintptr_t start, uintptr_t end, uint64_t flags,
                         struct page_region *buf, size_t nbuf, pagemap_region_fn fn, void *ctx)
{
    return scan_for(fd, start, end, flags, PAGE_IS_WRITTEN | PAGE_IS_PFNZERO, PAGE_IS_PFNZERO,
                    PAGE_IS_PRESENT | PAGE_IS_SWAPPED, buf, nbuf, fn, ctx);
}

int pagemap_private_copies(int fd, uintptr_t start, uintptr_t end, struct page_region *buf,
                           size_t nbuf, pagemap_region_fn fn, void *ctx)
{
    /* Not a file page, and present or swapped out (a file page is never swapped). */
    return scan_for(fd, start, end, 0, PAGE_IS_FILE, PAGE_IS_FILE, PAGE_IS_PRESENT | PAGE_IS_SWAPPED,
                    buf, nbuf, fn, ctx);
}

/* Entry bits 63 and 62: the page is present, or swapped out. */
#define PAGEMAP_PRESENT_OR_SWAPPED ((uint64_t)3 << 62)

struct clip {
    uintptr_t lo, hi;
    pagemap_region_fn fn;
    void *ctx;
};

static void clipped(void *ctx, uintptr_t start, uintptr_t end)
{
    const struct clip *c = ctx;
    start = start > c->lo ? start : c->lo;
    end = end < c->hi ? end : c->hi;
    if (start < end)
        c->fn(c->ctx, start, end);
}

/* Without PAGEMAP_SCAN: the entries, a chunk at a time. */
static int populated_from_entries(int fd, uintptr_t start, uintptr_t end, struct clip *c)
{
    uint64_t e[512];
    for (uintptr_t a = start; a < end;) {
        size_t n = (end - a) >> PAGEMAP_PAGE_SHIFT;
        n = n < 512 ? n : 512;
        if (pagemap_read(fd, a, e, n) < 0)
            return -1;
        for (size_t i = 0; i < n;) {
            size_t run = i;
            while (i < n && (e[i] & PAGEMAP_PRESENT_OR_SWAPPED))
                i++;
            if (i > run)
                clipped(c, a + (run << PAGEMAP_PAGE_SHIFT), a + (i << PAGEMAP_PAGE_SHIFT));
            while (i < n && !(e[i] & PAGEMAP_PRESENT_OR_SWAPPED))
                i++;
        }
        a += n << PAGEMAP_PAGE_SHIFT;
    }
    return 0;
}

int pagemap_populated(uintptr_t lo, uintptr_t hi, pagemap_region_fn fn, void *ctx)
{
    static int fd = -1;
    static pid_t owner;
    static int no_scan;
    struct page_region buf[64];
    struct clip c = {lo, hi, fn, ctx};
    uintptr_t page = ((uintptr_t)1 << PAGEMAP_PAGE_SHIFT) - 1;
    uintptr_t start = lo & ~page, end = (hi + page) & ~page;
    /* the fd reads the address space of the process that opened it: not a forked child's */
    if (fd < 0 || owner != getpid()) {
        if (fd >= 0)
            os_fd_close(fd);
        if ((fd = pagemap_open(true)) < 0)
            return -1;
        owner = getpid();
    }
    if (!no_scan) {
        if (scan_for(fd, start, end, 0, PAGE_IS_PFNZERO, PAGE_IS_PFNZERO, PAGE_IS_PRESENT | PAGE_IS_SWAPPED, buf,
                     sizeof buf / sizeof *buf, clipped, &c) == 0)
            return 0;
        if (errno != ENOTTY && errno != EINVAL)
            return -1;
        no_scan = 1;    /* a kernel before 6.7 */
    }
    return populated_from_entries(fd, start, end, &c);
}

int pagemap_read(int fd, uintptr_t addr, uint64_t *buf, size_t n)
{
    size_t want = n * sizeof *buf;
    ssize_t got = os_pread(fd, buf, want, (off_t)((addr >> PAGEMAP_PAGE_SHIFT) * sizeof *buf));
    if (got < 0)
        return -1;
    if ((size_t)got != want) {
        errno = EIO;
        return -1;
    }
    return 0;
}

void pagemap_soft_dirty_runs(const uint64_t *entries, size_t n, uintptr_t first_page_addr,
                             pagemap_region_fn fn, void *ctx)
{
    size_t i = 0;
    for (;;) {
        while (i < n && !(entries[i] & PAGEMAP_SOFT_DIRTY))
            i++;
        if (i == n)
            return;
        size_t run = i;
        while (i < n && (entries[i] & PAGEMAP_SOFT_DIRTY))
            i++;
        fn(ctx, first_page_addr + (run << PAGEMAP_PAGE_SHIFT), first_page_addr + (i << PAGEMAP_PAGE_SHIFT));
    }
}

int clear_refs_open(void)
{
    return os_fd_aside(open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC));
}

int clear_refs_soft_dirty(int fd)
{
    ssize_t n = write(fd, "4", 1);
    if (n == 1)
        return 0;
    if (n >= 0)
        errno = EIO;
    return -1;
}
