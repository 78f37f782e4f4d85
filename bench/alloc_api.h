/* The allocation shim of the benchmark workloads: the same workload source built against
 * wbrt or a peer, chosen at compile time with -DBA_PEER=wbrt|bdwgc|bdwgc_inc|malloc|jemalloc.
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 *   wbrt       wb_malloc; pointer stores into objects that may be old through BA_STORE
 *              (WB_STORE: a plain store under a kernel barrier, recorded under a software
 *              barrier build, -DWB_SOFT_BARRIER=card|ssb|remset)
 *   bdwgc      Boehm-Demers-Weiser GC (Debian's libgc), full collections
 *   bdwgc_inc  the same after GC_enable_incremental(): generational and incremental, with
 *              its own virtual dirty bits (mprotect on this build)
 *   malloc     glibc malloc/free
 *   jemalloc   the same calls, linked with -ljemalloc (which replaces malloc and free)
 *
 * BA_FREES is 1 for the last two: a workload built for them must free what it drops
 * (ba_free); with a collector ba_free does nothing and dropped objects are garbage.
 * Workloads that cannot say when an object dies are not built for them. */
#ifndef WBRT_BENCH_ALLOC_API_H
#define WBRT_BENCH_ALLOC_API_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <sys/resource.h>

#define BA_wbrt 1
#define BA_bdwgc 2
#define BA_bdwgc_inc 3
#define BA_malloc 4
#define BA_jemalloc 5
#define BA_XCAT_(a, b) a##b
#define BA_XCAT(a, b) BA_XCAT_(a, b)
#define BA_STR_(a) #a
#define BA_STR(a) BA_STR_(a)
#ifndef BA_PEER
#define BA_PEER wbrt
#endif
#define BA_KIND BA_XCAT(BA_, BA_PEER)
#define BA_IS_BDWGC (BA_KIND == BA_bdwgc || BA_KIND == BA_bdwgc_inc)
#define BA_FREES (BA_KIND == BA_malloc || BA_KIND == BA_jemalloc)
#if BA_KIND < BA_wbrt || BA_KIND > BA_jemalloc
#error "BA_PEER must be wbrt, bdwgc, bdwgc_inc, malloc or jemalloc"
#endif

#if BA_KIND == BA_wbrt
#include "wbrt.h"
#define BA_STORE(obj, field, value) WB_STORE(obj, field, value)
#define BA_STORE_SLOT(obj, slot, value) wb_store((obj), (void **)(slot), (value))
#elif BA_IS_BDWGC
#define GC_THREADS 1 /* pthread_create goes through GC_pthread_create: threads are roots */
#include <gc/gc.h>
#endif
#if BA_KIND != BA_wbrt
#define BA_STORE(obj, field, value) ((obj)->field = (value))
#define BA_STORE_SLOT(obj, slot, value) ((void)(obj), *(slot) = (value))
#endif

/* What every workload reports, whatever the peer; collector fields stay 0 without one. */
struct ba_stats {
    uint64_t gcs;                  /* collections of any kind */
    uint64_t young, full;          /* wbrt's split of them (bdwgc: all counted as full) */
    double pause_total_ms, pause_max_ms;   /* world stopped by the collector */
    double young_pause_total_ms, young_pause_max_ms;   /* wbrt's young collections only */
    uint64_t dirty_pages_last, pages_scanned_last, remembered_last, faults, hot_pages_last;
    /* Sums over collections (dirty: every kind; scanned: young ones; hot: every kind), for
     * workloads whose threads cannot poll each collection's figures (ba_print_common). */
    uint64_t dirty_pages_total, pages_scanned_total, hot_pages_total;
    uint64_t old_bytes;            /* wbrt: after the last collection; bdwgc: its heap size */
    uint64_t unprotected;          /* wbrt: collections made with protection off heap-wide */
};

/* xorshift64 on *state: a fixed seed makes every configuration do the same work. */
static inline uint64_t ba_xorshift(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *state = x;
}

static inline double ba_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static inline double ba_peak_rss_mb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss / 1024.0;
}

#if BA_IS_BDWGC
/* bdwgc pauses are its world stops, timed by its collection-event callback (called with
 * the allocation lock held, so these plain counters need no atomics). */
static struct {
    double stop_at, total_ms, max_ms;
    uint64_t gc_no0;
} ba_bdwgc;

static void GC_CALLBACK ba_bdwgc_event(GC_EventType e)
{
    if (e == GC_EVENT_PRE_STOP_WORLD) {
        ba_bdwgc.stop_at = ba_now_s();
    } else if (e == GC_EVENT_POST_START_WORLD && ba_bdwgc.stop_at > 0) {
        double ms = (ba_now_s() - ba_bdwgc.stop_at) * 1e3;
        ba_bdwgc.total_ms += ms;
        if (ms > ba_bdwgc.max_ms)
            ba_bdwgc.max_ms = ms;
        ba_bdwgc.stop_at = 0;
    }
}
#endif

/* young_bytes: wbrt's allocation between young collections, 0 for the default (and when
 * WBRT_YOUNG_BYTES is set).  0, or 77 when the configuration is unavailable here (the
 * harness shows it as skipped), after a line on stderr. */
static inline int ba_init(const char *who, size_t young_bytes)
{
#if BA_KIND == BA_wbrt
    struct wb_options opt = {.young_bytes = getenv("WBRT_YOUNG_BYTES") ? 0 : young_bytes};
    if (wb_init(&opt) != 0) {
        fprintf(stderr, "%s: wbrt unavailable: %s\n", who, wb_last_error());
        return 77;
    }
#elif BA_IS_BDWGC
    GC_INIT();
#if BA_KIND == BA_bdwgc_inc
    GC_enable_incremental();
    if (!GC_is_incremental_mode()) {
        fprintf(stderr, "%s: bdwgc incremental mode unavailable\n", who);
        return 77;
    }
#endif
    GC_set_on_collection_event(ba_bdwgc_event);
    ba_bdwgc.gc_no0 = GC_get_gc_no();
#endif
    (void)who;
    (void)young_bytes;
    return 0;
}

/* The peer's name as the harness knows it; wbrt adds its barrier. */
static inline const char *ba_peer(void)
{
#if BA_KIND == BA_wbrt
    return wb_barrier_name();
#elif BA_KIND == BA_bdwgc_inc
    return "bdwgc-inc";
#else
    return BA_STR(BA_PEER);
#endif
}

/* p, or exit with a message if the allocation of n bytes failed. */
static inline void *ba_checked(void *p, size_t n)
{
    if (!p) {
        fprintf(stderr, "bench: out of memory (%zu bytes)\n", n);
        exit(1);
    }
    return p;
}

#if BA_KIND == BA_wbrt
#define BA_MALLOC(n) wb_malloc(n)
#define BA_MALLOC_ATOMIC(n) wb_malloc_atomic(n)
#elif BA_IS_BDWGC
#define BA_MALLOC(n) GC_MALLOC(n)
#define BA_MALLOC_ATOMIC(n) GC_MALLOC_ATOMIC(n)
#else
#define BA_MALLOC(n) calloc(1, n)
#define BA_MALLOC_ATOMIC(n) malloc(n)
#endif

/* Zeroed memory that may hold pointers; exits on failure. */
static inline void *ba_alloc(size_t n)
{
    return ba_checked(BA_MALLOC(n), n);
}

/* Memory never holding pointers, not zeroed; exits on failure. */
static inline void *ba_alloc_atomic(size_t n)
{
    return ba_checked(BA_MALLOC_ATOMIC(n), n);
}

/* The program drops p: freed by the malloc peers, left to the collector otherwise. */
static inline void ba_free(void *p)
{
#if BA_FREES
    free(p);
#else
    (void)p;
#endif
}

/* The collection a workload's cycle ends with: wbrt's young one; bdwgc's full one; in
 * bdwgc's incremental mode one (usually partial, generational) cycle run to its end. */
static inline void ba_collect_young(void)
{
#if BA_KIND == BA_wbrt
    wb_collect(WB_COLLECT_YOUNG);
#elif BA_KIND == BA_bdwgc_inc
    GC_start_incremental_collection();
    while (GC_collect_a_little())
        ;
#elif BA_KIND == BA_bdwgc
    GC_gcollect();
#endif
}

static inline void ba_collect_full(void)
{
#if BA_KIND == BA_wbrt
    wb_collect(WB_COLLECT_FULL);
#elif BA_IS_BDWGC
    GC_gcollect();
#endif
}

static inline void ba_get_stats(struct ba_stats *o)
{
    *o = (struct ba_stats){0};
#if BA_KIND == BA_wbrt
    struct wb_stats s;
    wb_get_stats(&s);
    o->young = s.young_collections;
    o->full = s.full_collections;
    o->gcs = o->young + o->full;
    o->pause_total_ms = s.pause_ns_total / 1e6;
    o->pause_max_ms = s.pause_ns_max / 1e6;
    o->young_pause_total_ms = s.young_pause_ns_total / 1e6;
    o->young_pause_max_ms = s.young_pause_ns_max / 1e6;
    o->dirty_pages_last = s.dirty_pages_last;
    o->pages_scanned_last = s.pages_scanned_last;
    o->remembered_last = s.remembered_last;
    o->faults = s.barrier_faults;
    o->hot_pages_last = s.hot_pages_last;
    o->dirty_pages_total = s.dirty_pages_total;
    o->pages_scanned_total = s.pages_scanned_total;
    o->hot_pages_total = s.hot_pages_total;
    o->old_bytes = s.old_bytes;
    o->unprotected = s.unprotected_collections;
#elif BA_IS_BDWGC
    o->gcs = o->full = GC_get_gc_no() - ba_bdwgc.gc_no0;
    o->pause_total_ms = ba_bdwgc.total_ms;
    o->pause_max_ms = ba_bdwgc.max_ms;
    o->old_bytes = GC_get_heap_size();
#endif
}

/* Collections happen inside allocation, so per-collection figures (dirty pages, recorded
 * ranges) are sampled by polling: each new young collection seen adds its own. */
struct ba_poll {
    uint64_t seen_young, samples, dirty_sum, remembered_sum;
};

static inline void ba_poll(struct ba_poll *p)
{
#if BA_KIND == BA_wbrt
    struct wb_stats s;
    wb_get_stats(&s);
    if (s.young_collections != p->seen_young) {
        p->seen_young = s.young_collections;
        p->samples++;
        p->dirty_sum += s.dirty_pages_last;
        p->remembered_sum += s.remembered_last;
    }
#else
    (void)p;
#endif
}

/* The fields every workload's result line carries after "<workload> ": the harness reads
 * key=value pairs.  s: totals since the start of the timed part (see ba_stats_since).
 * Without p (threads allocate: polling would take the heap lock in their loop), the dirty
 * pages are a mean over every collection, from the totals, and the scanned and hot pages
 * follow (mt_mutator's dirty/yc read 0.0 under every barrier). */
static inline void ba_print_common(const char *workload, double time_s, const struct ba_stats *s,
                                   const struct ba_poll *p)
{
    double mean_dirty = p && p->samples ? (double)p->dirty_sum / (double)p->samples
                        : !p && s->gcs ? (double)s->dirty_pages_total / (double)s->gcs : 0.0;
    double mean_rem = p && p->samples ? (double)p->remembered_sum / (double)p->samples : 0.0;
    printf("%s barrier=%s time_s=%.4f gcs=%llu young=%llu full=%llu pause_mean_ms=%.3f pause_max_ms=%.3f "
           "young_pause_mean_ms=%.3f young_pause_max_ms=%.3f dirty_pages_mean=%.1f remembered_mean=%.1f "
           "faults=%llu unprotected=%llu old_gen_mb=%.1f peak_rss_mb=%.1f",
           workload, ba_peer(), time_s, (unsigned long long)s->gcs, (unsigned long long)s->young,
           (unsigned long long)s->full, s->gcs ? s->pause_total_ms / (double)s->gcs : 0.0, s->pause_max_ms,
           s->young ? s->young_pause_total_ms / (double)s->young : 0.0, s->young_pause_max_ms, mean_dirty,
           mean_rem, (unsigned long long)s->faults, (unsigned long long)s->unprotected, s->old_bytes / 1048576.0,
           ba_peak_rss_mb());
    if (!p)
        printf(" pages_scanned_mean=%.1f hot_pages_mean=%.1f",
               s->young ? (double)s->pages_scanned_total / (double)s->young : 0.0,
               s->gcs ? (double)s->hot_pages_total / (double)s->gcs : 0.0);
}

/* Figures of a workload's timed cycles, each ended by ba_collect_young(): totals since
 * ba_cycles_begin, maxima per cycle, means per cycle. */
struct ba_cycles {
    struct ba_stats before, prev;
    double pause_max_ms, young_pause_max_ms;
    uint64_t scanned_sum, hot_sum;
    struct ba_poll per;
};

static inline void ba_cycles_begin(struct ba_cycles *c)
{
    *c = (struct ba_cycles){0};
    ba_get_stats(&c->before);
    c->prev = c->before;
}

static inline void ba_cycle_end(struct ba_cycles *c)
{
    struct ba_stats s;
    ba_get_stats(&s);
    double pause = s.pause_total_ms - c->prev.pause_total_ms;
    double young_pause = s.young_pause_total_ms - c->prev.young_pause_total_ms;
    c->pause_max_ms = pause > c->pause_max_ms ? pause : c->pause_max_ms;
    c->young_pause_max_ms = young_pause > c->young_pause_max_ms ? young_pause : c->young_pause_max_ms;
    c->scanned_sum += s.pages_scanned_last;
    c->hot_sum += s.hot_pages_last;
    c->per.samples++;
    c->per.dirty_sum += s.dirty_pages_last;
    c->per.remembered_sum += s.remembered_last;
    c->prev = s;
}

/* The common fields and pages_scanned_mean; the caller adds its own and the newline. */
static inline void ba_cycles_print(const char *workload, double time_s, const struct ba_cycles *c)
{
    struct ba_stats d = c->prev;
    d.gcs -= c->before.gcs;
    d.young -= c->before.young;
    d.full -= c->before.full;
    d.faults -= c->before.faults;
    d.unprotected -= c->before.unprotected;
    d.pause_total_ms -= c->before.pause_total_ms;
    d.young_pause_total_ms -= c->before.young_pause_total_ms;
    d.pause_max_ms = c->pause_max_ms;
    d.young_pause_max_ms = c->young_pause_max_ms;
    ba_print_common(workload, time_s, &d, &c->per);
    double n = c->per.samples ? (double)c->per.samples : 1.0;
    printf(" pages_scanned_mean=%.1f hot_pages_mean=%.1f", (double)c->scanned_sum / n, (double)c->hot_sum / n);
}

#endif
