/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Sums the per-process statistics lines the preload appended (see preload/stats_file.c).
 * Design: docs/design/api.md */
#include "cli_stats.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* The number after "key": in line, or 0. */
static double field(const char *line, const char *key)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\": ", key);
    const char *p = strstr(line, pat);
    return p ? strtod(p + strlen(pat), NULL) : 0;
}

static const char *const summed[] = {"young_collections", "full_collections", "pause_ms_total",
                                     "dirty_pages", "barrier_faults", "bytes_allocated",
                                     "pages_scanned", "hot_pages", "root_bytes", "unprotected_collections"};
#define NSUM (sizeof summed / sizeof summed[0])

void cli_stats_report(int fd, const char *out, const char *program, double wall_s, long rss_kib, int status)
{
    static char buf[1 << 20];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    buf[n > 0 ? n : 0] = 0;
    double sum[NSUM] = {0}, pause_max = 0, peak_heap = 0;
    int procs = 0;
    char barrier[32] = "?", mode[16] = "?";
    static char *lines[4096];
    for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
        if (procs < 4096)
            lines[procs] = line;
        procs++;
        for (size_t k = 0; k < NSUM; k++)
            sum[k] += field(line, summed[k]);
        if (field(line, "pause_ms_max") > pause_max)
            pause_max = field(line, "pause_ms_max");
        if (field(line, "peak_heap_bytes") > peak_heap)
            peak_heap = field(line, "peak_heap_bytes");
        sscanf(strstr(line, "\"barrier\": \"") ? strstr(line, "\"barrier\": \"") + 12 : "?", "%31[^\"]", barrier);
        sscanf(strstr(line, "\"mode\": \"") ? strstr(line, "\"mode\": \"") + 9 : "?", "%15[^\"]", mode);
    }
    char exit_text[32];
    if (WIFSIGNALED(status))
        snprintf(exit_text, sizeof exit_text, "signal %d", WTERMSIG(status));
    else
        snprintf(exit_text, sizeof exit_text, "%d", WEXITSTATUS(status));
    if (!out) {
        fprintf(stderr,
                "wbrt: %s (mode %s, barrier %s, %d process%s): %.0f young + %.0f full collections, "
                "pauses %.1f ms total / %.2f ms max, %.0f dirty pages, %.0f barrier faults, "
                "%.0f pages scanned, %.0f hot, %.0f collections unprotected, %.1f MiB of roots per young collection, "
                "peak heap %.1f MiB, "
                "peak RSS %.1f MiB, %.2f s, exit %s\n",
                program, mode, barrier, procs, procs == 1 ? "" : "es", sum[0], sum[1], sum[2], pause_max,
                sum[3], sum[4], sum[6], sum[7], sum[9], sum[0] ? sum[8] / sum[0] / 1048576 : 0, peak_heap / 1048576,
                rss_kib / 1024.0, wall_s, exit_text);
        return;
    }
    /* Like the shell's `>`, but 0600 and never through a symlink planted at FILE. */
    int out_fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    FILE *f = out_fd < 0 ? NULL : fdopen(out_fd, "w");
    if (!f) {
        perror(out);
        if (out_fd >= 0)
            close(out_fd);
        return;
    }
    fprintf(f, "{\"program\": \"%s\", \"mode\": \"%s\", \"barrier\": \"%s\", \"processes\": %d", program,
            mode, barrier, procs);
    for (size_t k = 0; k < NSUM; k++)
        fprintf(f, ", \"%s\": %.3f", summed[k], sum[k]);
    fprintf(f, ", \"pause_ms_max\": %.3f, \"peak_heap_bytes\": %.0f, \"peak_rss_kib\": %ld, "
               "\"wall_s\": %.3f, \"exit\": \"%s\", \"per_process\": [",
            pause_max, peak_heap, rss_kib, wall_s, exit_text);
    for (int k = 0; k < procs && k < 4096; k++)
        fprintf(f, "%s\n  %s", k ? "," : "", lines[k]);
    fprintf(f, "]}\n");
    fclose(f);
}
