/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The list of backends and the choice among them (WBRT_BARRIER).
 * Design: docs/design/barrier.md */
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

#define REASON_MAX 512

const char *barrier_names(void)
{
    static char names[128];
    if (!names[0]) {
        size_t used = (size_t)snprintf(names, sizeof names, "auto");
        for (const struct barrier_ops *const *b = barrier_all; *b && used < sizeof names; b++)
            used += (size_t)snprintf(names + used, sizeof names - used, "|%s", (*b)->name);
    }
    return names;
}

static int is_software(const struct barrier_ops *b)
{
    return b->remembered != NULL;
}

/* The software barrier the program was compiled for: NULL if none; if it was compiled
 * for several (translation units disagree), NULL and a reason in why. */
static const struct barrier_ops *compiled_for(int *mixed, char *why, size_t whylen)
{
    char reason[REASON_MAX];
    const struct barrier_ops *found = NULL;
    *mixed = 0;
    for (const struct barrier_ops *const *b = barrier_all; *b; b++) {
        if (!is_software(*b) || (*b)->probe(reason, sizeof reason) != 0)
            continue;
        if (found) {
            snprintf(why, whylen, "the program was compiled with both -DWB_SOFT_BARRIER=%s and "
                     "-DWB_SOFT_BARRIER=%s: compile every file for one barrier", found->name, (*b)->name);
            *mixed = 1;
            return NULL;
        }
        found = *b;
    }
    return found;
}

/* The first kernel backend that probes OK (none always does); the reasons of those
 * skipped go to skipped. */
static const struct barrier_ops *first_available(char *skipped, size_t len)
{
    char reason[REASON_MAX];
    size_t used = 0;
    skipped[0] = '\0';
    for (const struct barrier_ops *const *b = barrier_all; *b; b++) {
        if (is_software(*b))
            continue;
        if ((*b)->probe(reason, sizeof reason) == 0)
            return *b;
        if (used < len)
            used += (size_t)snprintf(skipped + used, len - used, "%sbarrier %s unavailable (%s)",
                                     used ? "; " : "", (*b)->name, reason);
    }
    return &barrier_none;
}

const struct barrier_ops *barrier_select(const char *name, int say, char *why, size_t whylen)
{
    char reason[REASON_MAX];
    int mixed;
    if (whylen)
        why[0] = '\0';
    const struct barrier_ops *soft = compiled_for(&mixed, why, whylen);
    if (mixed)
        return NULL;
    int is_auto = !name || !*name || strcmp(name, "auto") == 0;
    /* The program's WB_STORE()s write this barrier's tables: no other may be used. */
    if (soft) {
        if (is_auto || strcmp(name, soft->name) == 0)
            return soft;
        snprintf(why, whylen, "WBRT_BARRIER=%s: the program was compiled with -DWB_SOFT_BARRIER=%s, "
                 "so it accepts auto|%s", name, soft->name, soft->name);
        return NULL;
    }
    if (is_auto) {
        char skipped[2 * REASON_MAX];
        const struct barrier_ops *b = first_available(skipped, sizeof skipped);
        /* The skipped reasons also go to why, for a runtime that reports them itself. */
        if (skipped[0]) {
            snprintf(why, whylen, "%s; using %s", skipped, b->name);
            if (say)
                fprintf(stderr, "wbrt: %s; using %s\n", skipped, b->name);
        }
        return b;
    }
    const struct barrier_ops *b = barrier_named(name, why, whylen);
    if (!b || b->probe(reason, sizeof reason) == 0)
        return b;
    snprintf(why, whylen, "barrier %s unavailable: %s", name, reason);
    return NULL;
}

const struct barrier_ops *barrier_named(const char *name, char *why, size_t whylen)
{
    for (const struct barrier_ops *const *b = barrier_all; *b; b++)
        if (strcmp(name, (*b)->name) == 0)
            return *b;
    snprintf(why, whylen, "WBRT_BARRIER=%s is not one of %s", name, barrier_names());
    return NULL;
}

void barrier_probe_report(FILE *out)
{
    char reason[REASON_MAX];
    int width = 0, mixed;
    const struct barrier_ops *chosen = compiled_for(&mixed, reason, sizeof reason);
    if (!chosen)
        chosen = first_available(reason, sizeof reason);
    for (const struct barrier_ops *const *b = barrier_all; *b; b++)
        if ((int)strlen((*b)->name) > width)
            width = (int)strlen((*b)->name);
    for (const struct barrier_ops *const *b = barrier_all; *b; b++) {
        if ((*b)->probe(reason, sizeof reason) == 0)
            fprintf(out, "%-*s   available\n", width, (*b)->name);
        else
            fprintf(out, "%-*s   %s: %s\n", width, (*b)->name,
                    is_software(*b) ? "software" : "unavailable", reason);
    }
    fprintf(out, "auto: %s\n", chosen->name);
}
