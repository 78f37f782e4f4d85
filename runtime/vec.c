/* Growable page-number arrays backed by mmap.
 * Design: docs/design/heap.md
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include "vec.h"
#include "vm.h"

int vec_push(struct vec *a, uint32_t x)
{
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 1024;
        uint32_t *v = os_table_grow(a->v, a->cap * sizeof *v, a->n * sizeof *v, cap * sizeof *v);
        if (!v)
            return -1;
        a->v = v;
        a->cap = cap;
    }
    a->v[a->n++] = x;
    return 0;
}
