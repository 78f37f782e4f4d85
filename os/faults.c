/* SPDX-License-Identifier: GPL-2.0-or-later */
/* SIGSEGV routing.  libsigsegv finds the fault address; a thin sigaction wrapper in front
 * of it adds what its interface lacks for a library that must stay invisible:
 *  - si_code: only a write-permission fault (SEGV_ACCERR) can be ours; a SIGSEGV sent by
 *    kill(2) must not be taken for one (nothing would re-raise it);
 *  - a full signal mask while the handler runs, so that a stop-the-world signal cannot
 *    interrupt the client half-way through its bookkeeping;
 *  - SA_ONSTACK, so a stack overflow still reaches a program's alternate-stack handler.
 * Passing a SIGSEGV on (not a write fault of the client's, or sent by kill): to a handler
 * of the program's we call it ourselves, as the kernel would (its sa_mask added to the
 * mask at the fault, SIGSEGV blocked unless SA_NODEFER, SA_RESETHAND honoured), with the
 * original siginfo and context; SIGSEGV stays ours, so a barrier fault another thread
 * takes meanwhile is still the client's.  Under SIG_DFL (or SIG_IGN, which the kernel
 * overrides for a fault) we put back that disposition and return: the instruction
 * re-executes and the default action ends the process; a sent SIGSEGV does not recur, so
 * it is queued again to this thread.  Only then does SIGSEGV stop being ours until
 * faults_install() runs again (on_release first: the client must not depend on faults).
 * Limit: a program that installs its own SIGSEGV handler after us replaces us until
 * faults_install(), unless its sigaction() calls go through faults_sigaction().
 * Our own calls use __sigaction, glibc's exported name for the real call, so that a
 * sigaction() wrapper built on faults_sigaction() never sees them.
 * Design: docs/design/os.md */
#include "faults.h"
#include "sys.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sigsegv.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

int __sigaction(int sig, const struct sigaction *act, struct sigaction *old);

static int (*client_fault)(void *addr);
static void (*client_release)(void);
static void (*libsigsegv_handler)(int, siginfo_t *, void *);

/* The program's disposition, to pass faults on to.  Two slots: a new one is written
 * while a handler on another thread may still read the current one. */
static struct sigaction previous[2];
static int current;

static void set_previous(const struct sigaction *sa)
{
    int next = !__atomic_load_n(&current, __ATOMIC_ACQUIRE);
    previous[next] = *sa;
    __atomic_store_n(&current, next, __ATOMIC_RELEASE);
}

static const struct sigaction *get_previous(void)
{
    return &previous[__atomic_load_n(&current, __ATOMIC_ACQUIRE)];
}

/* Set by dispatch() when the client declined the fault this thread is handling. */
static __thread int declined __attribute__((tls_model("initial-exec")));

/* libsigsegv's callback.  Never declines to libsigsegv (which would reset SIGSEGV to
 * SIG_DFL): on_sigsegv passes the fault on once libsigsegv returns. */
static int dispatch(void *addr, int serious)
{
    (void)serious;
    if (!client_fault(addr))
        declined = 1;
    return 1;
}

/* As the kernel would deliver it to the program's disposition (see the top). */
static void pass_on(int sig, siginfo_t *si, void *context)
{
    struct sigaction prog = *get_previous();
    int sent = si->si_code <= 0;   /* SI_USER, SI_TKILL, SI_QUEUE...: not a fault */
    if (prog.sa_handler == SIG_IGN && sent)
        return;
    if (prog.sa_handler == SIG_DFL || prog.sa_handler == SIG_IGN) {
        client_release();
        __sigaction(SIGSEGV, &prog, NULL);
        if (sent)
            syscall(SYS_rt_tgsigqueueinfo, getpid(), gettid(), sig, si);
        return;
    }
    if (prog.sa_flags & SA_RESETHAND)
        set_previous(&(struct sigaction){.sa_handler = SIG_DFL});
    sigset_t mask = ((ucontext_t *)context)->uc_sigmask;
    sigorset(&mask, &mask, &prog.sa_mask);
    if (!(prog.sa_flags & SA_NODEFER))
        sigaddset(&mask, SIGSEGV);
    os_sigmask(SIG_SETMASK, &mask, NULL);
    if (prog.sa_flags & SA_SIGINFO)
        prog.sa_sigaction(sig, si, context);
    else
        prog.sa_handler(sig);
    /* returning restores the interrupted mask from the context */
}

/* The SIGSEGV handler.  Async-signal-safety audit (signal-safety(7)); on each path it calls:
 *  - libsigsegv's handler: documented to run in the signal handler; it reads the fault
 *    address from the siginfo and calls dispatch();
 *  - client_fault(): the barrier's handler, async-signal-safe by contract (faults.h); the
 *    mprotect barrier's uses atomic bitmap operations, mprotect() (a system call) and, when
 *    mprotect fails, write(2) of a constant message;
 *  - pass_on(): the program's own handler (as the kernel would run it: whatever it calls
 *    is the program's business), after pthread_sigmask() and sigset operations (on the
 *    POSIX list or pure); or client_release() (same contract; mprotect barrier: mprotect)
 *    and sigaction() (on the POSIX list) with a struct read from a slot a writer never
 *    touches while it is current (set_previous);
 *  - getpid(), gettid(), syscall(rt_tgsigqueueinfo): system calls, no library state.
 * errno is saved and restored: the interrupted code may be between a call and its errno
 * check. */
static void on_sigsegv(int sig, siginfo_t *si, void *context)
{
    int saved_errno = errno;
    if (si->si_code == SEGV_ACCERR) {
        libsigsegv_handler(sig, si, context);
        if (declined) {
            declined = 0;
            pass_on(sig, si, context);
        }
    } else {
        pass_on(sig, si, context);
    }
    errno = saved_errno;
}

static int is_ours(const struct sigaction *sa)
{
    return (sa->sa_flags & SA_SIGINFO) && sa->sa_sigaction == on_sigsegv;
}

int faults_install(int (*on_fault)(void *addr), void (*on_release)(void), char *why, size_t whylen)
{
    struct sigaction cur, bus, lib;
    client_fault = on_fault;
    client_release = on_release;
    __sigaction(SIGSEGV, NULL, &cur);
    if (is_ours(&cur))
        return 0;
    set_previous(&cur);
    __sigaction(SIGBUS, NULL, &bus);
    if (sigsegv_install_handler(dispatch) != 0) {
        snprintf(why, whylen, "libsigsegv cannot catch SIGSEGV on this platform");
        return -1;
    }
    __sigaction(SIGBUS, &bus, NULL);   /* a barrier fault is never a SIGBUS */
    __sigaction(SIGSEGV, NULL, &lib);
    libsigsegv_handler = lib.sa_sigaction;

    struct sigaction ours = {.sa_sigaction = on_sigsegv, .sa_flags = SA_SIGINFO | SA_ONSTACK};
    /* Like libsigsegv: a synchronous signal raised in the handler must stay deliverable
     * (SIGSEGV itself is blocked by the kernel while its handler runs). */
    os_async_signals(&ours.sa_mask);
    __sigaction(SIGSEGV, &ours, NULL);
    return 0;
}

void faults_uninstall(void)
{
    struct sigaction cur;
    __sigaction(SIGSEGV, NULL, &cur);
    if (is_ours(&cur))
        __sigaction(SIGSEGV, get_previous(), NULL);
}

int faults_sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
    struct sigaction cur;
    if (sig != SIGSEGV || __sigaction(SIGSEGV, NULL, &cur) != 0 || !is_ours(&cur))
        return 0;
    if (old)
        *old = *get_previous();
    if (act)
        set_previous(act);
    return 1;
}
