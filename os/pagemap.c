/* SPDX-License-Identifier: GPL-2.0-or-later */
/* PAGEMAP_SCAN: the kernel's page-table walk that reports (and can write-protect) pages. */
#include "pagemap.h"

#include <fcntl.h>
#include <unistd.h>

int pagemap_open(void)
{
    return open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
}

int pagemap_scan(int fd, uintptr_t start, uintptr_t end, uint64_t flags, uint64_t categories,
                 struct page_region *buf, size_t nbuf, pagemap_region_fn fn, void *ctx)
{
    struct pm_scan_arg arg = {
        .size = sizeof arg,
        .flags = flags,
        .start = start,
        .end = end,
        .vec = (uintptr_t)buf,
        .vec_len = nbuf,
        .category_mask = categories,
        .return_mask = categories,
    };
    for (;;) {
        long n = ioctl(fd, PAGEMAP_SCAN, &arg);
        if (n < 0)
            return -1;
        for (long i = 0; i < n; i++)
            fn(ctx, buf[i].start, buf[i].end);
        /* The walk stops early only when the buffer is full. */
        if (arg.walk_end >= end)
            return 0;
        arg.start = arg.walk_end;
    }
}
