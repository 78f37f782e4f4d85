/* wbrt — a generational, conservative, non-moving garbage-collected heap for C
 * whose write barrier is done by the kernel.  SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef WBRT_H
#define WBRT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define WBRT_VERSION "0.1.0"
#define WB_API __attribute__((visibility("default")))

/* Options for wb_init().  A field left 0 (or NULL) takes the matching WBRT_*
 * environment variable, or the default; a non-zero field wins over the environment. */
struct wb_options {
    size_t heap_max;         /* WBRT_HEAP_MAX: bytes of address space reserved (default 64 GiB) */
    size_t young_bytes;      /* WBRT_YOUNG_BYTES: young allocation between young collections (default 16 MiB) */
    size_t full_min_bytes;   /* WBRT_FULL_MIN: old-generation growth that always allows a full collection (default 8 MiB) */
    unsigned heap_growth;    /* WBRT_HEAP_GROWTH: old-generation growth, in % of the live bytes, that triggers a full collection (default 100) */
    int tenure_age;          /* WBRT_TENURE_AGE: young collections an object survives before it is old (default 0: auto, 0 or 1 per collection from the survival); -1 forces 0 */
    const char *barrier;     /* WBRT_BARRIER: auto|uffd-async|mprotect|none (default auto) */
    int verify;              /* WBRT_VERIFY: 1 checks barrier soundness and reachability at every collection */
    int verbose;             /* WBRT_VERBOSE: 1 prints backend choice and collections on stderr */
    int on_bad_free;         /* WBRT_ON_BAD_FREE: 0 = default (abort), 1 = abort, 2 = ignore */
    size_t mark_stack_max;   /* WBRT_MARK_STACK_MAX: mark stack entries before overflow recovery (default 16Mi) */
};

/* 0, or -1 with errno: EINVAL (a bad option; the message names it and the accepted
 * values), ENOTSUP (the forced barrier is unavailable here: the message says why),
 * ENOMEM (the heap could not be reserved), EBUSY (options given after initialisation). */
WB_API int wb_init(const struct wb_options *opt);
WB_API const char *wb_last_error(void);

WB_API void *wb_malloc(size_t n);          /* zeroed, scanned for pointers */
WB_API void *wb_malloc_atomic(size_t n);   /* not scanned, not zeroed */
WB_API void *wb_calloc(size_t n, size_t size);
WB_API void *wb_realloc(void *p, size_t n);
WB_API void wb_free(void *p);
WB_API size_t wb_size(const void *p);      /* usable size of the object starting at p, 0 if none */
WB_API void *wb_base(const void *p);

#define WB_COLLECT_YOUNG 1
#define WB_COLLECT_FULL  2
#define WB_COLLECT_GLOBAL 3   /* full, and perm space too (the only collection that frees perm objects) */
WB_API void wb_collect(int kind);

/* Perm space (docs/perm.md).  wb_perm_save: a global collection, then every live
 * object, the heap layout and the root table into an image file at path (written under
 * a temporary name and renamed).  wb_perm_load (or WBRT_IMAGE=path at initialisation),
 * before the first allocation: maps the image copy-on-write at the addresses it was saved
 * from; its objects become perm space, kept by every collection but a global one.  Both:
 * 0, or -1 with errno and wb_last_error() naming the file and the problem.
 * Roots 0..63 of the image: wb_perm_set_root stores one (it is saved with the image and
 * keeps its object alive here too); wb_perm_root reads one (NULL + EINVAL if out of range). */
WB_API int wb_perm_save(const char *path);
WB_API int wb_perm_load(const char *path);
WB_API void *wb_perm_root(int i);
WB_API int wb_perm_set_root(int i, void *p);

WB_API void wb_add_roots(void *lo, void *hi);
WB_API void wb_remove_roots(void *lo, void *hi);
/* The words of the program's and its libraries' globals in [lo, hi) are no roots from the
 * next collection on: for global memory that never holds heap pointers (bdwgc's
 * GC_exclude_static_roots).  Registered ranges and stacks are unaffected. */
WB_API void wb_exclude_roots(void *lo, void *hi);

/* Make [p, p+n) safe for a kernel write (read(2), recv(2), io_uring, ...) under barriers
 * that protect pages (mprotect): without it such a call may fail with EFAULT.  The range
 * stays safe, even while other threads collect, until the calling thread's next call
 * (n = 0 ends it); the pages it covers are scanned at every young collection meanwhile. */
WB_API void wb_prepare_kernel_write(void *p, size_t n);

struct wb_stats {
    uint64_t young_collections;
    uint64_t full_collections;
    uint64_t pause_ns_total;
    uint64_t pause_ns_max;
    uint64_t young_pause_ns_max;
    uint64_t young_pause_ns_total;
    uint64_t heap_bytes;          /* committed heap pages in use, bytes */
    uint64_t live_bytes;          /* after the last collection */
    uint64_t old_bytes;           /* old generation, after the last collection */
    uint64_t pages_scanned_last;  /* pages whose old objects the last young collection scanned as roots */
    uint64_t dirty_pages_last;    /* pages in the dirty map at the last collection: written since the
                                     collection before (as the barrier saw it) or filled by the allocator */
    uint64_t remembered_last;     /* ranges (cards, slots, objects) a software barrier recorded
                                     for the last young collection */
    uint64_t barrier_faults;      /* faults taken by fault-driven barriers */
    uint64_t bytes_allocated;     /* total since wb_init */
    uint64_t peak_heap_bytes;     /* most heap pages ever in use at once, bytes */
    uint64_t dirty_pages_total;   /* dirty pages summed over every collection */
    uint64_t barrier_pages_total; /* pages a kernel barrier reported written, summed over every
                                     collection (0 under none and the software barriers) */
    uint64_t pages_scanned_total; /* pages_scanned_last summed over every young collection */
    uint64_t hot_pages_last;      /* old pages the last collection left unprotected because they are
                                     written at every cycle: scanned as dirty instead (docs/guide.md, "Arming policy") */
    uint64_t hot_pages_total;     /* hot_pages_last summed over every collection */
    uint64_t fault_cost_ns;       /* one barrier fault, measured at the first collection (0: not yet, or no policy) */
    uint64_t scan_cost_ns;        /* scanning one dirty page's old objects, measured by young collections
                                     (CPU time; 0 where no policy: none, a software barrier) */
    uint64_t rewrite_permille;    /* of the pages a collection armed, how many (per 1000) the
                                     next one found written again (smoothed) */
    uint64_t young_bytes;         /* allocation between young collections now: adapted within
                                     [WBRT_YOUNG_BYTES, 4 x WBRT_YOUNG_BYTES] (docs/guide.md, "Young size") */
    uint64_t fixed_permille;      /* share (per 1000, smoothed) of a young collection's cost that does not
                                     depend on the young size: harvest, roots, dirty old pages, faults */
    uint64_t reprotect_cost_ns;   /* protecting a written page again: measured at the first collection, then the
                                     young collections' harvest, CPU time per page reported (smoothed) */
    uint64_t call_cost_ns;        /* one call that protects or opens pages, its own cost whatever their number:
                                     measured at the first collection (CPU time; 0: not yet, or no policy) */
    uint64_t root_bytes_last;     /* root bytes (stacks, globals, the preloaded program's own mappings)
                                     the last young collection scanned */
    uint64_t root_bytes_total;    /* root_bytes_last summed over every young collection */
    uint64_t clean_scan_cost_ns;  /* scanning one armed page not written since (what protecting it saves),
                                     timed on a few such pages at each young collection (CPU time) */
    uint64_t unprotected_collections; /* collections made with protection off for the whole heap, where
                                     protecting cost more than it saved (docs/guide.md, "Arming policy") */
};
WB_API void wb_get_stats(struct wb_stats *s);
WB_API const char *wb_barrier_name(void);

/* Pointer stores into heap objects: WB_STORE(obj, field, value) sets obj->field = value.
 * With a kernel barrier (the default) it is a plain store.  Compiling the WHOLE program
 * with -DWB_SOFT_BARRIER=card|ssb|remset makes it also feed that software barrier, which
 * wb_init() then uses (the program must then store every pointer into a heap object with
 * WB_STORE/wb_store: WBRT_VERIFY=1 reports a store that bypassed it).
 *   card    marks a byte per WB_CARD_SIZE bytes (default 512, a power of two >= 16);
 *           the dirty cards' words are the young collection's extra roots.
 *   ssb     appends the slot's address to a per-thread sequential store buffer; a full
 *           buffer is folded into a card table; at a collection the buffered slots and
 *           the dirty cards are the extra roots.
 *   remset  remembers obj (once: a "remembered" byte per 16-byte granule) in a
 *           per-thread log; at a collection the remembered objects are scanned whole.
 * obj must be the start of the object that holds slot (remset remembers it). */
#define WB_STORE(obj, field, value) wb_store((obj), (void **)&(obj)->field, (value))

/* Tables the inline barriers write: the runtime's, exported for the inline code only. */
extern WB_API uintptr_t wb_soft_base, wb_soft_len;   /* the heap reservation */
extern WB_API unsigned char *wb_soft_cards;          /* card: one byte per card of it */
extern WB_API unsigned char *wb_soft_remembered;     /* remset: one byte per 16-byte granule */
extern WB_API __thread void **wb_ssb_cur, **wb_ssb_end;
WB_API void wb_ssb_overflow(void);                   /* the buffer is full (or not set up) */
WB_API void wb_remember(void *obj);

#define WB_SOFT_card 1
#define WB_SOFT_ssb 2
#define WB_SOFT_remset 3
#define WB_XCAT_(a, b) a##b
#define WB_XCAT(a, b) WB_XCAT_(a, b)
#ifndef WB_CARD_SIZE
#define WB_CARD_SIZE 512
#endif

#ifdef WB_SOFT_BARRIER
#define WB_SOFT_KIND WB_XCAT(WB_SOFT_, WB_SOFT_BARRIER)
#if WB_SOFT_KIND != WB_SOFT_card && WB_SOFT_KIND != WB_SOFT_ssb && WB_SOFT_KIND != WB_SOFT_remset
#error "WB_SOFT_BARRIER must be card, ssb or remset"
#endif
#if WB_CARD_SIZE < 16 || (WB_CARD_SIZE & (WB_CARD_SIZE - 1))
#error "WB_CARD_SIZE must be a power of two, at least 16"
#endif
/* Tells wb_init() which barrier this program's stores feed (a weak definition in every
 * translation unit; a program that mixes two kinds is refused at wb_init). */
#ifdef __cplusplus
extern
#endif
__attribute__((weak, visibility("default"))) const unsigned WB_XCAT(wb_program_barrier_, WB_SOFT_BARRIER) =
    WB_CARD_SIZE;
#endif

static inline void wb_store(void *obj, void **slot, void *value)
{
    (void)obj;
    *slot = value;
    /* The store first, then the record, and the compiler may not swap them; value stays
     * in a register until the record is made (the empty asm at the end).  A thread stopped
     * for a collection between the two keeps value alive through its registers, and
     * records the store when it resumes, for the next collection. */
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
#if defined(WB_SOFT_BARRIER) && WB_SOFT_KIND == WB_SOFT_card
    uintptr_t off = (uintptr_t)slot - wb_soft_base;
    if (off < wb_soft_len)
        wb_soft_cards[off / WB_CARD_SIZE] = 1;
#elif defined(WB_SOFT_BARRIER) && WB_SOFT_KIND == WB_SOFT_ssb
    void **cur = wb_ssb_cur;
    if (__builtin_expect(cur == wb_ssb_end, 0)) {
        wb_ssb_overflow();
        cur = wb_ssb_cur;
    }
    *cur = (void *)slot;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    wb_ssb_cur = cur + 1;
#elif defined(WB_SOFT_BARRIER) && WB_SOFT_KIND == WB_SOFT_remset
    uintptr_t off = (uintptr_t)obj - wb_soft_base;
    if (off < wb_soft_len && !wb_soft_remembered[off / 16])
        wb_remember(obj);
#endif
#ifdef WB_SOFT_BARRIER
    __asm__ volatile("" : : "r"(value));
#endif
}

#ifdef __cplusplus
}
#endif
#endif
