/* wbt_required: WBRT_TEST_BARRIERS (see wbt_required.h).
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include "wbt_required.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WBT_REQUIRED_VAR "WBRT_TEST_BARRIERS"

/* WBT_BARRIER_NAMES: every barrier name, comma-separated (the build's list of barriers). */

/* The next item of the comma-separated list at *p: its start, and its length in *n;
 * NULL at the end of the list. */
static const char *next_item(const char **p, size_t *n)
{
    const char *item = *p;

    if (*item == '\0')
        return NULL;
    *n = strcspn(item, ",");
    *p = item + *n + (item[*n] == ',');
    return item;
}

/* Whether list holds the n bytes at name as one of its items. */
static int listed(const char *list, const char *name, size_t n)
{
    const char *item;
    size_t len;

    while ((item = next_item(&list, &len)) != NULL)
        if (len == n && strncmp(item, name, n) == 0)
            return 1;
    return 0;
}

int wbt_required(const char *barrier)
{
    const char *list = getenv(WBT_REQUIRED_VAR), *p = list, *item;
    size_t n;
    int found = 0;

    while (p != NULL && (item = next_item(&p, &n)) != NULL) {
        if (n == 0)
            continue;   /* "a,,b" or a trailing comma */
        if (!listed(WBT_BARRIER_NAMES, item, n)) {
            fprintf(stderr, "%s=%s: '%.*s' is not a barrier (one of %s)\n", WBT_REQUIRED_VAR, list,
                    (int)n, item, WBT_BARRIER_NAMES);
            exit(2);
        }
        found |= barrier != NULL && listed(barrier, item, n);
    }
    return found;
}

int wbt_unavailable(const char *barrier, const char *why)
{
    if (wbt_required(barrier)) {
        printf("FAILED: %s: %s (%s lists %s: a failure, not a skip)\n", barrier, why, WBT_REQUIRED_VAR,
               barrier);
        fflush(stdout);
        return 1;
    }
    printf("SKIPPED: %s: %s\n", barrier, why);
    fflush(stdout);
    return WBT_SKIP;
}
