/* SPDX-License-Identifier: GPL-2.0-or-later */
/* /proc/self/pagemap and its PAGEMAP_SCAN ioctl. */
#ifndef WBRT_OS_PAGEMAP_H
#define WBRT_OS_PAGEMAP_H

#include <stddef.h>
#include <stdint.h>
#include "uapi_uffd.h"

/* An O_CLOEXEC fd on /proc/self/pagemap (it stays bound to this process's address space
 * across fork: a child must open its own), or -1 with errno. */
int pagemap_open(void);

typedef void (*pagemap_region_fn)(void *ctx, uintptr_t start, uintptr_t end);

/* PAGEMAP_SCAN over [start, end) for the pages that have every PAGE_IS_* bit of
 * `categories`; flags are PM_SCAN_*.  Calls fn once per region of adjacent matching pages,
 * using the caller's buffer of nbuf regions (the walk resumes where a full buffer stopped).
 * 0, or -1 with errno (pages already passed to fn stay reported). */
int pagemap_scan(int fd, uintptr_t start, uintptr_t end, uint64_t flags, uint64_t categories,
                 struct page_region *buf, size_t nbuf, pagemap_region_fn fn, void *ctx);

#endif
