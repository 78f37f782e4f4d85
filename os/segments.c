/* dl_iterate_phdr and pthread_getattr_np wrappers.
 * Design: docs/design/os.md
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include "segments.h"
#include <link.h>
#include <pthread.h>

struct seg_walk { struct os_range *out; size_t max, n; };

static int on_object(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    struct seg_walk *w = arg;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_W))
            continue;
        if (w->n < w->max) {
            uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
            w->out[w->n].lo = lo & ~(uintptr_t)7;
            w->out[w->n].hi = lo + ph->p_memsz;
        }
        w->n++;
    }
    return 0;
}

size_t os_writable_segments(struct os_range *out, size_t max)
{
    struct seg_walk w = { out, max, 0 };
    dl_iterate_phdr(on_object, &w);
    return w.n;
}

int os_stack_bounds(uintptr_t *lo, uintptr_t *hi)
{
    pthread_attr_t a;
    void *addr;
    size_t size;
    if (pthread_getattr_np(pthread_self(), &a) != 0)
        return -1;
    int rc = pthread_attr_getstack(&a, &addr, &size);
    pthread_attr_destroy(&a);
    if (rc != 0)
        return -1;
    *lo = (uintptr_t)addr;
    *hi = (uintptr_t)addr + size;
    return 0;
}
