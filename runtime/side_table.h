/* A hash table keyed by address, in mmap'd memory: never scanned for roots (so a key or
 * value does not keep an object alive) and usable while the world is stopped (no malloc).
 * Design: docs/design/heap.md */
#ifndef WBRT_SIDE_TABLE_H
#define WBRT_SIDE_TABLE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct side_entry {
    uintptr_t key;        /* 0: empty; SIDE_GONE: removed */
    uintptr_t v[3];
};
#define SIDE_GONE ((uintptr_t)1)

struct side_table {
    struct side_entry *e;
    size_t cap, used;     /* used: live and removed entries */
};

/* The entry for key (an address, never 0 or 1), or NULL. */
struct side_entry *side_find(const struct side_table *t, uintptr_t key);
/* The entry for key, a new zeroed one if there was none (*fresh says which); NULL if
 * memory ran out. */
struct side_entry *side_insert(struct side_table *t, uintptr_t key, int *fresh);
/* Safe while iterating: the slot is marked removed, nothing moves. */
static inline void side_remove(struct side_entry *e) { e->key = SIDE_GONE; }
/* Removes key's entry holding lock (not taken for a table never used); was it there? */
bool side_forget(struct side_table *t, uintptr_t key, pthread_mutex_t *lock);

/* Runs the statement after it with e bound to each live entry (an empty table has no
 * array: no arithmetic on its NULL). */
#define SIDE_FOR_EACH(t, e)                                                              \
    for (struct side_entry *e = (t)->e, *end_ = (t)->cap ? (t)->e + (t)->cap : e; e < end_; e++) \
        if (e->key > SIDE_GONE)

#endif
