/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The kernel's signal frames on a signal stack: where a thread stopped inside a handler
 * that runs there was running before that handler.
 * Design: docs/design/os.md */
#ifndef WBRT_OS_SIGNAL_FRAME_H
#define WBRT_OS_SIGNAL_FRAME_H

#include <stdint.h>

/* uc is the context a signal handler got, its frame on the signal stack that the
 * kernel's record in uc holds.  Returns that stack's top (0: uc is on no signal stack the
 * kernel knows of) and, if the first frame on it, that of the handler that interrupted
 * the thread on [lo, hi), is found, sets *sp to that thread's stack pointer less the red
 * zone; else leaves *sp.  Async-signal-safe: reads memory only. */
uintptr_t os_signal_stack_entry(const void *uc, uintptr_t lo, uintptr_t hi, uintptr_t *sp);

#endif
