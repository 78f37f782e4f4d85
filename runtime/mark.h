/* Conservative marking with an explicit, bounded mark stack.
 * Design: docs/design/mark-sweep.md */
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
/* A thread's stack or registers: interior pointers keep their object even when
 * mark_set_interior(false) (as in bdwgc). */
void mark_stack_range(uintptr_t lo, uintptr_t hi);
/* The words [obj, hi) of the object starting at obj, as its descriptor says if it has
 * one (describe.h), else all of them. */
void mark_object(uintptr_t obj, uintptr_t hi);
/* Roots that the workers of mark_finish scan, sharing them as they share their work: the
 * collecting thread only pushes them (a range in pieces; an old page's old objects as
 * scan_old_page finds them).  Memory that stays as it is until then (the stopped heap). */
void mark_range_later(uintptr_t lo, uintptr_t hi);
void mark_object_later(uintptr_t obj, uintptr_t hi);
void mark_old_page_later(size_t pg);

/* Interior pointers from the heap and the data segments (on by default).  Off: a word
 * keeps an object only if it points at its start or at a registered displacement
 * (an offset below MARK_DISPLACEMENT_MAX; mark_add_displacement: 0, or -1 if too big).
 * Set while no collection runs (H.lock held). */
#define MARK_DISPLACEMENT_MAX 4096
void mark_set_interior(bool on);
bool mark_interior(void);
int mark_add_displacement(size_t offset);
/* Trace until the stack is empty, recovering from overflow by rescanning marked objects. */
void mark_finish(void);

#endif
