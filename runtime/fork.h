/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fork(): the collector's one pthread_atfork registration (docs/design/roots-threads.md, Fork). */
#ifndef WBRT_FORK_H
#define WBRT_FORK_H

#include <stdbool.h>

/* Registers the handlers, once per process (with the thread registry's set-up, before
 * the first thread record exists): 0, or an errno. */
int fork_setup(void);

/* libwbrt-preload.so's own step in a fork child (its constructor sets it before wb_init):
 * run after the collector's, before the locks are released.  NULL: none. */
extern void (*fork_preload_child)(void);

/* Set in a fork child: the barrier's kernel state was not inherited, the next collection
 * attaches it again (collect.c).  Not in G.policy: os/fork_page.h. */
extern bool fork_reattach_due;

#endif
