/* SPDX-License-Identifier: GPL-2.0-or-later */
/* wbrt's own descriptors (userfaultfd, pagemap, eventfd: os_fd_aside) survive a program
 * that closes every descriptor from 3 up (closefrom, close_range: daemons, spawn helpers)
 * or dup2s onto numbers it does not own.  Closed, they would take the barrier with them:
 * the kernel drops a userfaultfd's registrations with its last descriptor, so uffd's
 * write faults stop and a young collection misses stores.  These calls leave ours open,
 * as if they were not there: the ranges are closed around them, and dup2 or dup3 onto
 * one fails with EBADF, as onto a number above the soft limit (where ours sit) does.  A
 * plain close() of one is not caught: only a program that raised its limit or walks past
 * it can name one (docs/preload.md).
 * Design: docs/design/preload.md */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <unistd.h>
#include "preload.h"
#include "sys.h"

/* Ours are close-on-exec already: a range only made close-on-exec needs no gaps. */
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

PRELOAD_API int close_range(unsigned first, unsigned last, int flags)
{
    REAL(int, close_range, (unsigned, unsigned, int));
    int k;
    if (first > last || ((unsigned)flags & CLOSE_RANGE_CLOEXEC))   /* the kernel's answer */
        return real_close_range(first, last, flags);
    for (; first <= INT_MAX && (k = os_fd_kept_from((int)first)) >= 0 && (unsigned)k <= last;
         first = (unsigned)k + 1) {
        if ((unsigned)k > first && real_close_range(first, (unsigned)k - 1, flags) != 0)
            return -1;
        if ((unsigned)k == last)
            return 0;
    }
    return real_close_range(first, last, flags);
}

PRELOAD_API void closefrom(int lowfd)
{
    REAL(void, closefrom, (int));
    int k;
    for (lowfd = lowfd < 0 ? 0 : lowfd; (k = os_fd_kept_from(lowfd)) >= 0; lowfd = k + 1)
        if (k > lowfd && close_range((unsigned)lowfd, (unsigned)k - 1, 0) != 0)
            for (int fd = lowfd; fd < k; fd++)  /* a kernel without close_range */
                close(fd);
    real_closefrom(lowfd);
}

/* Would dup2 or dup3 of old onto new replace one of ours?  Then EBADF. */
static bool onto_ours(int old, int new)
{
    if (new == old || new < 0 || os_fd_kept_from(new) != new)
        return false;
    errno = EBADF;
    return true;
}

PRELOAD_API int dup2(int old, int new)
{
    REAL(int, dup2, (int, int));
    return onto_ours(old, new) ? -1 : real_dup2(old, new);
}

PRELOAD_API int dup3(int old, int new, int flags)
{
    REAL(int, dup3, (int, int, int));
    return onto_ours(old, new) ? -1 : real_dup3(old, new, flags);
}
