/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `wbrt run`: an unmodified program under libwbrt-preload.so.
 * Design: docs/design/preload.md */
#ifndef WBRT_CLI_RUN_H
#define WBRT_CLI_RUN_H

#include <stdio.h>

/* argv after "run"; returns the exit status for wbrt (the program's, or 128+signal). */
int cli_run(int argc, char **argv);
void cli_run_usage(FILE *out);

#endif
