/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Thread churn, built without wbrt, for libwbrt-preload.so: batches of threads that end by
 * returning, by pthread_exit or detached, allocate enough for collections to run while
 * others start and end, and malloc and free in thread-specific-data destructors (in
 * glibc's last round of them, after the preload's own) and in glibc's clean-up after
 * those (strerror's buffer for an unknown error).  Prints checksums of what the threads
 * left behind: its output must not depend on the allocator. */
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { ROUNDS = 60, BATCH = 12, WORKERS = ROUNDS * BATCH, LIST = 300 };

struct node { struct node *next; uint64_t value; };

static pthread_key_t late_key;
static struct node *kept[WORKERS];  /* each worker's list */
static char *to_free[WORKERS];      /* freed by its last destructor round */
static int exited;

static void fail(const char *what)
{
    fprintf(stderr, "thread_churn_program: %s\n", what);
    exit(1);
}

static uint64_t value(uintptr_t w, int i) { return (uint64_t)w * 1000003u + (uint64_t)i * 7919u; }

struct late_state { uintptr_t worker; int round; };

static void late_destructor(void *v)
{
    struct late_state *s = v;
    if (++s->round < PTHREAD_DESTRUCTOR_ITERATIONS) {
        if (pthread_setspecific(late_key, s) != 0)
            fail("pthread_setspecific");
        return;
    }
    /* lost at once: an exiting thread's stack is no root (docs/guide.md) */
    if (!malloc(64))
        fail("malloc in a destructor");
    free(to_free[s->worker]);
    free(s);
    __atomic_add_fetch(&exited, 1, __ATOMIC_RELEASE);
}

static void *worker(void *arg)
{
    uintptr_t w = (uintptr_t)arg;
    struct late_state *s = calloc(1, sizeof *s);
    if (!s)
        fail("calloc");
    s->worker = w;
    if (pthread_setspecific(late_key, s) != 0)
        fail("pthread_setspecific");
    struct node *head = NULL;
    for (int i = 0; i < LIST; i++) {
        struct node *n = malloc(sizeof *n);
        if (!n)
            fail("malloc");
        n->value = value(w, i);
        n->next = head;
        head = n;
        free(malloc(200 + i)); /* churn: collections come from here */
        if (!malloc(100))      /* lost */
            fail("malloc");
    }
    kept[w] = head;
    if (!(to_free[w] = malloc(4000)))
        fail("malloc");
    if (strerror(1000 + (int)w)[0] == '\0') /* glibc frees its buffer after the destructors */
        fail("strerror");
    if (w % 2)
        pthread_exit(NULL);
    return NULL;
}

int main(void)
{
    pthread_t th[BATCH];
    pthread_attr_t detached;
    if (pthread_key_create(&late_key, late_destructor) != 0 || pthread_attr_init(&detached) != 0 ||
        pthread_attr_setdetachstate(&detached, PTHREAD_CREATE_DETACHED) != 0)
        fail("thread set-up");
    for (uintptr_t r = 0; r < ROUNDS; r++) {
        for (uintptr_t b = 0; b < BATCH; b++)   /* 2 and 3 of every 4 detached */
            if (pthread_create(&th[b], b % 4 >= 2 ? &detached : NULL, worker, (void *)(r * BATCH + b)) != 0)
                fail("pthread_create");
        for (uintptr_t b = 0; b < BATCH; b++)
            if (b % 4 < 2 && pthread_join(th[b], NULL) != 0)
                fail("pthread_join");
        while (__atomic_load_n(&exited, __ATOMIC_ACQUIRE) < (int)((r + 1) * BATCH))
            sched_yield();
    }
    uint64_t sum = 0;
    size_t nodes = 0;
    for (int w = 0; w < WORKERS; w++) {
        int i = LIST;
        for (struct node *n = kept[w]; n; n = n->next)
            if (n->value != value((uintptr_t)w, --i))
                fail("a node changed");
            else
                sum += n->value, nodes++;
    }
    printf("workers %d nodes %zu sum %llu\n", WORKERS, nodes, (unsigned long long)sum);
    return 0;
}
