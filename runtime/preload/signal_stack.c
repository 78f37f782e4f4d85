/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A program may malloc its alternate signal stack (gdb does).  Under mprotect, once that
 * block is old and protected, the kernel cannot write a signal frame there and kills the
 * program: the stack is kept writable for as long as it is the thread's signal stack.
 * Design: docs/design/kernel-writes.md */
#include <signal.h>
#include "heap.h"
#include "preload.h"

PRELOAD_API int sigaltstack(const stack_t *ss, stack_t *old)
{
    REAL(int, sigaltstack, (const stack_t *, stack_t *));
    /* recorded before it is installed: arming in between must not protect it */
    if (ss && preload_ready && !(ss->ss_flags & SS_DISABLE) && in_heap((uintptr_t)ss->ss_sp))
        gc_signal_stack(ss->ss_sp, ss->ss_size);
    prep(old, sizeof *old);
    int rc = real_sigaltstack(ss, old);
    gc_kernel_write_end();
    stack_t now;
    if (preload_ready && real_sigaltstack(NULL, &now) == 0) {
        bool ours = !(now.ss_flags & SS_DISABLE) && in_heap((uintptr_t)now.ss_sp);
        gc_signal_stack(ours ? now.ss_sp : NULL, ours ? now.ss_size : 0);
    }
    return rc;
}
