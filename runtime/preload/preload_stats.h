/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The preloaded process's report to `wbrt run`.
 * Design: docs/design/preload.md */
#ifndef WBRT_PRELOAD_STATS_H
#define WBRT_PRELOAD_STATS_H

extern enum preload_mode preload_mode;

/* At exit: this process's statistics as one JSON line appended to the file named by
 * WBRT_STATS_FILE.  The file must exist (`wbrt run` creates it, 0600): it is opened
 * without O_CREAT, with O_NOFOLLOW. */
void preload_write_stats(void);
/* In a fork child: its counters start from zero. */
void preload_stats_forked(void);

#endif
