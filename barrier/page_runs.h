/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The page bookkeeping of the barriers that protect pages themselves (mprotect, uffd):
 * which heap pages are armed and which are protected now, and walks over runs of them, so
 * that adjacent pages share one system call.  No lock: the bits are atomic, and each
 * caller keeps its own discipline (a signal handler reads them, or a mutex guards them).
 * Design: docs/design/dirty-map.md */
#ifndef WBRT_PAGE_RUNS_H
#define WBRT_PAGE_RUNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "dirty_map.h"

struct page_runs {
    uintptr_t base;
    size_t len;
    /* A page stays armed once armed, until disarmed: harvest re-protects it. */
    struct dirty_map armed;
    struct dirty_map prot;      /* protected now */
};

/* Both bitmaps clear for the heap [base, base+len).  0, or -1 with errno (nothing kept). */
int page_runs_init(struct page_runs *pr, void *base, size_t len);
void page_runs_destroy(struct page_runs *pr);
/* The heap pages [*first, *first + n) that [addr, addr+len) touches; returns n. */
size_t page_runs_clip(const struct page_runs *pr, void *addr, size_t len, size_t *first);
void *page_runs_addr(const struct page_runs *pr, size_t page);
/* Heap pages [page, page+n) into dm, which may start elsewhere than the heap.  Returns n. */
size_t page_runs_report(const struct page_runs *pr, struct dirty_map *dm, size_t page, size_t n);
/* No page protected any more: the caller has made the whole heap writable. */
void page_runs_none_protected(struct page_runs *pr);

/* One maximal run of selected pages; false stops the walk. */
typedef bool page_run_fn(void *ctx, size_t page, size_t n);
/* fn once per run in [first, first+n) of the pages armed and not protected (written since
 * they were last protected), or of the protected pages.  Returns the pages of the runs
 * passed to fn, but for one it stopped at.  Whole words at a time: a harvest walks the
 * bitmaps of the whole heap. */
size_t page_runs_written(struct page_runs *pr, size_t first, size_t n, page_run_fn *fn, void *ctx);
size_t page_runs_protected(struct page_runs *pr, size_t first, size_t n, page_run_fn *fn, void *ctx);

#endif
