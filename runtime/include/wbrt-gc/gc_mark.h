/* wbrt's <gc_mark.h>: bdwgc's interface for language runtimes that describe their objects
 * to the collector (kinds, mark descriptors, mark procedures, client roots).
 * SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef WBRT_BOEHM_GC_MARK_H
#define WBRT_BOEHM_GC_MARK_H

#include "gc.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Opaque: wbrt's GC_mark_and_push marks at once, and never writes the client's stack. */
struct GC_ms_entry { void *opaque; };

/* A mark procedure: called with an object of its kind (marked, or in a young collection
 * old: wbrt calls it at every young collection for each old object of its kind, as the
 * memory it reads may lie outside what the write barrier watches).  It marks what the
 * object points to with GC_MARK_AND_PUSH and returns mark_stack_ptr.  It may also see a
 * zeroed object that was allocated but not yet initialised. */
typedef struct GC_ms_entry *(*GC_mark_proc)(GC_word *addr, struct GC_ms_entry *mark_stack_ptr,
                                            struct GC_ms_entry *mark_stack_limit, GC_word env);

#define GC_LOG_MAX_MARK_PROCS 6
#define GC_MAX_MARK_PROCS (1 << GC_LOG_MAX_MARK_PROCS)
#define GC_RESERVED_MARK_PROCS 8
#define GC_GCJ_RESERVED_MARK_PROC_INDEX 0

/* Descriptors: the low two bits are the tag.  LENGTH: the first n bytes may hold
 * pointers.  BITMAP: bit 63 - i set if word i may.  PROC: GC_MAKE_PROC(proc, env).
 * PER_OBJECT: the descriptor is at byte offset descr - 3 in the object, or (descr
 * negative) at *(word *)obj - (descr + GC_INDIR_PER_OBJ_BIAS - 3). */
#define GC_DS_TAG_BITS 2
#define GC_DS_TAGS ((1 << GC_DS_TAG_BITS) - 1)
#define GC_DS_LENGTH 0
#define GC_DS_BITMAP 1
#define GC_DS_PROC 2
#define GC_MAKE_PROC(proc_index, env) \
    (((((env) << GC_LOG_MAX_MARK_PROCS) | (proc_index)) << GC_DS_TAG_BITS) | GC_DS_PROC)
#define GC_DS_PER_OBJECT 3
#define GC_INDIR_PER_OBJ_BIAS 0x10

/* Marks obj (a pointer into the heap or anything else) and what it reaches; only inside
 * a mark procedure or a push-other-roots function (else wbrt aborts, saying so). */
WBRT_GC_API struct GC_ms_entry *GC_mark_and_push(void *obj, struct GC_ms_entry *mark_stack_ptr,
                                                 struct GC_ms_entry *mark_stack_limit, void **src);
#define GC_MARK_AND_PUSH(obj, msp, lim, src)                                         \
    ((GC_word)(obj) >= (GC_word)GC_least_plausible_heap_addr &&                      \
     (GC_word)(obj) <= (GC_word)GC_greatest_plausible_heap_addr                      \
         ? GC_mark_and_push(obj, msp, lim, src) : (msp))

/* A free-list array for GC_new_kind (wbrt never fills it). */
WBRT_GC_API void **GC_new_free_list(void);
/* A new kind: its objects are scanned as mark_descriptor_template says (plus the
 * object's size in bytes if add_size_to_descriptor), zeroed if clear_new_objects.
 * At most 60 kinds besides the 4 predefined ones. */
WBRT_GC_API unsigned GC_new_kind(void **free_list, GC_word mark_descriptor_template,
                                 int add_size_to_descriptor, int clear_new_objects);
/* A new mark procedure's index, for GC_MAKE_PROC (at most 56). */
WBRT_GC_API unsigned GC_new_proc(GC_mark_proc proc);
/* An object of kind k (0 pointer-free, 1 normal, 2 uncollectable, 3 pointer-free
 * uncollectable, or one GC_new_kind made). */
WBRT_GC_API void *GC_generic_malloc(size_t lb, int k) __attribute__((malloc, alloc_size(1)));

/* The client notifier at the start of every collection (H.lock held, the world not yet
 * stopped): it must not allocate nor call GC_* functions. */
typedef void (*GC_start_callback_proc)(void);
WBRT_GC_API void GC_set_start_callback(GC_start_callback_proc fn);
WBRT_GC_API GC_start_callback_proc GC_get_start_callback(void);

/* Inside a mark procedure or a push-other-roots function only (else the push calls abort,
 * saying so, and GC_set_mark_bit does nothing, as bdwgc clears marks before marking):
 * mark the object at p and what it reaches; mark the words of [bottom, top)
 * (GC_push_all_eager: as a stack, interior pointers keeping their objects;
 * GC_push_conditional scans every page). */
WBRT_GC_API void GC_set_mark_bit(const void *p);
WBRT_GC_API void GC_push_all(void *bottom, void *top);
WBRT_GC_API void GC_push_all_eager(void *bottom, void *top);
WBRT_GC_API void GC_push_conditional(void *bottom, void *top, int all);

/* Called in every collection, young ones too, while the roots are marked; a client's
 * function should call the one it replaces.  The default does nothing (wbrt finds the
 * thread stacks itself).  GC_push_other_roots is the variable both calls use. */
typedef void (*GC_push_other_roots_proc)(void);
WBRT_GC_API extern GC_push_other_roots_proc GC_push_other_roots;
WBRT_GC_API void GC_set_push_other_roots(GC_push_other_roots_proc fn);
WBRT_GC_API GC_push_other_roots_proc GC_get_push_other_roots(void);

#ifdef __cplusplus
}
#endif
#endif
