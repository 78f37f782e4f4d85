/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `wbrt probe`: which barriers this kernel and process can use, and why not.
 * Design: docs/design/barrier.md */
#ifndef WBRT_PROBE_REPORT_H
#define WBRT_PROBE_REPORT_H

#include <stdio.h>

/* One line per built backend ("uffd-async   available" or
 * "mprotect     unavailable: <reason>"), then "auto: <name>". */
void barrier_probe_report(FILE *out);

#endif
