/* Finalizers and disappearing links (weak pointers), kept in side tables: the collector
 * decides after marking which finalizable objects are ready and which links to clear;
 * finalizers run later, outside the stop-the-world, on a thread that asks for them.
 * Design: docs/design/gc-compat.md */
#ifndef WBRT_FINALIZE_H
#define WBRT_FINALIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef void (*fin_fn)(void *obj, void *cd);

/* The order of finalization.  FIN_ORDERED: objects reachable from obj are finalized
 * only after obj, and obj is never finalized while it reaches itself (bdwgc's
 * GC_register_finalizer); FIN_IGNORE_SELF: the same, but obj's pointers into itself do
 * not count (..._ignore_self); FIN_UNORDERED: in any order (..._no_order). */
enum fin_order { FIN_UNORDERED, FIN_ORDERED, FIN_IGNORE_SELF };

/* Registration (each takes H.lock).  obj must be the start of a live heap object.  fn
 * NULL removes the registration.  The previous fn and cd go to *ofn and *ocd when those
 * are not NULL. */
void fin_register(uintptr_t obj, fin_fn fn, void *cd, enum fin_order order, fin_fn *ofn,
                  void **ocd);
/* An object freed explicitly is not finalized. */
void fin_forget(uintptr_t obj);
/* *link is set to NULL once obj is found unreachable.  0 registered, 1 link was
 * registered already (now for obj), 2 out of memory. */
int link_register(void **link, uintptr_t obj);
/* 1 if link was registered, 0 if not. */
int link_unregister(void **link);
/* The registration of link now watches the word at to (which keeps its content): 0 (also
 * when to is link and link is registered), 1 to is registered already, 2 out of memory,
 * 3 link was not registered. */
int link_move(void **link, void **to);

/* World stopped, marking done: clear the links of unreachable objects, then pick the
 * finalizable objects that are ready and mark what they reach (they live until their
 * finalizer has run).  young: old objects count as reachable. */
void finalize_after_mark(bool young);
/* World stopped: the client data of every registration and the objects waiting for
 * their finalizer are roots. */
void finalize_mark_roots(void);

/* Finalizers waiting to run (no lock). */
size_t finalize_ready(void);
/* Runs the waiting finalizers on the calling thread; how many ran. */
size_t finalize_run(void);

#endif
