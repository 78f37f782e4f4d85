/* A collection may stop a thread at any instruction of an allocation: the object it
 * returns must still be allocated.  The allocating thread is single-stepped (the trap
 * flag) through allocations, and another thread runs a young collection at every one
 * of their instructions while this one waits in its trap handler, stopped there by the
 * collection like any thread: its interrupted registers are in the trap's signal frame
 * on its stack, where the collector looks.  (A thread stopped just after its page's
 * allocation bit was set, before the object's address was in a register, lost the
 * object: swept at once, handed out again later.)
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include "wbt.h"

#include <dlfcn.h>
#include <errno.h>
#include <semaphore.h>
#include <signal.h>
#include <string.h>
#include <ucontext.h>

#define TRAP_FLAG 0x100
#define WORD_BYTES 1024   /* heap bytes one allocation-bitmap word covers (64 granules) */
#define PAGE 4096

static sem_t want, done;              /* a collection asked for, and run */
static volatile int stepping, quit;
static volatile unsigned long steps;
static volatile int took_lock;        /* the stepped code reached a mutex: stop stepping */

static void wait_for(sem_t *s)
{
    while (sem_wait(s) != 0 && errno == EINTR)
        ;   /* (the stop signal: sem_wait does not restart) */
}

static void *collector(void *unused)
{
    (void)unused;
    for (;;) {
        wait_for(&want);
        if (quit)
            return NULL;
        wb_collect(WB_COLLECT_YOUNG);
        sem_post(&done);
    }
}

/* After each instruction: a collection, unless the thread is about to take a lock (the
 * allocation left its page's free slots, and the collection would wait for this thread). */
static void on_trap(int sig, siginfo_t *si, void *ucv)
{
    ucontext_t *uc = ucv;
    Dl_info info;
    int saved_errno = errno;

    (void)sig, (void)si;
    if (!stepping)
        return;
    if (dladdr((void *)uc->uc_mcontext.gregs[REG_RIP], &info) && info.dli_sname &&
        strstr(info.dli_sname, "mutex_lock")) {
        took_lock = 1;
        stepping = 0;
        uc->uc_mcontext.gregs[REG_EFL] &= ~TRAP_FLAG;
        return;
    }
    steps++;
    sem_post(&want);
    wait_for(&done);
    errno = saved_errno;
}

static inline void trap_flag(int on)
{
    if (on)
        __asm__ volatile("pushfq; orq %0, (%%rsp); popfq" : : "i"(TRAP_FLAG) : "cc", "memory");
    else
        __asm__ volatile("pushfq; andq %0, (%%rsp); popfq" : : "i"(~TRAP_FLAG) : "cc", "memory");
}

/* The allocation, single-stepped. */
static __attribute__((noinline)) void *stepped_alloc(size_t n, int atomic)
{
    void *(*volatile fn)(size_t) = atomic ? wb_malloc_atomic : wb_malloc;
    stepping = 1;
    trap_flag(1);
    void *p = fn(n);
    trap_flag(0);
    stepping = 0;
    return p;
}

static void check_live(void *p, size_t n, const char *what)
{
    assert_non_null(p);
    if (wb_size(p) < n)
        fail_msg("%s: the object %p returned by a %zu-byte allocation stepped through %lu "
                 "collections is not allocated", what, p, n, (unsigned long)steps);
}

/* Allocations of size n (a class whose slots straddle the bitmap words), the ones that
 * start a new word of the page stepped through. */
static void *keep[PAGE / 16];   /* a root: what was allocated stays allocated */

static void step_class(size_t n, int atomic)
{
    size_t k = 0, stepped = 0;

    /* Fill the thread's page up to a word boundary, then step the allocation after it;
     * twice, staying inside the page (a new page takes the heap lock). */
    while (stepped < 2 && k < sizeof keep / sizeof keep[0]) {
        void *(*volatile fn)(size_t) = atomic ? wb_malloc_atomic : wb_malloc;
        keep[k] = fn(n);
        uintptr_t off = (uintptr_t)keep[k] % PAGE;
        k++;
        if (off / WORD_BYTES != (off + n) / WORD_BYTES && off + 3 * n <= PAGE) {
            keep[k] = stepped_alloc(n, atomic);
            if (took_lock)
                fail_msg("the stepped allocation of %zu bytes took a lock: it was not served "
                         "from its page's free slots, as the test expects", n);
            check_live(keep[k], n, atomic ? "atomic" : "pointerful");
            k++;
            stepped++;
        }
    }
    assert_int_equal(stepped, 2);
    for (size_t i = 0; i < k; i++)
        check_live(keep[i], n, "earlier");
}

static void test_stopped_in_allocation(void **state)
{
    static const size_t sizes[] = { 48, 208 };
    struct sigaction sa;
    pthread_t t;

    (void)state;
    WBT_FRESH_PROCESS("WBRT_YOUNG_BYTES=64M");  /* the only collections are the test's */
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_trap;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);                    /* the collection's stop signal gets in */
    assert_int_equal(sigaction(SIGTRAP, &sa, NULL), 0);
    assert_int_equal(sem_init(&want, 0, 0), 0);
    assert_int_equal(sem_init(&done, 0, 0), 0);
    assert_int_equal(pthread_create(&t, NULL, collector, NULL), 0);
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
        for (int atomic = 0; atomic < 2; atomic++)
            step_class(sizes[s], atomic);
    assert_true(steps > 0);
    quit = 1;
    sem_post(&want);
    pthread_join(t, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stopped_in_allocation),
    };

    wbt_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
