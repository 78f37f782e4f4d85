/* GC_pthread_sigmask: a thread that blocks every signal through it still lets another
 * thread collect (the collector's stop signal stays deliverable), and the rest of the
 * mask is as asked.  SPDX-License-Identifier: GPL-2.0-or-later */
#define GC_THREADS
#include <gc.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include "gct.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int blocked, collected;

/* Blocks every signal it may, then waits (running, not in a system call that the collector could
 * count as safe) until the other thread has collected. */
static void *blocker(void *arg)
{
    sigset_t all, now;
    (void)arg;
    sigfillset(&all);
    /* Not the synchronous fault signals: blocked, a fault kills the process (bdwgc's
     * incremental mode and wbrt's mprotect barrier take write faults on old pages). */
    sigdelset(&all, SIGSEGV);
    sigdelset(&all, SIGBUS);
    int rc = GC_pthread_sigmask(SIG_BLOCK, &all, NULL);
    GC_pthread_sigmask(SIG_BLOCK, NULL, &now);
    pthread_mutex_lock(&lock);
    blocked = 1 + (rc == 0 && sigismember(&now, SIGUSR1) && sigismember(&now, SIGTERM));
    pthread_cond_broadcast(&cond);
    pthread_mutex_unlock(&lock);
    while (!__atomic_load_n(&collected, __ATOMIC_ACQUIRE))
        (void)GC_MALLOC(32); /* allocating: the collection must stop this thread */
    return NULL;
}

int main(void)
{
    GC_INIT();
    gct_enable_incremental();
    pthread_t t;
    pthread_create(&t, NULL, blocker, NULL);
    pthread_mutex_lock(&lock);
    while (!blocked)
        pthread_cond_wait(&cond, &lock);
    pthread_mutex_unlock(&lock);
    GCT_CHECK("the other signals are blocked as asked", blocked == 2);
    void **keep = GC_MALLOC(3 * sizeof *keep);
    for (int i = 0; i < 3; i++) {
        GC_gcollect();            /* keep is old from here on */
        keep[i] = GC_MALLOC(64);  /* a store into an old object, for the barrier to see */
        for (int j = 0; j < 256; j++)
            (void)GC_MALLOC(64);  /* allocation enough for young collections when incremental */
    }
    __atomic_store_n(&collected, 1, __ATOMIC_RELEASE);
    pthread_join(t, NULL);
    GCT_CHECK("collections completed while a thread blocked all signals", 1);
    return gct_exit();
}
