/* The thread registry, per-thread allocation caches and stop-the-world.
 * Design: docs/design/roots-threads.md */
#ifndef WBRT_THREADS_H
#define WBRT_THREADS_H

#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>
#include "heap.h"
#include "vec.h"

/* A thread's current allocation page for one class: the free slots it owns, as granule
 * bits of the page's bitmap words (a slot's bit is where its alloc bit goes).  The word
 * being allocated from is cached with its address and alloc word, so that taking a slot
 * is a ctz, a clear and one OR into the alloc word. */
struct tlab {
    uint64_t cur;       /* free slots of word `word` */
    uintptr_t base;     /* address of granule 0 of word `word` */
    uint64_t *aword;    /* alloc bitmap word `word` of the page */
    uint32_t page;
    uint16_t word;
    uint16_t zero;      /* page was decommitted or never used: slots need no memset */
    /* old: the page held an old object when it became the thread's; gc_no: the collection
     * count then.  Neither changed: no slot of the page has an old bit (see tlab_give_back). */
    bool old;
    uint32_t gc_no;
    uint64_t free[PAGE_WORDS]; /* free slots of the other words */
};

struct wb_thread {
    pthread_t tid;
    pid_t ktid;                    /* the kernel's id: signalled and checked alive by it */
    uintptr_t stack_lo, stack_hi;
    uintptr_t sp;                  /* lowest live stack address while stopped */
    uintptr_t sig_sp, sig_hi;      /* stopped on a signal stack: its live part */
    int running;                   /* stack bounds known: scan and stop it */
    int exiting;                   /* past wbrt's exit destructor: neither stopped nor scanned */
    int dead;                      /* its kernel id was reused: the thread is gone */
    int stopping;                  /* signalled by the current stop-the-world */
    void *(*start)(void *);        /* pthread_create arguments, scanned until the thread runs */
    void *arg;
    uintptr_t kw_lo, kw_hi;        /* heap range a wrapped system call may be writing */
    uintptr_t prep_lo, prep_hi;    /* the thread's last wb_prepare_kernel_write range */
    uintptr_t alt_lo, alt_hi;      /* its signal stack, if in the heap (the kernel writes frames there) */
    struct vec pinned;             /* what it allocated while exiting: (page, granule) pairs */
    struct wb_thread *next;
    struct tlab tlab[2][NCLASS];   /* [atomic][class] */
};

static inline __attribute__((always_inline)) uintptr_t current_sp(void)
{
    uintptr_t sp;
    __asm__ volatile("mov %%rsp, %0" : "=r"(sp));
    return sp;
}

int threads_init(char *why, size_t whylen);
/* The calling thread's record, registering it on first use (NULL if out of memory). */
struct wb_thread *thread_self(void);
/* Forget the calling thread (its stack is no longer scanned) until it allocates again. */
void thread_unregister_self(void);
/* The calling thread's record if it has one (never registers it). */
struct wb_thread *thread_if_registered(void);
/* Stop every other registered thread / let them go (H.lock held). */
void threads_stop_world(void);
void threads_start_world(void);
/* Iterate registered threads while the world is stopped. */
struct wb_thread *threads_first(void);
/* After arming (world stopped): prepare again what stopped threads' calls may write, and
 * their signal stacks. */
void threads_reprepare_kernel_writes(void);
/* fork (fork.c): lock takes H.lock then the registry's lock, unlock releases both; child,
 * in the child with both held, keeps the forking thread's record only. */
void threads_fork_lock(void);
void threads_fork_unlock(void);
void threads_fork_child(void);
/* An exiting thread's new object, kept until the thread is gone: nothing else holds it
 * while only that thread's unscanned stack does (H.lock held). */
void thread_pin(struct wb_thread *t, uintptr_t obj);
/* Give a thread's allocation pages back to the heap (H.lock held). */
void tlab_release_all(struct wb_thread *t);

#endif
