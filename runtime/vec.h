/* A growable array of page numbers in mmap'd memory (the collector may not call
 * malloc: a stopped thread may hold malloc's lock).
 * Design: docs/design/heap.md */
#ifndef WBRT_VEC_H
#define WBRT_VEC_H

#include <stddef.h>
#include <stdint.h>

struct vec {
    uint32_t *v;
    size_t n, cap;
};

/* 0, or -1 if memory ran out (the element is then dropped). */
int vec_push(struct vec *a, uint32_t x);

#endif
