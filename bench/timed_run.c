/* Runs a command and writes its wall time, CPU time and peak RSS to a file, as
 * /usr/bin/time -f '%e %U %S %M' would, but to the microsecond: time(1) prints seconds
 * to 10 ms, too coarse for runs of 0.2 s compared within a few per cent.  Wall time is
 * CLOCK_MONOTONIC around fork and wait; CPU time and peak RSS are the child's rusage
 * (wait4), which covers the descendants it waited for.
 * usage: timed_run OUT COMMAND [ARG...]; OUT gets "wall_s user_s sys_s maxrss_kib"; the
 * exit status is the command's (128 + N if signal N killed it, 127 if it did not start).
 * bench/libgc_clients compiles and uses it.
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double seconds(struct timeval tv) { return (double)tv.tv_sec + (double)tv.tv_usec / 1e6; }

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: timed_run OUT COMMAND [ARG...]\n");
        return 2;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid_t pid = fork();
    if (pid < 0) {
        perror("timed_run: fork");
        return 127;
    }
    if (pid == 0) {
        execvp(argv[2], argv + 2);
        fprintf(stderr, "timed_run: %s: ", argv[2]);
        perror(NULL);
        _exit(127);
    }
    int status;
    struct rusage ru;
    while (wait4(pid, &status, 0, &ru) < 0)
        if (errno != EINTR) {
            perror("timed_run: wait4");
            return 127;
        }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    FILE *out = fopen(argv[1], "w");
    if (!out || fprintf(out, "%.6f %.6f %.6f %ld\n",
                        (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
                        seconds(ru.ru_utime), seconds(ru.ru_stime), ru.ru_maxrss) < 0 || fclose(out) != 0) {
        perror("timed_run: OUT");
        return 127;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
