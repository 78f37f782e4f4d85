/* Writable segments of every loaded object: the globals that are GC roots.
 * Design: docs/design/os.md */
#ifndef WBRT_OS_SEGMENTS_H
#define WBRT_OS_SEGMENTS_H

#include <stddef.h>
#include <stdint.h>

struct os_range { uintptr_t lo, hi; };

/* Fills out[0..max) with the writable PT_LOAD segments; returns how many there are
 * (may exceed max: the caller then grows its array and asks again). */
size_t os_writable_segments(struct os_range *out, size_t max);

/* Bounds of the calling thread's stack: [*lo, *hi).  0 or -1. */
int os_stack_bounds(uintptr_t *lo, uintptr_t *hi);
/* The same from pthread_getattr_np, which reads /proc/self/maps for the main thread (for
 * the tests that compare). */
int os_thread_stack_bounds(uintptr_t *lo, uintptr_t *hi);

#endif
