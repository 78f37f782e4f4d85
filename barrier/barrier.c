/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The list of backends and the choice among them (WBRT_BARRIER). */
#include "barrier.h"
#include "probe_report.h"

#include <stdio.h>
#include <string.h>

const struct barrier_ops *const barrier_all[] = {
    &barrier_uffd_async,
    &barrier_uffd,
    &barrier_mprotect,
    &barrier_softdirty,
    &barrier_none,
    &barrier_card,
    &barrier_ssb,
    &barrier_remset,
    NULL,
};

const char *barrier_names(void)
{
    return "auto|uffd-async|uffd|mprotect|softdirty|none";
}

#define REASON_MAX 512

/* The first backend that probes OK (none always does); the reasons of those skipped go
 * to skipped. */
static const struct barrier_ops *first_available(char *skipped, size_t len)
{
    char reason[REASON_MAX];
    size_t used = 0;
    skipped[0] = '\0';
    for (const struct barrier_ops *const *b = barrier_all; *b; b++) {
        if ((*b)->probe(reason, sizeof reason) == 0)
            return *b;
        if (used < len)
            used += (size_t)snprintf(skipped + used, len - used, "%sbarrier %s unavailable (%s)",
                                     used ? "; " : "", (*b)->name, reason);
    }
    return &barrier_none;
}

const struct barrier_ops *barrier_select(const char *name, int verbose, char *why, size_t whylen)
{
    char reason[REASON_MAX];
    if (whylen)
        why[0] = '\0';
    if (!name || !*name || strcmp(name, "auto") == 0) {
        char skipped[2 * REASON_MAX];
        const struct barrier_ops *b = first_available(skipped, sizeof skipped);
        /* The skipped reasons also go to why, for a runtime that reports them itself. */
        if (skipped[0]) {
            snprintf(why, whylen, "%s; using %s", skipped, b->name);
            if (verbose)
                fprintf(stderr, "wbrt: %s; using %s\n", skipped, b->name);
        }
        return b;
    }
    for (const struct barrier_ops *const *b = barrier_all; *b; b++) {
        if (strcmp(name, (*b)->name) != 0)
            continue;
        if ((*b)->probe(reason, sizeof reason) == 0)
            return *b;
        snprintf(why, whylen, "barrier %s unavailable: %s", name, reason);
        return NULL;
    }
    snprintf(why, whylen, "WBRT_BARRIER=%s is not one of %s", name, barrier_names());
    return NULL;
}

void barrier_probe_report(FILE *out)
{
    char reason[REASON_MAX];
    int width = 0;
    const struct barrier_ops *chosen = &barrier_none;
    for (const struct barrier_ops *const *b = barrier_all; *b; b++)
        if ((int)strlen((*b)->name) > width)
            width = (int)strlen((*b)->name);
    for (const struct barrier_ops *const *b = barrier_all; *b; b++) {
        if ((*b)->probe(reason, sizeof reason) == 0) {
            fprintf(out, "%-*s   available\n", width, (*b)->name);
            if (chosen == &barrier_none)
                chosen = *b;
        } else {
            fprintf(out, "%-*s   unavailable: %s\n", width, (*b)->name, reason);
        }
    }
    fprintf(out, "auto: %s\n", chosen->name);
}
