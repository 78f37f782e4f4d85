/* wbrt's <gc_typed.h>: objects whose pointer words a bitmap names.
 * SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef WBRT_BOEHM_GC_TYPED_H
#define WBRT_BOEHM_GC_TYPED_H

#include "gc.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef GC_word *GC_bitmap; /* bit i (of word i / 64): word i may hold a pointer */
#define GC_WORDSZ (8 * sizeof(GC_word))
#define GC_get_bit(bm, index) (((bm)[(index) / GC_WORDSZ] >> ((index) % GC_WORDSZ)) & 1)
#define GC_set_bit(bm, index) ((bm)[(index) / GC_WORDSZ] |= (GC_word)1 << ((index) % GC_WORDSZ))
#define GC_WORD_OFFSET(t, f) (offsetof(t, f) / sizeof(GC_word))
#define GC_WORD_LEN(t) (sizeof(t) / sizeof(GC_word))
#define GC_BITMAP_SIZE(t) ((GC_WORD_LEN(t) + GC_WORDSZ - 1) / GC_WORDSZ)

typedef GC_word GC_descr;
/* The descriptor of objects whose first len words are as bm says; words past len hold
 * no pointers.  Call it once per type. */
WBRT_GC_API GC_descr GC_make_descriptor(const GC_word *bm, size_t len);
/* A zeroed object of n bytes (at least the descriptor's len words) scanned as d says.
 * Not for GC_realloc. */
WBRT_GC_API void *GC_malloc_explicitly_typed(size_t n, GC_descr d) __attribute__((malloc, alloc_size(1)));
#define GC_MALLOC_EXPLICITLY_TYPED(bytes, d) GC_malloc_explicitly_typed((bytes), (d))

#ifdef __cplusplus
}
#endif
#endif
