/* SPDX-License-Identifier: GPL-2.0-or-later */
/* glibc's documented malloc set, served by the collected heap.  Blocks glibc's allocator
 * handed out (before the collector started, or to wbrt's own calls into glibc) stay
 * glibc's: free, realloc and malloc_usable_size send them back there.
 * Design: docs/design/preload.md */
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "gc.h"
#include "heap.h"
#include "leaks.h"
#include "preload.h"
#include "preload_stats.h"

int preload_ready;
size_t (*preload_libc_usable_size)(void *p);

static bool ours(const void *p) { return in_heap((uintptr_t)p); }

/* A block made inside a wrapped system call (stdio's buffer, on a FILE's first read) is
 * where the kernel is about to write: kept writable like the call's own buffers. */
static inline void *in_call(void *p, size_t n)
{
    if (p && gc_no_collect)
        prep(p, n);
    return p;
}

/* Leak mode: remember where the new block came from (inlined: leaks_record skips
 * exactly itself and the malloc-family function). */
static inline __attribute__((always_inline)) void *recorded(void *p)
{
    if (p && preload_mode == PRELOAD_LEAK)
        leaks_record(p);
    return p;
}

PRELOAD_API void *malloc(size_t n)
{
    if (!preload_use_heap())
        return __libc_malloc(n);
    gc_inside++;
    void *p = wb_malloc(n);
    gc_inside--;
    return recorded(in_call(p, n));
}

PRELOAD_API void *calloc(size_t n, size_t size)
{
    if (!preload_use_heap())
        return __libc_calloc(n, size);
    gc_inside++;
    void *p = wb_calloc(n, size);
    gc_inside--;
    return recorded(in_call(p, n * size));
}

PRELOAD_API void free(void *p)
{
    if (!p)
        return;
    if (!ours(p)) {
        __libc_free(p);
        return;
    }
    /* From inside wbrt the collector's lock may be held: leave it to the collector. */
    if (gc_inside)
        return;
    gc_inside++;
    wb_free(p);
    gc_inside--;
}

PRELOAD_API void *realloc(void *p, size_t n)
{
    if (!p)
        return malloc(n);
    if (!ours(p))
        return __libc_realloc(p, n);
    if (gc_inside) {
        /* rare (a glibc function growing a block the program gave it): copy out */
        void *q = __libc_malloc(n);
        size_t old = wb_size(p);
        if (q)
            memcpy(q, p, old < n ? old : n);
        return q;
    }
    gc_inside++;
    void *q = in_call(wb_realloc(p, n), n);
    gc_inside--;
    return q != p ? recorded(q) : q;
}

PRELOAD_API void *reallocarray(void *p, size_t n, size_t size)
{
    size_t total;
    if (__builtin_mul_overflow(n, size, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    return realloc(p, total);
}

/* NULL with EINVAL if align is not a power of two. */
static void *aligned(size_t align, size_t n)
{
    if (align == 0 || (align & (align - 1))) {
        errno = EINVAL;
        return NULL;
    }
    if (!preload_use_heap())
        return __libc_memalign(align, n);
    gc_inside++;
    void *p = alloc_aligned(align, n);
    gc_inside--;
    return recorded(in_call(p, n));
}

PRELOAD_API void *memalign(size_t align, size_t n) { return aligned(align, n); }
PRELOAD_API void *aligned_alloc(size_t align, size_t n) { return aligned(align, n); }
PRELOAD_API void *valloc(size_t n) { return aligned((size_t)sysconf(_SC_PAGESIZE), n); }

PRELOAD_API void *pvalloc(size_t n)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    if (n > SIZE_MAX - page) {
        errno = ENOMEM;
        return NULL;
    }
    return aligned(page, (n + page - 1) & ~(page - 1));
}

PRELOAD_API int posix_memalign(void **out, size_t align, size_t n)
{
    if (align < sizeof(void *) || (align & (align - 1)))
        return EINVAL;
    int saved = errno;
    void *p = aligned(align, n);
    if (!p) {
        int err = errno;
        errno = saved;
        return err;
    }
    *out = p;
    return 0;
}

PRELOAD_API size_t malloc_usable_size(void *p)
{
    if (!p)
        return 0;
    if (ours(p))
        return wb_size(p);
    return preload_libc_usable_size ? preload_libc_usable_size(p) : 0;
}

/* Tuning and reporting calls of glibc's allocator: accepted, nothing to do. */
PRELOAD_API int mallopt(int param, int value)
{
    (void)param, (void)value;
    return 1;
}

PRELOAD_API int malloc_trim(size_t pad)
{
    (void)pad;
    return 0;
}

PRELOAD_API struct mallinfo2 mallinfo2(void)
{
    struct mallinfo2 mi;
    memset(&mi, 0, sizeof mi);
    if (preload_use_heap()) {
        struct wb_stats s;
        gc_inside++;
        wb_get_stats(&s);
        gc_inside--;
        mi.arena = s.heap_bytes;
        mi.uordblks = s.live_bytes;
        mi.fordblks = s.heap_bytes > s.live_bytes ? s.heap_bytes - s.live_bytes : 0;
    }
    return mi;
}
