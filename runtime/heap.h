/* The heap: one reserved range of 4 KiB pages and the side tables that describe it.
 * No collector or allocator metadata ever lives in a heap page: old pages are
 * write-protected, and a store into one would dirty it or fault.
 * Design: docs/design/heap.md */
#ifndef WBRT_HEAP_H
#define WBRT_HEAP_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "dirty_map.h"
#include "vec.h"

#define GRAN_SHIFT 4                       /* 16-byte granules: the alignment */
#define GRAN ((size_t)1 << GRAN_SHIFT)
#define GRANS_PER_PAGE 256                 /* WB_PAGE_SIZE / GRAN */
#define PAGE_WORDS 4                       /* 64-bit bitmap words per page */
#define SMALL_MAX 2048                     /* larger objects get their own page run */
#define NCLASS 30

enum page_kind { PK_FREE, PK_SMALL, PK_LARGE, PK_TAIL };

enum page_flag {
    PF_ATOMIC = 1,   /* objects here hold no pointers: never scanned */
    PF_OWNED = 2,    /* a thread allocates into this page */
    PF_LISTED = 4,   /* on its class's list of pages with free slots */
    PF_YOUNG = 8,    /* on the young page list */
    PF_USED = 16,    /* committed and possibly non-zero (free pages: not yet decommitted) */
    PF_PERM = 32,    /* mapped from a heap image: never allocated into, freed or decommitted */
    PF_DESCR = 64,   /* some objects here have a descriptor (describe.h): not scanned whole */
    PF_AGED = 128,   /* some granule here may have a non-zero age: kept through frees and
                        reuse, so that only such pages' ages are reset (the age table stays
                        untouched, uncommitted, where no survivor was ever kept young) */
    /* Left by a sweep's parallel part for its serial part (sweep.c), which clears them: */
    PF_KEEP_YOUNG = 256, /* the page stays on the young page list */
    PF_DEAD_RUN = 512,   /* a dead large object: its run is to be freed */
};

struct page_info {
    uint8_t kind;
    uint8_t sclass;
    uint16_t flags;
    uint32_t aux;    /* PK_LARGE: pages in the run; PK_TAIL: head page; PK_FREE: collection that freed it */
};

/* A listed page's links in its free-slot list (0 ends it: page 0 is never used); apart
 * from page_info, which a large object's every tail page writes: 8 bytes a page, not 16,
 * for a big buffer that is hardly touched. */
struct page_link {
    uint32_t prev, next;
};

/* One page's object starts (alloc) and marks, a bit per granule, in one cache line:
 * marking an object reads both, so with its page record that is two lines, not three. */
struct page_bits {
    uint64_t alloc[PAGE_WORDS];
    uint64_t mark[PAGE_WORDS];
} __attribute__((aligned(64)));

struct heap {
    uintptr_t base;
    size_t npages;        /* reserved */
    size_t top;           /* pages [1, top) have been handed out at least once */
    size_t perm_end;      /* pages [1, perm_end) are the loaded image (perm space); 0: none */
    struct page_info *pages;
    struct page_link *links;
    struct page_bits *bits; /* per page */
    uint64_t *old_bits;
    uint64_t *freed_bits; /* verifier only: objects freed by the last sweep */
    /* Verifier only (verify_init maps them): */
    uint8_t *armed_copy;  /* per page, its content when last armed, at its offset from base */
    uint64_t *armed_at;   /* per page, the collection that last armed it */
    uint64_t *stale_bits; /* per granule, young objects a word older than them points at */
    uint8_t *age;         /* per granule, unless WBRT_TENURE_AGE=0; see PF_AGED */
    uint64_t *free_pages; /* one bit per page */
    uint64_t *young_map;  /* one bit per page that may hold young objects (tails of large
                             objects included), rebuilt for each young collection: small
                             enough to stay in cache while marking */
    size_t lowest_free;   /* no free page below this one */
    uint32_t partial[2][NCLASS]; /* [atomic][class]: pages with free slots */
    struct vec young;     /* pages that may hold young objects */
    struct vec deferred;  /* (page, slot) pairs freed by a thread that does not own the page */
    struct dirty_map dirty;
    size_t pages_in_use;
    size_t max_pages;     /* 0, or the most pages in use at once (bdwgc's GC_set_max_heap_size) */
    size_t pages_peak;    /* most pages_in_use ever */
    pthread_mutex_t lock; /* page runs, lists, collection */
};

extern struct heap H;

extern const uint16_t class_size[NCLASS];
extern const uint16_t class_count[NCLASS];
extern const uint32_t class_recip[NCLASS];
extern uint8_t class_of[SMALL_MAX / GRAN + 1];
/* Per class, the granule bits of its slots' starts in a page's bitmap words: with a
 * page's alloc words they give its free slots in four operations. */
extern uint64_t class_starts[NCLASS][PAGE_WORDS];
/* Class for n in [1, SMALL_MAX]; inline, as every small allocation asks. */
static inline int size_class(size_t n) { return class_of[(n + GRAN - 1) >> GRAN_SHIFT]; }
/* Index of the class-cls slot that holds byte a of its page (a division by the class
 * size, done as a multiplication). */
static inline size_t slot_index(uintptr_t a, int cls)
{
    return ((a & (WB_PAGE_SIZE - 1)) * class_recip[cls]) >> 32;
}

int heap_init(size_t max_bytes, int with_ages, char *why, size_t whylen);
/* Moves the (still empty: nothing ever allocated) reservation to base; 0, or -1 with
 * errno (EEXIST: part of the range is taken) and the reservation left where it was. */
int heap_move(uintptr_t base);

static inline uintptr_t page_addr(size_t pg) { return H.base + (pg << WB_PAGE_SHIFT); }
static inline size_t page_of(uintptr_t a) { return (a - H.base) >> WB_PAGE_SHIFT; }
static inline size_t gran_of(uintptr_t a) { return (a - H.base) >> GRAN_SHIFT; }
static inline bool in_heap(uintptr_t a) { return a - H.base < (H.top << WB_PAGE_SHIFT); }

/* The barrier watches the reservation from the first page after perm space: perm pages
 * are a file mapping it may not support, and their writes are found from the kernel's page
 * state (os/page_state.h). */
static inline uintptr_t barrier_base(void) { return page_addr(H.perm_end); }
static inline size_t barrier_len(void) { return (H.npages - H.perm_end) << WB_PAGE_SHIFT; }
/* Pages handed out so far, from barrier_base(). */
static inline size_t barrier_used(void) { return (H.top - H.perm_end) << WB_PAGE_SHIFT; }
/* First page the allocator manages. */
static inline size_t own_first_page(void) { return H.perm_end ? H.perm_end : 1; }

static inline bool bit_test(const uint64_t *m, size_t i) { return (m[i >> 6] >> (i & 63)) & 1; }
static inline void bit_set(uint64_t *m, size_t i) { m[i >> 6] |= (uint64_t)1 << (i & 63); }
static inline void bit_clear(uint64_t *m, size_t i) { m[i >> 6] &= ~((uint64_t)1 << (i & 63)); }
/* For the thread that owns a page: the collector may stop it at any instruction and
 * rewrite the page's bitmap words meanwhile (it promotes and frees), so its updates must
 * be one instruction, never a load and a store that could write back a stale word (a C
 * `|=` is two at -O0: promotions were lost, and live objects freed).  No lock prefix:
 * the collector runs only while the owner is stopped. */
static inline void bit_clear_owned(uint64_t *m, size_t i)
{
    __asm__ volatile("andq %1, %0" : "+m"(m[i >> 6]) : "r"(~((uint64_t)1 << (i & 63))) : "cc");
}
/* The owner's OR of obj's bit into alloc word w: obj is allocated from this instruction
 * on, and the collector, if it stops the thread right after it, sweeps obj unless a
 * register or the stack points at it.  So obj goes through the asm: it is in a register
 * before the OR, and afterwards the compiler has only that register's value (gcc had
 * computed obj after the OR from the word's base and the bit: a thread stopped between
 * the two lost its new object). */
static inline uintptr_t alloc_word_set_owned(uint64_t *w, uint64_t bit, uintptr_t obj)
{
    __asm__ volatile("orq %2, %1" : "+r"(obj), "+m"(*w) : "r"(bit) : "cc");
    return obj;
}
/* The owner's OR of several slots' bits into alloc word w: each slot must already be
 * where the collector looks (the "memory" clobber keeps the caller's stores of them
 * before the OR), as one slot's in alloc_word_set_owned. */
static inline void alloc_word_set_many_owned(uint64_t *w, uint64_t bits)
{
    __asm__ volatile("orq %1, %0" : "+m"(*w) : "r"(bits) : "cc", "memory");
}
/* obj as a register's value the compiler cannot compute again from anything else: an
 * object allocated under H.lock stays held where the collector looks once the lock is
 * dropped (as in alloc_word_set_owned). */
static inline uintptr_t obj_in_register(uintptr_t obj)
{
    __asm__ volatile("" : "+r"(obj));
    return obj;
}
/* The bitmap words of a small-object page are written only by the thread that owns the
 * page, by holders of H.lock when no thread owns it, and by the stopped-world collector:
 * plain stores suffice.  (A page's bits fill exactly its own PAGE_WORDS words.) */
/* The four words of a one-bit-per-granule map (old, freed) that cover one page. */
static inline uint64_t *page_words(uint64_t *m, size_t pg) { return m + pg * PAGE_WORDS; }
/* Granule g's word of its page's alloc or mark bits, and its bit there. */
static inline uint64_t *alloc_word(size_t g) { return &H.bits[g / GRANS_PER_PAGE].alloc[g / 64 % PAGE_WORDS]; }
static inline uint64_t *mark_word_of(size_t g) { return &H.bits[g / GRANS_PER_PAGE].mark[g / 64 % PAGE_WORDS]; }
static inline uint64_t gran_bit(size_t g) { return (uint64_t)1 << (g % 64); }
static inline bool is_allocated(size_t g) { return *alloc_word(g) & gran_bit(g); }
static inline bool is_marked(size_t g) { return *mark_word_of(g) & gran_bit(g); }
static inline void alloc_clear(size_t g) { *alloc_word(g) &= ~gran_bit(g); }
/* Every mark bit clear, without committing table pages never touched (world stopped). */
void heap_clear_marks(void);

/* The popcnt instruction where the CPU has it (set by heap_init), else libgcc's
 * __popcountdi2, which the baseline x86-64 target calls for __builtin_popcountll.
 * (__builtin_ctzll needs no such care: its bsf/tzcnt is in the baseline.) */
extern bool cpu_popcnt;
static inline size_t bits_count(uint64_t x)
{
    if (__builtin_expect(cpu_popcnt, 1)) {
        uint64_t n;
        __asm__("popcntq %1, %0" : "=r"(n) : "rm"(x) : "cc");
        return n;
    }
    return (size_t)__builtin_popcountll(x);
}

/* Objects allocated on small-object page pg. */
static inline size_t page_objects(size_t pg)
{
    const uint64_t *a = H.bits[pg].alloc;
    size_t n = 0;
    for (int k = 0; k < PAGE_WORDS; k++)
        n += bits_count(a[k]);
    return n;
}

/* Runs the statement after it with obj bound to the start of each object of page pg
 * whose bit is set in both of the page's bitmaps w1 and w2, each its PAGE_WORDS words
 * (pass one twice for a single map). */
#define FOR_OBJECTS(pg, w1, w2, obj)                                                         \
    for (int k_ = 0; k_ < PAGE_WORDS; k_++)                                                 \
        for (uint64_t m_ = (w1)[k_] & (w2)[k_]; m_; m_ &= m_ - 1)                         \
            for (uintptr_t obj = page_addr(pg) + (((size_t)k_ * 64 + (size_t)__builtin_ctzll(m_)) << GRAN_SHIFT), \
                           once_ = 1; once_; once_ = 0)

/* Start of the slot containing a on small-object page pg (pi: its info), and the slot's
 * size; 0 past the page's last slot.  Inline: the marker asks for nearly every word. */
static inline uintptr_t small_slot(uintptr_t a, size_t pg, const struct page_info *pi, size_t *size)
{
    size_t idx = slot_index(a, pi->sclass);
    if (idx >= class_count[pi->sclass])
        return 0;
    *size = class_size[pi->sclass];
    return page_addr(pg) + idx * *size;
}

/* Start of the object slot containing a (allocated or not), its size, and its page;
 * 0 if a is not inside an object slot of a used page. */
uintptr_t heap_slot(uintptr_t a, size_t *size, size_t *pg);
/* Start of the live object containing a, or 0. */
uintptr_t heap_object(uintptr_t a, size_t *size);

/* Page runs (H.lock held). */
size_t heap_take_pages(size_t n);     /* first page of a fresh run, 0 if the heap is full */
/* Takes pages [pg, pg + n) if they are free or past top (pg <= top); false if not. */
bool heap_take_run_at(size_t pg, size_t n);
void heap_free_run(size_t pg, size_t n, uint64_t gc_no); /* decommitted later */
/* Free pages that stayed free for at least age collections up to gc_no go back to the OS
 * (age 0: every free page). */
void heap_decommit_pending(uint64_t gc_no, unsigned age);
/* Calls fn for the runs of still-committed pages that collection gc_no freed. */
void heap_freed_runs(uint64_t gc_no, void (*fn)(size_t pg, size_t n));
/* The pages of a run just taken that may hold data (PF_USED: not given back since they were
 * used), to be zeroed by hand; the others read as zero already, and zeroing them would
 * populate them.  Found before the run's page_info is rewritten, zeroed after H.lock is
 * released.  Past USED_RUNS_MAX runs the last is stretched over the rest (zeroing a page
 * that reads as zero is only wasteful). */
#define USED_RUNS_MAX 8
struct page_span {
    size_t pg, n;
};
struct used_runs {
    size_t n;
    struct page_span r[USED_RUNS_MAX];
};
void heap_used_runs(size_t pg, size_t n, struct used_runs *u);
void heap_zero_runs(const struct used_runs *u);

/* Free-slot lists (H.lock held). */
void partial_push(size_t pg);
size_t partial_pop(int atomic, int cls);
void partial_remove(size_t pg);
/* A small-object page no thread owns: back to the free pages if empty, else on its
 * class's free-slot list if it has a free slot. */
void page_settle(size_t pg, uint64_t gc_no);

/* Young page list (H.lock held or world stopped). */
void young_add(size_t pg);
/* Rebuild young_map from the young page list (world stopped). */
void young_map_build(void);

#endif
