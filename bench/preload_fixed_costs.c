/* Fixed costs of the preload, paid by every process: start-up wall and CPU time (/bin/true,
 * plain and with LD_PRELOAD, interleaved run by run) and the extra peak RSS of a program that
 * allocates 1 MiB in 1 KiB blocks.  usage: preload_fixed_costs LIBWBRT-PRELOAD.SO [--runs N]
 * (issue 19's target: at most 2 MiB of extra RSS).
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "bench_args.h"
#include "child_cost.h"

extern char **environ;

/* Runs argv with environ plus preload (if not NULL) as LD_PRELOAD: its wall and CPU
 * (user + system) times, and its peak RSS. */
static struct child_cost run(char *const argv[], const char *preload)
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
    struct child_cost c;
    if (child_cost_run(argv, env, NULL, &c) != 0 || !WIFEXITED(c.status) || WEXITSTATUS(c.status) != 0) {
        fprintf(stderr, "preload_fixed_costs: %s failed%s\n", argv[0], preload ? " under the preload" : "");
        exit(1);
    }
    free(env);
    return c;
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
    double *wall[2], *cpu[2], *rss[2];
    for (int k = 0; k < 2; k++) {
        wall[k] = calloc(runs, sizeof *wall[k]);
        cpu[k] = calloc(runs, sizeof *cpu[k]);
        rss[k] = calloc(runs, sizeof *rss[k]);
    }
    for (unsigned long i = 0; i < runs; i++)
        for (int k = 0; k < 2; k++) {     /* k = 0: glibc, 1: the preload */
            struct child_cost c = run(true_argv, k ? lib : NULL);
            wall[k][i] = c.wall_us;
            cpu[k][i] = c.cpu_us;
            rss[k][i] = run(alloc_argv, k ? lib : NULL).rss_kib;
        }
    double w0 = median(wall[0], runs), w1 = median(wall[1], runs);
    double c0 = median(cpu[0], runs), c1 = median(cpu[1], runs);
    double m0 = median(rss[0], runs), m1 = median(rss[1], runs);
    printf("start-up (/bin/true, median of %lu): glibc %.0f us, preload %.0f us, extra %.0f us\n", runs, w0, w1,
           w1 - w0);
    printf("start-up CPU (user + system, median): glibc %.0f us, preload %.0f us, extra %.0f us\n", c0, c1, c1 - c0);
    printf("peak RSS allocating 1 MiB (median): glibc %.0f KiB, preload %.0f KiB, extra %.0f KiB\n", m0, m1,
           m1 - m0);
    return 0;
}
