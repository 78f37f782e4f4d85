/* Fixed costs of the preload, paid by every process: start-up time (/bin/true, plain and
 * with LD_PRELOAD, interleaved run by run) and the extra peak RSS of a program that
 * allocates 1 MiB in 1 KiB blocks.  usage: preload_fixed_costs LIBWBRT-PRELOAD.SO [--runs N]
 * (issue 19's target: at most 2 MiB of extra RSS).
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "bench_args.h"

extern char **environ;

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* Runs argv with environ plus preload (if not NULL) as LD_PRELOAD; its wall time in
 * microseconds, and its peak RSS in KiB in *rss_kib. */
static double run(char *const argv[], const char *preload, long *rss_kib)
{
    size_t n = 0;
    while (environ[n])
        n++;
    char **env = calloc(n + 2, sizeof *env), ld[4096];
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "LD_PRELOAD=", 11) != 0)
            env[k++] = environ[i];
    if (preload) {
        snprintf(ld, sizeof ld, "LD_PRELOAD=%s", preload);
        env[k++] = ld;
    }
    double t0 = now_us();
    pid_t pid;
    int status;
    struct rusage ru;
    if (posix_spawn(&pid, argv[0], NULL, NULL, argv, env) != 0 || wait4(pid, &status, 0, &ru) != pid ||
        !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "preload_fixed_costs: %s failed%s\n", argv[0], preload ? " under the preload" : "");
        exit(1);
    }
    double t = now_us() - t0;
    free(env);
    *rss_kib = ru.ru_maxrss;
    return t;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp);
    return v[n / 2];
}

/* The child of the RSS measure: 1 MiB in 1 KiB blocks, each written. */
static int allocate_1mib(void)
{
    for (int i = 0; i < 1024; i++) {
        char *volatile p = malloc(1024);
        if (!p)
            return 1;
        memset(p, i, 1024);
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--allocate-1mib") == 0)
        return allocate_1mib();
    unsigned long runs = 200;
    const struct bench_opt opts[] = { { "--runs", &runs } };
    if (argc < 2 || argv[1][0] == '-' || bench_args(argc - 1, argv + 1, opts, 1) != 0 || runs == 0) {
        fprintf(stderr, "usage: preload_fixed_costs LIBWBRT-PRELOAD.SO [--runs N]\n");
        return 2;
    }
    const char *lib = argv[1];
    char *true_argv[] = { "/bin/true", NULL };
    char self[4096];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (len < 0)
        return 1;
    self[len] = '\0';
    char *alloc_argv[] = { self, "--allocate-1mib", NULL };
    double *plain = calloc(runs, sizeof *plain), *pre = calloc(runs, sizeof *pre);
    double *rss_plain = calloc(runs, sizeof *plain), *rss_pre = calloc(runs, sizeof *pre);
    long rss;
    for (unsigned long i = 0; i < runs; i++) {
        plain[i] = run(true_argv, NULL, &rss);
        pre[i] = run(true_argv, lib, &rss);
        run(alloc_argv, NULL, &rss);
        rss_plain[i] = (double)rss;
        run(alloc_argv, lib, &rss);
        rss_pre[i] = (double)rss;
    }
    double tp = median(plain, runs), tw = median(pre, runs);
    double mp = median(rss_plain, runs), mw = median(rss_pre, runs);
    printf("start-up (/bin/true, median of %lu): glibc %.0f us, preload %.0f us, extra %.0f us\n", runs, tp, tw,
           tw - tp);
    printf("peak RSS allocating 1 MiB (median): glibc %.0f KiB, preload %.0f KiB, extra %.0f KiB\n", mp, mw,
           mw - mp);
    return 0;
}
