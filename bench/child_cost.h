/* One child's cost as wait4 reports it, for the benchmarks that time whole programs.
 * SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef WBRT_BENCH_CHILD_COST_H
#define WBRT_BENCH_CHILD_COST_H

#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>

struct child_cost {
    double wall_us;   /* from the spawn to the reaping, CLOCK_MONOTONIC */
    double cpu_us;    /* user + system, with the descendants it reaped (microseconds) */
    double rss_kib;   /* the largest peak RSS of it and those descendants */
    int status;       /* as waitpid reports it */
};

static inline double child_cost_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* Runs argv (looked up in PATH) with env and file actions fa (may be NULL) and waits for it:
 * 0 with *out filled, or -1 if it could not be started. */
static inline int child_cost_run(char *const argv[], char *const env[], const posix_spawn_file_actions_t *fa,
                                 struct child_cost *out)
{
    double t0 = child_cost_now_us();
    pid_t pid;
    struct rusage ru;
    if (posix_spawnp(&pid, argv[0], fa, NULL, argv, env) != 0 || wait4(pid, &out->status, 0, &ru) != pid)
        return -1;
    out->wall_us = child_cost_now_us() - t0;
    out->cpu_us = ru.ru_utime.tv_sec * 1e6 + ru.ru_utime.tv_usec + ru.ru_stime.tv_sec * 1e6 + ru.ru_stime.tv_usec;
    out->rss_kib = (double)ru.ru_maxrss;
    return 0;
}

#endif
