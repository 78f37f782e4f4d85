/* Collector state shared by the allocator, the collector and the API.
 * Design: docs/design/api.md */
#ifndef WBRT_GC_H
#define WBRT_GC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "barrier.h"
#include "options.h"
#include "wbrt.h"

/* Configuration the bdwgc compatibility layer changes at run time (each under H.lock). */
struct gc_switches {
    bool full_only;        /* every collection is full and arms no page (bdwgc's non-incremental mode) */
    int disabled;          /* collections suspended while > 0 (bdwgc's GC_disable) */
    /* bdwgc's heap settings (0: unset), which move when an automatic collection is due
     * (collect_budget in collect.c). */
    size_t heap_target;    /* GC_expand_hp: the heap may fill to this before collecting */
    unsigned free_space_divisor;
    bool dont_expand;      /* GC_set_dont_expand: collect rather than grow the heap */
    bool is_malloc;        /* the process's malloc (the preload): glibc frees into it under
                              its own locks (collect.c, starting marker threads; alloc.c,
                              free_object) */
};

/* Policy state: what the collector counts to decide when and how to collect. */
struct gc_policy {
    uint64_t gc_no;
    size_t alloc_since;    /* bytes handed to allocators since the last collection */
    size_t freed_since;    /* of them, freed explicitly and reusable at once, counted only
                            * where gc_counts_frees (atomic: the owner's frees take no lock) */
    size_t old_bytes;      /* old generation after the last collection */
    size_t old_after_full; /* old generation after the last full collection */
    bool full_due;
};

struct gc {
    int initialised;
    const struct barrier_ops *barrier;  /* the barrier in use (none once a reattach failed) */
    bool barrier_pending;               /* barrier is barrier_deferred's: chosen and attached
                                           at the first collection (gc_init_deferred) */
    struct wbrt_config cfg;             /* configuration: options.c, fixed by wb_init */
    struct gc_switches sw;
    struct gc_policy policy;
    struct wb_stats stats;              /* statistics: wb_get_stats */
};

extern struct gc G;

/* Non-zero while this thread runs wbrt code that calls into glibc (which may allocate):
 * a malloc replacement must then not come back into the collector (the preload). */
extern __thread int gc_inside __attribute__((tls_model("initial-exec")));

/* Explicit frees put the next collection off only where every collection is full or
 * bdwgc's free-space divisor is set (collect.c, counted_allocation): elsewhere a free
 * need not count them (an atomic add per free). */
static inline bool gc_counts_frees(void) { return G.sw.full_only || G.sw.free_space_divisor; }

/* wb_init(NULL), for the preload: the barrier is chosen and attached at the first
 * collection (most processes never collect; until then no page is old), unless a
 * permanent image or stats mode needs it from the start.  An unknown WBRT_BARRIER is
 * refused at once; one unavailable, or auto's fallback, is said in one line on stderr when
 * the barrier is set up.  0, or -1 with errno and wb_last_error(). */
int gc_init_deferred(void);

/* Initialises on first use; false (errno set, the reason printed once) if that failed.
 * Inline: every allocation asks. */
bool gc_init_on_first_use(void);
static inline bool gc_ready(void)
{
    return __builtin_expect(__atomic_load_n(&G.initialised, __ATOMIC_ACQUIRE), 1) || gc_init_on_first_use();
}

/* Non-zero: this thread's allocations do not start collections (the preload's wrappers
 * of kernel writes: a collection would protect again what they prepared). */
extern __thread int gc_no_collect __attribute__((tls_model("initial-exec")));

/* The preload's wrapped system calls: from begin to end, the heap range [p, p + n) that
 * the kernel may write for the calling thread is prepared again after every arming by
 * another thread (a collection, a stats sample), which would otherwise protect it while
 * the call blocks (wait4's status, a read from a pipe) and make it fail with EFAULT. */
void gc_kernel_write_begin(const void *p, size_t n);
void gc_kernel_write_end(void);
/* The calling thread's signal stack is [p, p + n) in the heap (n = 0: not any more): the
 * kernel writes signal frames there, so it is kept writable like a call's buffer. */
void gc_signal_stack(const void *p, size_t n);
/* wb_prepare_kernel_write: [p, p + n) stays prepared for the calling thread, also across
 * other threads' collections, until its next call (n = 0: none). */
void gc_keep_prepared(const void *p, size_t n);
/* Prepares [p, p + n) for one kernel write, without keeping it prepared. */
void gc_prepare_kernel_write(const void *p, size_t n);

/* CLOCK_MONOTONIC, ns: the collector's timings. */
uint64_t gc_now_ns(void);
/* The calling thread's CPU time, ns: costs the policy compares, which a preemption in the
 * middle of a measurement would inflate (a loaded machine doubled the page scan's cost). */
uint64_t gc_cpu_ns(void);
/* Collect if the allocation volume calls for it (H.lock held). */
void gc_maybe_collect(void);
/* Called at the start of every collection, H.lock held, before the world stops (bdwgc's
 * start callback); it must not allocate.  NULL: none. */
extern void (*gc_start_hook)(void);
/* H.lock held; kind is WB_COLLECT_YOUNG, _FULL or _GLOBAL (perm space too). */
void gc_collect_locked(int kind);
/* Attaches the barrier to the part of the reservation it watches (barrier_base()); if
 * that fails, says so on stderr naming `when`, and uses none. */
void gc_attach_barrier(const char *when);
/* fork's first step and its last: no barrier half set up at the first collection is
 * copied into a child (before the heap lock: the set-up takes it after this one). */
void gc_fork_lock(void);
void gc_fork_unlock(void);
/* Sets wb_last_error() and errno; returns -1. */
int gc_error(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The allocator is about to fill pages [pg, pg+n): record them dirty, tell the barrier. */
void gc_will_write(size_t pg, size_t n);

/* Frees that waited for the page's owning thread (world stopped). */
void alloc_apply_deferred_frees(void);

/* Switches for the Boehm GC compatibility layer (each takes H.lock). */
void gc_set_full_only(bool on);
void gc_disable_collections(int delta);   /* +1 / -1 */
void gc_collect_if_due(void);
void gc_set_max_heap(size_t bytes);       /* 0: no limit */
/* Raises heap_target by bytes (from the larger of it and the heap in use): 0, or -1 if
 * that would pass the heap's limit. */
int gc_expand_heap(size_t bytes);
/* divisor 0: wbrt's own budget only (in full-only mode). */
void gc_set_growth(unsigned divisor, bool dont_expand);
/* Bytes allocated since the last collection. */
size_t gc_alloc_since_collect(void);
/* Zeroed, scanned memory at a multiple of align (a power of two); NULL + ENOMEM. */
void *alloc_aligned(size_t align, size_t n);
/* Up to max small objects of n bytes (n <= SMALL_MAX) into out, as that many wb_malloc
 * (atomic: wb_malloc_atomic) calls would give, less each call's own cost; the number
 * given, 0 only when out of memory. */
size_t alloc_many(size_t n, int atomic, void **out, size_t max);

/* Calls fn (world stopped: no allocation, no lock) for every allocated object that no
 * root reaches; frees nothing. */
void gc_each_unreachable(void (*fn)(uintptr_t obj, size_t size, void *ctx), void *ctx);

/* Stats mode (no collection ever runs): the heap pages written or filled since the last
 * call; every page in use is tracked again until the next one. */
size_t gc_sample_dirty(void);

/* Verifier (world stopped). */
__attribute__((noreturn)) void verify_fail(const char *msg, int len);
/* Maps the verifier's tables (once); 0, or -1 and the reason in why. */
int verify_init(char *why, size_t whylen);
void verify_note_armed(size_t pg, size_t n);
/* Notes the pages the young collection scanned (called before the software barrier's
 * records are visited). */
void verify_note_scanned(void);
void verify_barrier(uintptr_t my_sp);
/* The check of the root pages a young collection does not scan (verify_roots.c), made by
 * roots.c as the barrier has just reported them; verify_roots_init maps its table: 0, or
 * -1 with errno. */
int verify_roots_init(void);
void verify_roots(void);
/* global: perm objects were collected too; otherwise they all count as reachable. */
void verify_reachable(uintptr_t my_sp, bool global);

#endif
