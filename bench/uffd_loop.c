/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The uffd barrier's two fault-handler loops side by side: N threads each write first to
 * their share of M write-protected pages; wall time per fault, median/min/max of several
 * runs, the loops alternating run by run.  Also one page un-protected by will_write and
 * then written, against one fault: the choice will_write makes for single pages.
 *   uffd_loop [threads] [pages] [runs] */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "barrier.h"

#define PG WB_PAGE_SIZE

static char *heap;
static size_t heap_len, npages;
static int nthreads;
static pthread_barrier_t go;
static struct dirty_map dm;

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void *writer(void *arg)
{
    size_t id = (size_t)arg;
    pthread_barrier_wait(&go);
    for (size_t p = id; p < npages; p += (size_t)nthreads)
        *(volatile char *)(heap + p * PG) = 1;
    return NULL;
}

static void attach(const char *loop)
{
    char why[512];
    struct barrier_settings set = {.loop = strcmp(loop, "uring") == 0 ? BARRIER_LOOP_URING : BARRIER_LOOP_POLL};
    if (barrier_uffd.attach(heap, heap_len, &dm, &set, why, sizeof why) != 0) {
        fprintf(stderr, "uffd_loop: attach: %s\n", why);
        exit(1);
    }
    memset(heap, 0, heap_len);                 /* populated: the faults are WP faults only */
    barrier_uffd.arm(heap, heap_len);
}

/* Microseconds per fault, M pages written by N threads. */
static double faults_run(const char *loop)
{
    pthread_t t[64];
    attach(loop);
    for (int i = 0; i < nthreads; i++)
        pthread_create(&t[i], NULL, writer, (void *)(size_t)i);
    pthread_barrier_wait(&go);
    double t0 = now_us();
    for (int i = 0; i < nthreads; i++)
        pthread_join(t[i], NULL);
    double us = (now_us() - t0) / (double)npages;
    size_t got = barrier_uffd.harvest(&dm, heap, heap_len);
    dirty_map_clear_range(&dm, 0, npages);
    barrier_uffd.detach();
    if (got != npages) {
        fprintf(stderr, "uffd_loop: %zu pages reported instead of %zu\n", got, npages);
        exit(1);
    }
    return us;
}

/* Microseconds per page: will_write(page) then a store, or the store's fault alone. */
static double single_run(const char *loop, int will_write)
{
    attach(loop);
    double t0 = now_us();
    for (size_t p = 0; p < npages; p++) {
        if (will_write)
            barrier_uffd.will_write(heap + p * PG, PG);
        *(volatile char *)(heap + p * PG) = 1;
    }
    double us = (now_us() - t0) / (double)npages;
    barrier_uffd.detach();
    return us;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void show(const char *what, double *v, int runs)
{
    qsort(v, (size_t)runs, sizeof *v, cmp);
    printf("  %-26s median %7.2f  min %7.2f  max %7.2f us\n", what, v[runs / 2], v[0], v[runs - 1]);
}

int main(int argc, char **argv)
{
    char why[512];
    nthreads = argc > 1 ? atoi(argv[1]) : 1;
    npages = argc > 2 ? (size_t)atol(argv[2]) : 4096;
    int runs = argc > 3 ? atoi(argv[3]) : 7;
    if (nthreads < 1 || nthreads > 64 || !npages || runs < 1 || runs > 101) {
        fprintf(stderr, "usage: uffd_loop [threads 1-64] [pages] [runs 1-101]\n");
        return 2;
    }
    if (barrier_uffd.probe(why, sizeof why) != 0) {
        fprintf(stderr, "uffd_loop: barrier uffd unavailable: %s\n", why);
        return 77;
    }
    heap_len = npages * PG;
    heap = mmap(NULL, heap_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (heap == MAP_FAILED || dirty_map_init(&dm, (uintptr_t)heap, npages) < 0) {
        perror("uffd_loop: mmap");
        return 1;
    }
    madvise(heap, heap_len, MADV_NOHUGEPAGE);
    pthread_barrier_init(&go, NULL, (unsigned)nthreads + 1);
    double polled[101], ringed[101], ww[101], fault[101];
    for (int r = 0; r < runs; r++) {
        /* Alternate which loop goes first, so that drift does not favour one. */
        if (r % 2) {
            polled[r] = faults_run("poll");
            ringed[r] = faults_run("uring");
        } else {
            ringed[r] = faults_run("uring");
            polled[r] = faults_run("poll");
        }
        ww[r] = single_run("poll", 1);
        fault[r] = single_run("poll", 0);
    }
    printf("uffd_loop: %d thread(s), %zu pages, %d runs, wall time per fault\n", nthreads, npages, runs);
    double ratio[101];
    for (int r = 0; r < runs; r++)
        ratio[r] = ringed[r] / polled[r];
    show("poll", polled, runs);
    show("uring", ringed, runs);
    qsort(ratio, (size_t)runs, sizeof *ratio, cmp);
    printf("  uring/poll, median of runs %.2f\n", ratio[runs / 2]);
    printf("one thread, per page:\n");
    show("will_write + store", ww, runs);
    show("store that faults (poll)", fault, runs);
    return 0;
}
