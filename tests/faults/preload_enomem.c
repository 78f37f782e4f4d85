/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fault injection under the preload: a plain C program (malloc/calloc/realloc/free, no
 * wbrt API) run with libwbrt-preload.so and WBRT_HEAP_MAX=32M, with an RLIMIT_AS of its
 * own a little above that.  malloc until NULL: errno must be ENOMEM and every block kept
 * intact; impossible calloc/realloc requests give NULL + ENOMEM and leave the old block
 * alone; after it frees some blocks and simply drops others (the collector must find
 * those), malloc must work again.  wbt_preload_served only checks the blocks come from the
 * wbrt heap (if not, e.g. the barrier is unavailable here: exit 77, skipped, or failed if
 * WBRT_TEST_BARRIERS lists it). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include "../preload/served.h"

#define MAX 200000

static uint64_t *block[MAX];    /* globals: the program's own roots */
static size_t size[MAX];
static size_t n;
static int refusals;
/* Sizes the compiler cannot see (it would reject an overflowing calloc). */
static volatile size_t huge_count = SIZE_MAX / 16, gib = (size_t)1 << 30;

static size_t size_for(size_t i) { return i % 4 == 3 ? 40000 : 1000; }

/* Never a valid address (top bit set), so no payload word keeps garbage alive. */
static uint64_t word(size_t i, size_t w) { return (i * 0x9e3779b97f4a7c15u + w) | (1ull << 63); }

static int fill(void)
{
    size_t before = n;
    errno = 0;
    for (; n < MAX; n++) {
        size[n] = size_for(n);
        block[n] = malloc(size[n]);
        if (!block[n])
            break;
        for (size_t w = 0; w < size[n] / 8; w++)
            block[n][w] = word(n, w);
    }
    if (n == MAX || errno != ENOMEM) {
        printf("FAIL: malloc did not return NULL with ENOMEM (blocks %zu, errno %d)\n", n, errno);
        exit(1);
    }
    refusals++;
    return (int)(n - before);
}

static size_t check(void)
{
    size_t checked = 0;
    for (size_t i = 0; i < n; i++) {
        if (!block[i])
            continue;
        for (size_t w = 0; w < size[i] / 8; w++)
            if (block[i][w] != word(i, w)) {
                printf("FAIL: block %zu (%p) damaged at word %zu\n", i, (void *)block[i], w);
                exit(1);
            }
        checked++;
    }
    return checked;
}

static void expect_enomem(void *p, const char *what)
{
    if (p != NULL || errno != ENOMEM) {
        printf("FAIL: %s: %p, errno %d instead of NULL with ENOMEM\n", what, p, errno);
        exit(1);
    }
    refusals++;
}

int main(void)
{
    struct rlimit as = {(size_t)16 << 20, RLIM_INFINITY};   /* + the address space in use */
    char line[256];
    size_t vm_kb = 0;
    FILE *f = fopen("/proc/self/status", "re");
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmSize: %zu kB", &vm_kb) == 1)
            break;
    if (f)
        fclose(f);
    as.rlim_cur += vm_kb << 10;
    int served = wbt_preload_served();
    if (served != 0)
        return served;
    if (setrlimit(RLIMIT_AS, &as) != 0) {
        perror("setrlimit");
        return 1;
    }
    int first = fill();
    size_t checked = check();
    errno = 0;
    expect_enomem(calloc(huge_count, 32), "calloc(huge_count, 32)");
    errno = 0;
    expect_enomem(realloc(block[0], gib), "realloc(block, 1 GiB)");
    errno = 0;
    expect_enomem(malloc(gib), "malloc(1 GiB)");
    checked += check();
    /* Free every other block of the newer half, drop the references to the rest of it. */
    size_t freed = 0, dropped = 0;
    for (size_t i = n / 2; i < n; i++) {
        if (i % 2)
            free(block[i]), freed++;
        else
            dropped++;
        block[i] = NULL;
    }
    size_t kept_n = n;
    int again = fill();
    checked += check();
    if ((size_t)again < (freed + dropped) / 4) {
        printf("FAIL: only %d blocks allocated again after %zu freed and %zu dropped\n", again, freed, dropped);
        return 1;
    }
    printf("figures: preload at the heap limit: blocks until NULL/ENOMEM %d, NULL+ENOMEM returns %d, "
           "freed %zu, dropped %zu, allocated again %d (%zu blocks before, %zu after), block checks %zu\n",
           first, refusals, freed, dropped, again, kept_n, n, checked);
    return 0;
}
