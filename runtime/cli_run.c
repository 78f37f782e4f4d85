/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `wbrt run [options] -- program args`: finds libwbrt-preload.so, sets LD_PRELOAD and the
 * WBRT_* variables, runs the program and passes its exit status or signal through.
 * Statistics come back through a file this command creates (0600, O_EXCL) and names in
 * WBRT_STATS_FILE: every process of the program's tree that loaded the preload appends one
 * JSON line to it at exit; they are summed here.
 * Design: docs/design/preload.md */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "cli_run.h"
#include "cli_stats.h"

void cli_run_usage(FILE *out)
{
    fprintf(out,
            "usage: wbrt run [--barrier B] [--mode gc|leak|stats] [--stats[=FILE]] [--leak-signal SIG]\n"
            "                [--young SIZE] [--verify] [--as-libgc] -- PROGRAM [ARGS...]\n"
            "  runs PROGRAM with wbrt's malloc (libwbrt-preload.so) in place of glibc's:\n"
            "  --barrier B        WBRT_BARRIER (default auto)\n"
            "  --mode M           gc: free() honoured, lost memory collected (default);\n"
            "                     leak: nothing reclaimed, unreachable blocks reported at exit;\n"
            "                     stats: plain allocation, heap pages written per interval\n"
            "  --stats            collections, pauses, dirty pages, faults, pages scanned, hot pages,\n"
            "                     peak heap, RSS on stderr\n"
            "  --stats=FILE       the same as JSON into FILE\n"
            "  --leak-signal SIG  leak mode: also report when the program gets SIG (e.g. USR2)\n"
            "  --young SIZE       WBRT_YOUNG_BYTES\n"
            "  --verify           WBRT_VERIFY=1\n"
            "  --as-libgc         no preload: a program linked with libgc.so.1 (bdwgc) gets wbrt's\n"
            "                     libgc.so.1 through LD_LIBRARY_PATH (gc mode only, no --stats)\n"
            "The exit status is the program's, or 128+N if signal N killed it (re-raised first).\n");
}

static int fail(const char *fmt, const char *arg)
{
    fprintf(stderr, "wbrt run: ");
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    return 2;
}

/* A library next to this executable (build tree), or in wbrt's private library directory
 * (installed: WBRT_PRIVATE_FROM_BIN, relative to bin/): name is "libwbrt-preload.so" or
 * "gc-compat/libgc.so.1". */
static int find_library(const char *name, char *out, size_t len)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return -1;
    self[n] = 0;
    char *slash = strrchr(self, '/');
    *slash = 0;
    const char *candidates[] = {"%s/%s", "%s/" WBRT_PRIVATE_FROM_BIN "/%s"};
    for (size_t i = 0; i < 2; i++) {
        int w = snprintf(out, len, candidates[i], self, name);
        if (w > 0 && (size_t)w < len && access(out, R_OK) == 0)
            return 0;
    }
    return -1;
}

static pid_t child;

static void forward(int sig)
{
    if (child > 0)
        kill(child, sig);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int cli_run(int argc, char **argv)
{
    const char *mode = "gc", *stats_out = NULL, *barrier = NULL, *leak_signal = NULL, *young = NULL;
    int want_stats = 0, verify = 0, as_libgc = 0, i;
    for (i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        }
        if (a[0] != '-')
            break;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            cli_run_usage(stdout);
            return 0;
        } else if (strcmp(a, "--stats") == 0) {
            want_stats = 1;
        } else if (strncmp(a, "--stats=", 8) == 0) {
            want_stats = 1;
            stats_out = a + 8;
        } else if (strcmp(a, "--verify") == 0) {
            verify = 1;
        } else if (strcmp(a, "--as-libgc") == 0) {
            as_libgc = 1;
        } else if (i + 1 < argc && (strcmp(a, "--barrier") == 0 || strcmp(a, "--mode") == 0 ||
                                    strcmp(a, "--leak-signal") == 0 || strcmp(a, "--young") == 0)) {
            const char **slot = a[2] == 'b' ? &barrier : a[2] == 'm' ? &mode : a[2] == 'l' ? &leak_signal : &young;
            *slot = argv[++i];
        } else {
            cli_run_usage(stderr);
            return fail("unknown option '%s'", a);
        }
    }
    if (i >= argc) {
        cli_run_usage(stderr);
        return fail("%s", "no program given");
    }
    if (strcmp(mode, "gc") && strcmp(mode, "leak") && strcmp(mode, "stats"))
        return fail("--mode %s is invalid: expected gc, leak or stats", mode);
    if (leak_signal && strcmp(mode, "leak"))
        return fail("%s", "--leak-signal needs --mode leak");

    /* With --as-libgc the collector is the program's libgc.so.1, not a preload: the two
     * would be two collectors in one process.  The statistics channel and the other modes
     * are the preload's. */
    if (as_libgc && (strcmp(mode, "gc") || want_stats))
        return fail("%s", "--as-libgc takes neither --mode leak|stats nor --stats (they are the preload's)");
    const char *name = as_libgc ? "gc-compat/libgc.so.1" : "libwbrt-preload.so";
    const char *var = as_libgc ? "LD_LIBRARY_PATH" : "LD_PRELOAD";
    char lib[PATH_MAX + 32], paths[2 * PATH_MAX];
    if (find_library(name, lib, sizeof lib) != 0)
        return fail("cannot find %s next to the wbrt executable", name);
    if (as_libgc)
        *strrchr(lib, '/') = 0; /* LD_LIBRARY_PATH names the directory */
    const char *old = getenv(var);
    snprintf(paths, sizeof paths, "%s%s%s", lib, old && *old ? ":" : "", old ? old : "");
    setenv(var, paths, 1);
    if (!as_libgc)
        setenv("WBRT_MODE", mode, 1);
    if (barrier)
        setenv("WBRT_BARRIER", barrier, 1);
    if (young)
        setenv("WBRT_YOUNG_BYTES", young, 1);
    if (verify)
        setenv("WBRT_VERIFY", "1", 1);
    if (leak_signal)
        setenv("WBRT_LEAK_SIGNAL", leak_signal, 1);

    char tmp[PATH_MAX];
    int stats_fd = -1;
    if (want_stats) {
        const char *dir = getenv("TMPDIR");
        snprintf(tmp, sizeof tmp, "%s/wbrt-stats-XXXXXX", dir && *dir ? dir : "/tmp");
        if ((stats_fd = mkostemp(tmp, O_CLOEXEC)) < 0) /* 0600, O_EXCL */
            return fail("cannot create a statistics file: %s", strerror(errno));
        setenv("WBRT_STATS_FILE", tmp, 1);
    }

    /* Like system(): a terminal's SIGINT/SIGQUIT reach the program directly; others that
     * are sent to us are passed on. */
    signal(SIGINT, SIG_IGN);
    signal(SIGQUIT, SIG_IGN);
    const int passed[] = {SIGTERM, SIGHUP, SIGUSR1, SIGUSR2, SIGALRM};
    double t0 = now_s();
    child = fork();
    if (child < 0)
        return fail("fork: %s", strerror(errno));
    if (child == 0) {
        signal(SIGINT, SIG_DFL);
        signal(SIGQUIT, SIG_DFL);
        execvp(argv[i], argv + i);
        fprintf(stderr, "wbrt run: cannot run %s: %s\n", argv[i], strerror(errno));
        _exit(127);
    }
    for (size_t k = 0; k < sizeof passed / sizeof passed[0]; k++)
        signal(passed[k], forward);
    int status;
    struct rusage ru;
    while (wait4(child, &status, 0, &ru) < 0)
        if (errno != EINTR)
            return fail("wait: %s", strerror(errno));
    double wall = now_s() - t0;
    if (stats_fd >= 0) {
        cli_stats_report(stats_fd, stats_out, argv[i], wall, ru.ru_maxrss, status);
        close(stats_fd);
        unlink(tmp);
    }
    if (WIFSIGNALED(status)) {
        int sig = WTERMSIG(status);
        signal(sig, SIG_DFL);
        struct rlimit no_core = {0, 0};
        setrlimit(RLIMIT_CORE, &no_core); /* the program already dumped one if it could */
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, sig);
        sigprocmask(SIG_UNBLOCK, &set, NULL);
        raise(sig);
        return 128 + sig;
    }
    return WEXITSTATUS(status);
}
