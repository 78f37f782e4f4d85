/* Marker threads: the collector's helpers for parallel marking. */
#ifndef WBRT_MARKERS_H
#define WBRT_MARKERS_H

/* Records that want workers (the caller and helpers) are wanted; starts none.  Any
 * context. */
void markers_want(unsigned want);
/* Starts the helpers wanted and missing.  pthread_create takes glibc locks (the stack
 * list's, the loader's TLS lock) that another thread may hold while it waits in free()
 * or malloc() for H.lock, or while stopped: so the caller holds no lock of wbrt's, the
 * world runs, and it is an allocation or an explicit collection (free() runs under the
 * stack list's lock in glibc's thread clean-up).  Costs a load when none is missing; a
 * forked child, which has none, starts its own after its first collection. */
void markers_start_wanted(void);
/* Workers available for a phase, at most want: worker 0 is the caller.  Starts none. */
unsigned markers_ready(unsigned want);
/* Runs fn(0, ctx) on the caller, and fn(i, ctx) on the helpers i < n (n from
 * markers_ready) that wake while it runs: a helper may come late (a busy machine), or
 * not at all, so fn(0) must be able to finish the work alone and a late fn(i) must find
 * nothing left to do.  Returns when fn(0) has returned and no helper runs fn. */
void markers_run(unsigned n, void (*fn)(unsigned i, void *ctx), void *ctx);

#endif
