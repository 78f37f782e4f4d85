/* The uncollectable objects, kept in a side table the collector marks from.
 * Design: docs/design/alloc.md
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include "uncollectable.h"
#include "heap.h"
#include "mark.h"
#include "side_table.h"

static struct side_table objs;

int uncollectable_add(uintptr_t obj)
{
    int fresh;
    pthread_mutex_lock(&H.lock);
    struct side_entry *e = side_insert(&objs, obj, &fresh);
    pthread_mutex_unlock(&H.lock);
    return e ? 0 : -1;
}

bool uncollectable_remove(uintptr_t obj) { return side_forget(&objs, obj, &H.lock); }

void uncollectable_mark(void)
{
    SIDE_FOR_EACH(&objs, e)
        mark_word(e->key);
}
