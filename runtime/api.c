/* Initialisation, errors, explicit collection, roots and statistics.
 * Design: docs/design/api.md
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "gc.h"
#include "arm_policy.h"
#include "young_size.h"
#include "heap.h"
#include "perm.h"
#include "roots.h"
#include "threads.h"

static char last_error[768];
static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;

const char *wb_last_error(void) { return last_error; }

static int fail(int err)
{
    errno = err;
    return -1;
}

int gc_error(int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return fail(err);
}

static int init_locked(const struct wb_options *opt, bool defer)
{
    char why[600];
    if (options_resolve(opt, &G.cfg, why, sizeof why) != 0) {
        snprintf(last_error, sizeof last_error, "wb_init: %s", why);
        return fail(EINVAL);
    }
    /* Image pages are old from the start; stats mode samples the barrier from the start. */
    G.barrier_pending = defer && !G.cfg.image[0] && G.cfg.preload_mode != PRELOAD_STATS;
    /* An auto fallback always says so (one line): the user chose auto, not that barrier. */
    const struct barrier_ops *b = G.barrier_pending ? barrier_deferred(G.cfg.barrier, why, sizeof why)
                                                    : barrier_select(G.cfg.barrier, 1, why, sizeof why);
    if (!b) {
        if (strncmp(why, "WBRT_BARRIER", 12) == 0) {
            snprintf(last_error, sizeof last_error, "wb_init: %s", why);
            return fail(EINVAL);
        }
        /* Unavailable here: name the setting that asked for it. */
        const char *var = opt && opt->barrier ? "wb_options.barrier" : "WBRT_BARRIER";
        if (strcmp(G.cfg.barrier, "auto") != 0)
            snprintf(last_error, sizeof last_error, "wb_init: %s=%s: %s", var, G.cfg.barrier, why);
        else
            snprintf(last_error, sizeof last_error, "wb_init: %s", why);
        return fail(ENOTSUP);
    }
    G.barrier = b;
    /* (A heap left by an attempt that failed later on is reused.) */
    if ((!H.base && heap_init(G.cfg.heap_max, G.cfg.tenure_age != 0, why, sizeof why) != 0) ||
        (G.cfg.verify && verify_init(why, sizeof why) != 0) ||
        b->attach((void *)barrier_base(), barrier_len(), &H.dirty, &G.cfg.barrier_set, why, sizeof why) != 0 ||
        threads_init(why, sizeof why) != 0) {
        snprintf(last_error, sizeof last_error, "wb_init: %s", why);
        return fail(ENOMEM);
    }
    if (G.cfg.image[0] && perm_load_locked(G.cfg.image, why, sizeof why) != 0) {
        int err = errno;
        G.barrier->detach();
        return gc_error(err, "wb_init: WBRT_IMAGE=%s", why);
    }
    policy_init();
    if (G.cfg.verbose)
        fprintf(stderr, "wbrt: heap %zu MiB reserved at %p, barrier %s%s\n", (H.npages << WB_PAGE_SHIFT) >> 20,
                (void *)H.base, G.barrier->name, G.barrier_pending ? " (set up at the first collection)" : "");
    __atomic_store_n(&G.initialised, 1, __ATOMIC_RELEASE);
    return 0;
}

static int init(const struct wb_options *opt, bool defer)
{
    pthread_mutex_lock(&init_lock);
    int rc;
    if (G.initialised) {
        /* Options can no longer apply once the heap exists. */
        if (opt)
            snprintf(last_error, sizeof last_error, "wb_init: already initialised");
        rc = opt ? fail(EBUSY) : 0;
    } else {
        rc = init_locked(opt, defer);
    }
    pthread_mutex_unlock(&init_lock);
    return rc;
}

int wb_init(const struct wb_options *opt)
{
    return init(opt, false);
}

int gc_init_deferred(void)
{
    return init(NULL, true);
}

bool gc_init_on_first_use(void)
{
    static int reported;
    if (wb_init(NULL) == 0)
        return true;
    /* No caller asked for the error: say it once, keeping errno for the caller. */
    int err = errno;
    if (!__atomic_exchange_n(&reported, 1, __ATOMIC_RELAXED))
        fprintf(stderr, "wbrt: %s\n", last_error);
    errno = err;
    return false;
}

void wb_collect(int kind)
{
    if (!gc_ready())
        return;
    pthread_mutex_lock(&H.lock);
    gc_collect_locked(kind == WB_COLLECT_FULL || kind == WB_COLLECT_GLOBAL ? kind : WB_COLLECT_YOUNG);
    pthread_mutex_unlock(&H.lock);
}

void wb_add_roots(void *lo, void *hi)
{
    if (!gc_ready())
        return;
    pthread_mutex_lock(&H.lock);
    roots_add((uintptr_t)lo, (uintptr_t)hi);
    pthread_mutex_unlock(&H.lock);
}

void wb_remove_roots(void *lo, void *hi)
{
    if (!G.initialised)
        return;
    pthread_mutex_lock(&H.lock);
    roots_remove((uintptr_t)lo, (uintptr_t)hi);
    pthread_mutex_unlock(&H.lock);
}

void wb_exclude_roots(void *lo, void *hi)
{
    if (!gc_ready())
        return;
    pthread_mutex_lock(&H.lock);
    roots_exclude((uintptr_t)lo, (uintptr_t)hi);
    pthread_mutex_unlock(&H.lock);
}

void gc_prepare_kernel_write(const void *p, size_t n)
{
    if (G.initialised && n != 0)
        G.barrier->prepare_kernel_write((void *)p, n);
}

/* Kept prepared: a program's blocking read(2) must not find the range protected again by
 * another thread's collection (EFAULT under mprotect). */
void wb_prepare_kernel_write(void *p, size_t n)
{
    if (!G.initialised)
        return;
    gc_keep_prepared(p, n);
    gc_prepare_kernel_write(p, n);
}

void wb_get_stats(struct wb_stats *s)
{
    if (!gc_ready()) {
        memset(s, 0, sizeof *s);
        return;
    }
    pthread_mutex_lock(&H.lock);
    *s = G.stats;
    s->heap_bytes = H.pages_in_use << WB_PAGE_SHIFT;
    s->peak_heap_bytes = H.pages_peak << WB_PAGE_SHIFT;
    s->barrier_faults = G.barrier->faults();
    s->young_bytes = young_size_budget();
    pthread_mutex_unlock(&H.lock);
}

const char *wb_barrier_name(void)
{
    if (!gc_ready())
        return "none";
    return G.barrier->name;
}

/* The Boehm GC compatibility layer's switches. */
void gc_set_full_only(bool on)
{
    pthread_mutex_lock(&H.lock);
    /* Its collections armed no old page (full_cycle): the first young one scans them all
     * as written, then arms them. */
    size_t first = own_first_page();
    if (G.sw.full_only && !on && H.top > first)
        dirty_map_set_range(&H.dirty, first, H.top - first);
    G.sw.full_only = on;
    pthread_mutex_unlock(&H.lock);
}

void gc_disable_collections(int delta)
{
    pthread_mutex_lock(&H.lock);
    G.sw.disabled += delta;
    pthread_mutex_unlock(&H.lock);
}

void gc_collect_if_due(void)
{
    pthread_mutex_lock(&H.lock);
    gc_maybe_collect();
    pthread_mutex_unlock(&H.lock);
}

void gc_set_max_heap(size_t bytes)
{
    pthread_mutex_lock(&H.lock);
    H.max_pages = bytes >> WB_PAGE_SHIFT;
    pthread_mutex_unlock(&H.lock);
}

int gc_expand_heap(size_t bytes)
{
    pthread_mutex_lock(&H.lock);
    size_t now = H.pages_in_use << WB_PAGE_SHIFT;
    size_t from = G.sw.heap_target > now ? G.sw.heap_target : now, to = from + bytes;
    size_t limit = H.max_pages ? H.max_pages : H.npages; /* the reservation at most */
    int rc = to < from || (to >> WB_PAGE_SHIFT) > limit ? -1 : 0;
    if (rc == 0)
        G.sw.heap_target = to;
    pthread_mutex_unlock(&H.lock);
    return rc;
}

void gc_set_growth(unsigned divisor, bool dont_expand)
{
    pthread_mutex_lock(&H.lock);
    G.sw.free_space_divisor = divisor;
    G.sw.dont_expand = dont_expand;
    pthread_mutex_unlock(&H.lock);
}

size_t gc_alloc_since_collect(void)
{
    pthread_mutex_lock(&H.lock);
    size_t n = G.policy.alloc_since;
    pthread_mutex_unlock(&H.lock);
    return n;
}
