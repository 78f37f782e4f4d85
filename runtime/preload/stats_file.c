/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The statistics channel to `wbrt run`: one JSON line per process, appended at exit to
 * the file it created.  A forked child starts its counters from zero, so that the lines
 * of a process tree add up.
 * Design: docs/design/preload.md */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "dirty_intervals.h"
#include "gc.h"
#include "preload_stats.h"

static const char *const mode_names[] = {"gc", "leak", "stats"};
static uint64_t faults_before_fork;

/* A fork child's line counts from the fork: the sums it reports restart; the figures the
 * policy reads (the young size, costs, the last collection's) carry over, as in a
 * library's child, so that a statistics file changes no collection.  Only that file reads
 * the sums: without one the child leaves G alone (a copy-on-write fault on its page in
 * every fork child). */
void preload_stats_forked(void)
{
    struct wb_stats *s = &G.stats;
    if (!*G.cfg.stats_file)
        return;
    s->young_collections = s->full_collections = s->pause_ns_total = s->pause_ns_max = 0;
    s->young_pause_ns_total = s->young_pause_ns_max = s->bytes_allocated = s->peak_heap_bytes = 0;
    s->dirty_pages_total = s->barrier_pages_total = s->pages_scanned_total = s->hot_pages_total = 0;
    s->root_bytes_total = s->unprotected_collections = 0;
    faults_before_fork = G.barrier ? G.barrier->faults() : 0;
}

void preload_write_stats(void)
{
    const char *path = G.cfg.stats_file;
    if (!*path)
        return;
    /* `wbrt run` made the file (0600, O_EXCL): never create one, never follow a symlink
     * planted in its place. */
    int fd = open(path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "wbrt: WBRT_STATS_FILE=%s: cannot append the statistics: %s\n", path, strerror(errno));
        return;
    }
    struct wb_stats s;
    wb_get_stats(&s);
    char line[2048];
    int n = snprintf(line, sizeof line,
                     "{\"pid\": %d, \"program\": \"%s\", \"mode\": \"%s\", \"barrier\": \"%s\", "
                     "\"young_collections\": %llu, \"full_collections\": %llu, \"pause_ms_total\": %.3f, "
                     "\"pause_ms_max\": %.3f, \"dirty_pages\": %llu, \"barrier_faults\": %llu, "
                     "\"peak_heap_bytes\": %llu, \"bytes_allocated\": %llu, \"pages_scanned\": %llu, "
                     "\"hot_pages\": %llu, \"fault_cost_ns\": %llu, \"scan_cost_ns\": %llu, "
                     "\"reprotect_cost_ns\": %llu, \"call_cost_ns\": %llu, \"root_bytes\": %llu, "
                     "\"clean_scan_cost_ns\": %llu, \"unprotected_collections\": %llu",
                     (int)getpid(), program_invocation_short_name, mode_names[preload_mode],
                     wb_barrier_name(), (unsigned long long)s.young_collections,
                     (unsigned long long)s.full_collections, s.pause_ns_total / 1e6, s.pause_ns_max / 1e6,
                     (unsigned long long)s.dirty_pages_total,
                     (unsigned long long)(s.barrier_faults - faults_before_fork),
                     (unsigned long long)s.peak_heap_bytes, (unsigned long long)s.bytes_allocated,
                     (unsigned long long)s.pages_scanned_total, (unsigned long long)s.hot_pages_total,
                     (unsigned long long)s.fault_cost_ns, (unsigned long long)s.scan_cost_ns,
                     (unsigned long long)s.reprotect_cost_ns, (unsigned long long)s.call_cost_ns,
                     (unsigned long long)s.root_bytes_total, (unsigned long long)s.clean_scan_cost_ns,
                     (unsigned long long)s.unprotected_collections);
    if (n > 0 && preload_mode == PRELOAD_STATS)
        n += dirty_intervals_json(line + n, sizeof line - (size_t)n - 2);
    if (n > 0 && (size_t)n < sizeof line - 2)
        n += snprintf(line + n, sizeof line - (size_t)n, "}\n");
    /* one write: lines of concurrent processes do not interleave (O_APPEND) */
    if (n > 0 && write(fd, line, (size_t)n) < 0)
        n = 0;
    close(fd);
}
