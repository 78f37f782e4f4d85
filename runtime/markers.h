/* Marker threads: the collector's helpers for parallel marking. */
#ifndef WBRT_MARKERS_H
#define WBRT_MARKERS_H

#include <stdbool.h>

/* Whether helpers are missing for want workers (the caller and helpers).  Cheap. */
bool markers_missing(unsigned want);
/* Starts helper threads until want workers exist.  pthread_create takes glibc locks (the
 * stack list's, the loader's TLS lock) that another thread may hold while it waits for
 * H.lock in free() (glibc's pthread_join frees a dead thread's TLS under the stack list's
 * lock) or while stopped: so the world runs, and where wbrt is the process's malloc the
 * caller holds no lock of wbrt's.  A caller that finds another thread starting them
 * returns at once; a forked child, which has none, starts its own. */
void markers_start(unsigned want);
/* Workers available for a phase, at most want: worker 0 is the caller.  Starts none. */
unsigned markers_ready(unsigned want);
/* Runs fn(0, ctx) on the caller, and fn(i, ctx) on the helpers i < n (n from
 * markers_ready) that wake while it runs: a helper may come late (a busy machine), or
 * not at all, so fn(0) must be able to finish the work alone and a late fn(i) must find
 * nothing left to do.  Returns when fn(0) has returned and no helper runs fn. */
void markers_run(unsigned n, void (*fn)(unsigned i, void *ctx), void *ctx);

#endif
