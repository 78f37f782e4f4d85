/* Fuzz target: the allocation API against a model.  The input bytes are a program of
 * operations on up to SLOTS objects: allocate (scanned or atomic, 1 byte to 256 KiB), free,
 * realloc, link one object to another with WB_STORE, unlink, unroot, young and full
 * collections, wb_base of an interior address, rewrite.  The model knows each object's size,
 * payload pattern, child and whether it is rooted; the live objects are the rooted ones and
 * what they reach through children.  After every operation the model drops what became
 * unreachable; at every collection every live object must be intact (payload, child
 * pointer, wb_size, wb_base), wb_base must map every interior address to its object, and a
 * new object must never overlap a live one.  The model hides its pointers (stored
 * complemented), so that only the root table and the children keep objects alive.
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include "fuzz_check.h"
#include "wbt_required.h"
#include "wbrt.h"

#define SLOTS 64
/* Explicit collections per input: each scans libFuzzer's megabytes of tables as roots. */
#define MAX_COLLECTIONS 8

struct node {
    void *child;       /* scanned objects: word 0 is the only pointer they hold */
};

static struct entry {
    bool used, atomic;
    uint8_t seed;
    int child;         /* slot of the object word 0 points to, or -1 */
    uintptr_t hidden;  /* ~address */
    size_t size;
} model[SLOTS];
static void *roots[SLOTS];   /* registered with wb_add_roots: the rooted objects */
/* libFuzzer's coverage counters (absent, so NULL, in the plain driver's build): the
 * collector's own code is instrumented, so they change while it collects; a counter word
 * that looks like a heap address once the sweep has run would then reach, for the
 * verifier, an object the collection rightly freed.  They hold no pointers. */
extern char __start___sancov_cntrs[] __attribute__((weak)), __stop___sancov_cntrs[] __attribute__((weak));

FUZZ_NO_LEAK_CHECK

static char *addr(int i) { return (char *)~model[i].hidden; }

/* Payload byte i of an object with seed s (scanned objects: from byte 8 on). */
static uint8_t pattern(uint8_t s, size_t i) { return (uint8_t)(s + i * 7 + (i >> 8)); }

static size_t first_payload(int i) { return model[i].atomic ? 0 : sizeof(void *); }

static void fill(int i, size_t from)
{
    char *p = addr(i);
    for (size_t k = from > first_payload(i) ? from : first_payload(i); k < model[i].size; k++)
        p[k] = (char)pattern(model[i].seed, k);
}

static void check_object(int i, size_t upto)
{
    const uint8_t *p = (const uint8_t *)addr(i);
    FUZZ_CHECK(wb_base(p) == p, "slot %d: wb_base(%p) = %p", i, (void *)p, wb_base(p));
    FUZZ_CHECK(wb_size(p) >= model[i].size, "slot %d: wb_size %zu < %zu", i, wb_size(p), model[i].size);
    for (size_t k = first_payload(i); k < upto; k++)
        FUZZ_CHECK(p[k] == pattern(model[i].seed, k), "slot %d (%p, %zu bytes): byte %zu is %#x, not %#x",
                   i, (void *)p, model[i].size, k, p[k], pattern(model[i].seed, k));
    if (!model[i].atomic) {
        void *want = model[i].child < 0 ? NULL : addr(model[i].child);
        FUZZ_CHECK(((struct node *)p)->child == want, "slot %d: child %p, not %p", i,
                   ((struct node *)p)->child, want);
    }
}

/* The rooted objects and what they reach stay; the model forgets the rest (garbage now). */
static void drop_unreachable(void)
{
    bool live[SLOTS] = {0};
    int stack[SLOTS], n = 0;
    for (int i = 0; i < SLOTS; i++)
        if (model[i].used && roots[i])
            live[i] = true, stack[n++] = i;
    while (n) {
        int c = model[stack[--n]].child;
        if (c >= 0 && !live[c])
            live[c] = true, stack[n++] = c;
    }
    for (int i = 0; i < SLOTS; i++)
        if (model[i].used && !live[i])
            model[i] = (struct entry){.child = -1};
}

static void check_fresh(const char *p, size_t size, int except)
{
    FUZZ_CHECK(p, "allocation of %zu bytes failed: %s", size, strerror(errno));
    FUZZ_CHECK(wb_base(p) == p && wb_size(p) >= size, "new object %p: base %p, size %zu < %zu", (void *)p,
               wb_base(p), wb_size(p), size);
    for (int i = 0; i < SLOTS; i++)
        FUZZ_CHECK(!model[i].used || i == except || p + size <= addr(i) || addr(i) + model[i].size <= p,
                   "new object [%p, +%zu) overlaps the live one of slot %d [%p, +%zu)", (void *)p, size, i,
                   (void *)addr(i), model[i].size);
}

static size_t size_of(uint8_t b, bool atomic)
{
    size_t n = b < 192 ? (size_t)b * 11 + 1 : b < 248 ? (size_t)(b - 191) * 1024 + (b & 7) * 16
                                                      : (size_t)(b - 247) * 32768;
    return !atomic && n < sizeof(void *) ? sizeof(void *) : n;
}

/* Every object whose child is slot i: its word 0 set to p (NULL unlinks). */
static void relink_parents(int i, void *p)
{
    for (int k = 0; k < SLOTS; k++)
        if (model[k].used && model[k].child == i) {
            struct node *parent = (struct node *)addr(k);
            WB_STORE(parent, child, p);
            if (!p)
                model[k].child = -1;
        }
}

static void op_alloc(int slot, uint8_t sz, bool atomic, uint8_t seed)
{
    int i = slot;
    while (model[i].used)
        if ((i = (i + 1) % SLOTS) == slot)
            return;                 /* every slot holds a live object */
    size_t size = size_of(sz, atomic);
    char *p = atomic ? wb_malloc_atomic(size) : wb_malloc(size);
    check_fresh(p, size, -1);
    if (!atomic)
        for (size_t k = 0; k < size; k++)
            FUZZ_CHECK(p[k] == 0, "wb_malloc(%zu) = %p: byte %zu not zero", size, (void *)p, k);
    model[i] = (struct entry){.used = true, .atomic = atomic, .seed = seed, .child = -1,
                              .hidden = ~(uintptr_t)p, .size = size};
    fill(i, 0);
    roots[i] = p;
}

static void op_free(int i)
{
    relink_parents(i, NULL);
    void *p = addr(i);
    roots[i] = NULL;
    model[i] = (struct entry){.child = -1};
    wb_free(p);
}

static void op_realloc(int i, uint8_t sz)
{
    size_t old = model[i].size, size = size_of(sz, model[i].atomic);
    char *p = wb_realloc(addr(i), size);
    check_fresh(p, size, i);
    model[i].hidden = ~(uintptr_t)p;
    model[i].size = size;
    roots[i] = roots[i] ? p : NULL;
    relink_parents(i, p);       /* first: it may be its own child */
    check_object(i, old < size ? old : size);
    fill(i, old);
}

static void check_all(void)
{
    for (int i = 0; i < SLOTS; i++)
        if (model[i].used)
            check_object(i, model[i].size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool ready;
    if (!ready) {
        /* Small generations, so that allocation alone starts collections too. */
        struct wb_options o = {.young_bytes = 1 << 20, .full_min_bytes = 4 << 20, .heap_max = (size_t)4 << 30};
        int rc = wb_init(&o);
        if (rc != 0 && errno == ENOTSUP) {      /* WBRT_BARRIER names one this kernel lacks */
            const char *b = getenv("WBRT_BARRIER");
            exit(wbt_unavailable(b ? b : "auto", wb_last_error()));
        }
        FUZZ_CHECK(rc == 0, "wb_init: %s", wb_last_error());
        wb_add_roots(roots, roots + SLOTS);
        wb_exclude_roots(__start___sancov_cntrs, __stop___sancov_cntrs);
        for (int i = 0; i < SLOTS; i++)
            model[i].child = -1;
        ready = true;
    }
    int collections = 0;
    for (size_t at = 0; at + 4 <= size; at += 4) {
        uint8_t op = data[at] % 16, a = data[at + 1], b = data[at + 2], c = data[at + 3];
        int i = a % SLOTS, j = b % SLOTS;
        struct node *n = (struct node *)addr(i);
        if (op >= 11 && op <= 12 && ++collections > MAX_COLLECTIONS)
            op = 9;
        switch (op) {
        case 0: case 1: case 2: op_alloc(i, b, c & 1, c); break;
        case 3: if (model[i].used) op_free(i); break;
        case 4: if (model[i].used) op_realloc(i, b); break;
        case 5: case 6:
            if (model[i].used && !model[i].atomic && model[j].used) {
                WB_STORE(n, child, addr(j));
                model[i].child = j;
            }
            break;
        case 7:
            if (model[i].used && !model[i].atomic) {
                WB_STORE(n, child, NULL);
                model[i].child = -1;
            }
            break;
        case 8: roots[i] = NULL; break;
        case 9: case 13: case 14:
            if (model[i].used) {
                size_t off = ((size_t)b << 8 | c) % model[i].size;
                FUZZ_CHECK(wb_base(addr(i) + off) == addr(i), "slot %d: wb_base(%p + %zu) = %p", i,
                           (void *)addr(i), off, wb_base(addr(i) + off));
            }
            break;
        case 10: case 15:
            if (model[i].used) {
                check_object(i, model[i].size);
                model[i].seed = c;
                fill(i, 0);
            }
            break;
        case 11: wb_collect(WB_COLLECT_YOUNG); check_all(); break;
        case 12: wb_collect(WB_COLLECT_FULL); check_all(); break;
        }
        drop_unreachable();
    }
    check_all();
    /* The next input starts from nothing: every object becomes garbage. */
    memset(roots, 0, sizeof roots);
    drop_unreachable();
    return 0;
}
