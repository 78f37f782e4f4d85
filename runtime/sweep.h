/* Sweeping: free unmarked objects, promote survivors, give empty pages back.
 * Design: docs/design/mark-sweep.md */
#ifndef WBRT_SWEEP_H
#define WBRT_SWEEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sweep_result {
    size_t live_bytes;      /* bytes of objects the sweep kept (in its scope) */
    size_t promoted_bytes;  /* bytes that became old */
    size_t young_bytes;     /* survivors still young (tenure) */
};

/* Young: the young-list pages only; survivors age and become old past tenure_age.
 * Full: every page but perm pages (global: those too); every survivor becomes old.
 * World stopped, H.lock held. */
void sweep(bool young, bool global, int tenure_age, bool record_freed, uint64_t gc_no, struct sweep_result *r);

#endif
