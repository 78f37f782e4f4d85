/* Questions about the old objects on one page.
 * Design: docs/design/generations.md */
#ifndef WBRT_PAGE_SCAN_H
#define WBRT_PAGE_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Marks from the old objects on page pg as roots (for a large object, only this page of
 * it: the page-granular map's advantage over object remembered sets); true if it had any. */
bool scan_old_page(size_t pg);
/* scan_old_page for pages [pg, end) (more than one only within a large object), calling
 * each(page) for every page it reads: the pages of a large object the kernel has no data
 * for read as zero and are skipped.  Returns the pages that had old objects.  later: only
 * pushed now, for the workers of mark_finish to scan (mark.h). */
size_t scan_old_pages(size_t pg, size_t end, void (*each)(size_t pg), bool later);
/* True if page pg holds (part of) an old live object. */
bool page_has_old(size_t pg);
/* Address of the first word on page pg, inside an old live object that is scanned,
 * that points at a young live object and is not excused (0 if none); *obj gets that old
 * object.  excused may be NULL; else a slot for which it returns true (given the slot
 * and the young object it points at) is skipped. */
typedef bool (*slot_excuse_fn)(uintptr_t slot, uintptr_t young, size_t size);
uintptr_t old_page_young_slot(size_t pg, uintptr_t *obj, slot_excuse_fn excused);
/* The same for the words of [lo, hi), whatever holds them (roots outside the heap). */
uintptr_t range_young_slot(uintptr_t lo, uintptr_t hi, slot_excuse_fn excused);
/* Young collection (young_map built): how many words of page pg's old objects point into
 * pages that may hold young objects, the words its marking would look up (reads only). */
size_t old_page_young_page_words(size_t pg);

#endif
