/* Thread registry and stop-the-world.  Threads are stopped with a signal whose handler
 * records the stack pointer (registers are in the signal frame above it) and waits on a
 * futex until the collector bumps the world epoch.
 * Design: docs/design/roots-threads.md
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include "threads.h"
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "fork.h"
#include "fork_page.h"
#include "futex.h"
#include "gc.h"
#include "race_annotations.h"
#include "segments.h"
#include "signal_frame.h"
#include "thread_spawn.h"
#include "vm.h"

/* WBRT_STOP_SIGNAL, by default SIGPWR, which ordinary programs leave alone (bdwgc makes
 * the same choice); read when the first thread record is made. */
static int suspend_signal = SIGPWR;

OS_FORK_PAGE static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
OS_FORK_PAGE static struct wb_thread *threads;
static pthread_key_t exit_key;
static unsigned acks; /* bumped by each thread that stops: the collector waits on it */
/* acks once every thread signalled has stopped: only the last one wakes the collector.  A
 * wake per thread switched to the collector, which found others still running, taking the
 * CPU they needed to stop (4 mutator threads on 2 cores). */
static unsigned acks_all;
static unsigned world_epoch;
static __thread struct wb_thread *self __attribute__((tls_model("initial-exec")));
__thread int gc_inside __attribute__((tls_model("initial-exec")));

static int setup_done(void);

static struct wb_thread *record_new(void)
{
    return setup_done() ? os_table(sizeof(struct wb_thread)) : NULL;
}

static void link_record(struct wb_thread *t)
{
    pthread_mutex_lock(&reg_lock);
    t->next = threads;
    threads = t;
    pthread_mutex_unlock(&reg_lock);
}

static void unlink_record(struct wb_thread *t)
{
    pthread_mutex_lock(&reg_lock);
    for (struct wb_thread **p = &threads; *p; p = &(*p)->next)
        if (*p == t) {
            *p = t->next;
            break;
        }
    pthread_mutex_unlock(&reg_lock);
}

static void release_pages(struct wb_thread *t)
{
    pthread_mutex_lock(&H.lock);
    tlab_release_all(t);
    pthread_mutex_unlock(&H.lock);
}

/* The exit destructor.  Other destructors may run after it, and glibc frees its own
 * per-thread data after them all, then blocks every signal and frees the stack: from
 * here the thread is neither stopped (it might never answer) nor scanned (its stack may
 * go meanwhile).  It keeps its record for what it still allocates (unregistering would
 * register it anew, and a record made in the last round of destructors would outlive the
 * thread); the first stop-the-world after the thread has ended drops the record. */
static void on_thread_exit(void *rec)
{
    struct wb_thread *t = rec;
    release_pages(t);
    pthread_mutex_lock(&reg_lock);
    t->running = 0;
    t->exiting = 1;
    pthread_mutex_unlock(&reg_lock);
}

static void become_running(struct wb_thread *t)
{
    gc_inside++; /* pthread_getattr_np allocates */
    t->tid = pthread_self();
    t->ktid = gettid();
    if (os_stack_bounds(&t->stack_lo, &t->stack_hi) != 0)
        t->stack_hi = (uintptr_t)__builtin_frame_address(0) + 4096; /* best effort */
    self = t;
    pthread_setspecific(exit_key, t);
    pthread_mutex_lock(&reg_lock);
    /* A record with our kernel id is of an exited thread not yet dropped: the id is ours now. */
    for (struct wb_thread *o = threads; o; o = o->next)
        if (o != t && o->ktid == t->ktid)
            o->dead = 1;
    t->running = 1;
    t->arg = NULL; /* now in this thread's registers or stack */
    pthread_mutex_unlock(&reg_lock);
    gc_inside--;
}

struct wb_thread *thread_self(void)
{
    if (__builtin_expect(self != NULL, 1))
        return self;
    struct wb_thread *t = record_new();
    if (!t)
        return NULL;
    link_record(t);
    become_running(t);
    return t;
}

/* A record and what it pinned go back to the system. */
static void record_free(struct wb_thread *t)
{
    if (t->pinned.v)
        os_release(t->pinned.v, t->pinned.cap * sizeof *t->pinned.v);
    os_release(t, sizeof *t);
}

void thread_pin(struct wb_thread *t, uintptr_t obj)
{
    size_t g = gran_of(obj);
    if (vec_push(&t->pinned, (uint32_t)(g / GRANS_PER_PAGE)) == 0 &&
        vec_push(&t->pinned, (uint32_t)(g % GRANS_PER_PAGE)) != 0)
        t->pinned.n--; /* out of memory: unpinned, like any object of an exiting thread */
}

void thread_unregister_self(void)
{
    struct wb_thread *t = self;
    if (!t)
        return;
    pthread_setspecific(exit_key, NULL);
    release_pages(t);
    unlink_record(t);
    self = NULL;
    record_free(t);
}

struct wb_thread *thread_if_registered(void) { return self; }

static void *trampoline(void *rec)
{
    struct wb_thread *t = rec;
    void *(*start)(void *) = t->start;
    void *arg = t->arg;
    become_running(t);
    return start(arg);
}

/* Interposed so that every thread is registered before it can hold a heap pointer. */
__attribute__((visibility("default")))
int pthread_create(pthread_t *thread, const pthread_attr_t *attr, void *(*start)(void *), void *arg)
{
    os_pthread_create_fn real = os_real_pthread_create();
    if (!real)
        return EAGAIN;
    struct wb_thread *t = record_new();
    if (!t)
        return EAGAIN;
    t->start = start;
    t->arg = arg;
    link_record(t); /* from here t->arg is a root */
    int rc = real(thread, attr, trampoline, t);
    if (rc != 0) {
        unlink_record(t);
        record_free(t);
    }
    return rc;
}

/* The stop signal's handler.  Async-signal-safety audit (signal-safety(7)); it calls:
 *  - errno save/restore, __atomic loads and stores: no library state;
 *  - getpid(): on the POSIX list;
 *  - its own record through an initial-exec TLS variable (a load relative to %fs): the
 *    collector signals a thread only while its record is linked, and a thread's record
 *    is unlinked (under reg_lock, which the collector holds until it restarts the world)
 *    before `self` is cleared;
 *  - os_futex_wait/wake: raw system calls, no library state;
 *  - OS_HAPPENS_*: valgrind client requests, no-op instructions outside valgrind.
 * A stop signal that the collector did not send (kill(1) from outside: si_code is not
 * SI_TKILL from this process), or that reaches a thread without a record, is ignored:
 * acknowledging it would let the next stop-the-world count a thread as stopped while it
 * runs. */
static void suspend_handler(int sig, siginfo_t *info, void *uc)
{
    (void)sig;
    struct wb_thread *t = self;
    if (info->si_code != SI_TKILL || info->si_pid != getpid() || !t)
        return;
    OS_HAPPENS_AFTER(&threads);       /* the tgkill() of threads_stop_world() */
    if (!t->stopping)
        return;
    int saved_errno = errno;
    unsigned epoch = __atomic_load_n(&world_epoch, __ATOMIC_ACQUIRE);
    /* The signal frame is on the stack the thread ran on (no SA_ONSTACK): the interrupted
     * registers (uc's mcontext and the FPU state above it), the red zone and the stack
     * are at uc and above.  This handler's own frame, below uc, is left out: it keeps
     * changing while the collector scans. */
    uintptr_t at = (uintptr_t)uc;
    t->sig_sp = t->sig_hi = 0;
    if (at >= t->stack_lo && at < t->stack_hi) {
        t->sp = at;
    } else {
        /* In a handler of the program's on its signal stack: that stack from uc up, and the
         * thread's own from where the handler's signal interrupted it (all of it when the
         * kernel's frame is not found there). */
        t->sp = t->stack_lo;
        t->sig_hi = os_signal_stack_entry(uc, t->stack_lo, t->stack_hi, &t->sp);
        t->sig_sp = t->sig_hi ? at : 0;
    }
    OS_HAPPENS_BEFORE(&acks);         /* sp, and the stack as it is now */
    /* Either the collector sees this ack, or this sees its target (both sequentially
     * consistent); an earlier stop's target is below every ack of this one. */
    if (__atomic_add_fetch(&acks, 1, __ATOMIC_SEQ_CST) == __atomic_load_n(&acks_all, __ATOMIC_SEQ_CST))
        os_futex_wake(&acks, 1);
    while (__atomic_load_n(&world_epoch, __ATOMIC_ACQUIRE) == epoch)
        os_futex_wait(&world_epoch, epoch);
    OS_HAPPENS_AFTER(&world_epoch);   /* what the collector did while we were stopped */
    errno = saved_errno;
}

void threads_fork_lock(void)
{
    pthread_mutex_lock(&H.lock);
    pthread_mutex_lock(&reg_lock);
}

void threads_fork_unlock(void)
{
    pthread_mutex_unlock(&reg_lock);
    pthread_mutex_unlock(&H.lock);
}

/* Only the forking thread exists in the child: the other records are gone with their
 * threads (their allocation pages stay owned until the next full collection). */
void threads_fork_child(void)
{
    threads = self;
    if (self) {
        self->next = NULL;
        self->ktid = gettid(); /* the kernel's id of this process's only thread */
    }
}

/* Once per process, before the first record exists: a record's exit destructor and the
 * suspend handler must be in place by the time any thread can be stopped or exit. */
static pthread_once_t setup_once = PTHREAD_ONCE_INIT;
static int setup_errno;

static void setup(void)
{
    struct sigaction sa;
    if (G.cfg.stop_signal)
        suspend_signal = G.cfg.stop_signal;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = suspend_handler;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigfillset(&sa.sa_mask);
    sigdelset(&sa.sa_mask, SIGSEGV); /* barrier faults stay deliverable */
    sigdelset(&sa.sa_mask, SIGBUS);
    if (sigaction(suspend_signal, &sa, NULL) != 0)
        setup_errno = errno;
    else if ((setup_errno = pthread_key_create(&exit_key, on_thread_exit)) == 0)
        setup_errno = fork_setup();     /* the registry's locks are taken across fork */
}

static int setup_done(void)
{
    pthread_once(&setup_once, setup);
    return setup_errno == 0;
}

int threads_init(char *why, size_t whylen)
{
    if (!setup_done() || !thread_self()) {
        snprintf(why, whylen, "cannot set up thread support: %s", strerror(setup_errno ? setup_errno : ENOMEM));
        return -1;
    }
    return 0;
}

/* Unlinks the record of a thread that is gone and gives back its pages and what it pinned
 * (H.lock, reg_lock held). */
static void drop_record(struct wb_thread **p)
{
    struct wb_thread *t = *p;
    *p = t->next;
    tlab_release_all(t);
    record_free(t);
}

/* Exited threads' records are dropped once the kernel no longer knows their id (it frees
 * the id when the thread has ended). */
void threads_stop_world(void)
{
    pthread_mutex_lock(&reg_lock);
    pid_t pid = getpid(), me = gettid();
    unsigned n = 0, acks0 = __atomic_load_n(&acks, __ATOMIC_ACQUIRE);
    for (struct wb_thread **p = &threads; *p;) {
        struct wb_thread *t = *p;
        if (t->dead || (t->exiting && tgkill(pid, t->ktid, 0) != 0)) {
            drop_record(p);
            continue;
        }
        t->stopping = t->running && t->ktid != me;
        if (t->stopping) {
            OS_HAPPENS_BEFORE(&threads);
            if (tgkill(pid, t->ktid, suspend_signal) == 0)
                n++;
            else
                t->stopping = t->running = 0, t->dead = 1; /* gone without its destructor */
        }
        p = &t->next;
    }
    __atomic_store_n(&acks_all, acks0 + n, __ATOMIC_SEQ_CST);
    for (unsigned seen; (seen = __atomic_load_n(&acks, __ATOMIC_SEQ_CST)) - acks0 < n;)
        os_futex_wait(&acks, seen);
    OS_HAPPENS_AFTER(&acks);
}

void threads_start_world(void)
{
    for (struct wb_thread *t = threads; t; t = t->next)
        t->stopping = 0; /* a stop signal from elsewhere meanwhile is not acknowledged */
    OS_HAPPENS_BEFORE(&world_epoch);
    __atomic_fetch_add(&world_epoch, 1, __ATOMIC_RELEASE);
    os_futex_wake(&world_epoch, __INT_MAX__);
    pthread_mutex_unlock(&reg_lock);
}

struct wb_thread *threads_first(void) { return threads; }

void gc_kernel_write_begin(const void *p, size_t n)
{
    struct wb_thread *me = thread_self();
    /* recorded first: a collection from here on prepares it again */
    if (me) {
        uintptr_t lo = (uintptr_t)p, hi = lo + n;
        me->kw_lo = me->kw_hi && me->kw_lo < lo ? me->kw_lo : lo;
        me->kw_hi = me->kw_hi > hi ? me->kw_hi : hi;
    }
    gc_prepare_kernel_write(p, n);
}

void gc_kernel_write_end(void)
{
    struct wb_thread *me = thread_if_registered();
    if (me)
        me->kw_lo = me->kw_hi = 0;
}

void gc_signal_stack(const void *p, size_t n)
{
    struct wb_thread *me = thread_self();
    if (me) {
        me->alt_lo = (uintptr_t)p;
        me->alt_hi = (uintptr_t)p + n;
    }
    gc_prepare_kernel_write(p, n);
}

void gc_keep_prepared(const void *p, size_t n)
{
    struct wb_thread *me = thread_self();
    if (!me)
        return;
    /* No range while it changes: a collection stopping this thread in between re-prepares
     * nothing of it, and the caller prepares the new range after this. */
    me->prep_hi = 0;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    me->prep_lo = (uintptr_t)p;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    me->prep_hi = n ? (uintptr_t)p + n : 0;
}

void threads_reprepare_kernel_writes(void)
{
    for (struct wb_thread *t = threads; t; t = t->next) {
        if (t->kw_hi)
            G.barrier->prepare_kernel_write((void *)t->kw_lo, t->kw_hi - t->kw_lo);
        if (t->alt_hi)
            G.barrier->prepare_kernel_write((void *)t->alt_lo, t->alt_hi - t->alt_lo);
        if (t->prep_hi)
            G.barrier->prepare_kernel_write((void *)t->prep_lo, t->prep_hi - t->prep_lo);
    }
}
