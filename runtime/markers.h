/* Marker threads: the collector's helpers for parallel marking. */
#ifndef WBRT_MARKERS_H
#define WBRT_MARKERS_H

/* Starts helper threads until want workers (the caller and helpers) exist: never while
 * the world is stopped, as pthread_create takes glibc locks (the stack list's, the
 * loader's TLS lock) that a stopped thread may hold.  H.lock held; a forked child, which
 * has none, starts its own. */
void markers_start(unsigned want);
/* Workers available for a phase, at most want: worker 0 is the caller.  Starts none. */
unsigned markers_ready(unsigned want);
/* Runs fn(0, ctx) on the caller, and fn(i, ctx) on the helpers i < n (n from
 * markers_ready) that wake while it runs: a helper may come late (a busy machine), or
 * not at all, so fn(0) must be able to finish the work alone and a late fn(i) must find
 * nothing left to do.  Returns when fn(0) has returned and no helper runs fn. */
void markers_run(unsigned n, void (*fn)(unsigned i, void *ctx), void *ctx);

#endif
