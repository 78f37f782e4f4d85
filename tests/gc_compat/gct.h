/* Shared by the gc.h test programs, which are built against bdwgc and against wbrt and
 * must print the same thing: checks print fixed text, never a figure that may differ.
 * SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef GCT_H
#define GCT_H

#include <stdio.h>
#include <string.h>

static int gct_failed;

/* Prints "what: yes" or "what: no"; a "no" makes the program fail. */
#define GCT_CHECK(what, cond)                                  \
    do {                                                       \
        int ok_ = (cond) != 0;                                 \
        printf("%s: %s\n", (what), ok_ ? "yes" : "no");        \
        gct_failed |= !ok_;                                    \
    } while (0)

/* Overwrite the dead part of the stack, so that stale pointers left there by earlier
 * calls do not keep objects alive (both collectors scan the stack conservatively). */
static __attribute__((noinline, unused)) void gct_clear_stack(void)
{
    volatile char pad[16384];
    memset((char *)pad, 0, sizeof pad);
}

static int gct_exit(void)
{
    fflush(stdout);
    return gct_failed ? 1 : 0;
}

#endif
