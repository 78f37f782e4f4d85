/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Stats mode: a thread of wbrt's samples the heap pages the program dirtied in each
 * interval of WBRT_STATS_INTERVAL milliseconds (G.cfg.stats_interval_ms).
 * Design: docs/design/preload.md */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "dirty_intervals.h"
#include "fork_page.h"
#include "gc.h"
#include "thread_spawn.h"
#include "vm.h"
#include "sys.h"

#define KEEP 100000   /* intervals kept (about 3 hours at 100 ms) */

static uint32_t *counts;
static size_t n_counts;
OS_FORK_PAGE static pthread_mutex_t record_lock = PTHREAD_MUTEX_INITIALIZER;

/* The pages dirtied since the last sample, as one more interval. */
static void sample(void)
{
    gc_inside++;
    size_t n = gc_sample_dirty();
    gc_inside--;
    pthread_mutex_lock(&record_lock);
    if (n_counts < KEEP) {
        counts[n_counts] = (uint32_t)n;
        __atomic_store_n(&n_counts, n_counts + 1, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&record_lock);
}

static void *sampler(void *unused)
{
    (void)unused;
    long ms = G.cfg.stats_interval_ms;
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    for (;;) {
        while (os_nanosleep(&ts, NULL) != 0 && errno == EINTR) {
        }
        sample();
    }
    return NULL;
}

/* Assigned, not pthread_mutex_init'ed: a call the parent never made would be bound by the
 * dynamic loader in every fork child, symbol lookup and page faults (bash, make). */
void dirty_intervals_forked(void)
{
    record_lock = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
}

void dirty_intervals_finish(void)
{
    if (counts)
        sample();
}

int dirty_intervals_start(char *why, size_t whylen)
{
    pthread_t t;
    gc_sample_dirty(); /* start tracking every page */
    if (!(counts = os_table(KEEP * sizeof *counts)) || os_thread_spawn(&t, sampler, NULL) != 0) {
        snprintf(why, whylen, "stats mode: cannot start the sampling thread");
        return -1;
    }
    return 0;
}

int dirty_intervals_json(char *buf, size_t len)
{
    size_t n = __atomic_load_n(&n_counts, __ATOMIC_ACQUIRE), shown = n < 200 ? n : 200;
    uint64_t max = 0, sum = 0;
    for (size_t i = 0; i < n; i++) {
        sum += counts[i];
        if (counts[i] > max)
            max = counts[i];
    }
    int w = snprintf(buf, len, ", \"interval_ms\": %ld, \"intervals\": %zu, \"dirty_per_interval_mean\": %.1f, "
                               "\"dirty_per_interval_max\": %llu, \"dirty_per_interval\": [",
                     G.cfg.stats_interval_ms, n, n ? (double)sum / n : 0.0, (unsigned long long)max);
    for (size_t i = 0; i < shown && w > 0 && (size_t)w < len; i++)
        w += snprintf(buf + w, len - (size_t)w, "%s%u", i ? ", " : "", counts[i]);
    if (w > 0 && (size_t)w < len)
        w += snprintf(buf + w, len - (size_t)w, "]");
    return w;
}
