/* Open addressing with linear probing; removed slots are reused only by a rehash.
 * Design: docs/design/heap.md
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include "side_table.h"
#include "vm.h"

static size_t slot_of(uintptr_t key, size_t cap)
{
    return (size_t)((key >> 4) * 0x9E3779B97F4A7C15ull) & (cap - 1);
}

struct side_entry *side_find(const struct side_table *t, uintptr_t key)
{
    if (!t->cap)
        return NULL;
    for (size_t i = slot_of(key, t->cap);; i = (i + 1) & (t->cap - 1)) {
        if (t->e[i].key == key)
            return &t->e[i];
        if (t->e[i].key == 0)
            return NULL;
    }
}

/* Room for one more: rebuild at twice the live entries (at least 64), dropping removed ones. */
static int make_room(struct side_table *t)
{
    if ((t->used + 1) * 4 < t->cap * 3)
        return 0;
    size_t live = 0;
    SIDE_FOR_EACH(t, e)
        live++;
    size_t cap = 64;
    while (cap < (live + 1) * 4)
        cap *= 2;
    struct side_entry *n = os_table(cap * sizeof *n);
    if (!n)
        return -1;
    struct side_table fresh = { n, cap, live };
    SIDE_FOR_EACH(t, e) {
        size_t i = slot_of(e->key, cap);
        while (n[i].key)
            i = (i + 1) & (cap - 1);
        n[i] = *e;
    }
    if (t->e)
        os_release(t->e, t->cap * sizeof *t->e);
    *t = fresh;
    return 0;
}

bool side_forget(struct side_table *t, uintptr_t key, pthread_mutex_t *lock)
{
    if (!__atomic_load_n(&t->used, __ATOMIC_RELAXED))
        return false;
    pthread_mutex_lock(lock);
    struct side_entry *e = side_find(t, key);
    if (e)
        side_remove(e);
    pthread_mutex_unlock(lock);
    return e != NULL;
}

struct side_entry *side_insert(struct side_table *t, uintptr_t key, int *fresh)
{
    struct side_entry *e = side_find(t, key);
    *fresh = e == NULL;
    if (e)
        return e;
    if (make_room(t) != 0)
        return NULL;
    size_t i = slot_of(key, t->cap);
    while (t->e[i].key)
        i = (i + 1) & (t->cap - 1);
    t->used++;
    t->e[i] = (struct side_entry){ .key = key };
    return &t->e[i];
}
