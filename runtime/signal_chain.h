/* How the program's signal settings coexist with the collector's.
 * Design: docs/design/roots-threads.md */
#ifndef WBRT_SIGNAL_CHAIN_H
#define WBRT_SIGNAL_CHAIN_H

#include <signal.h>

/* The mask a program asks for (pthread_sigmask's how and set, or a handler's sa_mask with
 * SIG_BLOCK), without the stop signal and the barrier's fault signal: set itself if it
 * holds neither, else copy made without them. */
const sigset_t *mask_without_ours(int how, const sigset_t *set, sigset_t *copy);

#endif
