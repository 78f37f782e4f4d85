/* What a software barrier recorded (cards, slots, objects): extra roots of a young
 * collection, and what the verifier checks them against. */
#ifndef WBRT_REMEMBERED_H
#define WBRT_REMEMBERED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Marking has begun (young): scan the old words the barrier recorded since the last
 * collection; with verify, also note them for remembered_covers().  With retain, their
 * pages go into the dirty map, so that those still pointing at young survivors after
 * the sweep stay roots (the barrier forgets what it reported).  Returns the ranges. */
size_t remembered_scan(bool verify, bool retain);
/* Verifier: was the word at slot among those scanned? */
bool remembered_covers(uintptr_t slot);
/* Verifier: fn(address) for each 16-byte granule of the noted words. */
void remembered_each_covered(void (*fn)(uintptr_t granule));
/* Verifier: forget the noted words. */
void remembered_forget(void);

#endif
