/* A program's signal stack where barrier faults land (the mprotect barrier's handler runs
 * on it, SA_ONSTACK): one in a stack frame that has returned (Asymptote's), one in an
 * old heap object.  Stores into old objects leave the live stack frames intact, the
 * program is told its own signal stack back, and a stack overflow still reaches its
 * handler on that stack.  A thread stopped while its handler runs on its signal stack
 * keeps what either of its stacks holds.
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include "wbt.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

enum { ALT = 16384, OLD_PAGES = 64, PAGE = 4096, DEPTH = 96, CANARY = 32 };

static char *old_pages[OLD_PAGES];
static uintptr_t dead_stack;   /* where the returned frame's signal stack was */

/* Like Asymptote's setsignal(): the signal stack is a local array, dead on return. */
static __attribute__((noinline)) void install_local_signal_stack(void)
{
    char stack[ALT];
    stack_t ss = {.ss_sp = stack, .ss_size = sizeof stack}, got;
    assert_int_equal(sigaltstack(&ss, NULL), 0);
    assert_int_equal(sigaltstack(NULL, &got), 0);
    assert_ptr_equal(got.ss_sp, stack);   /* the program's own, whatever the kernel has */
    assert_int_equal(got.ss_size, sizeof stack);
    assert_false(got.ss_flags & SS_DISABLE);
    dead_stack = (uintptr_t)stack;
}

static __attribute__((noinline)) void new_old_pages(void)
{
    for (int i = 0; i < OLD_PAGES; i++) {
        old_pages[i] = wb_malloc(PAGE);   /* not atomic: pages without pointers stay unarmed */
        assert_non_null(old_pages[i]);
    }
    wb_collect(WB_COLLECT_FULL);   /* old and, under a kernel barrier, armed */
}

/* Frames over the dead signal stack, each with a canary; the deepest one writes every old
 * page (a barrier fault each under mprotect); each checks its canary on the way back. */
static __attribute__((noinline)) void store_under_canaries(int depth)
{
    volatile uint64_t canary[CANARY];
    for (int i = 0; i < CANARY; i++)
        canary[i] = 0x5ca1ab1e00000000u + (uint64_t)depth * CANARY + (uint64_t)i;
    if (depth < DEPTH) {
        store_under_canaries(depth + 1);
    } else {
        assert_true((uintptr_t)&canary[0] < dead_stack);   /* the frames cover it */
        for (int i = 0; i < OLD_PAGES; i++)
            old_pages[i][(i * 64) % PAGE] = (char)i;
    }
    for (int i = 0; i < CANARY; i++)
        if (canary[i] != 0x5ca1ab1e00000000u + (uint64_t)depth * CANARY + (uint64_t)i)
            fail_msg("frame %d's canary[%d] overwritten while storing into old pages", depth, i);
}

static void test_collect_signal_stack_in_returned_frame(void **state)
{
    (void)state;
    WBT_NEEDS_KERNEL_BARRIER("plain stores into old pages");
    WBT_FRESH_PROCESS("WBRT_YOUNG_BYTES=64M", "WBRT_ARM=always");   /* every full collection arms */
    new_old_pages();
    install_local_signal_stack();
    for (int round = 0; round < 3; round++) {
        struct wb_stats before, after;
        wb_get_stats(&before);
        store_under_canaries(0);
        wb_get_stats(&after);
        if (strcmp(wb_barrier_name(), "mprotect") == 0 && after.barrier_faults == before.barrier_faults)
            fail_msg("no barrier fault: the test stores into no armed page");
        for (int i = 0; i < OLD_PAGES; i++)
            assert_int_equal(old_pages[i][(i * 64) % PAGE], (char)i);
        wb_collect(WB_COLLECT_FULL);   /* armed again */
    }
    stack_t off = {.ss_flags = SS_DISABLE}, got;
    assert_int_equal(sigaltstack(&off, NULL), 0);
    assert_int_equal(sigaltstack(NULL, &got), 0);
    assert_true(got.ss_flags & SS_DISABLE);
}

/* ---- A signal stack in an old heap object ---- */

static char *heap_stack;
static volatile int on_heap_stack;

static void on_usr1(int sig)
{
    char here;
    (void)sig;
    on_heap_stack += &here >= heap_stack && &here < heap_stack + ALT;
}

static void test_collect_signal_stack_in_old_object(void **state)
{
    (void)state;
    WBT_NEEDS_KERNEL_BARRIER("the kernel writes the signal frames");
    heap_stack = wb_malloc(ALT);
    assert_non_null(heap_stack);
    wb_collect(WB_COLLECT_FULL);
    stack_t ss = {.ss_sp = heap_stack, .ss_size = ALT};
    struct sigaction sa = {.sa_handler = on_usr1, .sa_flags = SA_ONSTACK};
    assert_int_equal(sigaltstack(&ss, NULL), 0);
    assert_int_equal(sigaction(SIGUSR1, &sa, NULL), 0);
    for (int i = 0; i < 3; i++) {
        raise(SIGUSR1);
        wb_collect(WB_COLLECT_FULL);   /* the stack's pages stay writable across arming */
    }
    assert_int_equal(on_heap_stack, 3);
    stack_t off = {.ss_flags = SS_DISABLE};
    assert_int_equal(sigaltstack(&off, NULL), 0);
    signal(SIGUSR1, SIG_DFL);
}

/* ---- A thread stopped while its handler runs on its signal stack ---- */

enum { HANDLER_STACK = 256 * 1024, SIG_STACK = 65536, OBJ = 256, SEED_MAIN = 71, SEED_ALT = 72, SEED_GONE = 73 };

static struct {
    char *alt;                  /* its signal stack, above its own stack */
    int pipe[2];
    pid_t tid;
    int in_handler;
    wbt_hidden gone;            /* dropped in a dead frame of its stack, below the handler's */
    int main_ok, alt_ok;        /* the object each stack alone held survived, intact */
} blocked;

/* An object whose only copy is left in a frame 8 KiB below the caller's: dead once this
 * returns, below the stack pointer the handler's signal will save. */
static __attribute__((noinline)) wbt_hidden garbage_in_dead_frame(void)
{
    volatile char pad[8192];
    pad[0] = 0;
    wbt_hidden h = wbt_garbage(OBJ, SEED_GONE);
    return h + (wbt_hidden)pad[0];
}

/* SIGUSR1, on the signal stack: holds a new object in a local there and blocks on the
 * pipe while the other thread collects. */
static void on_usr1_block(int sig)
{
    void *mine;
    char byte;
    (void)sig;
    (void)wbt_store_new(NULL, &mine, OBJ, SEED_ALT);
    __atomic_store_n(&blocked.in_handler, 1, __ATOMIC_RELEASE);
    assert_int_equal(read(blocked.pipe[0], &byte, 1), 1);   /* the stop signal restarts it */
    blocked.alt_ok = wb_base(mine) == mine && wbt_intact(mine, OBJ, SEED_ALT);
}

static void *signalled_thread(void *arg)
{
    stack_t ss = {.ss_sp = blocked.alt, .ss_size = SIG_STACK}, off = {.ss_flags = SS_DISABLE};
    void *mine;
    (void)arg;
    assert_int_equal(sigaltstack(&ss, NULL), 0);
    (void)wbt_store_new(NULL, &mine, OBJ, SEED_MAIN);
    blocked.gone = garbage_in_dead_frame();
    blocked.tid = (pid_t)syscall(SYS_gettid);
    assert_int_equal(pthread_kill(pthread_self(), SIGUSR1), 0);   /* handled before it returns */
    blocked.main_ok = wb_base(mine) == mine && wbt_intact(mine, OBJ, SEED_MAIN);
    assert_int_equal(sigaltstack(&off, NULL), 0);
    return NULL;
}

/* Both of the thread's stacks are scanned, each from where it is live: its own from where
 * the handler's signal interrupted it, the signal stack from the stop signal's frame.  Its
 * signal stack lies above its own stack, where a scan from the stop signal's frame up to
 * its own stack's top would find nothing. */
static void test_collect_signal_stack_stopped_in_handler(void **state)
{
    (void)state;
    WBT_FRESH_PROCESS("WBRT_YOUNG_BYTES=64M");   /* no collection but this test's */
    char *region = mmap(NULL, HANDLER_STACK + PAGE + SIG_STACK, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    assert_true(region != MAP_FAILED);
    assert_int_equal(mprotect(region + HANDLER_STACK, PAGE, PROT_NONE), 0);   /* a guard between */
    blocked.alt = region + HANDLER_STACK + PAGE;
    assert_int_equal(pipe(blocked.pipe), 0);
    struct sigaction sa = {.sa_handler = on_usr1_block, .sa_flags = SA_ONSTACK};
    assert_int_equal(sigaction(SIGUSR1, &sa, NULL), 0);
    pthread_attr_t attr;
    pthread_t th;
    assert_int_equal(pthread_attr_init(&attr), 0);
    assert_int_equal(pthread_attr_setstack(&attr, region, HANDLER_STACK), 0);
    assert_int_equal(pthread_create(&th, &attr, signalled_thread, NULL), 0);
    while (!__atomic_load_n(&blocked.in_handler, __ATOMIC_ACQUIRE))
        sched_yield();
    wbt_await_syscall(blocked.tid, (const long[]){SYS_read, -1});
    wbt_scrub_stack();
    wb_collect(WB_COLLECT_YOUNG);
    wbt_assert_reclaimed(&blocked.gone, 1);
    wbt_churn(OBJ, 2000);   /* reuses what the collection wrongly freed */
    wb_collect(WB_COLLECT_FULL);
    wbt_churn(OBJ, 2000);
    assert_int_equal(write(blocked.pipe[1], "x", 1), 1);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_true(blocked.main_ok);
    assert_true(blocked.alt_ok);
    signal(SIGUSR1, SIG_DFL);
    pthread_attr_destroy(&attr);
    munmap(region, HANDLER_STACK + PAGE + SIG_STACK);
}

/* ---- A stack overflow still reaches the program's handler on its signal stack ---- */

static void on_overflow(int sig)
{
    (void)sig;
    static const char msg[] = "overflow handled\n";
    (void)!write(1, msg, sizeof msg - 1);
    _exit(42);
}

/* Deeper until the stack runs out (the depth is volatile: the compiler sees an end). */
static volatile long forever = -1;

static __attribute__((noinline)) int recurse(volatile char *up, long depth)
{
    volatile char frame[512];
    frame[0] = up ? up[0] + 1 : 0;
    return depth == forever ? 0 : recurse(frame, depth + 1) + frame[1];
}

static void overflow(void *arg)
{
    (void)arg;
    char stack[ALT];   /* live: this frame stays until the child exits */
    stack_t ss = {.ss_sp = stack, .ss_size = sizeof stack};
    struct sigaction sa = {.sa_handler = on_overflow, .sa_flags = SA_ONSTACK};
    assert_int_equal(sigaltstack(&ss, NULL), 0);
    assert_int_equal(sigaction(SIGSEGV, &sa, NULL), 0);
    new_old_pages();
    for (int i = 0; i < OLD_PAGES; i++)
        old_pages[i][0] = 1;   /* barrier faults first: they stay wbrt's */
    recurse(NULL, 0);
}

static void test_collect_signal_stack_overflow_handler(void **state)
{
    (void)state;
    struct wbt_child c;
    wbt_fork(&c, NULL, overflow, NULL);
    if (!wbt_exited(&c, 42) || !strstr(c.out, "overflow handled"))
        fail_msg("the program's stack-overflow handler did not run (status %#x): %s", c.status, c.out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_collect_signal_stack_in_returned_frame),
        cmocka_unit_test(test_collect_signal_stack_in_old_object),
        cmocka_unit_test(test_collect_signal_stack_overflow_handler),
        cmocka_unit_test(test_collect_signal_stack_stopped_in_handler),
    };
    wbt_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
