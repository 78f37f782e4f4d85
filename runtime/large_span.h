/* Spans of a large object's pages, and which of them hold data: a big buffer touched in
 * a few places is scanned and armed by its touched parts, the rest left uncommitted.
 * Design: docs/design/generations.md
 * SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef WBRT_LARGE_SPAN_H
#define WBRT_LARGE_SPAN_H

#include <stdbool.h>
#include <stddef.h>
#include "heap.h"

/* The first page of the large object page pg (a head or tail page) belongs to. */
static inline size_t large_head(size_t pg)
{
    return H.pages[pg].kind == PK_TAIL ? H.pages[pg].aux : pg;
}
/* One past the last page of the large object page pg belongs to; pg + 1 for any other page. */
size_t large_end(size_t pg);

/* Called for each part [pg, end) of a span, in order; populated: the kernel has (some of)
 * its pages, else they were never written (or were given back) and read as zero. */
typedef void (*span_part_fn)(void *ctx, size_t pg, size_t end, bool populated);
/* Splits pages [pg, end) into such parts.  A span too short to be worth the question, or
 * one the question failed for, is one populated part. */
void span_parts(size_t pg, size_t end, span_part_fn fn, void *ctx);

#endif
