/* Conservative marking: any aligned word that points into a live object (interior
 * pointers included, unless the program turned them off) marks it.  Mark stacks are
 * mmap'd and bounded; when one is full an object is marked but not pushed, and
 * mark_finish rescans marked objects until no push was dropped, so deep structures
 * never recurse on the C stack.
 * Roots are marked by the collecting thread, or pushed by it for the workers to scan
 * (the dirty old pages of a young collection); mark_finish traces from them with
 * WBRT_MARKERS workers (markers.c), each on a stack of its own, handing the bottom of
 * its stack to a shared pool while another worker is idle, and splitting big objects
 * into chunks that can be handed on.  No worker sets a bit with a locked instruction
 * (a `lock bts` per marked object was a third of the loop's samples): the collecting
 * thread alone writes the mark bits (H.bits) while others mark, each helper writes a map
 * of its own, and the maps are folded into the mark bits after each phase.
 * Design: docs/design/mark-sweep.md
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include "mark.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cold_bss.h"
#include "describe.h"
#include "futex.h"
#include "gc.h"
#include "heap.h"
#include "markers.h"
#include "page_scan.h"
#include "page_state.h"
#include "race_annotations.h"
#include "vm.h"

/* An object to scan, [lo, hi); bit 0 of lo set: a described object, bit 1: the old objects
 * of page lo (a root: mark_old_page_later) (objects are aligned). */
struct range { uintptr_t lo, hi; };

struct mark_stack {
    struct range *v;
    size_t n, cap;
    unsigned idx; /* its worker: 0, the collecting thread */
} __attribute__((aligned(64))); /* one worker's: no false sharing with the next */

/* Entries above this size are split: the worker scans one chunk, and the rest stays on
 * its stack where another worker can take it. */
#define CHUNK ((uintptr_t)16 << 10)
/* Entries handed to the pool, or taken from it, at once (at most). */
#define SHARE_MAX 512

static struct {
    size_t max;
    bool overflow, young, check_freed, skip_perm;
    bool starts_only; /* a word keeps an object only at its start or a displacement */
    bool par;         /* several workers in the current phase */
    unsigned workers; /* in this collection's phases */
} M;

/* The helpers' mark maps: per mark word (granule g's is number g / 64), k words, helper
 * i's at [i - 1]; all zero outside a phase (fold).  Two workers may both find an object unmarked and both
 * push it: it is scanned twice, which is harmless; a bit is never lost, as no two
 * threads write one word.  Sized for the pages in use at mark_begin (the world is
 * stopped: no page is added before the collection ends). */
static struct {
    uint64_t *v;
    size_t len;  /* bytes mapped */
    unsigned k;  /* workers - 1 */
} X;

/* Stack 0 is the collecting thread's: roots are marked onto it. */
OS_COLD_BSS static struct mark_stack stacks[MARKERS_MAX];
/* The stack of the worker running on this thread: mark_word and mark_range, called back
 * from descriptors and client mark procedures, push there. */
static __thread struct mark_stack *my_stack __attribute__((tls_model("initial-exec")));

/* Shared work, under its lock; idle: workers waiting for some; seq (a futex word)
 * changes when work arrives or the phase is over; sleepers: idle workers in (or about
 * to enter) a futex wait on it, whom a change must wake.  pool.n is written atomically:
 * busy workers read it outside the lock as a hint. */
static struct {
    pthread_mutex_t lock;
    struct mark_stack pool;
    unsigned idle, seq, sleepers;
    unsigned joined;          /* workers taking part: all idle ends the phase */
    bool done;
    const uint32_t *pages;    /* overflow recovery: pages to rescan (NULL: 1..npages-1) */
    size_t npages, next_page;
} P = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* os_populated_runs takes one caller at a time. */
static pthread_mutex_t page_state_lock = PTHREAD_MUTEX_INITIALIZER;

/* bdwgc's GC_set_all_interior_pointers(0) and GC_register_displacement: offsets into an
 * object that still keep it (bit n: offset n).  Stacks keep interior pointers anyway. */
static bool interior = true;
static uint64_t displacements[MARK_DISPLACEMENT_MAX / 64];

void mark_set_interior(bool on) { interior = on; }
bool mark_interior(void) { return interior; }

int mark_add_displacement(size_t offset)
{
    if (offset >= MARK_DISPLACEMENT_MAX)
        return -1;
    bit_set(displacements, offset);
    return 0;
}

/* Lays X out for k helpers over the pages in use; false if memory ran out. */
static bool helper_maps(unsigned k)
{
    size_t want = H.top * PAGE_WORDS * sizeof(uint64_t) * k;
    if (want > X.len) {
        size_t len = X.len ? X.len : (size_t)1 << 16;
        while (len < want)
            len *= 2;
        uint64_t *v = os_table_grow(X.v, X.len, 0, len); /* (all zero: nothing to copy) */
        if (!v)
            return false;
        X.v = v;
        X.len = len;
        OS_ATOMIC_ONLY_RANGE(X.v, X.len); /* read by every marker as its owner sets it */
    }
    /* So are the mark bits, which the collecting thread sets: their halves of H.bits, each
     * page's once (the alloc halves, not written while marking, stay checked). */
    static size_t exempt_top;
    for (; exempt_top < H.top; exempt_top++)
        OS_ATOMIC_ONLY_RANGE(H.bits[exempt_top].mark, sizeof H.bits->mark);
    X.k = k;
    return true;
}

void mark_begin(bool young, bool check_freed, bool skip_perm, size_t stack_max)
{
    /* Out of memory for the helpers' maps, the collecting thread marks alone. */
    M.workers = markers_ready(options_markers(&G.cfg));
    if (M.workers > 1 && !helper_maps(M.workers - 1))
        M.workers = 1;
    M.skip_perm = skip_perm;
    M.young = young;
    M.check_freed = check_freed;
    M.max = stack_max;
    M.par = false;
    stacks[0].n = 0;
    my_stack = &stacks[0];
    M.overflow = false;
    M.starts_only = !interior;
}

static bool grow(struct mark_stack *s, size_t want)
{
    size_t cap = s->cap ? s->cap : 4096;
    while (cap < want)
        cap *= 2;
    if (cap > M.max)
        cap = M.max;
    if (cap <= s->cap)
        return false;
    struct range *v = os_table_grow(s->v, s->cap * sizeof *v, s->n * sizeof *v, cap * sizeof *v);
    if (!v)
        return false;
    s->v = v;
    s->cap = cap;
    return true;
}

static __attribute__((noinline)) void push_grow(struct mark_stack *s, uintptr_t lo, uintptr_t hi)
{
    if (!grow(s, s->n + 1)) {
        /* marked but unscanned: mark_finish finds it again */
        __atomic_store_n(&M.overflow, true, __ATOMIC_RELAXED);
        return;
    }
    s->v[s->n++] = (struct range){ lo, hi };
}

/* Inline in mark_one: the stack is rarely full. */
static inline __attribute__((always_inline)) void push(struct mark_stack *s, uintptr_t lo, uintptr_t hi)
{
    size_t n = s->n;
    if (__builtin_expect(n == s->cap, 0)) {
        push_grow(s, lo, hi);
        return;
    }
    s->v[n] = (struct range){ lo, hi };
    s->n = n + 1;
}

static __attribute__((noinline, noreturn)) void freed_reachable(uintptr_t w, uintptr_t obj)
{
    char msg[200];
    int len = snprintf(msg, sizeof msg,
                       "wbrt: verify: word %#lx points into object %#lx, which the last sweep "
                       "freed although it is reachable\n", (unsigned long)w, (unsigned long)obj);
    verify_fail(msg, len);
}

/* w, a heap address (in_heap), as mark_one.  Inline in words(), the loop that sees nearly
 * every word; par: other workers may set mark bits meanwhile. */
static inline __attribute__((always_inline)) void mark_in_heap(struct mark_stack *s, uintptr_t w, bool par)
{
    /* Cheapest rejections first: each table lookup is a likely cache miss.  In a young
     * collection most heap addresses point at old objects, and the young page map rejects
     * them without touching page_info.  Small-object pages, nearly every page a word
     * points into, are resolved here, not in a call. */
    size_t pg = page_of(w), size;
    if (M.young && !bit_test(H.young_map, pg))
        return;
    const struct page_info *pi = &H.pages[pg];
    uintptr_t obj;
    if (__builtin_expect(pi->kind == PK_SMALL, 1))
        obj = small_slot(w, pg, pi, &size);
    else if ((obj = heap_slot(w, &size, &pg)))
        pi = &H.pages[pg];
    if (!obj || (M.skip_perm && (pi->flags & PF_PERM)))
        return;
    if (__builtin_expect(M.starts_only, 0) && w != obj &&
        (w - obj >= MARK_DISPLACEMENT_MAX || !bit_test(displacements, w - obj)))
        return;
    size_t g = gran_of(obj);
    /* An old bit left on a free slot also means "nothing young here"; a mark bit implies
     * allocated. */
    if (M.young && bit_test(H.old_bits, g))
        return;
    uint64_t *mw = mark_word_of(g), bit = gran_bit(g);
    uint64_t word = __atomic_load_n(mw, __ATOMIC_RELAXED), *xw = NULL;
    if (word & bit)
        return;
    /* The alloc bit before the helpers' maps: it shares the mark word's line. */
    if (!is_allocated(g)) {
        /* Unless a word older than the object points at it (verify_barrier found them):
         * a pointer the program left dangling after wb_free, or a false one, which the
         * collection rightly did not scan. */
        if (__builtin_expect(M.check_freed, 0) && bit_test(H.freed_bits, g) &&
            !bit_test(H.stale_bits, g))
            freed_reachable(w, obj);
        return;
    }
    if (par) {
        xw = X.v + (g >> 6) * X.k;
        uint64_t seen = 0;
        for (unsigned i = 0; i < X.k; i++)
            seen |= __atomic_load_n(&xw[i], __ATOMIC_RELAXED);
        if (seen & bit)
            return;
    }
    /* One store, not a read-modify-write: the word is this thread's alone (helpers read
     * the mark bits meanwhile). */
    if (par && s->idx) {
        uint64_t *own = &xw[s->idx - 1];
        __atomic_store_n(own, __atomic_load_n(own, __ATOMIC_RELAXED) | bit, __ATOMIC_RELAXED);
    } else {
        __atomic_store_n(mw, word | bit, __ATOMIC_RELAXED);
    }
    uint16_t flags = pi->flags;
    if (!(flags & PF_ATOMIC))
        push(s, obj | ((flags & PF_DESCR) != 0), obj + size);
}

/* Marks what word w points into, if anything: most words are no heap address. */
static inline __attribute__((always_inline)) void mark_one(struct mark_stack *s, uintptr_t w, bool par)
{
    if (in_heap(w))
        mark_in_heap(s, w, par);
}

static inline __attribute__((always_inline)) void words(struct mark_stack *s, uintptr_t lo, uintptr_t hi, bool par)
{
    /* The heap's bounds in registers (H.top does not change while marking): to the
     * compiler the marking's stores could change H, and in_heap reloaded both for every
     * word, 58M of Guile's 465M marking instructions (callgrind). */
    uintptr_t base = H.base, span = H.top << WB_PAGE_SHIFT;
    for (uintptr_t p = (lo + 7) & ~(uintptr_t)7; p + 8 <= hi; p += 8) {
        uintptr_t w = *(const uintptr_t *)p;
        if (w - base < span)
            mark_in_heap(s, w, par);
    }
}

static void words_serial(void *s, uintptr_t lo, uintptr_t hi) { words(s, lo, hi, false); }
static void words_parallel(void *s, uintptr_t lo, uintptr_t hi) { words(s, lo, hi, true); }
static os_page_run_fn words_fn(bool par) { return par ? words_parallel : words_serial; }

/* A populated run of a big object, onto s in CHUNK pieces (below OS_PAGE_STATE_MIN: read
 * whole when popped), each traced before the next: scanned at once, a big vector put all
 * its children on the stack together (Guile's stacks grew to 2 MiB, a page fault per 4
 * KiB, and copied at each doubling).  A piece the stack cannot take is scanned here. */
static void push_run(void *ctx, uintptr_t lo, uintptr_t hi)
{
    struct mark_stack *s = ctx;
    for (uintptr_t e; lo < hi; lo = e) {
        e = hi - lo > CHUNK ? lo + CHUNK : hi;
        if (s->n == s->cap && !grow(s, s->n + 1)) {
            words_fn(M.par)(s, lo, hi);
            return;
        }
        s->v[s->n++] = (struct range){ lo, e };
    }
}

/* A big range is read only where the kernel has its pages: a buffer mostly never written
 * reads as zero elsewhere, and reading it would map every page.  later: a popped object's,
 * its runs pushed in pieces; else scanned now (a root range: the young size counts the
 * roots as the collecting thread's fixed cost). */
static __attribute__((noinline)) void sparse_range(struct mark_stack *s, uintptr_t lo, uintptr_t hi, bool par,
                                                   bool later)
{
    if (par)
        pthread_mutex_lock(&page_state_lock);
    int rc = os_populated_runs(lo, hi, later ? push_run : words_fn(par), s);
    if (par)
        pthread_mutex_unlock(&page_state_lock);
    if (rc != 0)
        words_fn(par)(s, lo, hi); /* (again what was marked: harmless) */
}

/* Inline in the loop that pops every entry: a direct call for the usual range. */
static inline __attribute__((always_inline)) void range_on(struct mark_stack *s, uintptr_t lo, uintptr_t hi, bool par)
{
    if (__builtin_expect(hi - lo >= OS_PAGE_STATE_MIN, 0))
        sparse_range(s, lo, hi, par, false);
    else if (par)
        words_parallel(s, lo, hi);
    else
        words_serial(s, lo, hi);
}

void mark_word(uintptr_t w) { mark_one(my_stack, w, M.par); }
void mark_range(uintptr_t lo, uintptr_t hi) { range_on(my_stack, lo, hi, M.par); }

/* Each word is taken as the start of its object, rather than M.starts_only turned off for
 * the range: a client mark procedure may push a stack range while other workers mark. */
void mark_stack_range(uintptr_t lo, uintptr_t hi)
{
    if (!M.starts_only) {
        mark_range(lo, hi);
        return;
    }
    for (uintptr_t p = (lo + 7) & ~(uintptr_t)7; p + 8 <= hi; p += 8) {
        size_t size, pg;
        uintptr_t obj = heap_slot(*(const uintptr_t *)p, &size, &pg);
        if (obj)
            mark_word(obj);
    }
}

/* An object's words as its descriptor says, if it has one: describe_scan calls back
 * mark_word and mark_range, which push onto this thread's stack, s. */
static void object_on(struct mark_stack *s, uintptr_t obj, uintptr_t hi, bool par)
{
    if (H.pages[page_of(obj)].flags & PF_DESCR)
        describe_scan(obj, hi);
    else
        range_on(s, obj, hi, par);
}

void mark_object(uintptr_t obj, uintptr_t hi) { object_on(my_stack, obj, hi, M.par); }

/* A root entry for whichever worker takes it.  Never dropped, unlike a child: overflow
 * recovery finds marked objects again, not roots; false when the stack cannot take it. */
static bool push_root(uintptr_t lo, uintptr_t hi)
{
    struct mark_stack *s = my_stack;
    if (s->n == s->cap && !grow(s, s->n + 1))
        return false;
    s->v[s->n++] = (struct range){ lo, hi };
    return true;
}

/* In CHUNK pieces: the pool hands out whole entries from the bottom of a stack. */
void mark_range_later(uintptr_t lo, uintptr_t hi)
{
    for (uintptr_t e; lo < hi; lo = e) {
        e = hi - lo > CHUNK ? lo + CHUNK : hi;
        if (!push_root(lo, e)) {
            range_on(my_stack, lo, hi, M.par);
            return;
        }
    }
}

void mark_object_later(uintptr_t obj, uintptr_t hi)
{
    if (!(H.pages[page_of(obj)].flags & PF_DESCR))
        mark_range_later(obj, hi);
    else if (!push_root(obj | 1, hi))
        describe_scan(obj, hi);
}

void mark_old_page_later(size_t pg)
{
    if (!push_root(page_addr(pg) | 2, page_addr(pg + 1)))
        scan_old_page(pg);
}

/* A popped entry: a big plain one is scanned a chunk at a time (the rest pushed back
 * first, for another worker to take); a dropped push of the rest is an overflow like any
 * other.  Not when the rest would fill a stack at its limit (WBRT_MARK_STACK_MAX): every
 * child of the chunk would be dropped, and a chain of big objects would cost a rescan of
 * the heap per object (test_fault_pressure: 30x the marking time of a whole scan). */
static inline __attribute__((always_inline)) void scan_entry(struct mark_stack *s, struct range r, bool par)
{
    if (__builtin_expect(r.lo & 3, 0)) {
        if (r.lo & 1)
            describe_scan(r.lo - 1, r.hi);
        else
            scan_old_page(page_of(r.lo));
        return;
    }
    if (__builtin_expect(r.hi - r.lo >= OS_PAGE_STATE_MIN, 0)) {
        sparse_range(s, r.lo, r.hi, par, true);
        return;
    }
    if (r.hi - r.lo > CHUNK && s->n + 1 < M.max) {
        push(s, r.lo + CHUNK, r.hi);
        r.hi = r.lo + CHUNK;
    }
    range_on(s, r.lo, r.hi, par);
}

/* After seq changed (under the lock, released since): wakes the sleeping workers, with a
 * system call only if there is one (a wake nobody waits for was 3 in 4 of Asymptote's
 * futex calls).  Both sides use sequentially consistent operations: either take()'s
 * check of seq sees the change, or this sees its sleeper. */
static void wake_sleepers(void)
{
    if (__atomic_load_n(&P.sleepers, __ATOMIC_SEQ_CST))
        os_futex_wake(&P.seq, INT32_MAX);
}

/* Hands the bottom of s (nearest the roots: the biggest subgraphs) to the pool. */
static void share(struct mark_stack *s)
{
    pthread_mutex_lock(&P.lock);
    size_t k = s->n / 2 < SHARE_MAX ? s->n / 2 : SHARE_MAX;
    if (P.pool.n + k > P.pool.cap && !grow(&P.pool, P.pool.n + k))
        k = P.pool.cap - P.pool.n;
    if (k == 0) {
        pthread_mutex_unlock(&P.lock);
        return;
    }
    memcpy(P.pool.v + P.pool.n, s->v, k * sizeof *s->v);
    /* The hole is filled from the top (k <= n / 2: no overlap), not by moving the whole
     * stack down: young roots pushed before tracing made stacks of 10^5 entries, and a
     * memmove of them at every share cost 5% of mt_mutator. */
    memcpy(s->v, s->v + s->n - k, k * sizeof *s->v);
    __atomic_store_n(&P.pool.n, P.pool.n + k, __ATOMIC_RELAXED);
    s->n -= k;
    __atomic_add_fetch(&P.seq, 1, __ATOMIC_SEQ_CST);
    pthread_mutex_unlock(&P.lock);
    wake_sleepers();
}

/* Work from the pool into the empty stack s; false when there is none left anywhere:
 * every worker is idle (no one can make more). */
static bool take(struct mark_stack *s)
{
    pthread_mutex_lock(&P.lock);
    for (;;) {
        if (P.pool.n) { /* (s is empty) */
            size_t k = (P.pool.n + 1) / 2 < SHARE_MAX ? (P.pool.n + 1) / 2 : SHARE_MAX;
            if (k > s->cap && !grow(s, k))
                k = s->cap;
            if (k == 0) {
                /* Out of memory for even one entry: scanned here, its children dropped
                 * (overflow recovery finds marked objects again; a pooled entry may be
                 * a dirty old page, a root, which it would not).  Children its pushes
                 * found room for after all are worked on before any pool copy, which
                 * would overwrite them. */
                struct range r = P.pool.v[P.pool.n - 1];
                __atomic_store_n(&P.pool.n, P.pool.n - 1, __ATOMIC_RELAXED);
                pthread_mutex_unlock(&P.lock);
                scan_entry(s, r, true);
                if (s->n)
                    return true;
                pthread_mutex_lock(&P.lock);
                continue;
            }
            __atomic_store_n(&P.pool.n, P.pool.n - k, __ATOMIC_RELAXED);
            memcpy(s->v, P.pool.v + P.pool.n, k * sizeof *s->v);
            s->n = k;
            pthread_mutex_unlock(&P.lock);
            return true;
        }
        if (P.done) {
            pthread_mutex_unlock(&P.lock);
            return false;
        }
        if (__atomic_add_fetch(&P.idle, 1, __ATOMIC_RELAXED) == P.joined) {
            P.done = true;
            __atomic_add_fetch(&P.seq, 1, __ATOMIC_SEQ_CST);
            pthread_mutex_unlock(&P.lock);
            wake_sleepers();
            return false;
        }
        unsigned seq = __atomic_load_n(&P.seq, __ATOMIC_RELAXED);
        pthread_mutex_unlock(&P.lock);
        for (int spin = 0; spin < 64 && __atomic_load_n(&P.seq, __ATOMIC_ACQUIRE) == seq; spin++)
            __builtin_ia32_pause();
        __atomic_add_fetch(&P.sleepers, 1, __ATOMIC_SEQ_CST);
        while (__atomic_load_n(&P.seq, __ATOMIC_SEQ_CST) == seq)
            os_futex_wait(&P.seq, seq);
        __atomic_sub_fetch(&P.sleepers, 1, __ATOMIC_RELAXED);
        pthread_mutex_lock(&P.lock);
        __atomic_sub_fetch(&P.idle, 1, __ATOMIC_RELAXED);
    }
}

/* Rescans every marked, scanned object on page pg (the objects the collection traces). */
static void rescan_page(struct mark_stack *s, size_t pg, bool par)
{
    const struct page_info *pi = &H.pages[pg];
    if (pi->flags & PF_ATOMIC)
        return;
    if (pi->kind == PK_LARGE) {
        if (is_marked(gran_of(page_addr(pg))))
            object_on(s, page_addr(pg), page_addr(pg + pi->aux), par);
        return;
    }
    if (pi->kind != PK_SMALL)
        return;
    size_t size = class_size[pi->sclass];
    FOR_OBJECTS(pg, H.bits[pg].mark, H.bits[pg].mark, obj)
        object_on(s, obj, obj + size, par);
}

/* Claims the next page to rescan, 0 when there is none left. */
static size_t next_page(void)
{
    size_t i = __atomic_fetch_add(&P.next_page, 1, __ATOMIC_RELAXED);
    if (i >= P.npages)
        return 0;
    return P.pages ? P.pages[i] : i;
}

/* Entries a worker has popped ahead of scanning them: each is scanned AHEAD pops after
 * its first two lines were prefetched, time enough for the miss (an object pushed last
 * and popped next, as a stack does, had none: its first word's miss was most of
 * marking; 8 ahead, Nix's marking took 10% more samples). */
#define AHEAD 16

/* The top entry of s, read a word at a time: push wrote it so, often just before, and
 * a 16-byte load of two 8-byte stores still in the store buffer waits for them to drain
 * (it was 45% of worker's samples in Asymptote's marking). */
static inline __attribute__((always_inline)) struct range pop(struct mark_stack *s)
{
    const struct range *e = &s->v[--s->n];
    return (struct range){ __atomic_load_n(&e->lo, __ATOMIC_RELAXED), __atomic_load_n(&e->hi, __ATOMIC_RELAXED) };
}

/* One worker's phase: its stack, then pages to rescan, then the pool, until every worker
 * is out of work.  Entries popped ahead are the worker's own until scanned: it takes no
 * more work, nor goes idle, before it has scanned them. */
static inline __attribute__((always_inline)) void work(struct mark_stack *s, bool par)
{
    struct range ahead[AHEAD];
    unsigned first = 0, n = 0;
    do {
        for (;;) {
            while (s->n > 0 || n > 0) {
                for (; n < AHEAD && s->n > 0; n++) {
                    struct range r = pop(s);
                    uintptr_t lo = r.lo & ~(uintptr_t)3;
                    __builtin_prefetch((const void *)lo);
                    if (r.hi - lo > 64)
                        __builtin_prefetch((const void *)(lo + 64));
                    ahead[(first + n) % AHEAD] = r;
                }
                struct range r = ahead[first];
                first = (first + 1) % AHEAD;
                n--;
                scan_entry(s, r, par);
                /* Not while the pool holds work: a helper slow to wake (a busy machine) had
                 * the other worker share half its stack at every entry scanned meanwhile,
                 * growing the pool to 2 MiB and locking it each time. */
                if (par && s->n > 1 && __atomic_load_n(&P.idle, __ATOMIC_RELAXED) &&
                    !__atomic_load_n(&P.pool.n, __ATOMIC_RELAXED))
                    share(s);
            }
            size_t pg = next_page();
            if (!pg)
                break;
            rescan_page(s, pg, par);
        }
    } while (par && take(s));
    /* Heap addresses left in a dead frame could be read as roots later. */
    explicit_bzero(ahead, sizeof ahead);
}

static void worker(unsigned i, void *ctx)
{
    (void)ctx;
    struct mark_stack *s = &stacks[i];
    s->idx = i;
    my_stack = s;
    if (i > 0) { /* a helper joins a phase not yet over, or does nothing */
        pthread_mutex_lock(&P.lock);
        bool late = P.done;
        if (!late)
            P.joined++;
        pthread_mutex_unlock(&P.lock);
        if (late)
            return;
    }
    if (M.par)
        work(s, true);
    else
        work(s, false);
}

/* pages: NULL for all the pages in use (1..n-1), else those n. */
static void phase(unsigned workers, const uint32_t *pages, size_t n)
{
    P.pool.n = 0;
    __atomic_store_n(&P.idle, 0, __ATOMIC_RELAXED);
    P.done = false;
    P.joined = 1; /* the collecting thread */
    P.pages = pages;
    P.npages = n;
    P.next_page = pages ? 0 : 1;
    markers_run(workers, worker, NULL);
}

/* Objects start on small-object pages and at a large object's first page: no other
 * page's words are read (a big buffer costs one). */
static void fold_page(size_t pg)
{
    uint8_t kind = H.pages[pg].kind;
    if (kind != PK_SMALL && kind != PK_LARGE)
        return;
    int words = kind == PK_SMALL ? PAGE_WORDS : 1;
    for (int k = 0; k < words; k++) {
        /* Only words with marks are written: the maps' pages stay uncommitted where
         * nothing was marked. */
        uint64_t *x = X.v + (pg * PAGE_WORDS + (size_t)k) * X.k, bits = 0;
        for (unsigned i = 0; i < X.k; i++)
            if (x[i]) {
                bits |= x[i];
                x[i] = 0;
            }
        if (bits)
            H.bits[pg].mark[k] |= bits;
    }
}

/* The helpers' marks into the mark bits, their maps cleared: from the pages that may hold
 * an object marked in this collection (a young one's: the young map's, where mark_one
 * marks).  The verifier checks that none was left. */
static void fold(void)
{
    if (!M.young) {
        for (size_t pg = 1; pg < H.top; pg++)
            fold_page(pg);
    } else {
        for (size_t w = 0; w < (H.top + 63) / 64; w++)
            for (uint64_t m = H.young_map[w]; m; m &= m - 1)
                fold_page(w * 64 + (size_t)__builtin_ctzll(m));
    }
    if (G.cfg.verify)
        for (size_t w = 0; w < H.top * PAGE_WORDS * X.k; w++)
            if (X.v[w]) {
                char msg[160];
                int len = snprintf(msg, sizeof msg, "wbrt: verify: a helper marked granule word %zu "
                                   "outside the pages it folds\n", w / X.k);
                verify_fail(msg, len);
            }
}

/* One phase, and the helpers' marks folded: overflow recovery rescans marked objects. */
static void phase_folded(const uint32_t *pages, size_t n)
{
    phase(M.workers, pages, n);
    if (M.par)
        fold();
}

void mark_finish(void)
{
    M.par = M.workers > 1;
    OS_ATOMIC_ONLY(&P.idle); /* (read outside the lock as a hint) */
    OS_ATOMIC_ONLY(&P.pool.n);
    OS_ATOMIC_ONLY(&P.seq);
    OS_ATOMIC_ONLY(&P.sleepers);
    /* Nothing pushed (finalization's passes, as a rule): no helper woken and waited for,
     * no map folded over every page. */
    if (stacks[0].n)
        phase_folded(NULL, 0);
    /* Only marked objects can have unscanned children; in a young collection every
     * marked object is young, and young objects live on young-list pages. */
    while (M.overflow) {
        M.overflow = false;
        if (M.young)
            phase_folded(H.young.v, H.young.n);
        else
            phase_folded(NULL, H.top);
    }
    /* Marking after this (finalization's) is the collecting thread's alone. */
    M.par = false;
    my_stack = &stacks[0];
}
