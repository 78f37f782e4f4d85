/* Described objects: a side table of object -> descriptor, read by the marker.
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include "describe.h"
#include "heap.h"
#include "mark.h"
#include "side_table.h"

static struct side_table objs; /* key obj, v[0] = descriptor */
static describe_proc_fn procs;

void describe_set_procs(describe_proc_fn fn) { procs = fn; }

int describe_object(uintptr_t obj, uintptr_t descr)
{
    int fresh;
    pthread_mutex_lock(&H.lock);
    struct side_entry *e = side_insert(&objs, obj, &fresh);
    if (e) {
        e->v[0] = descr;
        /* Under H.lock, as every other writer of a page's flags. */
        H.pages[page_of(obj)].flags |= PF_DESCR;
    }
    pthread_mutex_unlock(&H.lock);
    return e ? 0 : -1;
}

void describe_forget(uintptr_t obj) { side_forget(&objs, obj, &H.lock); }

uintptr_t describe_of(uintptr_t obj)
{
    pthread_mutex_lock(&H.lock);
    struct side_entry *e = side_find(&objs, obj);
    uintptr_t d = e ? e->v[0] : 0;
    pthread_mutex_unlock(&H.lock);
    return d;
}

static uintptr_t word_at(uintptr_t a) { return *(const uintptr_t *)a; }

/* As bdwgc's marker reads descriptors; a descriptor that names another per-object one
 * is followed a few times, then the object is left unscanned (it was on no free list
 * bdwgc would know either). */
static void scan(uintptr_t obj, uintptr_t hi, uintptr_t d)
{
    for (int hops = 0; hops < 4; hops++) {
        switch (d & ((1u << DESCR_TAG_BITS) - 1)) {
        case DESCR_LENGTH:
            if (d)
                mark_range(obj, d < hi - obj ? obj + d : hi);
            return;
        case DESCR_BITMAP:
            d &= ~(uintptr_t)3;
            for (uintptr_t p = obj; d && p + sizeof(uintptr_t) <= hi; p += sizeof(uintptr_t), d <<= 1)
                if (d >> 63)
                    mark_word(word_at(p));
            return;
        case DESCR_PROC:
            procs((unsigned)(d >> DESCR_TAG_BITS) & (DESCR_MAX_PROCS - 1), obj,
                  d >> (DESCR_TAG_BITS + DESCR_PROC_BITS));
            return;
        default: /* DESCR_PER_OBJECT */
            if ((intptr_t)d >= 0) {
                if (obj + d - DESCR_PER_OBJECT + sizeof(uintptr_t) > hi)
                    return;
                d = word_at(obj + d - DESCR_PER_OBJECT);
            } else {
                /* In a type record the first word points to (0: a cleared object). */
                uintptr_t type = word_at(obj);
                if (!type)
                    return;
                d = word_at(type - (uintptr_t)((intptr_t)d + 0x10 - DESCR_PER_OBJECT));
            }
            if (!d)
                return;
        }
    }
}

void describe_scan(uintptr_t obj, uintptr_t hi)
{
    const struct side_entry *e = side_find(&objs, obj);
    if (e)
        scan(obj, hi, e->v[0]);
    else
        mark_range(obj, hi);
}

void describe_mark_old(void)
{
    SIDE_FOR_EACH(&objs, e) {
        size_t g = gran_of(e->key), size;
        unsigned tag = e->v[0] & 3;
        /* A length or a bitmap covers words of the object, which the barrier watches. */
        if ((tag == DESCR_PROC || tag == DESCR_PER_OBJECT) && is_allocated(g) &&
            bit_test(H.old_bits, g) && heap_object(e->key, &size))
            scan(e->key, e->key + size, e->v[0]);
    }
}

void describe_after_mark(int young)
{
    SIDE_FOR_EACH(&objs, e) {
        size_t g = gran_of(e->key);
        if (!is_allocated(g) ||
            !(is_marked(g) || (young && bit_test(H.old_bits, g))))
            side_remove(e);
    }
}
