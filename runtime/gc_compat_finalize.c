/* Boehm GC compatibility: finalizers and disappearing links.
 * Design: docs/design/gc-compat.md
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include "include/wbrt-gc/gc.h"
#include "gc_compat.h"
#include "finalize.h"
#include "gc.h"

static int on_demand;
static GC_finalizer_notifier_proc notifier;
/* wbrt keeps what a ready object reaches in any case (finalize.c). */
int GC_java_finalization = 1;

void GC_set_java_finalization(int on) { GC_java_finalization = on != 0; }
int GC_get_java_finalization(void) { return GC_java_finalization; }
void GC_set_finalizer_notifier(GC_finalizer_notifier_proc fn) { __atomic_store_n(&notifier, fn, __ATOMIC_RELEASE); }
GC_finalizer_notifier_proc GC_get_finalizer_notifier(void) { return __atomic_load_n(&notifier, __ATOMIC_ACQUIRE); }

void gc_compat_notify_finalizers(void)
{
    static uint64_t notified; /* the collection last notified */
    uint64_t no = __atomic_load_n(&G.policy.gc_no, __ATOMIC_RELAXED), seen = __atomic_load_n(&notified, __ATOMIC_RELAXED);
    GC_finalizer_notifier_proc fn = GC_get_finalizer_notifier();
    if (fn && no != seen && __atomic_compare_exchange_n(&notified, &seen, no, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        fn();
}

static void register_finalizer(void *obj, GC_finalization_proc fn, void *cd, enum fin_order order,
                               GC_finalization_proc *ofn, void **ocd)
{
    gc_compat_ready();
    if (wb_base(obj) != obj) {
        /* Not a collected object: it is never finalized, and had no finalizer. */
        if (ofn)
            *ofn = NULL;
        if (ocd)
            *ocd = NULL;
        return;
    }
    fin_register((uintptr_t)obj, fn, cd, order, ofn, ocd);
}

void GC_register_finalizer(void *obj, GC_finalization_proc fn, void *cd,
                           GC_finalization_proc *ofn, void **ocd)
{
    register_finalizer(obj, fn, cd, FIN_ORDERED, ofn, ocd);
}

void GC_register_finalizer_ignore_self(void *obj, GC_finalization_proc fn, void *cd,
                                       GC_finalization_proc *ofn, void **ocd)
{
    register_finalizer(obj, fn, cd, FIN_IGNORE_SELF, ofn, ocd);
}

void GC_register_finalizer_no_order(void *obj, GC_finalization_proc fn, void *cd,
                                    GC_finalization_proc *ofn, void **ocd)
{
    register_finalizer(obj, fn, cd, FIN_UNORDERED, ofn, ocd);
}

int GC_invoke_finalizers(void) { return (int)finalize_run(); }
int GC_should_invoke_finalizers(void) { return finalize_ready() != 0; }
void GC_set_finalize_on_demand(int on) { __atomic_store_n(&on_demand, on != 0, __ATOMIC_RELAXED); }
int GC_get_finalize_on_demand(void) { return __atomic_load_n(&on_demand, __ATOMIC_RELAXED); }

static void check_link(const char *call, void **link, const void *arg)
{
    if (!link || ((uintptr_t)link & (sizeof(void *) - 1))) {
        fprintf(stderr, "wbrt: %s(%p, %p): the link is not an aligned word\n", call,
                (void *)link, arg);
        abort();
    }
}

int GC_general_register_disappearing_link(void **link, const void *obj)
{
    check_link("GC_general_register_disappearing_link", link, obj);
    gc_compat_ready();
    void *base = wb_base(obj);
    /* An object outside the heap never becomes unreachable: its link never clears. */
    return base ? link_register(link, (uintptr_t)base) : GC_SUCCESS;
}

int GC_unregister_disappearing_link(void **link) { return link_unregister(link); }

int GC_move_disappearing_link(void **link, void **new_link)
{
    static const int result[] = { GC_SUCCESS, GC_DUPLICATE, GC_NO_MEMORY, GC_NOT_FOUND };
    check_link("GC_move_disappearing_link", new_link, link);
    return result[link_move(link, new_link)];
}
