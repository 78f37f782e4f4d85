/* dl_iterate_phdr and pthread_getattr_np wrappers.
 * Design: docs/design/os.md
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include "segments.h"
#include <link.h>
#include <pthread.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>
#include "sys.h"

extern void *__libc_stack_end;          /* ld.so's: the stack pointer at the program's entry */

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

/* The main thread's stack as pthread_getattr_np gives it, without its reading of
 * /proc/self/maps (about a twentieth of a preloaded /bin/true): the top is the page above
 * __libc_stack_end, the bottom RLIMIT_STACK below the end of the stack's mapping, which
 * is the page that ends the executable's name (AT_EXECFN: the kernel copies it to the top
 * of the stack).  glibc also stops the bottom at the mapping below: the kernel places none
 * of its choice within 128 MiB below the stack (MIN_GAP, mmap_base in arch/x86/mm/mmap.c)
 * whatever the limit was at exec, so a larger limit, or none, is left to glibc. */
#define KERNEL_GAP ((uintptr_t)128 << 20)
static int main_stack_bounds(uintptr_t *lo, uintptr_t *hi)
{
    const char *name = (const char *)getauxval(AT_EXECFN);
    uintptr_t page = getauxval(AT_PAGESZ), sp = (uintptr_t)__libc_stack_end;
    struct rlimit r;
    if (!name || !page || os_prlimit(RLIMIT_STACK, NULL, &r) != 0 || r.rlim_cur > KERNEL_GAP)
        return -1;
    uintptr_t top = ((uintptr_t)name + strlen(name) + page) & -page, stack_hi = (sp & -page) + page;
    if ((uintptr_t)name < sp || stack_hi > top || r.rlim_cur < top - stack_hi + page || r.rlim_cur > stack_hi)
        return -1;
    *hi = stack_hi;
    *lo = stack_hi - ((r.rlim_cur - (top - stack_hi)) & -page);
    return 0;
}

/* The main thread: the process's first (a forked child's only thread may run on the stack of
 * the thread that forked, hence the check of where it runs). */
int os_stack_bounds(uintptr_t *lo, uintptr_t *hi)
{
    uintptr_t here = (uintptr_t)__builtin_frame_address(0);
    if (gettid() == getpid() && main_stack_bounds(lo, hi) == 0 && *lo <= here && here < *hi)
        return 0;
    return os_thread_stack_bounds(lo, hi);
}

int os_thread_stack_bounds(uintptr_t *lo, uintptr_t *hi)
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
