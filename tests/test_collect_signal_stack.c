/* A program's signal stack where barrier faults land (the mprotect barrier's handler runs
 * on it, SA_ONSTACK): one in a stack frame that has returned (Asymptote's), one in an
 * old heap object.  Stores into old objects leave the live stack frames intact, the
 * program is told its own signal stack back, and a stack overflow still reaches its
 * handler on that stack.
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include "wbt.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
    WBT_FRESH_PROCESS("WBRT_YOUNG_BYTES=64M");
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
    };
    wbt_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
