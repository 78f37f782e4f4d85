/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "fault_child.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

void fault_run(struct wbt_child *c, const char *const *env, void (*fn)(void *), void *arg)
{
    wbt_fork(c, env, fn, arg);
    print_message("%s", c->out);
    if (wbt_exited(c, WBT_SKIP))
        exit(WBT_SKIP);         /* the whole program: ctest counts it skipped */
    if (!wbt_exited(c, 0))
        fail_msg("the child failed (wait status %#x)", c->status);
}

int fault_lines(const char *out, const char *prefix, char *first, size_t len)
{
    int n = 0;
    size_t plen = strlen(prefix);
    for (const char *l = out; *l; ) {
        const char *end = strchr(l, '\n');
        size_t ll = end ? (size_t)(end - l) : strlen(l);
        if (strncmp(l, prefix, plen) == 0 && n++ == 0 && first)
            snprintf(first, len, "%.*s", (int)ll, l);
        l += ll + (end != NULL);
    }
    return n;
}

void fault_init(void)
{
    if (wb_init(NULL) == 0)
        return;
    if (errno == ENOTSUP) {
        const char *b = getenv("WBRT_BARRIER");
        printf("SKIPPED: %s: %s\n", b ? b : "auto", wb_last_error());
        exit(WBT_SKIP);
    }
    fail_msg("wb_init: %s", wb_last_error());
}
