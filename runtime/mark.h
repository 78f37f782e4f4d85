/* Conservative marking with an explicit, bounded mark stack. */
#ifndef WBRT_MARK_H
#define WBRT_MARK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* young: old objects count as marked (sticky mark bits) and are not traced.
 * check_freed: abort if a reachable word points at an object the last sweep freed. */
/* skip_perm: perm objects count as marked and are not traced (all but global collections). */
void mark_begin(bool young, bool check_freed, bool skip_perm, size_t stack_max);
void mark_word(uintptr_t w);
void mark_range(uintptr_t lo, uintptr_t hi);
/* Trace until the stack is empty, recovering from overflow by rescanning marked objects. */
void mark_finish(void);

#endif
