/* State shared by the files of the Boehm GC compatibility layer.
 * Design: docs/design/gc-compat.md */
#ifndef WBRT_GC_COMPAT_H
#define WBRT_GC_COMPAT_H

/* Initialise on the first GC_* call that needs the heap. */
void gc_compat_ready(void);
/* After an allocation or a collection: run the finalizers that wait, unless on demand
 * only or already inside one on this thread. */
void gc_compat_after_collect(void);
/* At GC_init: apply the heap settings bdwgc's data symbols hold. */
void gc_compat_heap_init(void);
/* At GC_init: the client's roots are marked from now on. */
void gc_compat_kinds_init(void);
/* At GC_init: GC_stackbottom. */
void gc_compat_misc_init(void);
/* With finalize_on_demand, finalizers waiting: call the client's notifier once per
 * collection. */
void gc_compat_notify_finalizers(void);
/* The calling thread counts as registered through the GC_* calls. */
void gc_compat_thread_registered(void);

#endif
