/* Boehm GC compatibility: initialisation, allocation, collection, statistics, settings.
 * Design: docs/design/gc-compat.md
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "include/wbrt-gc/gc.h"
#include "gc.h"
#include "gc_compat.h"
#include "describe.h"
#include "finalize.h"
#include "heap.h"
#include "uncollectable.h"

static int inited, incremental;

static void warn_stderr(char *msg, GC_word arg)
{
    fprintf(stderr, msg, arg);
}

static void *oom_null(size_t n)
{
    (void)n;
    return NULL;
}

void GC_ignore_warn_proc(char *msg, GC_word arg)
{
    (void)msg, (void)arg;
}

static GC_warn_proc warn_fn = warn_stderr;
static GC_oom_func oom_fn = oom_null;

void GC_init(void)
{
    if (wb_init(NULL) != 0) {
        fprintf(stderr, "wbrt: GC_init: %s\n", wb_last_error());
        abort();
    }
    if (options_bdwgc_incremental())
        __atomic_store_n(&incremental, 1, __ATOMIC_RELAXED);
    gc_set_full_only(!__atomic_load_n(&incremental, __ATOMIC_RELAXED));
    gc_compat_heap_init();
    gc_compat_kinds_init();
    gc_compat_misc_init();
    gc_compat_thread_registered();
    __atomic_store_n(&inited, 1, __ATOMIC_RELEASE);
}

int GC_is_init_called(void) { return __atomic_load_n(&inited, __ATOMIC_ACQUIRE); }

void gc_compat_ready(void)
{
    if (__builtin_expect(!__atomic_load_n(&inited, __ATOMIC_ACQUIRE), 0))
        GC_init();
}

static __thread int in_finalizer;

void gc_compat_after_collect(void)
{
    if (__builtin_expect(finalize_ready() == 0, 1) || in_finalizer)
        return;
    if (GC_get_finalize_on_demand()) {
        gc_compat_notify_finalizers();
        return;
    }
    in_finalizer = 1;
    finalize_run();
    in_finalizer = 0;
}

/* What an allocation returns: p, or the out-of-memory function's answer. */
static void *allocated(void *p, size_t n)
{
    if (__builtin_expect(p == NULL, 0)) {
        warn_fn((char *)"wbrt: out of memory allocating %lu bytes\n", (GC_word)n);
        p = oom_fn(n);
    }
    gc_compat_after_collect();
    return p;
}

void *GC_malloc(size_t n)
{
    gc_compat_ready();
    return allocated(wb_malloc(n), n);
}

void *GC_malloc_atomic(size_t n)
{
    gc_compat_ready();
    return allocated(wb_malloc_atomic(n), n);
}

/* wbrt keeps an object for a pointer anywhere into it: a pointer to its first page is
 * one such. */
void *GC_malloc_ignore_off_page(size_t n) { return GC_malloc(n); }
void *GC_malloc_atomic_ignore_off_page(size_t n) { return GC_malloc_atomic(n); }

static void *uncollectable(void *p, size_t n)
{
    if (p && uncollectable_add((uintptr_t)p) != 0) {
        wb_free(p);
        p = NULL;
    }
    return allocated(p, n);
}

void *GC_malloc_uncollectable(size_t n)
{
    gc_compat_ready();
    return uncollectable(wb_malloc(n), n);
}

void *GC_malloc_atomic_uncollectable(size_t n)
{
    gc_compat_ready();
    return uncollectable(wb_malloc_atomic(n), n);
}

void GC_free(void *p)
{
    if (!p)
        return;
    uncollectable_remove((uintptr_t)p);
    fin_forget((uintptr_t)p);
    describe_forget((uintptr_t)p);
    wb_free(p);
}

void *GC_realloc(void *p, size_t n)
{
    if (!p)
        return GC_malloc(n);
    if (n == 0) {
        GC_free(p);
        return NULL;
    }
    /* An object of a described kind keeps its descriptor where it moves. */
    uintptr_t descr = in_heap((uintptr_t)p) && (H.pages[page_of((uintptr_t)p)].flags & PF_DESCR)
                          ? describe_of((uintptr_t)p) : 0;
    void *q = wb_realloc(p, n);
    if (q && q != p) {
        /* p was freed: its finalizer goes (the slot may be reused before the next
         * collection); an uncollectable object stays uncollectable where it moved (the
         * collector ignores a table entry for a free slot meanwhile). */
        fin_forget((uintptr_t)p);
        if (descr) {
            describe_forget((uintptr_t)p);
            if (describe_object((uintptr_t)q, descr) != 0) {
                GC_free(q);
                return allocated(NULL, n);
            }
        }
        if (uncollectable_remove((uintptr_t)p) && uncollectable_add((uintptr_t)q) != 0) {
            wb_free(q);
            q = NULL;
        }
    }
    return allocated(q, n);
}

char *GC_strndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *p = GC_malloc_atomic(len + 1);
    if (p) {
        memcpy(p, s, len);
        p[len] = 0;
    }
    return p;
}

char *GC_strdup(const char *s)
{
    return s ? GC_strndup(s, strlen(s)) : NULL;
}

void *GC_base(void *p) { return wb_base(p); }
size_t GC_size(const void *p) { return wb_size(p); }

void GC_gcollect(void)
{
    gc_compat_ready();
    wb_collect(WB_COLLECT_FULL);
    gc_compat_after_collect();
}

int GC_collect_a_little(void)
{
    gc_compat_ready();
    gc_collect_if_due();
    gc_compat_after_collect();
    return 0;
}

void GC_enable_incremental(void)
{
    __atomic_store_n(&incremental, 1, __ATOMIC_RELAXED);
    gc_compat_ready();
    gc_set_full_only(false);
}

int GC_is_incremental_mode(void) { return __atomic_load_n(&incremental, __ATOMIC_RELAXED); }

void GC_disable(void)
{
    gc_compat_ready();
    gc_disable_collections(1);
}

void GC_enable(void)
{
    gc_compat_ready();
    gc_disable_collections(-1);
}

void GC_set_max_heap_size(GC_word n)
{
    gc_compat_ready();
    gc_set_max_heap(n);
}

static struct wb_stats stats(void)
{
    struct wb_stats s;
    gc_compat_ready();
    wb_get_stats(&s);
    return s;
}

size_t GC_get_total_bytes(void) { return stats().bytes_allocated; }

GC_word GC_get_gc_no(void)
{
    struct wb_stats s = stats();
    return s.young_collections + s.full_collections;
}

void GC_set_warn_proc(GC_warn_proc fn) { warn_fn = fn ? fn : warn_stderr; }
GC_warn_proc GC_get_warn_proc(void) { return warn_fn; }
void GC_set_oom_fn(GC_oom_func fn) { oom_fn = fn ? fn : oom_null; }
GC_oom_func GC_get_oom_fn(void) { return oom_fn; }

void GC_add_roots(void *low, void *high_plus_1) { wb_add_roots(low, high_plus_1); }
void GC_remove_roots(void *low, void *high_plus_1) { wb_remove_roots(low, high_plus_1); }
void GC_clear_roots(void) { wb_remove_roots(NULL, (void *)UINTPTR_MAX); }
void GC_exclude_static_roots(void *start, void *finish) { wb_exclude_roots(start, finish); }

/* Every free page goes back to the kernel, not only those free for a few collections
 * (decommit_age in collect.c). */
void GC_gcollect_and_unmap(void)
{
    GC_gcollect();
    pthread_mutex_lock(&H.lock);
    heap_decommit_pending(G.policy.gc_no, 0);
    pthread_mutex_unlock(&H.lock);
}

unsigned GC_get_version(void)
{
    return GC_VERSION_MAJOR << 16 | GC_VERSION_MINOR << 8 | GC_VERSION_MICRO;
}

/* A failed allocation fails after the one full collection it makes. */
GC_word GC_get_max_retries(void) { return 0; }

/* H.lock is the allocation lock: no collection can start while fn runs. */
void *GC_call_with_alloc_lock(GC_fn_type fn, void *cd)
{
    gc_compat_ready();
    pthread_mutex_lock(&H.lock);
    void *r = fn(cd);
    pthread_mutex_unlock(&H.lock);
    return r;
}
