/* sigaction(2) and signal(2) are interposed so that a program installing its own SIGSEGV
 * handler after wb_init keeps the barrier's fault handling in front of it: barrier faults
 * are consumed, every other fault still reaches the program's handler.  No mask the
 * program sets blocks the collector's signals: a thread blocking the stop signal would
 * hold up every collection until it unblocked it, and one blocking the barrier's fault
 * signal would be killed by its first write to an armed page.
 * Design: docs/design/roots-threads.md
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include "signal_chain.h"
#include <string.h>
#include "faults.h"
#include "gc.h"

const sigset_t *mask_without_ours(int how, const sigset_t *set, sigset_t *copy)
{
    int stop = G.cfg.stop_signal, fault = G.barrier ? G.barrier->fault_signal : 0;
    if (!set || how == SIG_UNBLOCK ||
        ((!stop || sigismember(set, stop) != 1) && (!fault || sigismember(set, fault) != 1)))
        return set;
    *copy = *set;
    if (stop)
        sigdelset(copy, stop);
    if (fault)
        sigdelset(copy, fault);
    return copy;
}

/* glibc's exported implementation, which the interposed name would otherwise hide. */
extern int __sigaction(int sig, const struct sigaction *act, struct sigaction *old);

__attribute__((visibility("default")))
int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
    struct sigaction copy;
    if (act && mask_without_ours(SIG_BLOCK, &act->sa_mask, &copy.sa_mask) != &act->sa_mask) {
        sigset_t mask = copy.sa_mask;
        copy = *act;
        copy.sa_mask = mask; /* a handler running with them blocked is such a thread */
        act = &copy;
    }
    if (faults_sigaction(sig, act, old))
        return 0;
    return __sigaction(sig, act, old);
}

__attribute__((visibility("default")))
sighandler_t signal(int sig, sighandler_t handler)
{
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sa.sa_flags = SA_RESTART; /* glibc's signal() has BSD semantics */
    sigemptyset(&sa.sa_mask);
    if (sigaction(sig, &sa, &old) != 0)
        return SIG_ERR;
    return old.sa_handler;
}
