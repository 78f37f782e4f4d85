/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Stop-the-world and barrier faults from several threads, small enough to run under
 * helgrind (helgrind_test.sh).  WORKERS threads build lists and keep every 8th node; each
 * round they write into every node they kept (old objects after a collection: barrier
 * faults under mprotect).  Meanwhile the main thread runs COLLECTIONS collections with all
 * of them registered and running, each stopping all of them, and allocation starts more.
 * At the end, after a full collection and fresh allocations that would reuse anything
 * wrongly freed, every kept node must hold what its thread wrote.  Prints the figures. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include "wbrt.h"

#define WORKERS 4
/* Each collection under helgrind costs seconds (every thread's stop and restart is traced);
 * 8 still stop every worker 8 times, two of them full collections (k % 4 == 3) over
 * objects the workers write into (barrier faults under mprotect). */
#define COLLECTIONS 8
#define KEEP_MAX 2000

struct node { struct node *next; uint64_t id, writes; };

struct worker {
    pthread_t thread;
    long index;
    struct node *kept;
    uint64_t n_kept, id_sum, rounds;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t all_running;
static int stop;

static int should_stop(void)
{
    pthread_mutex_lock(&lock);
    int s = stop;
    pthread_mutex_unlock(&lock);
    return s;
}

static void *work(void *arg)
{
    struct worker *w = arg;
    uint64_t next_id = (uint64_t)w->index << 40;
    pthread_barrier_wait(&all_running);
    while (!should_stop()) {
        struct node *list = NULL;
        for (int i = 0; i < 200; i++) {
            struct node *n = wb_malloc(sizeof *n);
            if (!n) {
                fprintf(stderr, "stop_world: wb_malloc: %s\n", wb_last_error());
                exit(1);
            }
            n->id = ++next_id;
            n->next = list;
            list = n;
        }
        for (struct node *n = list, *next; n; n = next) {
            next = n->next;
            if (n->id % 8 == 0 && w->n_kept < KEEP_MAX) {
                n->next = w->kept, w->kept = n;
                w->n_kept++, w->id_sum += n->id;
            }
        }
        for (struct node *n = w->kept; n; n = n->next)
            n->writes++;
        w->rounds++;
    }
    return NULL;
}

int main(void)
{
    struct wb_options opt = {.heap_max = (size_t)64 << 20, .young_bytes = (size_t)1 << 20};
    if (wb_init(&opt) != 0) {
        fprintf(stderr, "stop_world: wb_init: %s\n", wb_last_error());
        return 1;
    }
    static struct worker w[WORKERS];
    pthread_barrier_init(&all_running, NULL, WORKERS + 1);
    for (long i = 0; i < WORKERS; i++) {
        w[i].index = i + 1;
        if (pthread_create(&w[i].thread, NULL, work, &w[i]) != 0)
            return 1;
    }
    pthread_barrier_wait(&all_running);
    for (int k = 0; k < COLLECTIONS; k++)
        wb_collect(k % 4 == 3 ? WB_COLLECT_FULL : WB_COLLECT_YOUNG);
    pthread_mutex_lock(&lock);
    stop = 1;
    pthread_mutex_unlock(&lock);
    for (int i = 0; i < WORKERS; i++)
        pthread_join(w[i].thread, NULL);
    wb_collect(WB_COLLECT_FULL);
    for (int i = 0; i < 20000; i++)
        ((struct node *)wb_malloc(sizeof(struct node)))->id = UINT64_MAX;
    int bad = 0;
    for (int i = 0; i < WORKERS; i++) {
        uint64_t n = 0, sum = 0;
        for (struct node *p = w[i].kept; p; p = p->next) {
            n++, sum += p->id;
            bad += p->writes == 0 || p->writes > w[i].rounds;
        }
        bad += n != w[i].n_kept || sum != w[i].id_sum;
    }
    struct wb_stats s;
    wb_get_stats(&s);
    printf("barrier %s: %d threads, %d explicit collections each stopping %d threads (%d stops), "
           "%llu young + %llu full collections in all, %llu barrier faults, kept lists %s\n",
           wb_barrier_name(), WORKERS, COLLECTIONS, WORKERS, COLLECTIONS * WORKERS,
           (unsigned long long)s.young_collections, (unsigned long long)s.full_collections,
           (unsigned long long)s.barrier_faults, bad ? "DAMAGED" : "intact");
    return bad != 0;
}
