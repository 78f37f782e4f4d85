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

/* In a target that calls wb_init: LeakSanitizer's scan at exit then reports one 32-byte
 * object of libFuzzer's own main() as leaked (not understood yet: a plain ASan program that
 * calls wb_init shows nothing).  Such a target's objects are the collector's, not malloc's. */
#define FUZZ_NO_LEAK_CHECK                                        \
    const char *__asan_default_options(void);                     \
    const char *__asan_default_options(void) { return "detect_leaks=0"; }

#endif
