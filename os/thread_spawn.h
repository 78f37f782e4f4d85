/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Threads of the library's own, started beneath the pthread_create interposer.
 * Design: docs/design/os.md */
#ifndef WBRT_OS_THREAD_SPAWN_H
#define WBRT_OS_THREAD_SPAWN_H

#include <pthread.h>

typedef int (*os_pthread_create_fn)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);

/* The C library's pthread_create, found past any interposer (runtime/threads.c's);
 * NULL if not found. */
os_pthread_create_fn os_real_pthread_create(void);
/* Start fn(arg) with the real pthread_create, so that no interposer registers it, with
 * every signal blocked in the new thread.  0, or an errno value. */
int os_thread_spawn(pthread_t *thread, void *(*fn)(void *), void *arg);

#endif
