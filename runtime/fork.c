/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fork(): every step wbrt takes, in one registration and in a fixed order.
 *   prepare: the barrier set-up's lock (gc_fork_lock), the heap lock, then the thread
 *            registry's lock (threads_fork_lock): no barrier set-up, collection,
 *            allocation or registration is half-done in the copy.
 *   parent:  all three released.
 *   child:   1. the barrier's after_fork: its kernel state (registrations, open /proc
 *               files, a handler thread) belongs to the parent; it is opened afresh at
 *               the barrier's next operation, never from here;
 *            2. the thread registry keeps the forking thread only;
 *            3. the next collection attaches the barrier again and is full (collect.c);
 *            4. the preload's step (its statistics restart, its exec lock's owner);
 *            5. the three locks released.
 * The child of a threaded process may only make async-signal-safe calls until it execs:
 * the steps set flags and reset locks, nothing more.
 * Design: docs/design/roots-threads.md */
#include "fork.h"
#include <pthread.h>
#include "fork_page.h"
#include "gc.h"
#include "threads.h"

void (*fork_preload_child)(void);
OS_FORK_PAGE bool fork_reattach_due;

static void prepare(void)
{
    gc_fork_lock();
    threads_fork_lock();
}

static void parent(void)
{
    threads_fork_unlock();
    gc_fork_unlock();
}

static void child(void)
{
    if (G.barrier)
        G.barrier->after_fork();
    threads_fork_child();
    fork_reattach_due = true;
    if (fork_preload_child)
        fork_preload_child();
    threads_fork_unlock();
    gc_fork_unlock();
}

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int setup_errno;

static void setup(void)
{
    setup_errno = pthread_atfork(prepare, parent, child);
}

int fork_setup(void)
{
    pthread_once(&once, setup);
    return setup_errno;
}
