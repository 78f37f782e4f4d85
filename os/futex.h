/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Process-private futex waits and wakes on a 32-bit word (raw system calls: no library
 * state, async-signal-safe). */
#ifndef WBRT_OS_FUTEX_H
#define WBRT_OS_FUTEX_H

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Sleeps while *word == expected (returns at once if it differs; may return spuriously). */
static inline void os_futex_wait(unsigned *word, unsigned expected)
{
    syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, expected, NULL, NULL, 0);
}

/* Wakes up to n waiters of word. */
static inline void os_futex_wake(unsigned *word, int n)
{
    syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0);
}

#endif
