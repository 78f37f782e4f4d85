/* SPDX-License-Identifier: GPL-2.0-or-later */
/* os_stack_bounds finds the main thread's stack without reading /proc/self/maps: it must
 * give what pthread_getattr_np gives (os_thread_stack_bounds) in the main thread, in
 * another thread, in a forked child of each and with a larger stack limit, and the
 * caller's frame must lie inside. */
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

#include "segments.h"

/* 0 if both answers agree and hold the caller's frame; else prints them. */
static int compare(const char *where)
{
    uintptr_t lo, hi, glo, ghi, here = (uintptr_t)__builtin_frame_address(0);
    if (os_stack_bounds(&lo, &hi) != 0 || os_thread_stack_bounds(&glo, &ghi) != 0) {
        fprintf(stderr, "%s: no stack bounds\n", where);
        return 1;
    }
    if (lo == glo && hi == ghi && lo <= here && here < hi)
        return 0;
    fprintf(stderr, "%s: [%#lx, %#lx) against pthread_getattr_np's [%#lx, %#lx), frame %#lx\n", where,
            (unsigned long)lo, (unsigned long)hi, (unsigned long)glo, (unsigned long)ghi, (unsigned long)here);
    return 1;
}

/* compare() in a forked child: its exit status. */
static int compare_in_child(const char *where)
{
    pid_t pid = fork();
    if (pid == 0)
        _exit(compare(where));
    int status;
    if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
        return 1;
    return WEXITSTATUS(status);
}

static void *in_thread(void *arg)
{
    (void)arg;
    return (void *)(intptr_t)(compare("thread") + compare_in_child("child of a thread"));
}

static void main_thread(void **state)
{
    (void)state;
    assert_int_equal(compare("main thread"), 0);
    assert_int_equal(compare_in_child("child of the main thread"), 0);
}

static void other_thread(void **state)
{
    (void)state;
    pthread_t t;
    void *failed;
    assert_int_equal(pthread_create(&t, NULL, in_thread, NULL), 0);
    assert_int_equal(pthread_join(t, &failed), 0);
    assert_null(failed);
}

/* The bottom follows RLIMIT_STACK, read at each call. */
static void larger_limit(void **state)
{
    (void)state;
    struct rlimit r, keep;
    assert_int_equal(getrlimit(RLIMIT_STACK, &keep), 0);
    r = keep;
    if (r.rlim_cur != RLIM_INFINITY && (r.rlim_max == RLIM_INFINITY || r.rlim_max >= 2 * r.rlim_cur))
        r.rlim_cur *= 2;
    assert_int_equal(setrlimit(RLIMIT_STACK, &r), 0);
    int failed = compare("main thread, larger stack limit");
    assert_int_equal(setrlimit(RLIMIT_STACK, &keep), 0);
    assert_int_equal(failed, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(main_thread),
        cmocka_unit_test(other_thread),
        cmocka_unit_test(larger_limit),
    };
    return cmocka_run_group_tests_name("stack bounds", tests, NULL, NULL);
}
