/* Smaller calls Debian's libgc users import: roots cleared, the allocation lock, the
 * stack base, heap pointers, the suspend signal, unmapping collections, the version.
 * SPDX-License-Identifier: GPL-2.0-or-later */
#define GC_THREADS
#include <gc.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include "gct.h"

#define N 200

static void **links; /* atomic: keeps nothing */

static void *under_lock(void *cd)
{
    return (char *)cd + 1;
}

static void *stack_base(struct GC_stack_base *sb, void *arg)
{
    int local;
    return (char *)sb->mem_base > (char *)&local ? arg : NULL;
}

int main(void)
{
    GC_INIT();
    /* malloc'd memory, which neither collector scans unless registered */
    void **roots = malloc(N * sizeof *roots);
    links = GC_MALLOC_ATOMIC(N * sizeof *links);
    GC_add_roots(roots, roots + N);
    for (int i = 0; i < N; i++) {
        roots[i] = GC_MALLOC(64);
        links[i] = roots[i];
        GC_general_register_disappearing_link(&links[i], roots[i]);
    }
    gct_clear_stack();
    GC_gcollect();
    int kept = 1;
    for (int i = 0; i < N; i++)
        kept &= links[i] != NULL;
    GCT_CHECK("GC_add_roots: the range keeps its objects", kept);

    GC_clear_roots();
    gct_clear_stack();
    GC_gcollect_and_unmap();
    long gone = 0;
    for (int i = 0; i < N; i++)
        gone += links[i] == NULL;
    GCT_CHECK("GC_clear_roots: the range no longer keeps them", gone > N / 2);

    char c;
    GCT_CHECK("GC_call_with_alloc_lock: fn's result", GC_call_with_alloc_lock(under_lock, &c) == &c + 1);
    GCT_CHECK("GC_call_with_stack_base: the stack base above fn's frame",
              GC_call_with_stack_base(stack_base, &c) == &c);
    void *obj = GC_MALLOC(100);
    GCT_CHECK("GC_is_heap_ptr: an object", GC_is_heap_ptr(obj) && GC_is_heap_ptr((char *)obj + 50));
    GCT_CHECK("GC_is_heap_ptr: not the stack nor malloc'd memory", !GC_is_heap_ptr(&c) && !GC_is_heap_ptr(roots));
    int sig = GC_get_suspend_signal();
    GCT_CHECK("GC_get_suspend_signal: a signal", sig > 0 && sig < NSIG);
    GCT_CHECK("GC_get_version: 7.0 or later", GC_get_version() >= (7u << 16));
    GCT_CHECK("GC_get_max_retries: not negative", (long)GC_get_max_retries() >= 0);
    GCT_CHECK("GC_get_parallel: not negative", GC_get_parallel() >= 0);
    GC_set_warn_proc(GC_ignore_warn_proc);
    GCT_CHECK("GC_ignore_warn_proc: settable", GC_get_warn_proc() == GC_ignore_warn_proc);
    free(roots);
    return gct_exit();
}
