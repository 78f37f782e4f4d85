/* Resolved configuration: struct wb_options, then WBRT_* variables, then defaults.
 * Design: docs/design/api.md */
#ifndef WBRT_OPTIONS_H
#define WBRT_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include "barrier.h"

struct wb_options;

enum bad_free_action { BAD_FREE_ABORT, BAD_FREE_IGNORE };
/* WBRT_ARM: pages written at every cycle are kept writable when a fault costs more than a
 * page scan (cost), never (always arm: the policy off), or whatever the costs (hot). */
enum arm_mode { ARM_BY_COST, ARM_ALWAYS, ARM_HOT };
/* WBRT_MODE: what libwbrt-preload.so does with the program's allocations (gc: collect them;
 * leak: report the unreachable ones at exit; stats: count the pages written). */
enum preload_mode { PRELOAD_GC, PRELOAD_LEAK, PRELOAD_STATS };

/* WBRT_TENURE_AGE=auto, the default. */
#define TENURE_AUTO (-1)

struct wbrt_config {
    size_t heap_max;
    size_t young_bytes;
    size_t full_min_bytes;
    unsigned heap_growth;
    int tenure_age;            /* WBRT_TENURE_AGE; TENURE_AUTO: chosen per collection (young_size.c) */
    char barrier[32];
    int verify;
    int verbose;
    enum bad_free_action on_bad_free;
    size_t mark_stack_max;
    char image[4096];          /* WBRT_IMAGE: heap image to load as perm space, "" for none */
    int stop_signal;      /* stops the other threads for a collection */
    enum arm_mode arm;
    struct barrier_settings barrier_set;    /* WBRT_UFFD_LOOP; verbose copied from above */
    /* libwbrt-preload.so's: read by any program, used by the preload only */
    enum preload_mode preload_mode;         /* WBRT_MODE */
    long stats_interval_ms;                 /* WBRT_STATS_INTERVAL, stats mode's sampling */
    int leak_signal;                        /* WBRT_LEAK_SIGNAL: leak report on demand, 0 none */
    char stats_file[4096];                  /* WBRT_STATS_FILE: `wbrt run`'s file, "" none */
    int track_roots;      /* WBRT_TRACK_ROOTS: the program's own mappings write-tracked where the
                             barrier can (roots.c); 0 (default): scanned whole at every collection */
    unsigned markers;     /* WBRT_MARKERS: threads that mark (1: the collecting thread alone);
                             0: the default, not counted yet (options_markers) */
};

/* WBRT_MARKERS at most; by default the online CPUs (as many as that). */
#define MARKERS_MAX 64

/* PWR, XCPU, USR1, USR2 (SIG prefix optional) or RTMIN+N: the signal, or -1. */
int options_parse_signal(const char *s);
#define OPTIONS_SIGNAL_WORDS "PWR, XCPU, USR1, USR2 or RTMIN+N (SIG prefix optional)"

/* The WBRT_* variables options_parse knows, in the order options_resolve reads them; NULL ends it. */
extern const char *const options_vars[];

/* The value s of the WBRT_* variable var into c: 0, or -1 with errno EINVAL and why naming
 * the variable and the accepted values (c unchanged).  What options_resolve does with each
 * variable that is set. */
int options_parse(struct wbrt_config *c, const char *var, const char *s, char *why, size_t whylen);

/* bdwgc's GC_ENABLE_INCREMENTAL asks for incremental mode (GC_init). */
bool options_bdwgc_incremental(void);

/* 0, or -1 with errno EINVAL and a message naming the variable and the accepted values. */
int options_resolve(const struct wb_options *opt, struct wbrt_config *cfg, char *why, size_t whylen);
/* cfg's WBRT_MARKERS, the online CPUs by default (counted at the first call). */
unsigned options_markers(struct wbrt_config *cfg);

#endif
