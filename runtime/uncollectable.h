/* Objects the collector never frees (bdwgc's GC_malloc_uncollectable): a side table of
 * them is a root.
 * Design: docs/design/alloc.md */
#ifndef WBRT_UNCOLLECTABLE_H
#define WBRT_UNCOLLECTABLE_H

#include <stdbool.h>
#include <stdint.h>

/* Each takes H.lock.  add: 0, or -1 if memory ran out.  remove: was it there? */
int uncollectable_add(uintptr_t obj);
bool uncollectable_remove(uintptr_t obj);
/* World stopped. */
void uncollectable_mark(void);

#endif
