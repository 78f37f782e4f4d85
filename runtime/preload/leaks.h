/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Leak mode: allocation stacks, and the report of unreachable blocks.
 * Design: docs/design/preload.md */
#ifndef WBRT_PRELOAD_LEAKS_H
#define WBRT_PRELOAD_LEAKS_H

/* From the constructor: the tables, the unwinder loaded, WBRT_LEAK_SIGNAL's reporter.
 * 0, or -1 with a message in why. */
int leaks_start(char *why, size_t whylen);
/* The allocation stack of the new block p (called by the malloc family). */
void leaks_record(void *p);
/* In a fork child: a thread that held the stack table's lock at the fork is gone (the
 * child spun for ever in its first malloc). */
void leaks_forked(void);
/* At exit: the reports the signal asked for that are not made yet, then one more.
 * Unreachable never-freed blocks on stderr, grouped by allocation stack, largest first. */
void leaks_report(void);

#endif
