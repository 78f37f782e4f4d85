/* SPDX-License-Identifier: GPL-2.0-or-later */
/* sigaltstack(2) is interposed: the barrier's faults make the kernel write signal frames
 * on a program's signal stack (faults.c installs with SA_ONSTACK, for the program's
 * stack-overflow handler), where without the barrier it may never write one.
 *  - A signal stack inside the thread's own stack (Asymptote's setsignal() passes a local
 *    array, dead once it returns: the stack grows over it) got every mprotect barrier
 *    fault's frame on top of live frames.  A mapping of wbrt's of the same size stands in
 *    for it; the program is told its own stack.
 *  - A signal stack in the heap (gdb mallocs it under the preload) is kept writable while
 *    it is installed: the kernel cannot take a fault on a frame it writes.
 * The old stack is copied out here, never written by the kernel (EFAULT under mprotect).
 * Design: docs/design/kernel-writes.md */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "gc.h"
#include "heap.h"
#include "segments.h"
#include "threads.h"

static __thread struct {
    void *prog_sp;      /* the program's stack that own stands in for (NULL: none) */
    size_t prog_size;
    void *own;          /* wbrt's mapping, kept for the thread's next call */
    size_t own_size;
} alt __attribute__((tls_model("initial-exec")));

static pthread_key_t own_key;
static pthread_once_t own_once = PTHREAD_ONCE_INIT;

static int kernel_sigaltstack(const stack_t *ss, stack_t *old)
{
    return (int)syscall(SYS_sigaltstack, ss, old);
}

/* At thread exit: the mapping goes unless a handler is running on it (pthread_exit from
 * a handler), when the kernel refuses to disable it. */
static void drop_own(void *own)
{
    stack_t cur, off = {.ss_flags = SS_DISABLE};
    if (kernel_sigaltstack(NULL, &cur) != 0)
        return;
    if (!(cur.ss_flags & SS_DISABLE) && cur.ss_sp == own && kernel_sigaltstack(&off, NULL) != 0)
        return;
    munmap(own, alt.own_size);
}

static void make_key(void)
{
    if (pthread_key_create(&own_key, drop_own) != 0)
        own_key = (pthread_key_t)-1;
}

static bool on_thread_stack(const void *p)
{
    uintptr_t lo, hi, a = (uintptr_t)p;
    struct wb_thread *me = thread_if_registered();
    if (me && me->running) {
        lo = me->stack_lo;
        hi = me->stack_hi;
    } else {
        gc_inside++; /* pthread_getattr_np allocates */
        int rc = os_stack_bounds(&lo, &hi);
        gc_inside--;
        if (rc != 0)
            return false;
    }
    return a >= lo && a < hi;
}

/* Installs ss, or wbrt's mapping of its size in place of a stack on the thread's stack. */
static int install(const stack_t *ss)
{
    stack_t give = *ss;
    bool stand_in = !(ss->ss_flags & SS_DISABLE) && on_thread_stack(ss->ss_sp);
    void *fresh = NULL;
    size_t fresh_size = (ss->ss_size + 4095) & ~(size_t)4095;
    if (stand_in && (!alt.own || alt.own_size < ss->ss_size)) {
        fresh = mmap(NULL, fresh_size ? fresh_size : 4096, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
        if (fresh == MAP_FAILED) {
            errno = ENOMEM;
            return -1;
        }
    }
    if (stand_in)
        give.ss_sp = fresh ? fresh : alt.own;
    /* Recorded before it is installed: an arming in between must not protect it. */
    bool heap = !(give.ss_flags & SS_DISABLE) && in_heap((uintptr_t)give.ss_sp);
    if (heap)
        gc_signal_stack(give.ss_sp, give.ss_size);
    int rc = kernel_sigaltstack(&give, NULL);
    int saved = errno;
    if (fresh && rc != 0) {
        munmap(fresh, fresh_size);
    } else if (fresh) {
        if (alt.own)
            munmap(alt.own, alt.own_size);
        alt.own = fresh;
        alt.own_size = fresh_size;
        pthread_once(&own_once, make_key);
        if (own_key != (pthread_key_t)-1)
            pthread_setspecific(own_key, fresh);
    }
    if (rc == 0) {
        alt.prog_sp = stand_in ? ss->ss_sp : NULL;
        alt.prog_size = ss->ss_size;
    }
    /* The record follows the stack installed now, whichever call succeeded. */
    stack_t now;
    struct wb_thread *me = thread_if_registered();
    if ((heap || (me && me->alt_hi)) && kernel_sigaltstack(NULL, &now) == 0) {
        bool in = !(now.ss_flags & SS_DISABLE) && in_heap((uintptr_t)now.ss_sp);
        gc_signal_stack(in ? now.ss_sp : NULL, in ? now.ss_size : 0);
    }
    errno = saved;
    return rc;
}

__attribute__((visibility("default")))
int sigaltstack(const stack_t *ss, stack_t *old)
{
    stack_t cur;
    if (kernel_sigaltstack(NULL, &cur) != 0)
        return -1;
    if (alt.prog_sp && cur.ss_sp == alt.own) {
        cur.ss_sp = alt.prog_sp;
        cur.ss_size = alt.prog_size;
    }
    if (ss && install(ss) != 0)
        return -1;
    if (old)
        *old = cur;
    return 0;
}
