/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "fault_child.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

void fault_run(struct wbt_child *c, const char *const *env, void (*fn)(void *), void *arg)
{
    /* The children watch the barrier's kernel calls fail: every old page stays protected
     * (the policy could switch protection off, and make no more calls). */
    setenv("WBRT_ARM", "always", 0);
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
