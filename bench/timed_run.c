/* Times one program for bench/preload_programs, to the microsecond where /usr/bin/time reads
 * 10 ms: usage: timed_run -o FILE PROGRAM [ARG...]
 * Writes "WALL-SECONDS PEAK-RSS-KIB CPU-SECONDS" (CPU: user + system, with the descendants
 * the program reaped; peak RSS: the largest of them, as wait4 reports both) to FILE and exits
 * with the program's status (128 + N if signal N ended it).
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdio.h>
#include <string.h>
#include "child_cost.h"

extern char **environ;

int main(int argc, char **argv)
{
    if (argc < 4 || strcmp(argv[1], "-o") != 0) {
        fprintf(stderr, "usage: timed_run -o FILE PROGRAM [ARG...]\n");
        return 2;
    }
    FILE *out = fopen(argv[2], "we");   /* close-on-exec: not the program's */
    if (!out) {
        fprintf(stderr, "timed_run: cannot write %s\n", argv[2]);
        return 127;
    }
    struct child_cost c;
    if (child_cost_run(argv + 3, environ, NULL, &c) != 0) {
        fprintf(stderr, "timed_run: cannot run %s\n", argv[3]);
        return 127;
    }
    /* wall to 0.1 us, CPU to the 1 us rusage gives */
    fprintf(out, "%.7f %.0f %.6f\n", c.wall_us / 1e6, c.rss_kib, c.cpu_us / 1e6);
    if (fclose(out) != 0)
        return 127;
    return WIFEXITED(c.status) ? WEXITSTATUS(c.status) : 128 + WTERMSIG(c.status);
}
