/* Objects whose pointer words are described rather than found by a conservative scan:
 * bdwgc's mark descriptors (a length, a bitmap, a client mark procedure, a descriptor
 * stored in the object), given per object.  The pages that hold such objects carry
 * PF_DESCR; the marker asks this module how to scan an object on them.  A client mark
 * procedure may read memory no barrier watches (a virtual machine's stack outside the
 * heap), so in a young collection every old object scanned by one is a root. */
#ifndef WBRT_DESCRIBE_H
#define WBRT_DESCRIBE_H

#include <stddef.h>
#include <stdint.h>

/* bdwgc's descriptor encoding (gc_mark.h): the low two bits are the tag. */
#define DESCR_TAG_BITS 2
#define DESCR_LENGTH 0     /* the whole word is a length in bytes */
#define DESCR_BITMAP 1     /* bit 63 - i set: word i may be a pointer */
#define DESCR_PROC 2       /* (env << 6 | proc) << 2: proc(obj, env) pushes the pointers */
#define DESCR_PER_OBJECT 3 /* the descriptor is in the object (see describe_scan) */
#define DESCR_PROC_BITS 6
#define DESCR_MAX_PROCS (1 << DESCR_PROC_BITS)
#define DESCR_BITMAP_WORDS 62 /* the most words a bitmap descriptor describes */

/* DESCR_PROC descriptors are the client's: fn(proc, obj, env) marks what the object at
 * obj points to (with mark_word or mark_range), as procedure number proc does. */
typedef void (*describe_proc_fn)(unsigned proc, uintptr_t obj, uintptr_t env);
void describe_set_procs(describe_proc_fn fn);

/* The object at obj (just allocated, scanned pages, zeroed) is scanned as descr says
 * from now on: 0, or -1 if memory ran out.  describe_forget: it is freed (explicitly). */
int describe_object(uintptr_t obj, uintptr_t descr);
void describe_forget(uintptr_t obj);
/* Its descriptor, or 0 (scanned whole) if it has none. */
uintptr_t describe_of(uintptr_t obj);

/* Marking (world stopped).  Scan [obj, hi) of an object on a PF_DESCR page. */
void describe_scan(uintptr_t obj, uintptr_t hi);
/* Young collection: the old objects scanned by a mark procedure are roots. */
void describe_mark_old(void);
/* After marking: forget the objects the sweep is about to free. */
void describe_after_mark(int young);

#endif
