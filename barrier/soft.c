/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared parts of the software barriers: the program's choice, the heap range, and the
 * per-thread logs.  Logs are never freed: a list that only grows needs no lock for the
 * collector to walk, and a stopped thread can never hold one.
 * Design: docs/design/barrier.md */
#include "soft.h"
#include "vm.h"
#include "wbrt.h"

#include <pthread.h>
#include <stdio.h>

WB_API uintptr_t wb_soft_base, wb_soft_len;

int soft_probe(const char *name, const unsigned *marker, char *why, size_t whylen)
{
    if (marker)
        return 0;
    snprintf(why, whylen, "only for programs compiled with -DWB_SOFT_BARRIER=%s", name);
    return -1;
}

void soft_set_heap(void *base, size_t len)
{
    wb_soft_base = (uintptr_t)base;
    wb_soft_len = len;
}

static struct soft_log *logs;
static pthread_key_t exit_key;
static pthread_once_t exit_once = PTHREAD_ONCE_INIT;
static __thread struct soft_log *self;

static void release(void *p)
{
    struct soft_log *log = p;
    __atomic_store_n(&log->owned, 0, __ATOMIC_RELEASE);
}

static void make_key(void)
{
    if (pthread_key_create(&exit_key, release) != 0)
        exit_key = (pthread_key_t)-1;
}

/* A log no thread owns, or a new one. */
static struct soft_log *acquire(size_t cap)
{
    for (struct soft_log *l = __atomic_load_n(&logs, __ATOMIC_ACQUIRE); l; l = l->next) {
        int free_ = 0;
        if (__atomic_compare_exchange_n(&l->owned, &free_, 1, false, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
            return l;
    }
    struct soft_log *l = os_table(sizeof *l);
    uintptr_t *buf = l ? os_table(cap * sizeof *buf) : NULL;
    if (!buf) {
        if (l)
            os_release(l, sizeof *l);
        return NULL;
    }
    l->buf = buf;
    l->cap = cap;
    l->owned = 1;
    l->next = __atomic_load_n(&logs, __ATOMIC_RELAXED);
    while (!__atomic_compare_exchange_n(&logs, &l->next, l, false, __ATOMIC_RELEASE, __ATOMIC_RELAXED))
        ;
    return l;
}

struct soft_log *soft_log_self(size_t cap)
{
    if (self)
        return self;
    pthread_once(&exit_once, make_key);
    struct soft_log *l = acquire(cap);
    /* Without the exit hook the log is never handed on: its entries are still drained. */
    if (l && exit_key != (pthread_key_t)-1)
        pthread_setspecific(exit_key, l);
    return self = l;
}

void soft_log_each(void (*fn)(struct soft_log *log, void *ctx), void *ctx)
{
    for (struct soft_log *l = __atomic_load_n(&logs, __ATOMIC_ACQUIRE); l; l = l->next)
        fn(l, ctx);
}

size_t soft_drain(void (*fn)(struct soft_log *log, void *drain), bool *lost, void *addr, size_t len,
                  barrier_visit_fn visit, void *ctx)
{
    struct soft_drain d = {(uintptr_t)addr, (uintptr_t)addr + len, visit, ctx, 0};
    soft_log_each(fn, &d);
    if (__atomic_exchange_n(lost, false, __ATOMIC_RELAXED)) {
        visit(ctx, d.lo, d.hi, 0);
        d.ranges++;
    }
    return d.ranges;
}
