/* Perm space bench: starting from a heap image against rebuilding the same heap, and the
 * memory of processes that share one image against processes with private heaps.
 *   start:  a fresh process (fork + exec) times wb_perm_load of the image (validation with
 *           the checksum of the whole file included; the file is in the page cache) plus
 *           one walk of the heap, against building the same list of objects plus one walk.
 *   memory: N processes each load the image (or build the heap) and walk it all, then
 *           wait; the sum of their Pss (/proc/PID/smaps_rollup) is read while they wait.
 * Prints the median and range of the runs of each, side by side.
 * Usage: perm_image [MiB] [runs] [processes] [dir]   (default 256 5 8 /tmp)
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "wbrt.h"

#define MAX_RUNS 32
#define MAX_PROCS 64

struct node {
    struct node *next;
    uint64_t id;
    uint64_t pad[6];    /* 64 bytes: one size class, the whole heap in nodes */
};

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void die(const char *what)
{
    fprintf(stderr, "perm_image: %s: %s (%s)\n", what, strerror(errno), wb_last_error());
    exit(1);
}

static struct node *build(size_t mib)
{
    struct node *head = NULL;
    size_t n = (mib << 20) / sizeof(struct node);
    for (size_t i = 0; i < n; i++) {
        struct node *x = wb_malloc(sizeof *x);
        if (!x)
            die("wb_malloc");
        x->id = i;
        WB_STORE(x, next, head);
        head = x;
    }
    return head;
}

/* Reads every node: every page of the heap is mapped afterwards. */
static uint64_t walk(const struct node *n)
{
    uint64_t sum = 0;
    for (; n; n = n->next)
        sum += n->id;
    return sum;
}

/* In a fresh process: "load" or "build", prints the milliseconds to a usable, walked
 * heap; with hold, then waits on stdin (for the Pss reading) before exiting. */
static int child(const char *mode, const char *path, size_t mib, int hold)
{
    double t0 = now_ms();
    if (wb_init(NULL) != 0)
        die("wb_init");
    struct node *head;
    if (strcmp(mode, "load") == 0) {
        if (wb_perm_load(path) != 0)
            die("wb_perm_load");
        head = wb_perm_root(0);
    } else {
        head = build(mib);
    }
    uint64_t sum = walk(head);
    printf("%.3f %llu\n", now_ms() - t0, (unsigned long long)sum);
    fflush(stdout);
    if (hold) {
        char c;
        if (read(0, &c, 1) < 0)
            return 1;
    }
    return 0;
}

struct proc {
    pid_t pid;
    int to, from;       /* its stdin, its stdout */
};

static void spawn(struct proc *p, const char *mode, const char *path, size_t mib, int hold)
{
    int in[2], out[2];
    fflush(stdout);     /* or the child would print it again */
    if (pipe(in) || pipe(out))
        die("pipe");
    p->pid = fork();
    if (p->pid < 0)
        die("fork");
    if (p->pid == 0) {
        char m[32], h[4];
        snprintf(m, sizeof m, "%zu", mib);
        snprintf(h, sizeof h, "%d", hold);
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[1]);
        close(out[0]);
        execl("/proc/self/exe", "perm_image", "--child", mode, path, m, h, (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    p->to = in[1];
    p->from = out[0];
}

/* The child's report: milliseconds. */
static double report(struct proc *p)
{
    char buf[128];
    ssize_t n = read(p->from, buf, sizeof buf - 1);
    if (n <= 0) {
        fprintf(stderr, "perm_image: a child failed\n");
        exit(1);
    }
    buf[n] = 0;
    return atof(buf);
}

static void reap(struct proc *p)
{
    int st;
    close(p->to);
    close(p->from);
    if (waitpid(p->pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        fprintf(stderr, "perm_image: a child failed\n");
        exit(1);
    }
}

static long pss_kib(pid_t pid)
{
    char path[64], line[256];
    long kib = -1;
    snprintf(path, sizeof path, "/proc/%d/smaps_rollup", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        die(path);
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "Pss: %ld kB", &kib) == 1)
            break;
    fclose(f);
    return kib;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void stats(const char *what, double *v, int n, const char *unit)
{
    qsort(v, (size_t)n, sizeof *v, cmp);
    printf("  %-34s median %9.1f %s   (min %.1f, max %.1f, %d runs)\n", what, v[n / 2], unit, v[0],
           v[n - 1], n);
}

static double start_once(const char *mode, const char *path, size_t mib)
{
    struct proc p;
    spawn(&p, mode, path, mib, 0);
    double ms = report(&p);
    reap(&p);
    return ms;
}

/* Sum of the Pss of nproc processes that all hold the heap at once, in MiB. */
static double memory_once(const char *mode, const char *path, size_t mib, int nproc)
{
    struct proc p[MAX_PROCS];
    long kib = 0;
    for (int i = 0; i < nproc; i++)
        spawn(&p[i], mode, path, mib, 1);
    for (int i = 0; i < nproc; i++)
        report(&p[i]);
    for (int i = 0; i < nproc; i++)
        kib += pss_kib(p[i].pid);
    for (int i = 0; i < nproc; i++) {
        if (write(p[i].to, "x", 1) != 1)
            die("write");
        reap(&p[i]);
    }
    return kib / 1024.0;
}

int main(int argc, char **argv)
{
    if (argc == 6 && strcmp(argv[1], "--child") == 0)
        return child(argv[2], argv[3], strtoul(argv[4], NULL, 10), atoi(argv[5]));
    size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 256;
    int runs = argc > 2 ? atoi(argv[2]) : 5, nproc = argc > 3 ? atoi(argv[3]) : 8;
    const char *dir = argc > 4 ? argv[4] : "/tmp";
    if (mib == 0 || runs < 1 || runs > MAX_RUNS || nproc < 1 || nproc > MAX_PROCS) {
        fprintf(stderr, "usage: perm_image [MiB] [runs 1-%d] [processes 1-%d] [dir]\n", MAX_RUNS, MAX_PROCS);
        return 2;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/perm_image_bench.%d.img", dir, (int)getpid());

    /* The image: this process builds the heap and saves it. */
    double t0 = now_ms();
    if (wb_perm_set_root(0, build(mib)) != 0 || wb_perm_save(path) != 0)
        die("saving the image");
    printf("perm_image: %zu MiB of 64-byte objects, image %s saved in %.0f ms; barrier %s\n", mib, path,
           now_ms() - t0, wb_barrier_name());

    double load[MAX_RUNS], rebuild[MAX_RUNS], shared[MAX_RUNS], private[MAX_RUNS];
    for (int r = 0; r < runs; r++) {        /* alternated, so that drift hits both alike */
        load[r] = start_once("load", path, mib);
        rebuild[r] = start_once("build", path, mib);
    }
    printf("start to a usable heap (wb_init + load or build + one walk), fresh process:\n");
    stats("load the image", load, runs, "ms");
    stats("rebuild the heap", rebuild, runs, "ms");
    int m = runs < 3 ? runs : 3;
    for (int r = 0; r < m; r++) {
        shared[r] = memory_once("load", path, mib, nproc);
        private[r] = memory_once("build", path, mib, nproc);
    }
    printf("sum of Pss of %d processes holding the heap at once:\n", nproc);
    stats("sharing one image", shared, m, "MiB");
    stats("private heaps", private, m, "MiB");
    unlink(path);
    return 0;
}
