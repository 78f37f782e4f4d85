/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A stop signal sent to a thread while it execs stays pending into the new image, where
 * nothing handles it yet: its default action ends the program ("Power failure").  Every
 * exec entry point holds the collector's lock across the call, so that no collection or
 * stats sample of ours starts stopping threads meanwhile (one already stopping them
 * finishes first: this thread is stopped and resumed while it waits for the lock).
 * A vfork child (gcc's pex, for one) shares our memory but not our threads: no stop
 * signal of ours reaches it, and a lock it took would stay taken in the parent once the
 * exec succeeds, so it execs without.  glibc's exec functions call execve internally,
 * past any interposition: each is wrapped.
 * Design: docs/design/preload.md */
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <unistd.h>
#include "fork_page.h"
#include "heap.h"
#include "preload.h"

OS_FORK_PAGE static pid_t owner; /* the process whose threads the collector stops */

void preload_exec_owner(void)
{
    owner = getpid();
}

__attribute__((constructor)) static void exec_setup(void)
{
    preload_exec_owner();
}

static bool lock_for_exec(void)
{
    if (getpid() != owner)
        return false;
    pthread_mutex_lock(&H.lock);
    return true;
}

#define EXEC(name, params, args)                                                          \
    PRELOAD_API int name params                                                           \
    {                                                                                     \
        REAL(int, name, params);                                                          \
        bool locked = lock_for_exec();                                                    \
        int rc = real_##name args;                                                        \
        if (locked)                                                                       \
            pthread_mutex_unlock(&H.lock);                                                \
        return rc;                                                                        \
    }

EXEC(execve, (const char *p, char *const a[], char *const e[]), (p, a, e))
EXEC(execv, (const char *p, char *const a[]), (p, a))
EXEC(execvp, (const char *f, char *const a[]), (f, a))
EXEC(execvpe, (const char *f, char *const a[], char *const e[]), (f, a, e))
EXEC(fexecve, (int fd, char *const a[], char *const e[]), (fd, a, e))

/* The list forms, as glibc builds them: the arguments up to NULL into an array. */
#define LIST_TO_ARGV(first, ap, argv)                                                     \
    size_t n_ = 1;                                                                        \
    va_start(ap, first);                                                                  \
    while (va_arg(ap, char *))                                                            \
        n_++;                                                                             \
    va_end(ap);                                                                           \
    char *argv[n_ + 1];                                                                   \
    argv[0] = (char *)(first);                                                            \
    va_start(ap, first);                                                                  \
    for (size_t i_ = 1; i_ <= n_; i_++)                                                   \
        argv[i_] = va_arg(ap, char *)

PRELOAD_API int execl(const char *p, const char *arg, ...)
{
    va_list ap;
    LIST_TO_ARGV(arg, ap, argv);
    va_end(ap);
    return execv(p, argv);
}

PRELOAD_API int execlp(const char *f, const char *arg, ...)
{
    va_list ap;
    LIST_TO_ARGV(arg, ap, argv);
    va_end(ap);
    return execvp(f, argv);
}

PRELOAD_API int execle(const char *p, const char *arg, ...)
{
    va_list ap;
    LIST_TO_ARGV(arg, ap, argv);
    char *const *envp = va_arg(ap, char *const *);
    va_end(ap);
    return execve(p, argv, envp);
}
