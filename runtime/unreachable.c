/* Leak finding: which allocated objects no root reaches, without freeing them.
 * Design: docs/design/mark-sweep.md
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include "gc.h"
#include "heap.h"
#include "mark.h"
#include "roots.h"
#include "threads.h"
#include "vm.h"

void gc_each_unreachable(void (*fn)(uintptr_t obj, size_t size, void *ctx), void *ctx)
{
    if (!gc_ready())
        return;
    pthread_mutex_lock(&H.lock);
    struct wb_thread *me = thread_if_registered(); /* a reporter thread of wbrt's stays unregistered */
    if (me)
        tlab_release_all(me);
    roots_refresh();
    threads_stop_world();
    __builtin_unwind_init(); /* our callee-saved registers go on the stack we scan */
    uintptr_t sp = current_sp();
    alloc_apply_deferred_frees();
    mark_begin(false, false, false, G.cfg.mark_stack_max);
    roots_mark(sp);
    mark_finish();
    for (size_t pg = 1; pg < H.top; pg++) {
        const struct page_info *pi = &H.pages[pg];
        if (pi->kind == PK_LARGE) {
            uintptr_t p = page_addr(pg);
            if (is_allocated(gran_of(p)) && !is_marked(gran_of(p)))
                fn(p, (size_t)pi->aux << WB_PAGE_SHIFT, ctx);
        } else if (pi->kind == PK_SMALL) {
            FOR_OBJECTS(pg, H.bits[pg].alloc, H.bits[pg].alloc, obj)
                if (!is_marked(gran_of(obj)))
                    fn(obj, class_size[pi->sclass], ctx);
        }
    }
    heap_clear_marks();
    threads_start_world();
    pthread_mutex_unlock(&H.lock);
}
