/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the kernel knows of a range's pages, in the collector's words: which hold data, and
 * which of a private file mapping this process wrote.  The mechanism (pagemap) stays here
 * (docs/design/os.md). */
#ifndef WBRT_OS_PAGE_STATE_H
#define WBRT_OS_PAGE_STATE_H

#include <stdint.h>
#include "pagemap.h"

/* Called once per run [lo, hi) of adjacent pages. */
typedef void (*os_page_run_fn)(void *ctx, uintptr_t lo, uintptr_t hi);

/* Ranges of at least this many bytes are worth asking about (below it, touching every
 * page costs less than the question). */
#define OS_PAGE_STATE_MIN PAGEMAP_SPARSE_MIN

/* Calls fn for each run of [lo, hi) whose pages hold data (in memory or swap); the others
 * were never written, or were given back, and read as zero.  0, or -1 with errno (runs
 * before the failure may have been reported).  Not async-signal-safe; one caller at a time. */
int os_populated_runs(uintptr_t lo, uintptr_t hi, os_page_run_fn fn, void *ctx);

/* Calls fn for each run of [lo, hi), page-aligned and in a MAP_PRIVATE file mapping, that
 * this process wrote (it owns a private copy).  Asks afresh at each call: a fork child
 * never reads its parent's answer.  0, or -1 with errno (runs reported stay reported). */
int os_written_runs(uintptr_t lo, uintptr_t hi, os_page_run_fn fn, void *ctx);

#endif
