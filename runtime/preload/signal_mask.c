/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A thread that blocks the stop signal would hold every collection until it unblocks it
 * (a program that masks "all signals" around a long wait, bash's sigsuspend loops), and
 * one that blocks the barrier's fault signal would be killed by its first write to an
 * armed page (Python's faulthandler watchdog thread blocks every signal, then waits on a
 * lock in the heap): the program's masks are applied without them.  Everything else of
 * the mask is kept; the old mask the kernel writes back is prepared like any other kernel
 * write.
 * Design: docs/design/kernel-writes.md */
#include "preload.h"
#include "signal_chain.h"

static const sigset_t *without_ours(int how, const sigset_t *set, sigset_t *copy)
{
    return preload_ready ? mask_without_ours(how, set, copy) : set;
}

typedef int mask_fn(int how, const sigset_t *set, sigset_t *old);

static int set_mask(mask_fn *real, int how, const sigset_t *set, sigset_t *old)
{
    sigset_t copy;
    prep(old, sizeof *old);
    int rc = real(how, without_ours(how, set, &copy), old);
    gc_kernel_write_end();
    return rc;
}

PRELOAD_API int pthread_sigmask(int how, const sigset_t *set, sigset_t *old)
{
    REAL(int, pthread_sigmask, (int, const sigset_t *, sigset_t *));
    return set_mask(real_pthread_sigmask, how, set, old);
}

PRELOAD_API int sigprocmask(int how, const sigset_t *set, sigset_t *old)
{
    REAL(int, sigprocmask, (int, const sigset_t *, sigset_t *));
    return set_mask(real_sigprocmask, how, set, old);
}

PRELOAD_API int sigsuspend(const sigset_t *set)
{
    REAL(int, sigsuspend, (const sigset_t *));
    sigset_t copy;
    return real_sigsuspend(without_ours(SIG_SETMASK, set, &copy));
}
