/* SPDX-License-Identifier: GPL-2.0-or-later */
/* /proc/self/pagemap: its 64-bit entries, its PAGEMAP_SCAN ioctl, and the soft-dirty bits
 * that /proc/self/clear_refs clears.
 * Design: docs/design/os.md */
#ifndef WBRT_OS_PAGEMAP_H
#define WBRT_OS_PAGEMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "uapi_uffd.h"

/* One pagemap entry per base page (4 KiB on x86-64). */
#define PAGEMAP_PAGE_SHIFT 12
/* Entry bit 55: written since the last clear_refs "4" (also set on a freshly faulted page
 * and on every page of a mapping created since: both over-report). */
#define PAGEMAP_SOFT_DIRTY ((uint64_t)1 << 55)

/* An O_CLOEXEC fd on /proc/self/pagemap (it stays bound to this process's address space
 * across fork: a child must open its own), or -1 with errno.  kept: it stays open, so it
 * goes out of the program's sight (os_fd_aside); else the caller closes it at once. */
int pagemap_open(bool kept);

typedef void (*pagemap_region_fn)(void *ctx, uintptr_t start, uintptr_t end);

/* PAGEMAP_SCAN over [start, end) for the pages that have every PAGE_IS_* bit of
 * `categories`; flags are PM_SCAN_*.  Calls fn once per region of adjacent matching pages,
 * using the caller's buffer of nbuf regions (the walk resumes where a full buffer stopped).
 * 0, or -1 with errno (pages already passed to fn stay reported). */
int pagemap_scan(int fd, uintptr_t start, uintptr_t end, uint64_t flags, uint64_t categories,
                 struct page_region *buf, size_t nbuf, pagemap_region_fn fn, void *ctx);

/* PAGEMAP_SCAN as above for the pages written (not write-protected under an asynchronous
 * userfaultfd) that are populated (in memory or swapped out); flags as above: with
 * PM_SCAN_WP_MATCHING, never-populated pages are left alone, not protected. */
int pagemap_scan_written(int fd, uintptr_t start, uintptr_t end, uint64_t flags,
                         struct page_region *buf, size_t nbuf, pagemap_region_fn fn, void *ctx);

/* PAGEMAP_SCAN over [start, end) of a MAP_PRIVATE file mapping for the pages this process
 * owns a private copy of (it wrote them, or they are anonymous): regions as above. */
int pagemap_private_copies(int fd, uintptr_t start, uintptr_t end, struct page_region *buf,
                           size_t nbuf, pagemap_region_fn fn, void *ctx);

/* Calls fn for each run of [lo, hi) (clipped to it) whose pages are populated: in memory
 * (other than the shared zero page) or in swap.  The others were never written (or were
 * given back, or only read) and read as zero.
 * Uses PAGEMAP_SCAN, or the pagemap entries where that ioctl is missing; opens
 * /proc/self/pagemap once per process.  0, or -1 with errno (runs before the failure may
 * have been reported).  Not async-signal-safe; one caller at a time. */
int pagemap_populated(uintptr_t lo, uintptr_t hi, pagemap_region_fn fn, void *ctx);
/* Ranges of at least this many bytes are worth asking about: below it, reading or
 * protecting every page costs less than the question. */
#define PAGEMAP_SPARSE_MIN ((uintptr_t)64 << PAGEMAP_PAGE_SHIFT)

/* Reads the entries of the n pages from page-aligned addr into buf with one pread.
 * 0, or -1 with errno (EIO for a short read). */
int pagemap_read(int fd, uintptr_t addr, uint64_t *buf, size_t n);

/* Calls fn once per run of adjacent pages whose entry has PAGEMAP_SOFT_DIRTY; entries[i]
 * is the page at first_page_addr + (i << PAGEMAP_PAGE_SHIFT).  Other bits are ignored. */
void pagemap_soft_dirty_runs(const uint64_t *entries, size_t n, uintptr_t first_page_addr,
                             pagemap_region_fn fn, void *ctx);

/* An O_CLOEXEC write-only fd on /proc/self/clear_refs (bound to this process like the
 * pagemap fd), or -1 with errno. */
int clear_refs_open(void);
/* Writes "4": clears the soft-dirty bit of every page of the WHOLE process and
 * write-protects them all again (each takes a fault on its next write).  0 or -1, errno. */
int clear_refs_soft_dirty(int fd);

#endif
