/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `wbrt bench`: runs the benchmark driver (bench/run) on this build.
 * Design: docs/design/api.md */
#ifndef WBRT_CLI_BENCH_H
#define WBRT_CLI_BENCH_H

/* argv[0] is "bench"; the rest are bench/run's options.  Returns only on failure (2). */
int cli_bench(int argc, char **argv);

#endif
