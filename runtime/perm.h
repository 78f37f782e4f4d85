/* Perm space: the objects of a heap image mapped copy-on-write at the start of the
 * reservation (pages [1, H.perm_end)).  They are old objects that only a global
 * collection frees; the barrier does not watch their pages (a file mapping), so the pages
 * this process wrote are asked of the kernel (os_written_runs): a written page is a
 * private copy.
 * Design: docs/design/perm.md */
#ifndef WBRT_PERM_H
#define WBRT_PERM_H

#include <stddef.h>
#include "dirty_map.h"

/* H.lock held, barrier attached, nothing allocated yet: maps the image at path as perm
 * space.  0, or -1 with errno and the reason in why (the heap is then unchanged). */
int perm_load_locked(const char *path, char *why, size_t whylen);

/* World stopped: sets in dm the perm pages this process has written since it loaded them
 * (all of them if the kernel cannot tell).  Their objects are roots of every collection but
 * a global one. */
void perm_note_written(struct dirty_map *dm);

#endif
