/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libwbrt-preload.so: state shared by its parts.
 * Design: docs/design/preload.md */
#ifndef WBRT_PRELOAD_H
#define WBRT_PRELOAD_H

#include <dlfcn.h>
#include <stdbool.h>
#include <stddef.h>
#include "gc.h"

#define PRELOAD_API __attribute__((visibility("default")))

/* Set once the collector is up (the library's constructor); until then, and for good if
 * it could not start, the program's allocations go to glibc's allocator. */
extern int preload_ready;

/* gc_inside (gc.h) is set while this thread runs wbrt code on the program's behalf: an
 * allocation made from there (glibc functions the runtime calls) goes to glibc's
 * allocator, never back into the collector that may hold its lock. */

static inline bool preload_use_heap(void)
{
    return __atomic_load_n(&preload_ready, __ATOMIC_ACQUIRE) && !gc_inside;
}

/* glibc's definition of name, found once (dlsym allocates: never from inside malloc). */
#define REAL(ret, name, params)                                                           \
    static ret(*real_##name) params;                                                      \
    if (!real_##name)                                                                     \
        real_##name = (ret(*) params)dlsym(RTLD_NEXT, #name)

/* Under the mprotect barrier, before the kernel writes n bytes at p: if p is in the heap,
 * its pages are recorded dirty and made writable (kernel_writes.c). */
void prep(const void *p, size_t n);

/* glibc's own allocator, under its exported internal names (no dlsym: dlsym allocates). */
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);
extern void *__libc_memalign(size_t align, size_t n);
extern void __libc_free(void *p);

/* The calling process is the one whose threads the collector stops (exec.c): at load, and
 * in a fork child. */
void preload_exec_owner(void);

/* glibc's malloc_usable_size, for its own blocks (found by the constructor). */
extern size_t (*preload_libc_usable_size)(void *p);

#endif
