/* Resolved configuration: struct wb_options, then WBRT_* variables, then defaults. */
#ifndef WBRT_OPTIONS_H
#define WBRT_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>

struct wb_options;

enum bad_free_action { BAD_FREE_ABORT, BAD_FREE_IGNORE };
/* WBRT_ARM: pages written at every cycle are kept writable when a fault costs more than a
 * page scan (cost), never (always arm: the policy off), or whatever the costs (hot). */
enum arm_mode { ARM_BY_COST, ARM_ALWAYS, ARM_HOT };

struct wbrt_config {
    size_t heap_max;
    size_t young_bytes;
    size_t full_min_bytes;
    unsigned heap_growth;
    int tenure_age;
    char barrier[32];
    int verify;
    int verbose;
    enum bad_free_action on_bad_free;
    size_t mark_stack_max;
    char image[4096];          /* WBRT_IMAGE: heap image to load as perm space, "" for none */
    int stop_signal;      /* stops the other threads for a collection */
    enum arm_mode arm;
};

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

#endif
