/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Page states for the collector, answered by pagemap (os/pagemap.c).
 * Design: docs/design/os.md */
#include "page_state.h"
#include <errno.h>
#include <unistd.h>

#define REGIONS 64      /* PAGEMAP_SCAN results per ioctl: the walk resumes when they fill */

int os_populated_runs(uintptr_t lo, uintptr_t hi, os_page_run_fn fn, void *ctx)
{
    return pagemap_populated(lo, hi, fn, ctx);
}

int os_written_runs(uintptr_t lo, uintptr_t hi, os_page_run_fn fn, void *ctx)
{
    struct page_region buf[REGIONS];
    int fd = pagemap_open(false);   /* per call: the descriptor stays bound to the opener */
    if (fd < 0)
        return -1;
    int rc = pagemap_private_copies(fd, lo, hi, buf, REGIONS, fn, ctx);
    int err = errno;
    close(fd);
    errno = err;
    return rc;
}
