/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Stats mode: heap pages dirtied per interval.
 * Design: docs/design/preload.md */
#ifndef WBRT_PRELOAD_DIRTY_INTERVALS_H
#define WBRT_PRELOAD_DIRTY_INTERVALS_H

#include <stddef.h>

/* From the constructor: the sampling thread.  0, or -1 with a message in why. */
int dirty_intervals_start(char *why, size_t whylen);
/* At exit: the last, partial interval, so that a process shorter than one interval (a
 * forked child, whose sampling thread did not survive the fork, or one the machine was
 * too busy to sample) still shows what it dirtied. */
void dirty_intervals_finish(void);
/* In a fork child: the sampling thread may have held the samples' lock at the fork, and
 * will never release it here (the child hung at exit in dirty_intervals_finish). */
void dirty_intervals_forked(void);
/* The samples as JSON fields (", \"interval_ms\": ..."; the first 200 intervals listed)
 * into buf; the length written. */
int dirty_intervals_json(char *buf, size_t len);

#endif
