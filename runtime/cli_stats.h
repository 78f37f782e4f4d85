/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `wbrt run --stats`: the preloaded processes' JSON lines, summed and reported.
 * Design: docs/design/api.md */
#ifndef WBRT_CLI_STATS_H
#define WBRT_CLI_STATS_H

/* fd: the statistics file (one JSON object per line, one line per process).  out: NULL
 * for a summary on stderr, else a file for a JSON report.  rss_kib: peak RSS of the
 * largest process (wait4); status: as from waitpid. */
void cli_stats_report(int fd, const char *out, const char *program, double wall_s, long rss_kib, int status);

#endif
