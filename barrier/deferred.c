/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The barrier before it is set up: barrier_deferred (barrier.h).  No page is armed until
 * the barrier chosen later is attached, so every op does nothing.
 * Design: docs/design/barrier.md */
#include "barrier.h"

#include <stdio.h>
#include <string.h>

/* Does nothing, like barrier_noop_range, but tells the preload's wrappers of kernel writes
 * (which skip the preparation under barrier_noop_range) to record what the kernel may
 * write, so that the first collection prepares it again under the barrier it sets up. */
static void prepare_later(void *addr, size_t len)
{
    (void)addr;
    (void)len;
}

static struct barrier_ops deferred;

/* What the barrier chosen later may need from the start, for one candidate. */
static void may_become(const struct barrier_ops *b)
{
    if (b->fault_signal)
        deferred.fault_signal = b->fault_signal;
    if (b->prepare_kernel_write != barrier_noop_range)
        deferred.prepare_kernel_write = prepare_later;
}

const struct barrier_ops *barrier_deferred(const char *name, char *why, size_t whylen)
{
    char reason[256];
    deferred = barrier_none;
    if (!name || !*name || strcmp(name, "auto") == 0) {
        deferred.name = "auto";
        for (const struct barrier_ops *const *b = barrier_all; *b; b++)
            if (!(*b)->remembered)
                may_become(*b);
        return &deferred;
    }
    const struct barrier_ops *b = barrier_named(name, why, whylen);
    if (!b)
        return NULL;
    /* A software barrier needs a program compiled for it: its probe only looks for that. */
    if (b->remembered && b->probe(reason, sizeof reason) != 0) {
        snprintf(why, whylen, "barrier %s unavailable: %s", name, reason);
        return NULL;
    }
    deferred.name = b->name;
    may_become(b);
    return &deferred;
}
