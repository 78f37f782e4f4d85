/* Write tracking without collection (the preload's stats mode): how many heap pages
 * were written since the last sample.
 * Design: docs/design/generations.md
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include "gc.h"
#include "heap.h"
#include "threads.h"

size_t gc_sample_dirty(void)
{
    if (!gc_ready())
        return 0;
    pthread_mutex_lock(&H.lock);
    threads_stop_world();
    size_t used = H.top << WB_PAGE_SHIFT;
    G.barrier->harvest(&H.dirty, (void *)H.base, used);
    size_t n = dirty_map_count(&H.dirty, H.top);
    dirty_map_clear_range(&H.dirty, 0, H.top);
    /* every page in use is tracked until the next sample (page 0 is never used) */
    if (H.top > 1)
        G.barrier->arm((void *)page_addr(1), (H.top - 1) << WB_PAGE_SHIFT);
    threads_reprepare_kernel_writes();
    threads_start_world();
    pthread_mutex_unlock(&H.lock);
    return n;
}
