/* soak: runs the randomized mutator in each configuration (tenure age 0 and 2, one and
 * eight mutator threads), each in a fresh process with its own wb_init, and prints what
 * it checked.  It prints its seed first; --seed S replays it (a failure prints the whole
 * command).  Usage in docs/testing.md, "Soak test".  SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "soak.h"

#define SOAK_CAP_ALONE 4096      /* model objects of a single mutator */
#define SOAK_CAP_SHARED 1024     /* ... of each of several */
/* A full collection may keep what stale stack words point to (measured: a few objects
 * in ten thousand): a leak is more. */
#define SOAK_LEAK_SLACK (2u << 20)
/* A phase ends when its time is up and not before it made this much progress, so that a
 * slow machine runs longer instead of checking little (a stalled one meets ctest's TIMEOUT). */
#define SOAK_MIN_STEPS 1000      /* per mutator thread */
#define SOAK_MIN_YOUNG 1         /* young collections */
#define SOAK_MIN_LEAK_CHECKS 2   /* full collections with every thread parked */

struct soak_config soak_cfg;

static void *g_roots[SOAK_THREADS_MAX][SOAK_ROOTS];   /* a global: the collector scans it */
static struct soak_thread *g_thread[SOAK_THREADS_MAX];
static pthread_barrier_t g_barrier;
static unsigned g_sync;                               /* bumped by thread 0 to gather all */
static int g_stop;
static double g_start, g_next_sync, g_next_progress, g_sync_every, g_progress_every;
static int g_leak_checks;
static double g_worst_ratio;                          /* live bytes / model bytes, after full */

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

void soak_fail(const struct soak_thread *t, const char *fmt, ...)
{
    va_list ap;

    flockfile(stderr);
    fprintf(stderr, "soak: FAIL barrier=%s tenure=%d threads=%d seed=%llu thread=%d step=%llu: ",
            soak_cfg.barrier, soak_cfg.tenure, soak_cfg.threads, (unsigned long long)soak_cfg.seed,
            t ? t->index : -1, t ? (unsigned long long)t->n.steps : 0ull);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nsoak: reproduce: WBRT_BARRIER=%s WBRT_VERIFY=%s %s --phase %d,%d --seed %llu --seconds %g\n",
            soak_cfg.barrier, getenv("WBRT_VERIFY") ? getenv("WBRT_VERIFY") : "0", soak_cfg.argv0,
            soak_cfg.tenure, soak_cfg.threads, (unsigned long long)soak_cfg.seed, soak_cfg.seconds);
    funlockfile(stderr);
    abort();
}

static void sum_counts(struct soak_counts *sum)
{
    memset(sum, 0, sizeof *sum);
    for (int i = 0; i < soak_cfg.threads; i++) {
        const uint64_t *a = (const uint64_t *)&g_thread[i]->n;
        uint64_t *s = (uint64_t *)sum;
        for (size_t k = 0; k < sizeof *sum / sizeof(uint64_t); k++)
            s[k] += a[k];
    }
}

/* With every mutator parked: a full collection, then what it kept against the models
 * (a leak check) and whether the objects they dropped were reclaimed. */
static void leak_check(struct soak_thread *t)
{
    struct wb_stats s;
    uint64_t model = soak_hub_bytes();

    wbt_scrub_stack();
    wb_collect(WB_COLLECT_FULL);
    wb_get_stats(&s);
    for (int i = 0; i < soak_cfg.threads; i++) {
        model += soak_model_bytes(g_thread[i]);
        soak_model_check_dead(g_thread[i]);
    }
    double ratio = (double)s.live_bytes / (double)(model ? model : 1);
    if (ratio > g_worst_ratio)
        g_worst_ratio = ratio;
    g_leak_checks++;
    if (s.live_bytes > model + model / 4 + SOAK_LEAK_SLACK)
        soak_fail(t, "leak: a full collection kept %llu bytes, the models reach %llu",
                  (unsigned long long)s.live_bytes, (unsigned long long)model);
}

static int model_objects(void)
{
    int n = 0;

    for (int i = 0; i < soak_cfg.threads; i++)
        n += g_thread[i]->count;
    return n;
}

static void progress(double t_now)
{
    struct soak_counts c;
    struct wb_stats s;

    sum_counts(&c);
    wb_get_stats(&s);
    printf("soak: progress tenure=%d threads=%d t=%.0fs steps=%llu checked=%llu young=%llu "
           "full=%llu model_objects=%d heap_mib=%llu\n",
           soak_cfg.tenure, soak_cfg.threads, t_now - g_start, (unsigned long long)c.steps,
           (unsigned long long)c.checked, (unsigned long long)s.young_collections,
           (unsigned long long)s.full_collections, model_objects(),
           (unsigned long long)(s.heap_bytes >> 20));
    fflush(stdout);
}

/* Thread 0, every thread parked: has this phase made its minimum progress? */
static int progress_made(void)
{
    struct wb_stats s;

    wb_get_stats(&s);
    for (int i = 0; i < soak_cfg.threads; i++)
        if (g_thread[i]->n.steps < SOAK_MIN_STEPS)
            return 0;
    return s.young_collections >= SOAK_MIN_YOUNG && g_leak_checks >= SOAK_MIN_LEAK_CHECKS;
}

/* Every thread comes here when thread 0 bumps g_sync; returns 1 when the run is over. */
static int gather(struct soak_thread *t)
{
    pthread_barrier_wait(&g_barrier);
    if (t->index == 0) {
        double n = now();
        leak_check(t);
        if (g_progress_every > 0 && n >= g_next_progress) {
            progress(n);
            g_next_progress = n + g_progress_every;
        }
        g_stop = n - g_start >= soak_cfg.seconds && progress_made();
        g_next_sync = n + g_sync_every;
    }
    pthread_barrier_wait(&g_barrier);
    soak_check_all(t);
    return g_stop;
}

static void *mutate(void *arg)
{
    struct soak_thread *t = arg;
    unsigned seen = 0;
    struct wb_stats s;

    for (;;) {
        soak_step(t);
        /* After every collection (any thread's), everything this thread keeps. */
        wb_get_stats(&s);
        if (s.young_collections + s.full_collections != t->collections_seen) {
            t->collections_seen = s.young_collections + s.full_collections;
            soak_check_all(t);
        }
        if (t->index == 0 && (t->n.steps & 63) == 0 && now() >= g_next_sync)
            __atomic_add_fetch(&g_sync, 1, __ATOMIC_RELEASE);
        if (__atomic_load_n(&g_sync, __ATOMIC_ACQUIRE) != seen) {
            seen++;
            if (gather(t))
                return NULL;
        }
    }
}

/* One configuration, in this process. */
static int run_phase(void)
{
    int n = soak_cfg.threads;
    pthread_t tid[SOAK_THREADS_MAX];
    struct soak_counts c;
    struct wb_stats s;

    char tenure[16];

    snprintf(tenure, sizeof tenure, "%d", soak_cfg.tenure);
    setenv("WBRT_TENURE_AGE", tenure, 1);
    /* Small generations: many collections, each checked (the caller's settings win). */
    setenv("WBRT_YOUNG_BYTES", "512K", 0);
    setenv("WBRT_FULL_MIN", "4M", 0);
    wbt_init();   /* prints SKIPPED and exits 77 if the forced barrier is unavailable */
    soak_cfg.barrier = wb_barrier_name();
    soak_hub_init();
    pthread_barrier_init(&g_barrier, NULL, (unsigned)n);
    for (int i = 0; i < n; i++) {
        g_thread[i] = malloc(sizeof *g_thread[i]);
        if (g_thread[i] == NULL)
            soak_fail(NULL, "out of memory");
        soak_model_init(g_thread[i], i, soak_splitmix(&(uint64_t){ soak_cfg.seed ^ (uint64_t)i << 56 }),
                        n == 1 ? SOAK_CAP_ALONE : SOAK_CAP_SHARED, g_roots[i]);
    }
    g_start = now();
    g_sync_every = soak_cfg.seconds / 4 < 1.0 ? soak_cfg.seconds / 4 : 1.0;
    g_next_sync = g_start + g_sync_every;
    g_next_progress = g_start + g_progress_every;
    if (n == 1) {
        mutate(g_thread[0]);
    } else {
        for (int i = 0; i < n; i++)
            if ((errno = pthread_create(&tid[i], NULL, mutate, g_thread[i])) != 0)
                soak_fail(NULL, "pthread_create: %s", strerror(errno));
        for (int i = 0; i < n; i++)
            pthread_join(tid[i], NULL);
    }
    sum_counts(&c);
    wb_get_stats(&s);
    printf("soak: done barrier=%s tenure=%d threads=%d seed=%llu seconds=%.1f steps=%llu "
           "checked=%llu young=%llu full=%llu frees=%llu reallocs=%llu allocs=%llu large=%llu "
           "links=%llu unlinks=%llu published=%llu adopted=%llu leak_checks=%d "
           "model_objects=%d worst_live_over_model=%.2f dead_sampled=%llu dead_retained=%llu allocated_mib=%llu "
           "peak_heap_mib=%llu\n",
           soak_cfg.barrier, soak_cfg.tenure, n, (unsigned long long)soak_cfg.seed,
           now() - g_start, (unsigned long long)c.steps, (unsigned long long)c.checked,
           (unsigned long long)s.young_collections, (unsigned long long)s.full_collections,
           (unsigned long long)c.frees, (unsigned long long)c.reallocs,
           (unsigned long long)c.allocs, (unsigned long long)c.large,
           (unsigned long long)c.links, (unsigned long long)c.unlinks,
           (unsigned long long)c.published, (unsigned long long)c.adopted, g_leak_checks,
           model_objects(), g_worst_ratio, (unsigned long long)c.dead_sampled,
           (unsigned long long)c.dead_retained, (unsigned long long)(s.bytes_allocated >> 20),
           (unsigned long long)(s.peak_heap_bytes >> 20));
    /* Reclamation: most of what the models dropped is gone after full collections. */
    if (c.dead_retained * 10 > c.dead_sampled + 64)
        soak_fail(NULL, "%llu of %llu sampled unreachable objects survived full collections",
                  (unsigned long long)c.dead_retained, (unsigned long long)c.dead_sampled);
    return 0;
}

/* The value after key= in line, or 0. */
static unsigned long long field(const char *line, const char *key)
{
    const char *p = strstr(line, key);

    return p ? strtoull(p + strlen(key), NULL, 10) : 0;
}

/* Runs one configuration in a fresh process, copies its output, adds up its figures.
 * Returns its exit status (77: the barrier is unavailable). */
static int spawn_phase(int tenure, int threads, double seconds, unsigned long long *sum)
{
    static const char *const keys[] = { "steps=", "checked=", "young=", "full=", "frees=",
                                        "reallocs=" };
    char buf[4096], phase[32], seed_s[32], secs[32], prog[32];
    int fd[2], status;
    FILE *in;

    snprintf(phase, sizeof phase, "%d,%d", tenure, threads);
    snprintf(seed_s, sizeof seed_s, "%llu", (unsigned long long)soak_cfg.seed);
    snprintf(secs, sizeof secs, "%g", seconds);
    snprintf(prog, sizeof prog, "%g", g_progress_every);
    if (pipe(fd) != 0) {
        perror("soak: pipe");
        return 1;
    }
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        perror("soak: fork");
        return 1;
    }
    if (pid == 0) {
        dup2(fd[1], STDOUT_FILENO);
        dup2(fd[1], STDERR_FILENO);
        close(fd[0]);
        close(fd[1]);
        execl("/proc/self/exe", soak_cfg.argv0, "--phase", phase, "--seed", seed_s, "--seconds",
              secs, "--progress", prog, (char *)NULL);
        fprintf(stderr, "soak: exec /proc/self/exe: %s\n", strerror(errno));
        _exit(127);
    }
    close(fd[1]);
    in = fdopen(fd[0], "r");
    while (fgets(buf, sizeof buf, in) != NULL) {
        fputs(buf, stdout);
        fflush(stdout);
        if (strncmp(buf, "soak: done ", 11) == 0)
            for (size_t k = 0; k < sizeof keys / sizeof *keys; k++)
                sum[k] += field(buf, keys[k]);
    }
    fclose(in);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    printf("soak: tenure=%d threads=%d died of signal %d\n", tenure, threads, WTERMSIG(status));
    return 1;
}

static void usage(const char *argv0)
{
    fprintf(stderr,
            "usage: %s [--seconds N] [--seed S] [--threads N] [--progress N] [--soak]\n"
            "  runs tenure age 0 and 2, 1 and N (default 8) mutator threads, N/4 seconds each\n"
            "  --soak: 4 hours unless --seconds says otherwise, a progress line every 60 s\n"
            "  a configuration runs on past its time until each thread did %d steps, with\n"
            "  %d young collection(s) and %d leak checks\n"
            "  --phase TENURE,THREADS: that one configuration, in this process\n",
            argv0, SOAK_MIN_STEPS, SOAK_MIN_YOUNG, SOAK_MIN_LEAK_CHECKS);
    exit(2);
}

int main(int argc, char **argv)
{
    double seconds = 30;
    int soak = 0, seconds_given = 0, threads = 8, tenure = -1, phase_threads = 0;
    unsigned long long sum[6] = { 0 };
    int failed = 0, skipped = 0;

    soak_cfg.argv0 = argv[0];
    soak_cfg.seed = soak_splitmix(&(uint64_t){ (uint64_t)time(NULL) ^ (uint64_t)getpid() << 32 }) % 1000000000;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--soak") == 0) {
            soak = 1;
            continue;
        }
        if (v == NULL)
            usage(argv[0]);
        i++;
        if (strcmp(a, "--seconds") == 0 && (seconds = atof(v)) > 0)
            seconds_given = 1;
        else if (strcmp(a, "--seed") == 0)
            soak_cfg.seed = strtoull(v, NULL, 10);
        else if (strcmp(a, "--threads") == 0 && (threads = atoi(v)) >= 2 && threads <= SOAK_THREADS_MAX)
            ;
        else if (strcmp(a, "--progress") == 0)
            g_progress_every = atof(v);
        else if (strcmp(a, "--phase") == 0 && sscanf(v, "%d,%d", &tenure, &phase_threads) == 2 &&
                 tenure >= 0 && phase_threads >= 1 && phase_threads <= SOAK_THREADS_MAX)
            ;
        else
            usage(argv[0]);
    }
    if (soak) {
        if (!seconds_given)
            seconds = 4 * 3600;
        if (g_progress_every <= 0)
            g_progress_every = 60;
    }
    soak_cfg.seconds = seconds;
    if (tenure >= 0) {
        soak_cfg.tenure = tenure;
        soak_cfg.threads = phase_threads;
        return run_phase();
    }

#ifdef WB_SOFT_BARRIER
    soak_cfg.barrier = WBT_STR(WB_SOFT_BARRIER);
#else
    soak_cfg.barrier = getenv("WBRT_BARRIER") ? getenv("WBRT_BARRIER") : "auto";
#endif
    printf("soak: seed %llu, %g s over 4 configurations, barrier %s\n",
           (unsigned long long)soak_cfg.seed, seconds, soak_cfg.barrier);
    for (int k = 0; k < 4; k++) {
        int st = spawn_phase(k < 2 ? 0 : 2, k % 2 ? threads : 1, seconds / 4, sum);
        if (st == WBT_SKIP && k == 0) {
            skipped = 1;
            break;
        }
        if (st != 0) {
            printf("soak: tenure=%d threads=%d FAILED (exit %d)\n", k < 2 ? 0 : 2,
                   k % 2 ? threads : 1, st);
            failed = 1;
        }
    }
    if (skipped)
        return WBT_SKIP;
    printf("soak: total barrier=%s seed=%llu configurations=4 steps=%llu objects_checked=%llu "
           "collections_survived=%llu young + %llu full frees=%llu reallocs=%llu %s\n",
           soak_cfg.barrier, (unsigned long long)soak_cfg.seed, sum[0], sum[1], sum[2], sum[3],
           sum[4], sum[5], failed ? "FAILED" : "ok");
    return failed;
}
