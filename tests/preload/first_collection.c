/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The preload sets its barrier up at the first collection, not at start (most processes
 * never collect).  What a program relies on across that set-up, under the barrier asked
 * for (run by verified_program_test.sh: WBRT_VERIFY=1):
 *  - until then no barrier state: no userfaultfd open, and the barrier's name is the one
 *    asked for; a child forked then sets up its own at its first collection, its blocks
 *    intact, and leaves its parent's alone;
 *  - a thread that blocked every signal before it, and writes young pointers into old
 *    blocks after it (mprotect: barrier faults, which must not kill it);
 *  - a read(2) into a heap block, blocked across it, gets its bytes (mprotect: that block,
 *    armed meanwhile, must be prepared again, or the read fails with EFAULT);
 *  - afterwards the barrier in use is the one asked for (uffd barriers: a userfaultfd
 *    open; mprotect: barrier faults taken). */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "served.h"
#include "wbrt.h"

#define BLOCKS 64
#define SIZE 4096
#define PAYLOAD 64

static unsigned char *block[BLOCKS];   /* globals: the program's roots */
static unsigned char *buf;             /* the read's target */
static int pipe_fd[2];
static sem_t go;
static volatile pid_t reader_tid;
static ssize_t read_rc;
static int read_errno;
static const char *asked;

static const char *who = "parent";

static int fail(const char *what)
{
    printf("FAIL: %s: %s (barrier %s)\n", who, what, asked);
    return 1;
}

static int userfaultfds(void)
{
    int n = 0;
    char path[300], link[64];
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    for (struct dirent *e; (e = readdir(d));) {
        snprintf(path, sizeof path, "/proc/self/fd/%s", e->d_name);
        ssize_t len = readlink(path, link, sizeof link - 1);
        if (len > 0) {
            link[len] = 0;
            n += strcmp(link, "anon_inode:[userfaultfd]") == 0;
        }
    }
    closedir(d);
    return n;
}

static const char *barrier_name(void)
{
    const char *(*name)(void) = (const char *(*)(void))wbt_preload_symbol("wb_barrier_name");
    return name();
}

static uint64_t barrier_faults(void)
{
    struct wb_stats s;
    ((void (*)(struct wb_stats *))wbt_preload_symbol("wb_get_stats"))(&s);
    return s.barrier_faults;
}

/* Young objects only block[i] points to, filled with a pattern of i. */
static void point_to_young(int first, int step)
{
    for (int i = first; i < BLOCKS; i += step) {
        unsigned char *young = malloc(PAYLOAD);
        memset(young, i, PAYLOAD);
        memcpy(block[i], &young, sizeof young);
    }
}

static int young_intact(void)
{
    for (int i = 0; i < BLOCKS; i++) {
        unsigned char *young;
        memcpy(&young, block[i], sizeof young);
        for (int k = 0; k < PAYLOAD; k++)
            if (young[k] != (unsigned char)i)
                return 0;
    }
    return 1;
}

/* Garbage: collections, and reuse of whatever a missed pointer left free. */
static void churn(void)
{
    for (int i = 0; i < 20000; i++) {
        unsigned char *volatile g = malloc(PAYLOAD);
        memset(g, 0xee, PAYLOAD);
    }
}

/* After young pointers were written into old blocks: a collection keeps their objects,
 * under the barrier asked for. */
static int check_barrier(void)
{
    churn();
    wbt_preload_collect(1);
    if (!young_intact())
        return fail("a young object written into an old block was lost");
    if (strcmp(barrier_name(), asked) != 0)
        return fail("another barrier was set up than the one asked for");
    if (strcmp(asked, "mprotect") == 0 && barrier_faults() == 0)
        return fail("no barrier fault under mprotect after writes to old blocks");
    return 0;
}

static void *blocked_writer(void *arg)
{
    (void)arg;
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    while (sem_wait(&go) != 0)
        ;
    point_to_young(0, 2);
    return NULL;
}

static void *reader(void *arg)
{
    (void)arg;
    reader_tid = gettid();
    read_rc = read(pipe_fd[0], buf, SIZE);
    read_errno = errno;
    return NULL;
}

/* Until the reader sits in read(2) (its syscall file names number 0). */
static void wait_reader_blocked(void)
{
    char path[64], line[64];
    while (!reader_tid)
        sched_yield();
    snprintf(path, sizeof path, "/proc/self/task/%d/syscall", (int)reader_tid);
    for (;;) {
        FILE *f = fopen(path, "r");
        int blocked = f && fgets(line, sizeof line, f) && strncmp(line, "0 ", 2) == 0;
        if (f)
            fclose(f);
        if (blocked)
            return;
        usleep(1000);
    }
}

static int child(void)
{
    who = "child forked before the first collection";
    if (!young_intact())
        return fail("young objects damaged before its first collection");
    wbt_preload_collect(1);     /* its first: sets its barrier up; the blocks get old */
    wbt_preload_collect(1);
    point_to_young(0, 1);
    return check_barrier();
}

int main(void)
{
    int served = wbt_preload_served();
    if (served != 0)
        return served;
    asked = getenv("WBRT_BARRIER");
    if (!asked) {
        printf("FAIL: WBRT_BARRIER is not set\n");
        return 1;
    }
    bool uffd = strncmp(asked, "uffd", 4) == 0;
    if (strcmp(barrier_name(), asked) != 0)
        return fail("before the first collection the barrier is not the one asked for");
    if (userfaultfds() != 0)
        return fail("a userfaultfd is open before the first collection");
    for (int i = 0; i < BLOCKS; i++)
        block[i] = calloc(1, SIZE);
    buf = calloc(1, SIZE);
    point_to_young(0, 1);

    pid_t pid = fork();
    if (pid == 0)
        _exit(child());
    int st;
    if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        return fail("the child forked before the first collection failed");
    if (userfaultfds() != 0)
        return fail("the child's barrier showed up in its parent");

    pthread_t writer, rd;
    if (sem_init(&go, 0, 0) != 0 || pipe(pipe_fd) != 0 || pthread_create(&writer, NULL, blocked_writer, NULL) != 0 ||
        pthread_create(&rd, NULL, reader, NULL) != 0)
        return fail("set-up");
    wait_reader_blocked();
    wbt_preload_collect(1);     /* the first: sets the barrier up; the blocks and buf get old */
    wbt_preload_collect(1);     /* they are armed by now */
    if (uffd && userfaultfds() < 1)
        return fail("no userfaultfd open after the first collection");
    sem_post(&go);
    point_to_young(1, 2);
    if (pthread_join(writer, NULL) != 0)
        return fail("join");
    static unsigned char sent[SIZE];
    memset(sent, 0x5a, SIZE);
    if (write(pipe_fd[1], sent, SIZE) != SIZE || pthread_join(rd, NULL) != 0)
        return fail("pipe");
    if (read_rc != SIZE) {
        printf("FAIL: the read blocked across the first collection returned %zd (%s)\n", read_rc,
               strerror(read_errno));
        return 1;
    }
    if (memcmp(buf, sent, SIZE) != 0)
        return fail("the read blocked across the first collection left other bytes");
    if (check_barrier() != 0)
        return 1;
    printf("ok: barrier %s set up at the first collection: fork before it, a blocked read and a thread "
           "blocking every signal across it\n", asked);
    return 0;
}
