/* sigaction(2) and signal(2) are interposed so that a program installing its own SIGSEGV
 * handler after wb_init keeps the barrier's fault handling in front of it: barrier faults
 * are consumed, every other fault still reaches the program's handler.
 * Design: docs/design/roots-threads.md
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include <signal.h>
#include <string.h>
#include "faults.h"

/* glibc's exported implementation, which the interposed name would otherwise hide. */
extern int __sigaction(int sig, const struct sigaction *act, struct sigaction *old);

__attribute__((visibility("default")))
int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
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
