/* The wbrt command: version, help, and probing the kernel's barrier support.
 * Design: docs/design/api.md
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "barrier.h"
#include "cli_bench.h"
#include "cli_run.h"
#include "probe_report.h"
#include "wbrt.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: wbrt COMMAND\n"
            "\n"
            "commands:\n"
            "  probe        which write barriers this kernel and process can use, and why not\n"
            "  bench [--quick] [--workload W] [--barrier B] [--runs N] [--baseline B] [--out DIR]\n"
            "               every barrier and peer (bdwgc, malloc, jemalloc) side by side on the\n"
            "               benchmark workloads, with primitive costs and plots (bench --help)\n"
            "  run          run an unmodified program with wbrt's malloc (wbrt run --help)\n"
            "  --version    print the version\n"
            "  --help       print this help\n"
            "\n"
            "Programs linked with libwbrt read these settings from the environment:\n"
            "  WBRT_BARRIER=%s\n"
            "                            write barrier (default auto: the best kernel barrier available;\n"
            "                            card, ssb and remset only for programs compiled with\n"
            "                            -DWB_SOFT_BARRIER=card|ssb|remset, which then use that one)\n"
            "  WBRT_HEAP_MAX=SIZE        address space reserved for the heap (default 64G)\n"
            "  WBRT_YOUNG_BYTES=SIZE     allocation between young collections (default 16M)\n"
            "  WBRT_FULL_MIN=SIZE        old-generation growth always allowed before a full collection (default 8M)\n"
            "  WBRT_HEAP_GROWTH=PERCENT  old-generation growth, in %% of live bytes, that triggers a full collection (default 100)\n"
            "  WBRT_TENURE_AGE=N         young collections an object survives before it becomes old (default 0)\n"
            "  WBRT_MARK_STACK_MAX=N     mark stack entries before overflow recovery (default 16M)\n"
            "  WBRT_ON_BAD_FREE=abort|ignore  what a bad wb_free/wb_realloc does after its message (default abort)\n"
            "  WBRT_VERIFY=0|1           check barrier soundness at every collection (slow)\n"
            "  WBRT_VERBOSE=0|1          report the barrier choice and every collection on stderr\n"
            "  WBRT_STOP_SIGNAL=SIG      signal that stops threads for a collection: PWR (default), XCPU,\n"
            "                            USR1, USR2 or RTMIN+N\n"
            "SIZE is a number of bytes with an optional K, M, G or T suffix.\n", barrier_names());
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--version") == 0) {
        printf("wbrt %s\n", WBRT_VERSION);
        return 0;
    }
    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        usage(stdout);
        return 0;
    }
    if (argc == 2 && strcmp(argv[1], "probe") == 0) {
        barrier_probe_report(stdout);
        return 0;
    }
    if (argc >= 2 && strcmp(argv[1], "bench") == 0)
        return cli_bench(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "run") == 0)
        return cli_run(argc - 2, argv + 2);
    if (argc >= 2)
        fprintf(stderr, "wbrt: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
