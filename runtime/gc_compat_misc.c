/* Boehm GC compatibility: blocking regions, the start callback, settings wbrt keeps but
 * does not need, heap dumps and visibility checks.
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdio.h>
#include <stdlib.h>
#include "include/wbrt-gc/gc.h"
#include "include/wbrt-gc/gc_mark.h"
#include "gc.h"
#include "gc_compat.h"
#include "heap.h"
#include "segments.h"

/* A thread blocked in a system call is stopped by the stop signal like any other, and
 * its whole stack is scanned: a blocking region needs no bookkeeping. */
void *GC_do_blocking(GC_fn_type fn, void *cd) { return fn(cd); }
void *GC_call_with_gc_active(GC_fn_type fn, void *cd) { return fn(cd); }

void GC_abort_on_oom(void)
{
    fputs("Insufficient memory for the allocation\n", stderr);
    exit(1);
}

void GC_set_start_callback(GC_start_callback_proc fn)
{
    gc_compat_ready();
    pthread_mutex_lock(&H.lock);
    gc_start_hook = fn;
    pthread_mutex_unlock(&H.lock);
}

GC_start_callback_proc GC_get_start_callback(void)
{
    gc_compat_ready();
    pthread_mutex_lock(&H.lock);
    GC_start_callback_proc fn = gc_start_hook;
    pthread_mutex_unlock(&H.lock);
    return fn;
}

static unsigned long time_limit = GC_TIME_UNLIMITED;
void GC_set_time_limit(unsigned long ms) { __atomic_store_n(&time_limit, ms, __ATOMIC_RELAXED); }
unsigned long GC_get_time_limit(void) { return __atomic_load_n(&time_limit, __ATOMIC_RELAXED); }

int GC_get_full_freq(void) { return 19; } /* bdwgc's default, which wbrt does not use */

void GC_set_handle_fork(int on) { (void)on; }

char *GC_stackbottom;

void gc_compat_misc_init(void)
{
    uintptr_t lo, hi;
    if (!GC_stackbottom && os_stack_bounds(&lo, &hi) == 0)
        GC_stackbottom = (char *)hi;
}

void GC_dump(void)
{
    GC_word heap, free_bytes, unmapped, since, total;
    GC_get_heap_usage_safe(&heap, &free_bytes, &unmapped, &since, &total);
    printf("***wbrt heap after collection #%lu\n"
           "heap size %lu, free %lu, unmapped %lu, allocated since the last collection %lu, "
           "allocated in all %lu\nincremental (generational) %s, interior pointers %s\n",
           GC_get_gc_no(), heap, free_bytes, unmapped, since, total,
           GC_is_incremental_mode() ? "on" : "off", GC_get_all_interior_pointers() ? "on" : "off");
    fflush(stdout);
}

void *GC_is_visible(void *p)
{
    gc_compat_ready();
    uintptr_t a = (uintptr_t)p;
    if (!in_heap(a))
        return p;
    size_t size, pg;
    uintptr_t obj = heap_slot(a, &size, &pg);
    if (!obj || !is_allocated(gran_of(obj)) || (H.pages[pg].flags & PF_ATOMIC)) {
        fprintf(stderr, "wbrt: GC_is_visible(%p): not inside an object whose words are scanned\n", p);
        abort();
    }
    return p;
}
