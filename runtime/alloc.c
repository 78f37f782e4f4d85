/* Allocation: per-thread pages for small objects (no lock on the fast path), page runs
 * for large ones, explicit free and realloc.
 * Design: docs/design/alloc.md
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "gc.h"
#include "heap.h"
#include "threads.h"

/* Small objects are zeroed inline: a call to memset costs more than the stores. */
__attribute__((optimize("no-tree-loop-distribute-patterns")))
static inline void zero_small(void *p, size_t size)
{
    uint64_t *q = p;
    for (size_t i = 0; i < size / 8; i += 2)
        q[i] = 0, q[i + 1] = 0;
}

static inline void zero_slot(void *p, size_t size)
{
    if (size <= 256)
        zero_small(p, size);
    else
        memset(p, 0, size);
}

/* Makes the next word with free slots the current one; false when the page has none. */
static bool tlab_next_word(struct tlab *tl)
{
    for (int k = 0; k < PAGE_WORDS; k++) {
        uint64_t m = tl->free[k];
        if (!m)
            continue;
        tl->free[k] = 0;
        tl->word = (uint16_t)k;
        tl->base = page_addr(tl->page) + ((size_t)k * 64 << GRAN_SHIFT);
        tl->aword = H.bits[tl->page].alloc + k;
        tl->cur = m;
        return true;
    }
    return false;
}

/* Take a free slot of the thread's current word (tl->cur is not 0).  Its old bit and
 * age were cleared when the slot became the thread's (tlab_refill, tlab_give_back); its
 * alloc bit is set here, at once, for heap_object and the collector, which may stop
 * this thread at any instruction (after the OR the object is allocated and held in a
 * register, before it the slot is merely lost to this page until it is refilled). */
static inline __attribute__((always_inline)) void *tlab_take(struct tlab *tl, size_t size, bool zero)
{
    uint64_t m = tl->cur, low = m & -m;
    tl->cur = m ^ low;
    uintptr_t p = alloc_word_set_owned(tl->aword, low, tl->base + ((uintptr_t)__builtin_ctzll(m) << GRAN_SHIFT));
    if (zero && !tl->zero)
        zero_slot((void *)p, size);
    return (void *)p;
}

/* Up to max free slots of the thread's current word (tl->cur is not 0) at once, into
 * out: each slot is zeroed and in out (the caller's, which the collector scans) before
 * the one OR that allocates them all.  The number taken. */
static size_t tlab_take_word(struct tlab *tl, size_t size, bool zero, void **out, size_t max)
{
    uint64_t m = tl->cur, taken = 0;
    size_t k = 0;
    for (; m && k < max; k++) {
        uint64_t low = m & -m;
        m ^= low;
        taken |= low;
        void *p = (void *)(tl->base + ((uintptr_t)__builtin_ctzll(low) << GRAN_SHIFT));
        if (zero && !tl->zero)
            zero_slot(p, size);
        out[k] = p;
    }
    tl->cur = m;
    alloc_word_set_many_owned(tl->aword, taken);
    return k;
}

static void tlab_release(struct tlab *tl)
{
    size_t pg = tl->page;
    if (!pg)
        return;
    tl->page = 0;
    tl->cur = 0;
    memset(tl->free, 0, sizeof tl->free);
    H.pages[pg].flags &= (uint16_t)~PF_OWNED;
    page_settle(pg, G.policy.gc_no);
}

void tlab_release_all(struct wb_thread *t)
{
    for (int a = 0; a < 2; a++)
        for (int c = 0; c < NCLASS; c++)
            tlab_release(&t->tlab[a][c]);
}

/* Pages for allocation: collect or fail before the reservation runs out.  *fresh: they
 * lie above the heap's old top, never used: no old bit and no age to clear (a small
 * process then never touches those tables: a page fault and a page table less). */
static size_t take_pages(size_t n, bool *fresh)
{
    size_t top = H.top, pg = heap_take_pages(n);
    if (!pg) {
        gc_collect_locked(WB_COLLECT_FULL);
        top = H.top;
        pg = heap_take_pages(n);
    }
    *fresh = pg >= top;
    return pg;
}

/* Old bits and ages are set by collections only (sweep.c; a heap image's lie on its own
 * pages, never allocated into): before the first there are none to clear, and their
 * tables are neither read nor written (a page fault and a page table less in each of the
 * many processes of make or bash that never collect). */
static inline bool none_old_yet(void) { return G.policy.gc_no == 0; }

/* Clears the old bits and ages (where there may be any) of small page pg's free slots;
 * whether an old bit is left (an old object's). */
static bool drop_old_bits(size_t pg, const uint64_t *free)
{
    uint64_t *o = page_words(H.old_bits, pg), left = 0;
    bool aged = H.pages[pg].flags & PF_AGED;
    for (int k = 0; k < PAGE_WORDS; k++) {
        uint64_t f = free[k];
        if (o[k] & f)   /* written only if it changes: a forked child copies a page it writes */
            o[k] &= ~f;
        left |= o[k];
        for (; aged && f; f &= f - 1)
            H.age[pg * GRANS_PER_PAGE + (size_t)k * 64 + (size_t)__builtin_ctzll(f)] = 0;
    }
    return left != 0;
}

static int tlab_refill(struct tlab *tl, int atomic, int c)
{
    tlab_release(tl);
    gc_maybe_collect();
    size_t pg = partial_pop(atomic, c);
    bool zero = false, fresh = false;
    if (!pg) {
        if (!(pg = take_pages(1, &fresh)))
            return -1;
        struct page_info *pi = &H.pages[pg];
        zero = !(pi->flags & PF_USED);
        *pi = (struct page_info){ .kind = PK_SMALL, .sclass = (uint8_t)c,
                                  .flags = PF_USED | (atomic ? PF_ATOMIC : 0) | (pi->flags & PF_AGED) };
    }
    gc_will_write(pg, 1);
    if (!zero && !atomic && page_objects(pg) == 0) {
        /* a reused empty page: one page-sized memset beats one per object */
        memset((void *)page_addr(pg), 0, WB_PAGE_SIZE);
        zero = true;
    }
    H.pages[pg].flags |= PF_OWNED;
    tl->page = (uint32_t)pg;
    tl->zero = zero;
    /* The free slots, a word at a time.  Their old bits go now, not per object: an old
     * object freed by the program leaves its old bit, which would make a new object
     * there look old to the next young collection.  Likewise ages. */
    const uint64_t *a = H.bits[pg].alloc;
    size_t size = class_size[c], free_slots = 0;
    for (int k = 0; k < PAGE_WORDS; k++) {
        tl->free[k] = class_starts[c][k] & ~a[k];
        free_slots += bits_count(tl->free[k]);
    }
    tl->old = !fresh && !none_old_yet() && drop_old_bits(pg, tl->free);
    tl->gc_no = (uint32_t)G.policy.gc_no;
    G.policy.alloc_since += free_slots * size;
    G.stats.bytes_allocated += free_slots * size;
    young_add(pg);
    return 0;
}

/* A thread past its exit destructor is not stopped by collections, so it allocates under
 * the lock (no take may overlap a collection's mark and sweep), owns no page afterwards
 * (no lock-free free either) and pins the object: its stack is not scanned.  Only the
 * slot it took counts as allocated. */
static void *exiting_alloc(struct wb_thread *t, struct tlab *tl, int atomic, int c)
{
    pthread_mutex_lock(&H.lock);
    void *p = NULL;
    if (tlab_refill(tl, atomic, c) == 0 && tlab_next_word(tl)) {
        p = tlab_take(tl, class_size[c], !atomic);
        size_t unused = bits_count(tl->cur);
        for (int k = 0; k < PAGE_WORDS; k++)
            unused += bits_count(tl->free[k]);
        G.policy.alloc_since -= unused * class_size[c];
        G.stats.bytes_allocated -= unused * class_size[c];
        tlab_release(tl);
        thread_pin(t, (uintptr_t)p);
    }
    pthread_mutex_unlock(&H.lock);
    if (!p)
        errno = ENOMEM;
    return p;
}

/* The thread's current word has no free slot left: the next word of its page, else a
 * new page.  Out of line, so that the fast path saves no registers for it. */
static __attribute__((noinline)) void *small_alloc_slow(struct wb_thread *t, struct tlab *tl, int atomic, int c)
{
    if (t->exiting)
        return exiting_alloc(t, tl, atomic, c);
    while (!tlab_next_word(tl)) {
        pthread_mutex_lock(&H.lock);
        int rc = tlab_refill(tl, atomic, c);
        pthread_mutex_unlock(&H.lock);
        if (rc != 0) {
            errno = ENOMEM;
            return NULL;
        }
    }
    return tlab_take(tl, class_size[c], !atomic);
}

static inline void *small_alloc(size_t n, int atomic)
{
    int c = size_class(n);
    struct wb_thread *t = thread_self();
    if (!t) {
        errno = ENOMEM;
        return NULL;
    }
    struct tlab *tl = &t->tlab[atomic][c];
    if (__builtin_expect(tl->cur != 0, 1))
        return tlab_take(tl, class_size[c], !atomic);
    return small_alloc_slow(t, tl, atomic, c);
}

/* A page run starting at a multiple of align (a power of two, at least a page): a
 * longer run is taken and the pages before and after the aligned part given back. */
static void *large_alloc(size_t n, int atomic, size_t align)
{
    if (n > (H.npages << WB_PAGE_SHIFT) || align > (H.npages << WB_PAGE_SHIFT)) {
        errno = ENOMEM;
        return NULL;
    }
    size_t np = (n + WB_PAGE_SIZE - 1) >> WB_PAGE_SHIFT;
    size_t extra = (align >> WB_PAGE_SHIFT) - 1;
    pthread_mutex_lock(&H.lock);
    gc_maybe_collect();
    bool fresh;
    size_t pg = take_pages(np + extra, &fresh);
    if (!pg) {
        pthread_mutex_unlock(&H.lock);
        errno = ENOMEM;
        return NULL;
    }
    if (extra) {
        size_t lead = ((align - (page_addr(pg) & (align - 1))) & (align - 1)) >> WB_PAGE_SHIFT;
        if (lead)
            heap_free_run(pg, lead, G.policy.gc_no);
        if (extra > lead)
            heap_free_run(pg + lead + np, extra - lead, G.policy.gc_no);
        pg += lead;
    }
    struct used_runs used;
    heap_used_runs(pg, np, &used);
    uint16_t flags = PF_USED | (atomic ? PF_ATOMIC : 0);
    for (size_t i = 0; i < np; i++)
        H.pages[pg + i] = (struct page_info){ .kind = i ? PK_TAIL : PK_LARGE,
                                              .flags = flags | (H.pages[pg + i].flags & PF_AGED),
                                              .aux = i ? (uint32_t)pg : (uint32_t)np };
    uintptr_t p = obj_in_register(page_addr(pg));
    size_t g = gran_of(p);
    if (!fresh && !none_old_yet())
        bit_clear(H.old_bits, g);
    if (H.pages[pg].flags & PF_AGED)
        H.age[g] = 0;
    *alloc_word(g) |= gran_bit(g);
    G.policy.alloc_since += np << WB_PAGE_SHIFT;
    G.stats.bytes_allocated += np << WB_PAGE_SHIFT;
    young_add(pg);
    gc_will_write(pg, np);
    struct wb_thread *me = thread_if_registered();
    if (me && me->exiting)
        thread_pin(me, p);                  /* see exiting_alloc */
    pthread_mutex_unlock(&H.lock);
    if (!atomic)
        heap_zero_runs(&used);
    return (void *)p;
}

static void *alloc(size_t n, int atomic)
{
    if (!gc_ready())
        return NULL;
    if (n == 0)
        n = 1;
    return n <= SMALL_MAX ? small_alloc(n, atomic) : large_alloc(n, atomic, WB_PAGE_SIZE);
}

/* Small objects of a power-of-two class sit at multiples of their size in a page (whose
 * start is page-aligned), so rounding the size up to a power of two aligns them. */
void *alloc_aligned(size_t align, size_t n)
{
    if (align <= GRAN)
        return alloc(n, 0);
    if (!gc_ready())
        return NULL;
    size_t want = n > align ? n : align;
    if (want <= SMALL_MAX) {
        size_t pow2 = GRAN;
        while (pow2 < want)
            pow2 <<= 1;
        return small_alloc(pow2, 0);
    }
    return large_alloc(want, 0, align > WB_PAGE_SIZE ? align : WB_PAGE_SIZE);
}

/* A word's free slots at a time (small_alloc's path slot by slot was 34 instructions an
 * object of Nix's values); out, the caller's, keeps each object from the collection a
 * refill may start. */
size_t alloc_many(size_t n, int atomic, void **out, size_t max)
{
    if (!gc_ready())
        return 0;
    int c = size_class(n ? n : 1);
    struct wb_thread *t = thread_self();
    if (!t) {
        errno = ENOMEM;
        return 0;
    }
    struct tlab *tl = &t->tlab[atomic][c];
    size_t got = 0;
    while (got < max) {
        if (tl->cur) {
            got += tlab_take_word(tl, class_size[c], !atomic, out + got, max - got);
            continue;
        }
        void *p = small_alloc_slow(t, tl, atomic, c);
        if (!p)
            break;
        out[got++] = p;
    }
    return got;
}

void *wb_malloc(size_t n) { return alloc(n, 0); }
void *wb_malloc_atomic(size_t n) { return alloc(n, 1); }

void *wb_calloc(size_t n, size_t size)
{
    size_t total;
    if (__builtin_mul_overflow(n, size, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    return alloc(total, 0);
}

/* Reports a pointer that is not the start of a live object, then aborts unless
 * WBRT_ON_BAD_FREE=ignore (the caller then leaves everything as it was). */
static void bad_pointer(const char *call, const void *p)
{
    size_t size;
    uintptr_t obj = heap_object((uintptr_t)p, &size);
    const char *why;
    char buf[64] = "";
    if (!in_heap((uintptr_t)p))
        why = "not a wbrt heap address";
    else if (obj) {
        why = "interior pointer into the object at";
        snprintf(buf, sizeof buf, " %p", (void *)obj);
    } else {
        why = "not a live object (freed already?)";
    }
    fprintf(stderr, "wbrt: %s(%p): %s%s\n", call, p, why, buf);
    if (G.cfg.on_bad_free == BAD_FREE_ABORT) {
        fprintf(stderr, "wbrt: aborting (set WBRT_ON_BAD_FREE=ignore to continue)\n");
        abort();
    }
}

/* Size of the live object starting exactly at p, or 0. */
static size_t object_at(const void *p, size_t *pgp)
{
    size_t size;
    uintptr_t s = heap_slot((uintptr_t)p, &size, pgp);
    if (!s || s != (uintptr_t)p || !is_allocated(gran_of(s)))
        return 0;
    return size;
}

size_t wb_size(const void *p)
{
    size_t pg;
    return G.initialised ? object_at(p, &pg) : 0;
}

void *wb_base(const void *p)
{
    size_t size;
    return G.initialised ? (void *)heap_object((uintptr_t)p, &size) : NULL;
}

/* The owner freed slot p of its allocation page (tl's): back among the page's free slots,
 * where the class's next allocation takes it (the lowest free slot of the current word
 * goes first), so free then malloc of one size reuses at once. */
static void tlab_give_back(struct tlab *tl, const struct page_info *pi, uintptr_t p)
{
    size_t g = gran_of(p), k = g % GRANS_PER_PAGE / 64;
    uint64_t bit = (uint64_t)1 << (g % 64);
    /* No old bit or age on a slot a young object will take (see tlab_refill).  Only an
     * object older than the page's ownership, or kept by a collection since, can have an
     * old bit: otherwise the old bits' line is neither read nor written (a cache miss per
     * free, and a copied page in a forked child). */
    if (tl->old || tl->gc_no != (uint32_t)G.policy.gc_no)
        bit_clear_owned(H.old_bits, g);
    if (pi->flags & PF_AGED)
        H.age[g] = 0;
    if (tl->zero && !(pi->flags & PF_ATOMIC))  /* tlab_take trusts a fresh page's slots to be zero */
        memset((void *)p, 0, class_size[pi->sclass]);
    if (tl->cur && tl->word == k)
        tl->cur |= bit;
    else
        tl->free[k] |= bit;
}

static inline void count_freed(size_t n)
{
    if (gc_counts_frees())
        __atomic_add_fetch(&G.policy.freed_since, n, __ATOMIC_RELAXED);
}

/* This thread's allocation page for small page pg's class if pg is that page, else NULL.
 * Only the owner writes an owned page's bits: its own frees need no lock.  Whether this
 * thread owns the page is asked of its own allocation page, which no other thread
 * changes: the page's flags and owner, read without the lock while another thread took
 * the page over, once showed the new owner's flag beside this thread's stale id, and two
 * threads then wrote one alloc word without the lock (an allocation was lost). */
static inline struct tlab *owner_tlab(size_t pg, const struct page_info *pi)
{
    struct wb_thread *me = thread_if_registered(); /* freeing never registers: glibc frees
                                                    * after a thread's destructors */
    struct tlab *tl = pi->kind == PK_SMALL && me ? &me->tlab[(pi->flags & PF_ATOMIC) != 0][pi->sclass] : NULL;
    return tl && tl->page == pg ? tl : NULL;
}

/* The owner's free of slot p of its allocation page: no lock. */
static inline void free_owned(struct tlab *tl, const struct page_info *pi, uintptr_t p)
{
    bit_clear_owned(alloc_word(gran_of(p)), gran_of(p) % 64);
    tlab_give_back(tl, pi, p);
    count_freed(class_size[pi->sclass]);
}

/* The free of live object p at page pg by a thread other than its page's owner, if any. */
static void free_shared(size_t pg, uintptr_t p)
{
    struct page_info *pi = &H.pages[pg];
    size_t g = gran_of(p);
    /* As the process's malloc, glibc frees into us holding locks of its own (the thread
     * stack list's, in pthread_join) that a collecting thread holding the heap lock may
     * wait for (pthread_create): there a busy heap lock leaves the block to the
     * collection, which frees it if nothing points to it. */
    if (G.sw.is_malloc) {
        if (pthread_mutex_trylock(&H.lock) != 0)
            return;
    } else {
        pthread_mutex_lock(&H.lock);
    }
    if (!is_allocated(g)) {
        /* freed by another thread meanwhile */
    } else if (pi->flags & PF_PERM) {
        alloc_clear(g); /* its page stays mapped and is never reused */
    } else if (pi->kind == PK_LARGE) {
        alloc_clear(g);
        count_freed((size_t)pi->aux << WB_PAGE_SHIFT);
        heap_free_run(pg, pi->aux, G.policy.gc_no);
    } else if (pi->flags & PF_OWNED) {
        /* another thread allocates here: the next collection frees it */
        if (vec_push(&H.deferred, (uint32_t)pg) == 0 &&
            vec_push(&H.deferred, (uint32_t)(g - pg * GRANS_PER_PAGE)) != 0)
            H.deferred.n--; /* out of memory: the collector frees it if unreachable */
    } else {
        alloc_clear(g);
        count_freed(class_size[pi->sclass]);
        page_settle(pg, G.policy.gc_no);
    }
    pthread_mutex_unlock(&H.lock);
}

static void free_object(size_t pg, uintptr_t p)
{
    struct tlab *tl = owner_tlab(pg, &H.pages[pg]);
    if (tl)
        free_owned(tl, &H.pages[pg], p);
    else
        free_shared(pg, p);
}

void alloc_apply_deferred_frees(void)
{
    for (size_t i = 0; i + 1 < H.deferred.n; i += 2)
        alloc_clear((size_t)H.deferred.v[i] * GRANS_PER_PAGE + H.deferred.v[i + 1]);
    H.deferred.n = 0;
}

void wb_free(void *p)
{
    size_t pg, size;
    uintptr_t a = (uintptr_t)p;
    if (!p)
        return;
    /* The common case first, with one look at the page's entry: a small object freed by
     * the thread whose allocation page holds it (the program frees what it just took). */
    if (gc_ready() && in_heap(a)) {
        const struct page_info *pi = &H.pages[pg = page_of(a)];
        struct tlab *tl = owner_tlab(pg, pi);
        if (tl && small_slot(a, pg, pi, &size) == a && is_allocated(gran_of(a))) {
            free_owned(tl, pi, a);
            return;
        }
    }
    /* Not the owner's (asked above): a live object of the heap, or a bad pointer. */
    if (!gc_ready() || !object_at(p, &pg)) {
        bad_pointer("wb_free", p);
        return;
    }
    free_shared(pg, (uintptr_t)p);
}

/* Resizes the large object at page pg to n bytes (more than SMALL_MAX) where it is:
 * shrinking gives back its last pages, growing takes the pages after it if they are free.
 * False if it cannot (it is left as it was). */
static bool large_resize(size_t pg, size_t n)
{
    struct page_info *pi = &H.pages[pg];
    if (n > (H.npages << WB_PAGE_SHIFT))
        return false;
    size_t want = (n + WB_PAGE_SIZE - 1) >> WB_PAGE_SHIFT;
    pthread_mutex_lock(&H.lock);
    size_t np = pi->aux, add = want > np ? want - np : 0;
    bool ok = true;
    struct used_runs used = { 0 };
    if (pi->flags & PF_PERM) {
        ok = want <= np;                    /* perm pages are never given back or added to */
    } else if (want < np) {
        heap_free_run(pg + want, np - want, G.policy.gc_no);
        pi->aux = (uint32_t)want;
    } else if (add && (ok = heap_take_run_at(pg + np, add))) {
        heap_used_runs(pg + np, add, &used);
        for (size_t i = pg + np; i < pg + want; i++)
            H.pages[i] = (struct page_info){ .kind = PK_TAIL,
                                             .flags = (pi->flags & (PF_USED | PF_ATOMIC)) | (H.pages[i].flags & PF_AGED),
                                             .aux = (uint32_t)pg };
        pi->aux = (uint32_t)want;
        G.policy.alloc_since += add << WB_PAGE_SHIFT;
        G.stats.bytes_allocated += add << WB_PAGE_SHIFT;
        gc_will_write(pg + np, add);
    }
    pthread_mutex_unlock(&H.lock);
    /* the grown part is zero, like a new object's (no stale word a conservative scan
     * would take for a pointer) */
    if (!(pi->flags & PF_ATOMIC))
        heap_zero_runs(&used);
    return ok;
}

void *wb_realloc(void *p, size_t n)
{
    size_t pg, old;
    if (!p)
        return wb_malloc(n);
    if (!gc_ready() || !(old = object_at(p, &pg))) {
        bad_pointer("wb_realloc", p);
        return NULL;
    }
    if (n == 0) {
        free_object(pg, (uintptr_t)p);
        return NULL;
    }
    if (old <= SMALL_MAX ? n <= old && size_class(n) == size_class(old)
                         : n > SMALL_MAX && large_resize(pg, n))
        return p;
    int atomic = (H.pages[pg].flags & PF_ATOMIC) != 0;
    void *q = alloc(n, atomic);
    if (!q)
        return NULL; /* p is untouched */
    memcpy(q, p, n < old ? n : old);
    free_object(pg, (uintptr_t)p);
    return q;
}
