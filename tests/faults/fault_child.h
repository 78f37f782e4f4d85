/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the fault tests share besides the workload: running a scenario in a child and
 * reading what it printed. */
#ifndef FAULT_CHILD_H
#define FAULT_CHILD_H

#include "wbt.h"

/* Runs fn in a child (wbt_fork) with env, echoes its output, and fails unless it exited
 * 0; a child exiting WBT_SKIP (it printed "SKIPPED: ...") makes this process exit
 * WBT_SKIP too. */
void fault_run(struct wbt_child *c, const char *const *env, void (*fn)(void *), void *arg);
/* The lines of out starting with prefix: how many, and the first in first (may be NULL). */
int fault_lines(const char *out, const char *prefix, char *first, size_t len);

#endif
