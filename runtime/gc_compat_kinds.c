/* Boehm GC compatibility: object kinds, client mark procedures, typed objects, client
 * roots (gc_mark.h, gc_typed.h, gc_inline.h).  Descriptors keep bdwgc's encoding; the
 * collector reads them through describe.h.
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "include/wbrt-gc/gc.h"
#include "include/wbrt-gc/gc_inline.h"
#include "include/wbrt-gc/gc_mark.h"
#include "include/wbrt-gc/gc_typed.h"
#include "describe.h"
#include "gc.h"
#include "gc_compat.h"
#include "heap.h"
#include "mark.h"
#include "roots.h"
#include "vm.h"

static __attribute__((noreturn, format(printf, 1, 2))) void fatal(const char *fmt, ...);

static void fatal(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("wbrt: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    abort();
}

/* Non-zero on a marking thread while a client mark procedure or push-other-roots
 * function runs: the only time the GC_push_* and GC_mark_and_push calls may mark. */
static __thread int in_mark_callback;

static void check_marking(const char *call)
{
    if (!in_mark_callback)
        fatal("%s: called outside a mark procedure or push-other-roots function", call);
}

/* Mark procedures: bdwgc's reserved indices stay unused. */
static GC_mark_proc procs[GC_MAX_MARK_PROCS];
static unsigned nprocs = GC_RESERVED_MARK_PROCS;

/* The mark stack the client sees is never written: GC_mark_and_push marks directly. */
static void call_proc(unsigned i, uintptr_t obj, uintptr_t env)
{
    struct GC_ms_entry stack[2];
    if (!procs[i])
        return;
    in_mark_callback++;
    procs[i]((GC_word *)obj, stack, stack + 1, env);
    in_mark_callback--;
}

unsigned GC_new_proc(GC_mark_proc fn)
{
    gc_compat_ready();
    pthread_mutex_lock(&H.lock);
    unsigned i = nprocs < GC_MAX_MARK_PROCS ? nprocs++ : GC_MAX_MARK_PROCS;
    if (i < GC_MAX_MARK_PROCS)
        procs[i] = fn;
    describe_set_procs(call_proc);
    pthread_mutex_unlock(&H.lock);
    if (i == GC_MAX_MARK_PROCS)
        fatal("GC_new_proc: more than %d mark procedures", GC_MAX_MARK_PROCS - GC_RESERVED_MARK_PROCS);
    return i;
}

struct GC_ms_entry *GC_mark_and_push(void *obj, struct GC_ms_entry *msp, struct GC_ms_entry *lim,
                                     void **src)
{
    (void)lim, (void)src;
    check_marking("GC_mark_and_push");
    mark_word((uintptr_t)obj);
    return msp;
}

void GC_set_mark_bit(const void *p)
{
    /* Outside marking a mark bit means nothing to wbrt (as bdwgc clears its marks before
     * each full mark); inside, the object is marked and traced. */
    if (in_mark_callback)
        mark_word((uintptr_t)p);
}

void GC_push_all(void *bottom, void *top)
{
    check_marking("GC_push_all");
    mark_range((uintptr_t)bottom, (uintptr_t)top);
}

/* "Eager" ranges are stacks: interior pointers count there. */
void GC_push_all_eager(void *bottom, void *top)
{
    check_marking("GC_push_all_eager");
    mark_stack_range((uintptr_t)bottom, (uintptr_t)top);
}

/* Every page of the range, as when all is set: scanning more is always safe. */
void GC_push_conditional(void *bottom, void *top, int all)
{
    (void)all;
    check_marking("GC_push_conditional");
    mark_range((uintptr_t)bottom, (uintptr_t)top);
}

/* wbrt finds the thread stacks itself: the default pushes nothing more. */
static void push_nothing(void) {}
GC_push_other_roots_proc GC_push_other_roots = push_nothing;

static void push_other_roots(void)
{
    GC_push_other_roots_proc fn = GC_push_other_roots;
    if (!fn)
        return;
    in_mark_callback++;
    fn();
    in_mark_callback--;
}

void GC_set_push_other_roots(GC_push_other_roots_proc fn) { GC_push_other_roots = fn; }
GC_push_other_roots_proc GC_get_push_other_roots(void) { return GC_push_other_roots; }

void gc_compat_kinds_init(void) { roots_client_hook = push_other_roots; }

/* Kinds: bdwgc's four predefined ones, then the client's. */
#define MAX_KINDS 64
enum { KIND_UNCOLLECTABLE = 2, KIND_ATOMIC_UNCOLLECTABLE = 3 };
static struct kind {
    GC_word descr;
    int add_size, clear;
} kinds[MAX_KINDS] = {
    [GC_I_PTRFREE] = {0, 0, 0},
    [GC_I_NORMAL] = {0, 1, 1},
    [KIND_UNCOLLECTABLE] = {0, 1, 1},
    [KIND_ATOMIC_UNCOLLECTABLE] = {0, 0, 0},
};
static unsigned nkinds = 4;

/* wbrt allocates from pages of its own: the list stays empty, as bdwgc's does for a
 * client that allocates with GC_generic_malloc. */
void **GC_new_free_list(void)
{
    size_t n = (SMALL_MAX / GRAN + 1) * sizeof(void *);
    void **fl = GC_malloc_atomic_uncollectable(n);
    if (fl)
        memset(fl, 0, n);
    return fl;
}

unsigned GC_new_kind(void **free_list, GC_word descr, int add_size, int clear)
{
    (void)free_list;
    gc_compat_ready();
    pthread_mutex_lock(&H.lock);
    unsigned k = nkinds < MAX_KINDS ? nkinds : MAX_KINDS;
    if (k < MAX_KINDS) {
        kinds[k] = (struct kind){descr, add_size != 0, clear != 0};
        __atomic_store_n(&nkinds, k + 1, __ATOMIC_RELEASE); /* read without the lock */
    }
    pthread_mutex_unlock(&H.lock);
    if (k == MAX_KINDS)
        fatal("GC_new_kind: more than %d kinds", MAX_KINDS);
    return k;
}

/* A collected object whose words are scanned as descr says, plus its size (rounded up
 * as allocated) if add_size (0: none; a length that covers it: all). */
static void *described(size_t n, GC_word descr, int add_size, int clear)
{
    if (descr == 0 && !add_size) {
        void *p = GC_malloc_atomic(n);
        if (p && clear)
            memset(p, 0, n);
        return p;
    }
    void *p = GC_malloc(n);
    if ((descr & GC_DS_TAGS) == GC_DS_LENGTH && add_size) /* all of it, whatever its size */
        return p;
    if (!p)
        return NULL;
    size_t size = GC_size(p);
    if (add_size)
        descr += size;
    if (!((descr & GC_DS_TAGS) == GC_DS_LENGTH && descr >= size) &&
        describe_object((uintptr_t)p, descr) != 0) {
        GC_free(p);
        p = NULL;
    }
    return p;
}

static const struct kind *kind_of(int k, const char *call)
{
    if (k < 0 || (unsigned)k >= __atomic_load_n(&nkinds, __ATOMIC_ACQUIRE))
        fatal("%s: %d is not a kind", call, k);
    return &kinds[k];
}

void *GC_generic_malloc(size_t n, int k)
{
    const struct kind *kd = kind_of(k, "GC_generic_malloc");
    if (k == KIND_UNCOLLECTABLE)
        return GC_malloc_uncollectable(n);
    if (k == KIND_ATOMIC_UNCOLLECTABLE)
        return GC_malloc_atomic_uncollectable(n);
    return described(n, kd->descr, kd->add_size, kd->clear);
}

/* About a page of n-byte objects of kind k, linked through their first words (the last
 * one's is NULL).  Until linked, the stack array keeps them: the links of pointer-free
 * objects are not scanned. */
void GC_generic_malloc_many(size_t n, int k, void **result)
{
    const struct kind *kd = kind_of(k, "GC_generic_malloc_many");
    if (n < sizeof(void *))
        n = sizeof(void *);
    void *keep[WB_PAGE_SIZE / GRAN];
    size_t count = n < WB_PAGE_SIZE / 2 ? WB_PAGE_SIZE / ((n + GRAN - 1) & ~(GRAN - 1)) : 1, got = 0;
    /* Objects scanned whole (GC_malloc's) or not at all (GC_malloc_atomic's, unless
     * cleared) come from the allocator in one call (Nix takes its values so). */
    bool whole = (kd->descr & GC_DS_TAGS) == GC_DS_LENGTH && kd->add_size,
         none = kd->descr == 0 && !kd->add_size && !kd->clear;
    if (k != KIND_UNCOLLECTABLE && k != KIND_ATOMIC_UNCOLLECTABLE && n <= SMALL_MAX && (whole || none)) {
        gc_compat_ready();
        got = alloc_many(n, none, keep, count);
        if (got)
            gc_compat_after_collect();
    }
    for (; got < count && (keep[got] = GC_generic_malloc(n, k)); got++)
        continue;
    void *head = NULL;
    while (got > 0) {
        void *p = keep[--got];
        *(void **)p = head;
        head = p;
    }
    *result = head;
}

void *GC_malloc_many(size_t n)
{
    void *head;
    GC_generic_malloc_many(n, GC_I_NORMAL, &head);
    return head;
}

/* Typed objects.  Up to 62 words a bitmap descriptor; longer layouts live in a table the
 * descriptor names, read by a mark procedure of wbrt's own. */
struct layout {
    size_t nbits;
    GC_word bits[];
};

static unsigned layout_proc;
static pthread_once_t layout_once = PTHREAD_ONCE_INIT;

static struct GC_ms_entry *mark_layout(GC_word *obj, struct GC_ms_entry *msp,
                                       struct GC_ms_entry *lim, GC_word env)
{
    const struct layout *l = (const struct layout *)env;
    size_t size = GC_size(obj);
    for (size_t i = 0; i < l->nbits && (i + 1) * sizeof(GC_word) <= size; i++)
        if (GC_get_bit(l->bits, i))
            msp = GC_mark_and_push((void *)obj[i], msp, lim, NULL);
    return msp;
}

static void layout_proc_init(void) { layout_proc = GC_new_proc(mark_layout); }

GC_descr GC_make_descriptor(const GC_word *bm, size_t len)
{
    size_t last = 0, ones = 0; /* 1 + the last pointer word; leading pointer words */
    for (size_t i = 0; i < len; i++)
        if (GC_get_bit(bm, i)) {
            last = i + 1;
            if (ones == i)
                ones++;
        }
    if (last == 0)
        return 0;                                   /* no pointers */
    if (ones == last)
        return last * sizeof(GC_word) | GC_DS_LENGTH; /* a prefix of pointers */
    if (last <= DESCR_BITMAP_WORDS) {
        GC_descr d = GC_DS_BITMAP;
        for (size_t i = 0; i < last; i++)
            if (GC_get_bit(bm, i))
                d |= (GC_word)1 << (63 - i);
        return d;
    }
    size_t words = (last + GC_WORDSZ - 1) / GC_WORDSZ;
    struct layout *l = os_table(sizeof *l + words * sizeof(GC_word));
    if (!l)
        return (last * sizeof(GC_word)) | GC_DS_LENGTH; /* bdwgc's conservative answer */
    l->nbits = last;
    memcpy(l->bits, bm, words * sizeof(GC_word));
    pthread_once(&layout_once, layout_proc_init);
    return GC_MAKE_PROC((GC_word)layout_proc, (GC_word)l);
}

void *GC_malloc_explicitly_typed(size_t n, GC_descr d)
{
    gc_compat_ready();
    return described(n, d, 0, 1);
}
