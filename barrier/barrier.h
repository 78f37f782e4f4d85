/* The barrier interface: how the collector learns which old pages were written.
 * The collector talks to this and to dirty_map.h only; it never knows the mechanism.
 * Design: docs/design/barrier.md */
#ifndef WBRT_BARRIER_H
#define WBRT_BARRIER_H

#include <stddef.h>
#include <stdint.h>
#include "dirty_map.h"

typedef void (*barrier_visit_fn)(void *ctx, uintptr_t lo, uintptr_t hi, int whole);

/* The uffd barrier's fault-handler loop (WBRT_UFFD_LOOP): poll(2) + read(2), or io_uring. */
enum barrier_loop { BARRIER_LOOP_DEFAULT, BARRIER_LOOP_POLL, BARRIER_LOOP_URING };

/* What the user chose for the barriers (the runtime's options); all zero: the defaults. */
struct barrier_settings {
    int verbose;                /* at detach, one line on what the barrier saw */
    enum barrier_loop loop;
};

struct barrier_ops {
    const char *name;
    /* 1 if a young collection can trust the dirty map; 0 (none) = scan every old page. */
    int tracks;
    /* 0 if this kernel/process can use it; else -1 and a one-line reason in why. */
    int (*probe)(char *why, size_t whylen);
    /* Take charge of the heap reservation [base, base+len); faults are recorded in dm.
     * set: the settings (NULL: the defaults).  0, or -1 with a reason in why. */
    int (*attach)(void *base, size_t len, struct dirty_map *dm, const struct barrier_settings *set,
                  char *why, size_t whylen);
    void (*detach)(void);
    /* In a fork child (the runtime's one pthread_atfork handler, or a test's child): the
     * kernel state the barrier holds is the parent's; it is replaced at the next operation.
     * Async-signal-safe: sets flags, resets locks. */
    void (*after_fork)(void);
    /* Start tracking writes to these (page-aligned) old pages. World stopped. */
    void (*arm)(void *addr, size_t len);
    /* World stopped: OR into dm every page of [addr, addr+len) written since it was
     * armed, and re-arm those pages.  Returns the number of pages reported.  A page in dm
     * already and not armed (one being filled, or kept writable) is the collector's to
     * scan: better left unprotected. */
    size_t (*harvest)(struct dirty_map *dm, void *addr, size_t len);
    /* The allocator is about to fill these pages: make writes to them cheap (no fault
     * per page).  The caller has already set their bits in the dirty map. */
    void (*will_write)(void *addr, size_t len);
    /* These pages hold no old objects any more (their objects were freed): stop tracking
     * them, so that the allocator can fill them again without a fault. World stopped. */
    void (*disarm)(void *addr, size_t len);
    /* A kernel write (read(2) ...) is about to target [addr, addr+len). */
    void (*prepare_kernel_write)(void *addr, size_t len);
    /* The signal its faults arrive as (0: none): a thread that blocked it would be killed
     * by its first write to an armed page. */
    int fault_signal;
    /* Faults taken so far (0 for mechanisms with no user-visible fault). */
    uint64_t (*faults)(void);
    /* Software barriers only (NULL for the others): the program's WB_STORE()s record into
     * tables of this backend, so it can only be chosen by a program compiled for it.
     * World stopped: calls visit once per range of [addr, addr+len) (the heap in use)
     * recorded since the last call, and forgets it.  whole=1: every old object
     * overlapping [lo, hi) may hold a young pointer anywhere (an object remembered set);
     * whole=0: only the words in [lo, hi) may (a card, a slot).  Returns the ranges. */
    size_t (*remembered)(void *addr, size_t len, barrier_visit_fn visit, void *ctx);
    /* Memory outside the heap that the collector scans as roots (the program's own
     * mappings; never a thread's stack).  World stopped: calls visit, in address order,
     * for the runs of the page-aligned [addr, addr+len) written since the last call on
     * them, re-arming them (whole=0), and tracks the range from now on.  A range the
     * kernel does not track (new, moved or replaced since, or a fork child's) is reported
     * whole (whole=1), in one last call that covers the runs reported before it.  NULL
     * where the barrier cannot do it safely: every root is scanned at every collection. */
    void (*written_roots)(void *addr, size_t len, barrier_visit_fn visit, void *ctx);
};

/* Backends, in the order auto tries them. */
extern const struct barrier_ops barrier_uffd_async;
extern const struct barrier_ops barrier_uffd;
extern const struct barrier_ops barrier_mprotect;
extern const struct barrier_ops barrier_softdirty;
extern const struct barrier_ops barrier_none;
/* Software barriers: never chosen by auto. */
extern const struct barrier_ops barrier_card;
extern const struct barrier_ops barrier_ssb;
extern const struct barrier_ops barrier_remset;

/* All backends, NULL-terminated: the kernel ones in auto order, then the software ones. */
extern const struct barrier_ops *const barrier_all[];

/* Look up by name ("auto" picks the first that probes OK; with say, a fallback prints
 * one line on stderr naming each barrier skipped and why).  NULL and a reason in why if
 * unknown or unavailable. */
const struct barrier_ops *barrier_select(const char *name, int say, char *why, size_t whylen);

/* The backend of this name, unprobed: NULL and a reason in why if there is none. */
const struct barrier_ops *barrier_named(const char *name, char *why, size_t whylen);

/* Stands in for the barrier that barrier_select(name) will choose later, before any page
 * is armed (the preload sets its barrier up at its first collection: most processes never
 * collect).  Its ops do nothing, but what must hold from the start already does: its
 * fault_signal is the one the barrier chosen later may use, and it prepares kernel writes
 * (an op that is not barrier_noop_range) if that barrier may need them, so that a call
 * blocked across the first collection is prepared again by it.  auto stands for any
 * kernel barrier it may fall back to.  NULL and a reason in why if the name is unknown. */
const struct barrier_ops *barrier_deferred(const char *name, char *why, size_t whylen);

/* For backends with nothing to do in an op (none.c). */
void barrier_noop_range(void *addr, size_t len);
void barrier_noop(void);    /* detach, or after_fork of a barrier whose state fork copies whole */
size_t barrier_noop_harvest(struct dirty_map *dm, void *addr, size_t len);
uint64_t barrier_noop_faults(void);

/* The accepted WBRT_BARRIER values, for error messages: "auto|uffd-async|uffd|...|none"
 * (the kernel barriers: a software barrier is chosen by compiling with WB_SOFT_BARRIER). */
const char *barrier_names(void);

#endif
