/* Boehm GC compatibility: the debugging allocator.  wbrt's objects carry no debugging
 * header, and its checks (a bad pointer to free aborts) are always on: these are the
 * plain calls.  SPDX-License-Identifier: GPL-2.0-or-later */
#include "include/wbrt-gc/gc.h"

void *GC_debug_malloc(size_t n, const char *s, int i)
{
    (void)s, (void)i;
    return GC_malloc(n);
}

void *GC_debug_malloc_atomic(size_t n, const char *s, int i)
{
    (void)s, (void)i;
    return GC_malloc_atomic(n);
}

void *GC_debug_malloc_uncollectable(size_t n, const char *s, int i)
{
    (void)s, (void)i;
    return GC_malloc_uncollectable(n);
}

void GC_debug_free(void *p) { GC_free(p); }

void GC_debug_register_finalizer_ignore_self(void *obj, GC_finalization_proc fn, void *cd,
                                             GC_finalization_proc *ofn, void **ocd)
{
    GC_register_finalizer_ignore_self(obj, fn, cd, ofn, ocd);
}
