/* When automatic collections come: memory freed with GC_free is reusable at once and does
 * not count as allocation (bdwgc's GC_adj_bytes_allocd, which still counts an eighth;
 * wbrt's incremental mode a quarter), so a program that frees what it allocates collects
 * far less often than one that drops it, in either mode.  In incremental mode also:
 * objects that die old do not grow the heap far past what the free space divisor
 * promises.
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include <gc.h>
#include "gct.h"

#define MIB (1 << 20)
#define CHURN (128 * MIB)
#define BATCH (2 * MIB)

static void *batch[BATCH / 256];

/* CHURN bytes of n-byte objects in batches of BATCH bytes, each batch freed (or dropped)
 * before the next: most frees are of blocks the allocator has moved on from. */
static GC_word churn(size_t n, int free_them)
{
    GC_word before = GC_get_gc_no();
    for (size_t done = 0; done < CHURN; done += BATCH) {
        for (size_t i = 0; i < BATCH / n; i++) {
            batch[i] = GC_MALLOC(n);
            if (!batch[i])
                return (GC_word)-1;
        }
        for (size_t i = 0; i < BATCH / n; i++) {
            if (free_them)
                GC_FREE(batch[i]);
            batch[i] = NULL;
        }
    }
    return GC_get_gc_no() - before;
}

#define RING (4096)        /* 1 MiB of 256-byte objects live at any time */
#define HEAP_BOUND (16 * MIB)
static void *ring[RING];

/* Each ring object outlives several young collections (three objects of garbage are
 * allocated per ring slot replaced), then dies: old garbage, which only a full collection
 * frees.  bdwgc's free space divisor promises a heap near live * (1 + 2 / divisor) in
 * incremental mode too: wbrt's full collections come as the old generation grows by that,
 * not by its own 64 MiB floor.  The largest heap size seen, or 0 if memory ran out. */
static size_t aged_churn(void)
{
    size_t peak = 0;
    for (size_t i = 0; i < CHURN / 256; i++) {
        void *p = GC_MALLOC(256);
        if (!p)
            return 0;
        if (i % 4 == 0)
            ring[i / 4 % RING] = p;
        if (i % 64 == 0 && GC_get_heap_size() > peak)
            peak = GC_get_heap_size();
    }
    return peak;
}

static void check(size_t n)
{
    GC_word freed = churn(n, 1), dropped = churn(n, 0);
    char what[160];
    fprintf(stderr, "gc_budget: %zu-byte objects: %lu collections freeing them, %lu dropping them\n", n,
            (unsigned long)freed, (unsigned long)dropped);
    snprintf(what, sizeof what, "%zu-byte objects: freeing them collects under half as often as dropping them", n);
    GCT_CHECK(what, freed != (GC_word)-1 && dropped != (GC_word)-1 && 2 * freed < dropped);
}

int main(void)
{
    GC_INIT();
    gct_enable_incremental();
    if (gct_env_is("GCT_INCREMENTAL", "1")) {
        check(256);
        gct_store_into_old();
        churn(256, 0);
        gct_check_old_holder();
        size_t peak = aged_churn();
        fprintf(stderr, "gc_budget: incremental: largest heap %zu KiB with 1 MiB live\n", peak >> 10);
        GCT_CHECK("incremental: objects that die old leave the heap under 16 MiB with 1 MiB live",
                  peak > 0 && peak <= HEAP_BOUND);
        return gct_exit();
    }
    check(256);
    check(64 * 1024);
    return gct_exit();
}
