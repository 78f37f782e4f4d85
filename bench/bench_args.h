/* Command-line options of the benchmark programs: "--name N" pairs of whole numbers.
 * SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef WBRT_BENCH_ARGS_H
#define WBRT_BENCH_ARGS_H

#include <stdlib.h>
#include <string.h>

struct bench_opt {
    const char *name;     /* "--old-mb" */
    unsigned long *dst;
};

/* Stores each "--name N" of argv into its option's dst.  0, or -1 for an unknown option,
 * a missing value, or a value that is not a whole number. */
static inline int bench_args(int argc, char **argv, const struct bench_opt *opts, size_t n)
{
    for (int i = 1; i < argc; i++) {
        size_t k = 0;
        while (k < n && strcmp(argv[i], opts[k].name) != 0)
            k++;
        if (k == n || i + 1 >= argc)
            return -1;
        char *end;
        *opts[k].dst = strtoul(argv[++i], &end, 0);
        if (*argv[i] == '\0' || *end != '\0')
            return -1;
    }
    return 0;
}

#endif
