/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Threads of the library's own.  Knows nothing of the collector: it only avoids it. */
#include "thread_spawn.h"

#include <dlfcn.h>
#include <errno.h>
#include <signal.h>

os_pthread_create_fn os_real_pthread_create(void)
{
    static os_pthread_create_fn real;
    os_pthread_create_fn fn = __atomic_load_n(&real, __ATOMIC_ACQUIRE);
    if (!fn) {
        /* RTLD_NEXT: the definition after the object this code is linked into, which is
         * the one holding the interposer. */
        fn = (os_pthread_create_fn)dlsym(RTLD_NEXT, "pthread_create");
        __atomic_store_n(&real, fn, __ATOMIC_RELEASE);
    }
    return fn;
}

/* Signals blocked through the attribute, not around the call: the creating thread's
 * mask is never touched, so no signal of the program's is held back meanwhile. */
int os_thread_spawn(pthread_t *thread, void *(*fn)(void *), void *arg)
{
    os_pthread_create_fn create = os_real_pthread_create();
    pthread_attr_t attr;
    sigset_t all;
    if (!create)
        return ENOSYS;
    int rc = pthread_attr_init(&attr);
    if (rc != 0)
        return rc;
    sigfillset(&all);
    rc = pthread_attr_setsigmask_np(&attr, &all);
    if (rc == 0)
        rc = create(thread, &attr, fn, arg);
    pthread_attr_destroy(&attr);
    return rc;
}
