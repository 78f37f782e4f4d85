/* SPDX-License-Identifier: GPL-2.0-or-later */
/* No barrier: tracks nothing, so every young collection scans every old page.  Its empty
 * ops also serve the software barriers, which learn of stores from WB_STORE().
 * Design: docs/design/barrier.md */
#include "barrier.h"

static int none_probe(char *why, size_t whylen)
{
    (void)why;
    (void)whylen;
    return 0;
}

static int none_attach(void *base, size_t len, struct dirty_map *dm, const struct barrier_settings *set,
                       char *why, size_t whylen)
{
    (void)set;
    (void)base;
    (void)len;
    (void)dm;
    (void)why;
    (void)whylen;
    return 0;
}

void barrier_noop(void)
{
}

void barrier_noop_range(void *addr, size_t len)
{
    (void)addr;
    (void)len;
}

size_t barrier_noop_harvest(struct dirty_map *dm, void *addr, size_t len)
{
    (void)dm;
    (void)addr;
    (void)len;
    return 0;
}

uint64_t barrier_noop_faults(void)
{
    return 0;
}

const struct barrier_ops barrier_none = {
    .name = "none",
    .tracks = 0,
    .probe = none_probe,
    .attach = none_attach,
    .detach = barrier_noop,
    .after_fork = barrier_noop,
    .arm = barrier_noop_range,
    .harvest = barrier_noop_harvest,
    .will_write = barrier_noop_range,
    .disarm = barrier_noop_range,
    .prepare_kernel_write = barrier_noop_range,
    .faults = barrier_noop_faults,
};
