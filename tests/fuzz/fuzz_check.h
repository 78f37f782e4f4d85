/* What the fuzz targets share: a check that aborts (libFuzzer saves the input that made it
 * fail; the regression driver fails the test) and the libFuzzer entry point.
 * SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef WBRT_FUZZ_CHECK_H
#define WBRT_FUZZ_CHECK_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define FUZZ_CHECK(cond, ...)                                                     \
    do {                                                                          \
        if (!(cond)) {                                                            \
            fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                         \
            fputc('\n', stderr);                                                  \
            abort();                                                              \
        }                                                                         \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
