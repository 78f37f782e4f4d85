/* Test-only hooks (test_hooks.h).
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include "test_hooks.h"
#include <stdint.h>
#include "gc.h"
#include "heap.h"
#include "protection_off.h"
#include "young_size.h"

void wbrt_test_store_unseen(void **slot, void *value)
{
    void *page = (void *)((uintptr_t)slot & ~(uintptr_t)(WB_PAGE_SIZE - 1));
    pthread_mutex_lock(&H.lock); /* no collection in between */
    G.barrier->disarm(page, WB_PAGE_SIZE);
    *(void *volatile *)slot = value;
    G.barrier->arm(page, WB_PAGE_SIZE);
    pthread_mutex_unlock(&H.lock);
}

void wbrt_test_forget_dirty(void *p)
{
    pthread_mutex_lock(&H.lock);
    dirty_map_clear_range(&H.dirty, page_of((uintptr_t)p), 1);
    pthread_mutex_unlock(&H.lock);
}

void wbrt_test_mark_freed(void *obj)
{
    size_t g = gran_of((uintptr_t)obj);
    pthread_mutex_lock(&H.lock);
    alloc_clear(g);
    bit_set(H.freed_bits, g);
    pthread_mutex_unlock(&H.lock);
}

void wbrt_test_protection_off_next(void)
{
    pthread_mutex_lock(&H.lock);
    protection_force_next();
    pthread_mutex_unlock(&H.lock);
}

void wbrt_test_protection_held_on(int held)
{
    pthread_mutex_lock(&H.lock);
    protection_hold_on(held != 0);
    pthread_mutex_unlock(&H.lock);
}

void wbrt_test_fixed_share(int permille)
{
    pthread_mutex_lock(&H.lock);
    young_size_fix_share(permille);
    pthread_mutex_unlock(&H.lock);
}
