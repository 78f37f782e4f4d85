/* Conservative marking: any aligned word that points into a live object (interior
 * pointers included, unless the program turned them off) marks it.  The mark stack is
 * mmap'd and bounded; when it is full an object is marked but not pushed, and
 * mark_finish rescans marked objects until no push was dropped, so deep structures
 * never recurse on the C stack.
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include "mark.h"
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "gc.h"
#include "heap.h"
#include "pagemap.h"
#include "vm.h"

struct range { uintptr_t lo, hi; };

static struct {
    struct range *stack;
    size_t n, cap, max;
    bool overflow, young, check_freed, skip_perm;
    bool starts_only; /* a word keeps an object only at its start or a displacement */
} M;

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

void mark_begin(bool young, bool check_freed, bool skip_perm, size_t stack_max)
{
    M.skip_perm = skip_perm;
    M.young = young;
    M.check_freed = check_freed;
    M.max = stack_max;
    M.n = 0;
    M.overflow = false;
    M.starts_only = !interior;
}

static bool grow(void)
{
    size_t cap = M.cap ? M.cap * 2 : 4096;
    if (cap > M.max)
        cap = M.max;
    if (cap <= M.cap)
        return false;
    struct range *s = os_table_grow(M.stack, M.cap * sizeof *s, M.n * sizeof *s, cap * sizeof *s);
    if (!s)
        return false;
    M.stack = s;
    M.cap = cap;
    return true;
}

static void push(uintptr_t lo, uintptr_t hi)
{
    if (M.n == M.cap && !grow()) {
        M.overflow = true; /* marked but unscanned: mark_finish finds it again */
        return;
    }
    __builtin_prefetch((const void *)lo); /* it is scanned soon: start the miss now */
    M.stack[M.n++] = (struct range){ lo, hi };
}

static __attribute__((noinline, noreturn)) void freed_reachable(uintptr_t w, uintptr_t obj)
{
    char msg[200];
    int len = snprintf(msg, sizeof msg,
                       "wbrt: verify: word %#lx points into object %#lx, which the last sweep "
                       "freed although it is reachable\n", (unsigned long)w, (unsigned long)obj);
    verify_fail(msg, len);
}

/* Inline in mark_range, the loop that sees nearly every word. */
static inline __attribute__((always_inline)) void mark_one(uintptr_t w)
{
    /* Cheapest rejections first: each table lookup is a likely cache miss.  In a young
     * collection most words point at old objects; the young page map rejects them
     * without touching page_info. */
    if (M.young && (!in_heap(w) || !bit_test(H.young_map, page_of(w))))
        return;
    size_t size, pg;
    uintptr_t obj = heap_slot(w, &size, &pg);
    if (!obj || (M.skip_perm && (H.pages[pg].flags & PF_PERM)))
        return;
    if (__builtin_expect(M.starts_only, 0) && w != obj &&
        (w - obj >= MARK_DISPLACEMENT_MAX || !bit_test(displacements, w - obj)))
        return;
    size_t g = gran_of(obj);
    /* An old bit left on a free slot also means "nothing young here"; a mark bit implies
     * allocated. */
    if (M.young && bit_test(H.old_bits, g))
        return;
    if (bit_test(H.mark_bits, g))
        return;
    if (!bit_test(H.alloc_bits, g)) {
        /* Unless a word older than the object points at it (verify_barrier found them):
         * a pointer the program left dangling after wb_free, or a false one, which the
         * collection rightly did not scan. */
        if (__builtin_expect(M.check_freed, 0) && bit_test(H.freed_bits, g) &&
            !bit_test(H.stale_bits, g))
            freed_reachable(w, obj);
        return;
    }
    bit_set(H.mark_bits, g);
    if (!(H.pages[pg].flags & PF_ATOMIC))
        push(obj, obj + size);
}

void mark_word(uintptr_t w) { mark_one(w); }

static void mark_words(void *unused, uintptr_t lo, uintptr_t hi)
{
    (void)unused;
    for (uintptr_t p = (lo + 7) & ~(uintptr_t)7; p + 8 <= hi; p += 8)
        mark_one(*(const uintptr_t *)p);
}

void mark_stack_range(uintptr_t lo, uintptr_t hi)
{
    bool starts_only = M.starts_only;
    M.starts_only = false;
    mark_range(lo, hi);
    M.starts_only = starts_only;
}

/* A big range is read only where the kernel has its pages: a buffer mostly never written
 * reads as zero elsewhere, and reading it would map every page. */
void mark_range(uintptr_t lo, uintptr_t hi)
{
    if (hi - lo >= PAGEMAP_SPARSE_MIN && pagemap_populated(lo, hi, mark_words, NULL) == 0)
        return;
    mark_words(NULL, lo, hi);     /* (after a failure, again what was marked: harmless) */
}

static void drain(void)
{
    while (M.n > 0) {
        struct range r = M.stack[--M.n];
        mark_range(r.lo, r.hi);
    }
}

/* Rescan every marked, scanned object on page pg (the objects the collection traces). */
static void rescan_page(size_t pg)
{
    const struct page_info *pi = &H.pages[pg];
    if (pi->flags & PF_ATOMIC)
        return;
    if (pi->kind == PK_LARGE) {
        if (bit_test(H.mark_bits, gran_of(page_addr(pg))))
            mark_range(page_addr(pg), page_addr(pg + pi->aux));
        return;
    }
    if (pi->kind != PK_SMALL)
        return;
    size_t size = class_size[pi->sclass];
    FOR_OBJECTS(pg, H.mark_bits, H.mark_bits, obj)
        mark_range(obj, obj + size);
}

void mark_finish(void)
{
    drain();
    while (M.overflow) {
        M.overflow = false;
        /* Only marked objects can have unscanned children; in a young collection every
         * marked object is young, and young objects live on young-list pages. */
        if (M.young) {
            for (size_t i = 0; i < H.young.n; i++) {
                rescan_page(H.young.v[i]);
                drain();
            }
        } else {
            for (size_t pg = 1; pg < H.top; pg++) {
                rescan_page(pg);
                drain();
            }
        }
    }
}
