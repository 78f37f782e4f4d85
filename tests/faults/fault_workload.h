/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The collection workload every fault test runs once the fault is in place: a model of
 * what must stay reachable, checked payload by payload after every collection.
 * An old generation of page-sized objects hangs off one spine; each round stores new
 * young objects into every other one of them (so the written old pages alternate with
 * clean ones: a protecting barrier must split its mappings to re-protect them), replaces
 * some of them and makes garbage, then collects.  Any loss fails a cmocka assertion. */
#ifndef FAULT_WORKLOAD_H
#define FAULT_WORKLOAD_H

#include <stddef.h>
#include <stdint.h>

struct fw_figures {
    uint64_t objects_checked;   /* payload checks passed */
    uint64_t reclaimed_checked; /* dead objects found reclaimed */
    uint64_t old_stores;        /* old-to-young pointer stores */
};

extern struct fw_figures fw;

/* n old objects (at most FW_MAX), after a full collection. */
#define FW_MAX 4096
void fw_build(size_t n);
/* One round (see above) ending with a young collection, then every payload checked. */
void fw_round(unsigned round);
/* A full collection: every payload checked, every object dropped so far reclaimed. */
void fw_finish(void);
/* Every payload checked, no collection. */
void fw_check(void);
/* A chain of checksummed blocks (1000 and 40000 bytes, newest first, from a global
 * root), grown by fw_fill until wb_malloc returns NULL, which must come with errno ENOMEM.
 * fw_fill returns the blocks added; fw_drop_newer_blocks drops the newer half of the
 * chain and returns how many; fw_oldest_block is the first block (the chain not empty). */
size_t fw_fill(void);
void fw_check_blocks(void);
size_t fw_drop_newer_blocks(void);
void *fw_oldest_block(void);

/* "<test>: objects checked N, reclaimed checked N, old-to-young stores N, collections
 * young N full N, barrier <name> faults N" on stdout. */
void fw_report(const char *test);

#endif
