/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ssb: WB_STORE() appends the slot's address to its thread's sequential store buffer
 * (wb_ssb_cur, inline).  A full buffer is folded into the card table, so memory stays
 * bounded however many stores come between collections; a young collection scans the
 * buffered slots exactly and the dirty cards' words.
 * The collector takes every non-zero entry of every buffer and zeroes it: it need not
 * know where a stopped thread's cursor is, and an entry written just before the thread
 * was stopped is seen even if the cursor was not yet moved past it.
 * Design: docs/design/barrier.md */
#include "barrier.h"
#include "card_table.h"
#include "soft.h"
#include "wbrt.h"

#include <stdbool.h>

#define SSB_ENTRIES 2048        /* 16 KiB per thread */

extern const unsigned wb_program_barrier_ssb __attribute__((weak, visibility("default")));

WB_API __thread void **wb_ssb_cur, **wb_ssb_end;

/* Where the buffer goes when memory for one ran out: every store then comes here and
 * makes the next young collection scan the whole heap. */
static __thread void *no_buffer[1];
static bool lost;

static int ssb_probe(char *why, size_t whylen)
{
    return soft_probe("ssb", &wb_program_barrier_ssb, why, whylen);
}

static int ssb_attach(void *base, size_t len, struct dirty_map *dm, const struct barrier_settings *set,
                      char *why, size_t whylen)
{
    (void)set;
    (void)dm;
    lost = false;
    return card_table_attach(base, len, 512, why, whylen);
}

/* Fold the entries into cards and empty the buffer. */
static void fold(struct soft_log *log)
{
    for (size_t i = 0; i < log->cap; i++)
        if (log->buf[i]) {
            card_table_mark(log->buf[i]);
            log->buf[i] = 0;
        }
}

void wb_ssb_overflow(void)
{
    struct soft_log *log = soft_log_self(SSB_ENTRIES);
    if (!log) {
        __atomic_store_n(&lost, true, __ATOMIC_RELAXED);
        wb_ssb_cur = no_buffer;
        wb_ssb_end = no_buffer + 1;
        return;
    }
    fold(log);
    wb_ssb_cur = (void **)log->buf;
    wb_ssb_end = (void **)log->buf + log->cap;
}

static void drain_log(struct soft_log *log, void *p)
{
    struct soft_drain *d = p;
    for (size_t i = 0; i < log->cap; i++) {
        uintptr_t slot = log->buf[i];
        if (!slot)
            continue;
        log->buf[i] = 0;
        if (slot >= d->lo && slot < d->hi) {
            d->visit(d->ctx, slot, slot + sizeof(void *), 0);
            d->ranges++;
        }
    }
}

static size_t ssb_remembered(void *addr, size_t len, barrier_visit_fn visit, void *ctx)
{
    size_t ranges = soft_drain(drain_log, &lost, addr, len, visit, ctx);   /* the logs first */
    return ranges + card_table_report(addr, len, visit, ctx);
}

const struct barrier_ops barrier_ssb = SOFT_BARRIER_OPS("ssb", ssb_probe, ssb_attach, card_table_detach, ssb_remembered);
