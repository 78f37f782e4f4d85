/* Threads blocked in system calls while another thread collects: the stop signal reaches
 * them (collections are not held up), what they hold on their stacks survives, and the
 * calls end with their results.  The stop signal's handler is SA_RESTART: read(2) and
 * sem_wait, which restart, never see EINTR.  poll, epoll_wait, sem_timedwait and
 * nanosleep never restart after a handler (signal(7)): there each collection may cost
 * one EINTR, which the thread retries (docs/guide.md, "Threads and signals"); the count is printed.
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include "wbt.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

enum { OBJ = 256, COLLECTIONS = 5 };

enum call { POLL, EPOLL_WAIT, SEM_TIMEDWAIT, NANOSLEEP, READ, SEM_WAIT };
static const char *const call_name[] = { "poll", "epoll_wait", "sem_timedwait", "nanosleep", "read",
                                         "sem_wait" };
/* The system calls glibc makes for each (futex for both semaphores). */
static const long call_nrs[][4] = {
    [POLL] = { SYS_poll, SYS_ppoll, -1 },
    [EPOLL_WAIT] = { SYS_epoll_wait, SYS_epoll_pwait, SYS_epoll_pwait2, -1 },
    [SEM_TIMEDWAIT] = { SYS_futex, -1 },
    [NANOSLEEP] = { SYS_nanosleep, SYS_clock_nanosleep, -1 },
    [READ] = { SYS_read, -1 },
    [SEM_WAIT] = { SYS_futex, -1 },
};

struct blocked {
    enum call call;
    pid_t tid;
    int ready;          /* tid is set */
    int pipe[2], epfd;
    sem_t sem;
    int eintr;          /* EINTRs the thread retried */
    int result_ok;      /* the call ended with the result of its event */
    int object_ok;      /* the object on its stack survived, intact */
};

/* The call, retried on EINTR (nanosleep with what remains); 1 if it ended as its event
 * (data, a post, the full sleep) should make it end. */
static int blocking_call(struct blocked *b)
{
    struct epoll_event ev;
    struct pollfd pfd = { b->pipe[0], POLLIN, 0 };
    struct timespec ts, rem = { 0, 200 * 1000 * 1000 };   /* nanosleep: 200 ms */
    char byte;
    int r;

    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 600;   /* sem_timedwait: no timeout within the test's life */
    for (;;) {
        switch (b->call) {
        case POLL:
            r = poll(&pfd, 1, -1);
            if (r >= 0)
                return r == 1 && pfd.revents == POLLIN;
            break;
        case EPOLL_WAIT:
            r = epoll_wait(b->epfd, &ev, 1, -1);
            if (r >= 0)
                return r == 1 && ev.data.u64 == 42;
            break;
        case SEM_TIMEDWAIT:
            if (sem_timedwait(&b->sem, &ts) == 0)
                return 1;
            break;
        case NANOSLEEP:
            ts = rem;
            if (nanosleep(&ts, &rem) == 0)
                return 1;
            break;
        case READ:
            if (read(b->pipe[0], &byte, 1) >= 0)
                return byte == 'x';
            break;
        case SEM_WAIT:
            if (sem_wait(&b->sem) == 0)
                return 1;
            break;
        }
        if (errno != EINTR)
            return 0;
        b->eintr++;
    }
}

/* Holds a new object only on its stack across the blocked call. */
static void *blocked_thread(void *arg)
{
    struct blocked *b = arg;
    void *volatile obj = wb_malloc(OBJ);

    if (obj != NULL)
        wbt_fill(obj, OBJ, 500 + b->call);
    b->tid = (pid_t)syscall(SYS_gettid);
    __atomic_store_n(&b->ready, 1, __ATOMIC_RELEASE);
    b->result_ok = blocking_call(b);
    b->object_ok = obj != NULL && wb_base(obj) == obj && wbt_intact(obj, OBJ, 500 + b->call);
    return NULL;
}

/* Once the thread blocks in its call, this thread collects COLLECTIONS times (churning, so
 * that memory wrongly freed is reused), then sends the thread's event. */
static void check_blocked_call(enum call call)
{
    struct blocked b = { .call = call };
    struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 42 };
    pthread_t th;

    assert_int_equal(pipe(b.pipe), 0);
    assert_int_equal(sem_init(&b.sem, 0, 0), 0);
    b.epfd = epoll_create1(0);
    assert_true(b.epfd >= 0);
    assert_int_equal(epoll_ctl(b.epfd, EPOLL_CTL_ADD, b.pipe[0], &ev), 0);
    assert_int_equal(pthread_create(&th, NULL, blocked_thread, &b), 0);
    while (!__atomic_load_n(&b.ready, __ATOMIC_ACQUIRE))
        sched_yield();
    wbt_await_syscall(b.tid, call_nrs[call]);
    for (int i = 0; i < COLLECTIONS; i++) {
        wb_collect(i % 2 ? WB_COLLECT_FULL : WB_COLLECT_YOUNG);
        wbt_churn(OBJ, 200);
    }
    if (call == SEM_TIMEDWAIT || call == SEM_WAIT)
        assert_int_equal(sem_post(&b.sem), 0);
    else if (call != NANOSLEEP)
        assert_int_equal(write(b.pipe[1], "x", 1), 1);
    assert_int_equal(pthread_join(th, NULL), 0);
    print_message("%s: %s: %d EINTR in %d collections\n", wb_barrier_name(), call_name[call], b.eintr,
                  COLLECTIONS);
    assert_true(b.result_ok);
    assert_true(b.object_ok);
    if (call == READ || call == SEM_WAIT)
        assert_int_equal(b.eintr, 0);   /* SA_RESTART */
    close(b.epfd);
    close(b.pipe[0]);
    close(b.pipe[1]);
    sem_destroy(&b.sem);
}

static void test_collect_eintr_poll(void **state)
{
    (void)state;
    check_blocked_call(POLL);
}

static void test_collect_eintr_epoll_wait(void **state)
{
    (void)state;
    check_blocked_call(EPOLL_WAIT);
}

static void test_collect_eintr_sem_timedwait(void **state)
{
    (void)state;
    check_blocked_call(SEM_TIMEDWAIT);
}

static void test_collect_eintr_nanosleep(void **state)
{
    (void)state;
    check_blocked_call(NANOSLEEP);
}

static void test_collect_restart_read(void **state)
{
    (void)state;
    check_blocked_call(READ);
}

static void test_collect_restart_sem_wait(void **state)
{
    (void)state;
    check_blocked_call(SEM_WAIT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_collect_eintr_poll),
        cmocka_unit_test(test_collect_eintr_epoll_wait),
        cmocka_unit_test(test_collect_eintr_sem_timedwait),
        cmocka_unit_test(test_collect_eintr_nanosleep),
        cmocka_unit_test(test_collect_restart_read),
        cmocka_unit_test(test_collect_restart_sem_wait),
    };

    wbt_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
