/* `wbrt bench [options]`: executes bench/run with this build directory, so the workloads
 * are the ones built with this wbrt (both paths are fixed when wbrt is built).
 * Design: docs/design/api.md
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include "cli_bench.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cli_bench(int argc, char **argv)
{
    /* bench/run [--build DIR] options..., NULL */
    char **args = calloc((size_t)argc + 4, sizeof *args);
    if (!args) {
        fprintf(stderr, "wbrt bench: out of memory\n");
        return 2;
    }
    int n = 0;
    args[n++] = (char *)WBRT_BENCH_SCRIPT;
    args[n++] = (char *)"--build";
    args[n++] = (char *)WBRT_BUILD_DIR;
    for (int i = 1; i < argc; i++)
        args[n++] = argv[i];
    execv(WBRT_BENCH_SCRIPT, args);
    fprintf(stderr, "wbrt bench: cannot run %s: %s (it comes with the source tree wbrt was built from)\n",
            WBRT_BENCH_SCRIPT, strerror(errno));
    free(args);
    return 2;
}
