/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the software barriers (card, ssb, remset) share: the program's choice, the heap
 * range their inline code checks, and per-thread logs the collector drains.
 * Design: docs/design/barrier.md */
#ifndef WBRT_SOFT_H
#define WBRT_SOFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "barrier.h"

/* 0 if the program was compiled for this barrier (marker = the address of its weak
 * wb_program_barrier_<name> symbol, NULL when absent), else -1 and why. */
int soft_probe(const char *name, const unsigned *marker, char *why, size_t whylen);

/* The ops of a software barrier: those about kernel state have nothing to do. */
#define SOFT_BARRIER_OPS(name_, probe_, attach_, detach_, remembered_)                      \
    {                                                                                       \
        .name = name_, .tracks = 1, .probe = probe_, .attach = attach_, .detach = detach_,  \
        .after_fork = barrier_noop,                                                  \
        .arm = barrier_noop_range, .harvest = barrier_noop_harvest,                         \
        .will_write = barrier_noop_range, .disarm = barrier_noop_range,                     \
        .prepare_kernel_write = barrier_noop_range, .faults = barrier_noop_faults,          \
        .remembered = remembered_,                                                          \
    }

/* Publish the heap range for the inline barriers (wb_soft_base, wb_soft_len). */
void soft_set_heap(void *base, size_t len);
static inline int soft_in_heap(uintptr_t a, uintptr_t base, size_t len) { return a - base < len; }

/* A thread's log: a reserved array of words, committed as it fills.  Its owner appends;
 * the collector drains every log with the world stopped.  A thread that exits leaves its
 * log (entries included) to the next thread that asks for one. */
struct soft_log {
    uintptr_t *buf;
    size_t cap;
    size_t n;                  /* used by logs that append in order */
    int owned;
    struct soft_log *next;
};

/* The calling thread's log of cap words; NULL if memory ran out.  Every log of a
 * process must be asked for with the same cap. */
struct soft_log *soft_log_self(size_t cap);
void soft_log_each(void (*fn)(struct soft_log *log, void *ctx), void *ctx);

/* What draining the logs reports to: the heap in use [lo, hi) and the collector's visitor. */
struct soft_drain {
    uintptr_t lo, hi;
    barrier_visit_fn visit;
    void *ctx;
    size_t ranges;
};
/* A backend's remembered(): fn(log, drain) on every log, then the whole range as well if
 * *lost (records were dropped for want of memory), which it clears.  Returns the ranges. */
size_t soft_drain(void (*fn)(struct soft_log *log, void *drain), bool *lost, void *addr, size_t len,
                  barrier_visit_fn visit, void *ctx);

#endif
