/* Boehm GC compatibility: heap size and growth, interior pointers, roots in libraries.
 * bdwgc's settings map onto wbrt's policy (collect_budget in collect.c) and marker.
 * Design: docs/design/gc-compat.md
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdio.h>
#include <stdlib.h>
#include "include/wbrt-gc/gc.h"
#include "gc.h"
#include "gc_compat.h"
#include "heap.h"
#include "mark.h"
#include "roots.h"

/* bdwgc's data symbols: programs may set them before the first GC_* call (GC_init reads
 * them), and read them. */
int GC_all_interior_pointers = 1;
int GC_no_dls = 0;
static int dont_expand;
/* bdwgc's default; it spaces the collections of a large heap as bdwgc does. */
GC_word GC_free_space_divisor = 3;
void *GC_least_plausible_heap_addr, *GC_greatest_plausible_heap_addr;

void gc_compat_heap_init(void)
{
    pthread_mutex_lock(&H.lock);
    mark_set_interior(GC_all_interior_pointers != 0);
    pthread_mutex_unlock(&H.lock);
    roots_data_segments(!GC_no_dls);
    gc_set_growth(GC_free_space_divisor > ~0u ? ~0u : (unsigned)GC_free_space_divisor, dont_expand);
    /* The whole reservation: every heap object lies in it, wherever the heap grows. */
    GC_least_plausible_heap_addr = (void *)H.base;
    GC_greatest_plausible_heap_addr = (void *)(H.base + (H.npages << WB_PAGE_SHIFT));
}

/* Before GC_init, which applies them, settings only go to the variables. */
static void settings_changed(void)
{
    if (GC_is_init_called())
        gc_compat_heap_init();
}

void GC_set_all_interior_pointers(int on)
{
    GC_all_interior_pointers = on != 0;
    settings_changed();
}

int GC_get_all_interior_pointers(void) { return GC_all_interior_pointers; }

void GC_register_displacement(size_t offset)
{
    gc_compat_ready();
    pthread_mutex_lock(&H.lock);
    int rc = mark_add_displacement(offset);
    pthread_mutex_unlock(&H.lock);
    if (rc != 0) {
        fprintf(stderr, "wbrt: GC_register_displacement(%zu): offsets must be below %d\n",
                offset, MARK_DISPLACEMENT_MAX);
        abort();
    }
}

void GC_set_no_dls(int on)
{
    GC_no_dls = on != 0;
    roots_data_segments(!GC_no_dls);
}

int GC_get_no_dls(void) { return GC_no_dls; }

void GC_set_dont_expand(int on)
{
    dont_expand = on != 0;
    settings_changed();
}

int GC_get_dont_expand(void) { return dont_expand; }

void GC_set_free_space_divisor(GC_word d)
{
    if (d == 0) {
        fprintf(stderr, "wbrt: GC_set_free_space_divisor(0): the divisor must be positive\n");
        abort();
    }
    GC_free_space_divisor = d;
    settings_changed();
}

GC_word GC_get_free_space_divisor(void) { return GC_free_space_divisor; }

int GC_expand_hp(size_t bytes)
{
    gc_compat_ready();
    return gc_expand_heap(bytes) == 0;
}

size_t GC_get_heap_size(void)
{
    struct wb_stats s;
    gc_compat_ready();
    wb_get_stats(&s);
    size_t target = __atomic_load_n(&G.sw.heap_target, __ATOMIC_RELAXED);
    return s.heap_bytes > target ? s.heap_bytes : target;
}

size_t GC_get_free_bytes(void)
{
    struct wb_stats s;
    size_t heap = GC_get_heap_size();
    wb_get_stats(&s);
    return heap > s.live_bytes ? heap - s.live_bytes : 0;
}

size_t GC_get_bytes_since_gc(void)
{
    gc_compat_ready();
    return gc_alloc_since_collect();
}

void GC_get_heap_usage_safe(GC_word *heap_size, GC_word *free_bytes, GC_word *unmapped_bytes,
                            GC_word *bytes_since_gc, GC_word *total_bytes)
{
    if (heap_size)
        *heap_size = GC_get_heap_size();
    if (free_bytes)
        *free_bytes = GC_get_free_bytes();
    if (unmapped_bytes)
        *unmapped_bytes = 0; /* freed runs leave the heap size when they are decommitted */
    if (bytes_since_gc)
        *bytes_since_gc = GC_get_bytes_since_gc();
    if (total_bytes)
        *total_bytes = GC_get_total_bytes();
}

int GC_is_heap_ptr(const void *p)
{
    gc_compat_ready();
    return in_heap((uintptr_t)p) && (uintptr_t)p >= page_addr(own_first_page());
}
