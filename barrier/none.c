/* SPDX-License-Identifier: GPL-2.0-or-later */
/* No barrier: tracks nothing, so every young collection scans every old page. */
#include "barrier.h"

static int none_probe(char *why, size_t whylen)
{
    (void)why;
    (void)whylen;
    return 0;
}

static int none_attach(void *base, size_t len, struct dirty_map *dm, char *why, size_t whylen)
{
    (void)base;
    (void)len;
    (void)dm;
    (void)why;
    (void)whylen;
    return 0;
}

static void none_detach(void)
{
}

static void none_range(void *addr, size_t len)
{
    (void)addr;
    (void)len;
}

static size_t none_harvest(struct dirty_map *dm, void *addr, size_t len)
{
    (void)dm;
    (void)addr;
    (void)len;
    return 0;
}

static uint64_t none_faults(void)
{
    return 0;
}

const struct barrier_ops barrier_none = {
    .name = "none",
    .tracks = 0,
    .probe = none_probe,
    .attach = none_attach,
    .detach = none_detach,
    .arm = none_range,
    .harvest = none_harvest,
    .will_write = none_range,
    .disarm = none_range,
    .prepare_kernel_write = none_range,
    .faults = none_faults,
};
