/* Boehm GC compatibility: thread registration.  wbrt registers every thread itself;
 * these calls keep bdwgc's answers (which thread counts as registered) for programs
 * Design: docs/design/gc-compat.md
 * that check them.  SPDX-License-Identifier: GPL-2.0-or-later */
#define GC_THREADS
#define GC_NO_THREAD_REDIRECTS
#include "include/wbrt-gc/gc.h"
#include <errno.h>
#include "gc.h"
#include "gc_compat.h"
#include "segments.h"
#include "signal_chain.h"
#include "threads.h"
#include "wbrt.h"
#include "sys.h"

static __thread int registered;

void gc_compat_thread_registered(void) { registered = 1; }

int GC_get_stack_base(struct GC_stack_base *sb)
{
    uintptr_t lo, hi;
    if (os_stack_bounds(&lo, &hi) != 0)
        return GC_UNIMPLEMENTED;
    sb->mem_base = (void *)hi;
    return GC_SUCCESS;
}

void *GC_call_with_stack_base(GC_stack_base_func fn, void *arg)
{
    struct GC_stack_base sb;
    if (GC_get_stack_base(&sb) != GC_SUCCESS)
        sb.mem_base = __builtin_frame_address(0); /* bdwgc's answer without the bounds */
    return fn(&sb, arg);
}

/* One thread marks. */
int GC_get_parallel(void) { return 0; }

int GC_get_suspend_signal(void)
{
    gc_compat_ready();
    return G.cfg.stop_signal;
}

void GC_allow_register_threads(void) { gc_compat_ready(); }

int GC_register_my_thread(const struct GC_stack_base *sb)
{
    (void)sb; /* wbrt finds the stack itself */
    gc_compat_ready();
    if (registered)
        return GC_DUPLICATE;
    registered = 1;
    thread_self();
    return GC_SUCCESS;
}

int GC_unregister_my_thread(void)
{
    registered = 0;
    thread_unregister_self();
    return GC_SUCCESS;
}

/* The start routine and its argument, in a collected object: the new thread's record
 * keeps it (and so arg) alive until the thread runs. */
struct start { void *(*fn)(void *); void *arg; };

/* What a thread returns (or passes to GC_pthread_exit) stays alive until GC_pthread_join
 * hands it over, as bdwgc keeps it in its thread record: the exited thread's stack is no
 * longer scanned and libc's copy is no root (gc_threads lost its workers' results when a
 * full collection came in between).  Each node is uncollectable: a root. */
struct kept { pthread_t t; void *result; struct kept *next; };
static struct kept *kept;
static pthread_mutex_t kept_lock = PTHREAD_MUTEX_INITIALIZER;

static void keep_result(void *result)
{
    pthread_attr_t a;
    int detached = 0;
    if (!result || (pthread_getattr_np(pthread_self(), &a) == 0 &&
                    (pthread_attr_getdetachstate(&a, &detached), pthread_attr_destroy(&a), detached)))
        return;   /* nothing to keep, or nobody will join */
    struct kept *k = GC_malloc_uncollectable(sizeof *k);
    if (!k)
        return;   /* out of memory: the result is only as safe as without this */
    k->t = pthread_self();
    k->result = result;
    pthread_mutex_lock(&kept_lock);
    k->next = kept;
    kept = k;
    pthread_mutex_unlock(&kept_lock);
}

static void drop_result(pthread_t t)
{
    struct kept *k = NULL;
    pthread_mutex_lock(&kept_lock);
    for (struct kept **p = &kept; *p; p = &(*p)->next)
        if (pthread_equal((*p)->t, t)) {
            k = *p;
            *p = k->next;
            break;
        }
    pthread_mutex_unlock(&kept_lock);
    GC_free(k);
}

static void *start_registered(void *p)
{
    struct start s = *(struct start *)p;
    registered = 1;
    void *result = s.fn(s.arg);
    keep_result(result);
    return result;
}

int GC_pthread_create(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *), void *arg)
{
    gc_compat_ready();
    struct start *s = wb_malloc(sizeof *s);
    if (!s)
        return EAGAIN;
    s->fn = fn;
    s->arg = arg;
    return pthread_create(t, attr, start_registered, s);
}

int GC_pthread_join(pthread_t t, void **ret)
{
    int rc = pthread_join(t, ret);
    if (rc == 0)
        drop_result(t);
    return rc;
}

void GC_pthread_exit(void *ret)
{
    keep_result(ret);
    pthread_exit(ret);
}

/* Stopped threads wait on a futex for the collector, not for a signal. */
int GC_get_thr_restart_signal(void) { return GC_get_suspend_signal(); }

void *GC_dlopen(const char *path, int mode)
{
    gc_compat_ready();
    gc_disable_collections(1);
    void *h = dlopen(path, mode);
    gc_disable_collections(-1);
    return h;
}
int GC_pthread_detach(pthread_t t)
{
    int rc = pthread_detach(t);
    if (rc == 0)
        drop_result(t);   /* it may have exited already */
    return rc;
}

/* The collector's signals are left out of what the program blocks (signal_chain.h). */
int GC_pthread_sigmask(int how, const sigset_t *set, sigset_t *old)
{
    sigset_t copy;
    gc_compat_ready();
    return os_sigmask(how, mask_without_ours(how, set, &copy), old);
}
