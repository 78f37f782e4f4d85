/* Smaller calls Debian's libgc users import: roots cleared, links moved, the allocation
 * lock, the stack base, heap pointers, the suspend signal, unmapping collections, the version.
 * SPDX-License-Identifier: GPL-2.0-or-later */
#define GC_THREADS
#include <gc.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include "gct.h"

#define N 200

static void **links; /* atomic: keeps nothing */

/* Moved links: the new word is cleared when the object dies, the old one is not.  Each
 * object i has words moved[4i..4i+3]. */
static void **moved;

static __attribute__((noinline)) void make_moved(int results[4])
{
    for (int i = 0; i < N; i++) {
        void **m = moved + 4 * i;
        void *obj = GC_MALLOC(64), *other = GC_MALLOC(64);
        m[0] = m[1] = obj;
        m[2] = other;
        GC_general_register_disappearing_link(&m[0], obj);
        GC_general_register_disappearing_link(&m[2], other);
        int r[4] = { GC_move_disappearing_link(&m[0], &m[1]), GC_move_disappearing_link(&m[0], &m[3]),
                     GC_move_disappearing_link(&m[1], &m[2]), GC_move_disappearing_link(&m[1], &m[1]) };
        for (int k = 0; k < 4; k++)
            results[k] &= r[k] == (int[]){ GC_SUCCESS, GC_NOT_FOUND, GC_DUPLICATE, GC_SUCCESS }[k];
    }
}

static void check_move(void)
{
    int r[4] = { 1, 1, 1, 1 };
    moved = GC_MALLOC_ATOMIC(4 * N * sizeof *moved);
    make_moved(r);
    GCT_CHECK("GC_move_disappearing_link: results", r[0] && r[1] && r[2] && r[3]);
    for (int round = 0; round < 2; round++) {
        gct_clear_stack();
        GC_gcollect();
    }
    long cleared = 0, old_kept = 0;
    for (int i = 0; i < N; i++) {
        cleared += moved[4 * i + 1] == NULL;
        old_kept += moved[4 * i] != NULL;
    }
    GCT_CHECK("GC_move_disappearing_link: the new words are cleared", cleared > N / 2);
    GCT_CHECK("GC_move_disappearing_link: the old ones are not", old_kept == N);
}

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
    gct_enable_incremental();
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

    check_move();
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
