/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Threads of the library's own.  Knows nothing of the collector: it only avoids it.
 * Design: docs/design/os.md */
#include "thread_spawn.h"

#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include "vm.h"

#define SPAWN_STACK ((size_t)1 << 20)

os_pthread_create_fn os_real_pthread_create(void)
{
    static os_pthread_create_fn real;
    os_pthread_create_fn fn = __atomic_load_n(&real, __ATOMIC_ACQUIRE);
    if (!fn) {
        /* RTLD_NEXT: the definition after the object this code is linked into, which is
         * the one holding the interposer.  A library loaded after libc (libgc.so.1 under
         * Guile) has none after it: then libc's own. */
        fn = (os_pthread_create_fn)dlsym(RTLD_NEXT, "pthread_create");
        void *libc = fn ? NULL : dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD);
        if (libc) {
            fn = (os_pthread_create_fn)dlsym(libc, "pthread_create");
            dlclose(libc);
        }
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
    /* A stack of os_table's, so that it is one of the library's own mappings, which a
     * scan of the process's memory leaves out (the thread only ever holds addresses it
     * manipulates, not references).  Kept after the thread ends: such threads live as
     * long as the process, or until a fork's child re-creates them. */
    void *stack = rc == 0 ? os_table(SPAWN_STACK) : NULL;
    if (rc == 0 && !stack)
        rc = EAGAIN;
    if (rc == 0)
        rc = pthread_attr_setstack(&attr, stack, SPAWN_STACK);
    if (rc == 0)
        rc = create(thread, &attr, fn, arg);
    if (rc != 0 && stack)
        os_release(stack, SPAWN_STACK);
    pthread_attr_destroy(&attr);
    return rc;
}
