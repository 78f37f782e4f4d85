/* The root set: thread stacks and registers, globals, registered ranges.
 * Design: docs/design/roots-threads.md */
#ifndef WBRT_ROOTS_H
#define WBRT_ROOTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Before the world stops: list the loaded objects' writable segments (dl_iterate_phdr
 * takes the loader lock, which a stopped thread might hold). */
void roots_refresh(void);
/* World stopped: mark from every root; the caller's stack is scanned from my_sp up. */
void roots_mark(uintptr_t my_sp);
/* The same for a young collection: where the barrier tracks the program's mappings, only
 * their pages written since the last young collection and those that pointed at young
 * objects then (stay_young: survivors may stay young this time, so such pages are noted
 * for the next one).  Returns the root bytes scanned. */
size_t roots_mark_young(uintptr_t my_sp, bool stay_young);
/* Verifier (verify_roots, which roots_mark_young calls before it marks): calls fn for every
 * page of the tracked mappings, with whether this collection scans it; false (no call) if
 * it scans them whole. */
typedef void root_page_fn(uintptr_t lo, uintptr_t hi, bool scanned, void *ctx);
bool roots_each_tracked(root_page_fn *fn, void *ctx);
/* The verifier's roots: the same, less the mappings of threads that are exiting (they run
 * on while the world is stopped, so what the collector read there cannot be checked). */
void roots_mark_settled(uintptr_t my_sp);
/* Verifier, world stopped: does a root word point into [lo, hi)? */
bool roots_hold(uintptr_t my_sp, uintptr_t lo, uintptr_t hi);
/* From now on every anonymous writable private mapping that is not the library's own is
 * a root too (for programs that were not written for a collector). */
void roots_scan_mappings(void);
/* Whether the writable segments of the loaded objects (the program's and its libraries'
 * globals) are roots: by default they are.  Takes effect at the next collection. */
void roots_data_segments(bool scan);
/* Called at the end of every root marking (world stopped) to mark the client's own roots
 * (with mark_range, mark_stack_range, mark_word).  NULL: none. */
extern void (*roots_client_hook)(void);
/* H.lock held. */
void roots_add(uintptr_t lo, uintptr_t hi);
void roots_remove(uintptr_t lo, uintptr_t hi);
/* The segments' words in [lo, hi) are no roots from the next collection on. */
void roots_exclude(uintptr_t lo, uintptr_t hi);

#endif
