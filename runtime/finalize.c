/* Finalization and disappearing links in the collector, after bdwgc's documented order:
 * links are cleared as soon as their object is unreachable (before any finalizer of it
 * runs, even if finalization keeps it alive for a while); an unreachable finalizable
 * object is ready unless another unreachable finalizable object reaches it (so a chain is
 * finalized head first, one link per collection; a cycle never is); a ready object and
 * everything it reaches stay alive until its finalizer has run and it is unreachable again.
 * Design: docs/design/gc-compat.md
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include "finalize.h"
#include "gc.h"
#include "heap.h"
#include "mark.h"
#include "side_table.h"
#include "vm.h"

/* fins: key obj, v = {fn, cd, enum fin_order}.  links: key link address, v[0] = obj. */
static struct side_table fins, links;

struct ready { uintptr_t obj, fn, cd; };
static struct {
    struct ready *v;
    size_t head, n, cap;
} queue;
static size_t ready_count; /* queue.n - queue.head, read without the lock */

static bool young_cycle;

void fin_register(uintptr_t obj, fin_fn fn, void *cd, enum fin_order order, fin_fn *ofn,
                  void **ocd)
{
    fin_fn old_fn = NULL;
    void *old_cd = NULL;
    pthread_mutex_lock(&H.lock);
    struct side_entry *e = side_find(&fins, obj);
    if (e) {
        old_fn = (fin_fn)e->v[0];
        old_cd = (void *)e->v[1];
        side_remove(e);
    }
    int fresh;
    if (fn && (e = side_insert(&fins, obj, &fresh)))
        *e = (struct side_entry){ obj, { (uintptr_t)fn, (uintptr_t)cd, order } };
    pthread_mutex_unlock(&H.lock);
    if (ofn)
        *ofn = old_fn;
    if (ocd)
        *ocd = old_cd;
}

void fin_forget(uintptr_t obj) { side_forget(&fins, obj, &H.lock); }

int link_register(void **link, uintptr_t obj)
{
    int fresh;
    pthread_mutex_lock(&H.lock);
    struct side_entry *e = side_insert(&links, (uintptr_t)link, &fresh);
    if (e)
        e->v[0] = obj;
    pthread_mutex_unlock(&H.lock);
    return !e ? 2 : fresh ? 0 : 1;
}

int link_unregister(void **link)
{
    pthread_mutex_lock(&H.lock);
    struct side_entry *e = side_find(&links, (uintptr_t)link);
    if (e)
        side_remove(e);
    pthread_mutex_unlock(&H.lock);
    return e != NULL;
}

int link_move(void **link, void **to)
{
    int rc = 0, fresh;
    pthread_mutex_lock(&H.lock);
    struct side_entry *e = side_find(&links, (uintptr_t)link);
    if (!e) {
        rc = 3;
    } else if (link != to) {
        uintptr_t obj = e->v[0];
        /* Insert first (it may move entries), so that a failure leaves link registered. */
        if (side_find(&links, (uintptr_t)to))
            rc = 1;
        else if (!(e = side_insert(&links, (uintptr_t)to, &fresh)))
            rc = 2;
        else {
            e->v[0] = obj;
            side_remove(side_find(&links, (uintptr_t)link));
        }
    }
    pthread_mutex_unlock(&H.lock);
    return rc;
}

enum state { GONE, DEAD, LIVE };

/* A registered object: freed explicitly since (GONE), unreachable so far (DEAD), LIVE. */
static enum state state_of(uintptr_t obj)
{
    size_t g = gran_of(obj);
    if (!is_allocated(g))
        return GONE;
    return is_marked(g) || (young_cycle && bit_test(H.old_bits, g)) ? LIVE : DEAD;
}

/* The link's word may lie on an old page the barrier protects: tell the barrier first,
 * as the allocator does before filling a page (the page is then re-armed with the others
 * this collection arms).  Storing NULL creates no old-to-young pointer, so a software
 * barrier has nothing to record. */
static void clear_link(uintptr_t link)
{
    if (in_heap(link)) {
        size_t size;
        if (!heap_object(link, &size))
            return; /* the object holding it was freed explicitly */
        gc_will_write(page_of(link), 1);
    }
    *(void *volatile *)link = NULL;
}

/* Links whose word lies in an object that is not kept: forget them. */
static void drop_dangling_links(void)
{
    SIDE_FOR_EACH(&links, e) {
        size_t size;
        uintptr_t holder;
        if (in_heap(e->key) && (!(holder = heap_object(e->key, &size)) || state_of(holder) != LIVE))
            side_remove(e);
    }
}

static void enqueue(const struct side_entry *e)
{
    if (queue.n == queue.cap) {
        size_t cap = queue.cap ? queue.cap * 2 : 256;
        struct ready *v = os_table_grow(queue.v, queue.cap * sizeof *v, queue.n * sizeof *v, cap * sizeof *v);
        if (!v)
            return; /* out of memory: it stays registered and is tried again next time */
        queue.v = v;
        queue.cap = cap;
    }
    queue.v[queue.n++] = (struct ready){ e->key, e->v[0], e->v[1] };
    side_remove((struct side_entry *)e);
}

/* Mark the words of obj, not obj itself; with FIN_IGNORE_SELF, not the words that point
 * into obj either. */
static void mark_contents(uintptr_t obj, enum fin_order order)
{
    size_t size;
    if ((H.pages[page_of(obj)].flags & PF_ATOMIC) || heap_object(obj, &size) != obj)
        return;
    if (order != FIN_IGNORE_SELF) {
        mark_object(obj, obj + size);
        return;
    }
    for (const uintptr_t *p = (const uintptr_t *)obj; p < (const uintptr_t *)(obj + size); p++)
        if (*p - obj >= size)
            mark_word(*p);
}

void finalize_after_mark(bool young)
{
    young_cycle = young;
    SIDE_FOR_EACH(&links, e) {
        if (state_of(e->v[0]) != LIVE) {
            clear_link(e->key);
            side_remove(e);
        }
    }
    SIDE_FOR_EACH(&fins, e) {
        enum state s = state_of(e->key);
        if (s == GONE)
            side_remove(e);
        else if (s == DEAD && e->v[2] != FIN_UNORDERED)
            mark_contents(e->key, (enum fin_order)e->v[2]);
    }
    mark_finish();
    size_t first = queue.n;
    SIDE_FOR_EACH(&fins, e)
        if (state_of(e->key) == DEAD)
            enqueue(e);
    for (size_t i = first; i < queue.n; i++)
        mark_word(queue.v[i].obj);
    mark_finish();
    drop_dangling_links();
    __atomic_store_n(&ready_count, queue.n - queue.head, __ATOMIC_RELAXED);
}

void finalize_mark_roots(void)
{
    SIDE_FOR_EACH(&fins, e)
        mark_word(e->v[1]);
    for (size_t i = queue.head; i < queue.n; i++) {
        mark_word(queue.v[i].obj);
        mark_word(queue.v[i].cd);
    }
}

size_t finalize_ready(void)
{
    return __atomic_load_n(&ready_count, __ATOMIC_RELAXED);
}

size_t finalize_run(void)
{
    size_t ran = 0;
    for (;;) {
        pthread_mutex_lock(&H.lock);
        if (queue.head == queue.n) {
            queue.head = queue.n = 0;
            pthread_mutex_unlock(&H.lock);
            return ran;
        }
        /* From here the object is on this thread's stack, which keeps it alive. */
        struct ready r = queue.v[queue.head++];
        __atomic_store_n(&ready_count, queue.n - queue.head, __ATOMIC_RELAXED);
        pthread_mutex_unlock(&H.lock);
        ((fin_fn)r.fn)((void *)r.obj, (void *)r.cd);
        ran++;
    }
}
