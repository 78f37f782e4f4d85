/* wbrt's <gc_inline.h>: the predefined kinds and lists of objects of a kind.  (bdwgc's
 * inline allocation macros are not provided: allocate with GC_generic_malloc_many.)
 * SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef WBRT_BOEHM_GC_INLINE_H
#define WBRT_BOEHM_GC_INLINE_H

#include "gc.h"

#ifdef __cplusplus
extern "C" {
#endif

#define GC_I_PTRFREE 0
#define GC_I_NORMAL 1
/* *result: about a page of lb-byte objects of kind k, linked through their first words
 * (GC_NEXT; the last one's is NULL; the links of pointer-free objects keep nothing
 * alive); NULL if none could be allocated. */
WBRT_GC_API void GC_generic_malloc_many(size_t lb, int k, void **result);

#ifdef __cplusplus
}
#endif
#endif
