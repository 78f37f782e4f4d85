/* SPDX-License-Identifier: GPL-2.0-or-later */
/* remset: an object remembered set.  WB_STORE() checks the object's "remembered" byte (one
 * per 16-byte granule, inline) and, the first time, calls wb_remember(), which logs the
 * object in its thread's log.  A young collection scans each remembered object whole
 * (a large object too: the price of object granularity) and clears its byte.
 * Order in wb_remember: entry, byte, count.  A thread stopped between any two steps is
 * sound: the collector sees either nothing (the count is not yet moved: the entry is
 * counted after the thread resumes, and reaches the next collection) or everything.
 * Design: docs/design/barrier.md */
#include "barrier.h"
#include "soft.h"
#include "vm.h"
#include "wbrt.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define LOG_ENTRIES ((size_t)1 << 24)   /* reserved per thread; committed as used */
#define KEEP_COMMITTED ((size_t)8192)   /* entries whose pages stay after a drain */

extern const unsigned wb_program_barrier_remset __attribute__((weak, visibility("default")));

WB_API unsigned char *wb_soft_remembered;
static size_t table_len;
/* A log filled up (or could not be had): the next young collection scans the whole heap. */
static bool lost;

static int remset_probe(char *why, size_t whylen)
{
    return soft_probe("remset", &wb_program_barrier_remset, why, whylen);
}

static int remset_attach(void *base, size_t len, struct dirty_map *dm, const struct barrier_settings *set,
                         char *why, size_t whylen)
{
    (void)set;
    (void)dm;
    table_len = len / 16;
    wb_soft_remembered = os_table(table_len);
    if (!wb_soft_remembered) {
        snprintf(why, whylen, "cannot map the remembered bytes (%zu bytes): %s", table_len, strerror(errno));
        return -1;
    }
    lost = false;
    soft_set_heap(base, len);
    return 0;
}

static void remset_detach(void)
{
    soft_set_heap(NULL, 0);
    if (wb_soft_remembered)
        os_release(wb_soft_remembered, table_len);
    wb_soft_remembered = NULL;
}

void wb_remember(void *obj)
{
    struct soft_log *log = soft_log_self(LOG_ENTRIES);
    if (!log || log->n == log->cap) {
        __atomic_store_n(&lost, true, __ATOMIC_RELAXED);
        return;
    }
    size_t n = log->n;
    log->buf[n] = (uintptr_t)obj;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    wb_soft_remembered[((uintptr_t)obj - wb_soft_base) / 16] = 1;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    log->n = n + 1;
}

static void drain_log(struct soft_log *log, void *p)
{
    struct soft_drain *d = p;
    for (size_t i = 0; i < log->n; i++) {
        uintptr_t obj = log->buf[i];
        if (!obj)
            continue;           /* a decommitted page, re-counted by a resumed thread */
        wb_soft_remembered[(obj - wb_soft_base) / 16] = 0;
        if (obj >= d->lo && obj < d->hi) {
            d->visit(d->ctx, obj, obj + 1, 1);
            d->ranges++;
        }
    }
    if (log->n > KEEP_COMMITTED)
        os_decommit(log->buf + KEEP_COMMITTED, (log->cap - KEEP_COMMITTED) * sizeof *log->buf);
    log->n = 0;
}

static size_t remset_remembered(void *addr, size_t len, barrier_visit_fn visit, void *ctx)
{
    return soft_drain(drain_log, &lost, addr, len, visit, ctx);
}

const struct barrier_ops barrier_remset =
    SOFT_BARRIER_OPS("remset", remset_probe, remset_attach, remset_detach, remset_remembered);
