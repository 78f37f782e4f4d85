/* WBRT_* environment variables, every one of them (the collector's, the barriers' and the
 * preload's): read here only and parsed strictly, so that a typo is an error that names
 * the variable and what it accepts, not a silently ignored setting.
 * Under secure execution (setuid, setgid or file capabilities: AT_SECURE) the environment
 * belongs to a less privileged user, so they are read with secure_getenv(): ignored,
 * defaults used, like glibc's LD_*.
 * Design: docs/design/api.md
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include "options.h"
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>
#include "barrier.h"
#include "wbrt.h"

#define MAX_TENURE 100

/* The value is cut at VALUE_SHOWN characters: a long one must not crowd out the accepted values. */
#define VALUE_SHOWN 64

static int bad(char *why, size_t whylen, const char *var, const char *val, const char *accepted)
{
    snprintf(why, whylen, "%s=%.*s%s is invalid: expected %s", var, VALUE_SHOWN, val,
             strlen(val) > VALUE_SHOWN ? "..." : "", accepted);
    errno = EINVAL;
    return -1;
}

/* Decimal digits with an optional K, M, G or T suffix (powers of 1024). */
static int parse_size(const char *s, size_t *out)
{
    char *end;
    if (*s < '0' || *s > '9')
        return -1;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno)
        return -1;
    int shift = 0;
    switch (*end) {
    case 'k': case 'K': shift = 10; end++; break;
    case 'm': case 'M': shift = 20; end++; break;
    case 'g': case 'G': shift = 30; end++; break;
    case 't': case 'T': shift = 40; end++; break;
    default: break;
    }
    if (*end || v > (SIZE_MAX >> shift))
        return -1;
    *out = (size_t)v << shift;
    return 0;
}

/* Decimal digits only: strtol alone would also take blanks and a sign (" 1", "+1", "-0"). */
static int parse_int(const char *s, long lo, long hi, long *out)
{
    char *end;
    if (*s < '0' || *s > '9')
        return -1;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

int options_parse_signal(const char *s)
{
    static const struct { const char *name; int sig; } named[] = {
        {"PWR", SIGPWR}, {"XCPU", SIGXCPU}, {"USR1", SIGUSR1}, {"USR2", SIGUSR2}};
    long n;
    if (strncmp(s, "SIG", 3) == 0)
        s += 3;
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++)
        if (strcmp(s, named[i].name) == 0)
            return named[i].sig;
    if (strncmp(s, "RTMIN+", 6) == 0 && parse_int(s + 6, 0, SIGRTMAX - SIGRTMIN, &n) == 0)
        return SIGRTMIN + (int)n;
    return -1;
}

#define SIZE_WORDS "a size in bytes with an optional K, M, G or T suffix"

static int value_size(const char *var, const char *v, size_t min, size_t *out, char *why, size_t whylen)
{
    size_t n;
    if (parse_size(v, &n) != 0 || n < min) {
        char acc[96];
        snprintf(acc, sizeof acc, SIZE_WORDS ", at least %zu", min);
        return bad(why, whylen, var, v, acc);
    }
    *out = n;
    return 0;
}

static int value_int(const char *var, const char *v, long lo, long hi, long *out, char *why, size_t whylen)
{
    if (parse_int(v, lo, hi, out) != 0) {
        char acc[64];
        if (hi == 1 && lo == 0)
            snprintf(acc, sizeof acc, "0 or 1");
        else
            snprintf(acc, sizeof acc, "an integer from %ld to %ld", lo, hi);
        return bad(why, whylen, var, v, acc);
    }
    return 0;
}

/* s is one of the NULL-terminated words: its index into *out; else the error, listing them. */
static int value_word(const char *var, const char *s, const char *const *words, int *out, char *why,
                      size_t whylen)
{
    char acc[96] = "";
    size_t n = 0, used = 0;
    for (; words[n]; n++)
        if (strcmp(s, words[n]) == 0) {
            *out = (int)n;
            return 0;
        }
    for (size_t i = 0; i < n && used < sizeof acc; i++)      /* "a, b or c" */
        used += (size_t)snprintf(acc + used, sizeof acc - used, "%s%s",
                                 i == 0 ? "" : i + 1 == n ? " or " : ", ", words[i]);
    return bad(why, whylen, var, s, acc);
}

/* A string option that must fit its field (len bytes with the terminator). */
static int value_string(const char *var, const char *v, char *field, size_t len, const char *shown,
                        const char *accepted, char *why, size_t whylen)
{
    if (strlen(v) >= len)
        return bad(why, whylen, var, shown ? shown : v, accepted);
    strcpy(field, v);
    return 0;
}

enum option_var { V_HEAP_MAX, V_YOUNG_BYTES, V_FULL_MIN, V_MARK_STACK_MAX, V_HEAP_GROWTH, V_TENURE_AGE,
                  V_VERIFY, V_VERBOSE, V_ON_BAD_FREE, V_STOP_SIGNAL, V_BARRIER, V_IMAGE, V_ARM,
                  V_UFFD_LOOP, V_MODE, V_STATS_INTERVAL, V_LEAK_SIGNAL, V_STATS_FILE, V_MARKERS, V_TRACK_ROOTS, V_COUNT };

const char *const options_vars[] = {
    [V_HEAP_MAX] = "WBRT_HEAP_MAX", [V_YOUNG_BYTES] = "WBRT_YOUNG_BYTES", [V_FULL_MIN] = "WBRT_FULL_MIN",
    [V_MARK_STACK_MAX] = "WBRT_MARK_STACK_MAX", [V_HEAP_GROWTH] = "WBRT_HEAP_GROWTH",
    [V_TENURE_AGE] = "WBRT_TENURE_AGE", [V_VERIFY] = "WBRT_VERIFY", [V_VERBOSE] = "WBRT_VERBOSE",
    [V_ON_BAD_FREE] = "WBRT_ON_BAD_FREE", [V_STOP_SIGNAL] = "WBRT_STOP_SIGNAL",
    [V_BARRIER] = "WBRT_BARRIER", [V_IMAGE] = "WBRT_IMAGE", [V_ARM] = "WBRT_ARM",
    [V_UFFD_LOOP] = "WBRT_UFFD_LOOP", [V_MODE] = "WBRT_MODE", [V_STATS_INTERVAL] = "WBRT_STATS_INTERVAL",
    [V_LEAK_SIGNAL] = "WBRT_LEAK_SIGNAL", [V_STATS_FILE] = "WBRT_STATS_FILE",
    [V_MARKERS] = "WBRT_MARKERS", [V_TRACK_ROOTS] = "WBRT_TRACK_ROOTS",
    [V_COUNT] = NULL,
};

/* The words of the enumerated options, in their enums' order. */
static const char *const bad_free_words[] = {[BAD_FREE_ABORT] = "abort", [BAD_FREE_IGNORE] = "ignore", NULL};
static const char *const arm_words[] = {[ARM_BY_COST] = "cost", [ARM_ALWAYS] = "always", [ARM_HOT] = "hot", NULL};
static const char *const mode_words[] = {[PRELOAD_GC] = "gc", [PRELOAD_LEAK] = "leak",
                                         [PRELOAD_STATS] = "stats", NULL};
/* from BARRIER_LOOP_POLL on (BARRIER_LOOP_DEFAULT is not a value one can set) */
static const char *const loop_words[] = {"poll", "uring", NULL};

int options_parse(struct wbrt_config *c, const char *var, const char *s, char *why, size_t whylen)
{
    int i = 0, w;
    long v;
    while (i < V_COUNT && strcmp(var, options_vars[i]) != 0)
        i++;
    switch ((enum option_var)i) {
    case V_HEAP_MAX: return value_size(var, s, (size_t)16 << 20, &c->heap_max, why, whylen);
    case V_YOUNG_BYTES: return value_size(var, s, 4096, &c->young_bytes, why, whylen);
    case V_FULL_MIN: return value_size(var, s, 0, &c->full_min_bytes, why, whylen);
    case V_MARK_STACK_MAX: return value_size(var, s, 1, &c->mark_stack_max, why, whylen);
    case V_HEAP_GROWTH:
        if (value_int(var, s, 1, 10000, &v, why, whylen))
            return -1;
        c->heap_growth = (unsigned)v;
        return 0;
    case V_TENURE_AGE:
        if (strcmp(s, "auto") == 0) {
            c->tenure_age = TENURE_AUTO;
            return 0;
        }
        if (parse_int(s, 0, MAX_TENURE, &v) != 0)
            return bad(why, whylen, var, s, "auto or an integer from 0 to 100");
        c->tenure_age = (int)v;
        return 0;
    case V_VERIFY:
    case V_VERBOSE:
    case V_TRACK_ROOTS:
        if (value_int(var, s, 0, 1, &v, why, whylen))
            return -1;
        *(i == V_VERIFY ? &c->verify : i == V_VERBOSE ? &c->verbose : &c->track_roots) = (int)v;
        return 0;
    case V_ON_BAD_FREE:
        if (value_word(var, s, bad_free_words, &w, why, whylen))
            return -1;
        c->on_bad_free = (enum bad_free_action)w;
        return 0;
    case V_STOP_SIGNAL:
    case V_LEAK_SIGNAL:
        if ((v = options_parse_signal(s)) < 0)
            return bad(why, whylen, var, s, OPTIONS_SIGNAL_WORDS);
        *(i == V_STOP_SIGNAL ? &c->stop_signal : &c->leak_signal) = (int)v;
        return 0;
    case V_BARRIER:
        return value_string(var, s, c->barrier, sizeof c->barrier, NULL, barrier_names(), why, whylen);
    case V_IMAGE:
        return value_string(var, s, c->image, sizeof c->image, "(too long)",
                            "the path of a heap image saved by wb_perm_save", why, whylen);
    case V_ARM:
        if (value_word(var, s, arm_words, &w, why, whylen))
            return -1;
        c->arm = (enum arm_mode)w;
        return 0;
    case V_UFFD_LOOP:
        if (value_word(var, s, loop_words, &w, why, whylen))
            return -1;
        c->barrier_set.loop = (enum barrier_loop)(BARRIER_LOOP_POLL + w);
        return 0;
    case V_MODE:
        if (value_word(var, s, mode_words, &w, why, whylen))
            return -1;
        c->preload_mode = (enum preload_mode)w;
        return 0;
    case V_STATS_INTERVAL:
        if (parse_int(s, 1, 60000, &v) != 0)
            return bad(why, whylen, var, s, "milliseconds from 1 to 60000");
        c->stats_interval_ms = v;
        return 0;
    case V_STATS_FILE:
        return value_string(var, s, c->stats_file, sizeof c->stats_file, "(too long)",
                            "the path of a file that exists (`wbrt run` makes it)", why, whylen);
    case V_MARKERS:
        if (value_int(var, s, 1, MARKERS_MAX, &v, why, whylen))
            return -1;
        c->markers = (unsigned)v;
        return 0;
    case V_COUNT:
        break;
    }
    /* cut like a value: a long name must not crowd out what is wrong with it */
    snprintf(why, whylen, "%.*s%s is not a wbrt option", VALUE_SHOWN, var, strlen(var) > VALUE_SHOWN ? "..." : "");
    errno = EINVAL;
    return -1;
}

/* bdwgc's GC_ENABLE_INCREMENTAL, which its libgc.so.1 reads at GC_init: set and not
 * starting with 0, GC_init turns incremental mode on (wbrt's generational collections)
 * for a program that does not call GC_enable_incremental itself. */
bool options_bdwgc_incremental(void)
{
    const char *s = secure_getenv("GC_ENABLE_INCREMENTAL");
    return s && *s != '0';
}

/* One line on stderr, once, when WBRT_* variables were set but secure execution ignores
 * them: otherwise a user would wonder why a setting has no effect. */
static void note_secure_execution(void)
{
    static int noted;
    if (!getauxval(AT_SECURE) || __atomic_exchange_n(&noted, 1, __ATOMIC_RELAXED))
        return;
    for (char **e = environ; e && *e; e++)
        if (strncmp(*e, "WBRT_", 5) == 0) {
            fprintf(stderr, "wbrt: secure execution (setuid/setgid): WBRT_* variables ignored\n");
            return;
        }
}

/* Non-zero fields of the caller's struct wb_options win over the environment. */
static int apply_wb_options(const struct wb_options *opt, struct wbrt_config *c, char *why, size_t whylen)
{
    if (opt->heap_max) c->heap_max = opt->heap_max;
    if (opt->young_bytes) c->young_bytes = opt->young_bytes;
    if (opt->full_min_bytes) c->full_min_bytes = opt->full_min_bytes;
    if (opt->heap_growth) c->heap_growth = opt->heap_growth;
    if (opt->tenure_age) c->tenure_age = opt->tenure_age < 0 ? 0 : opt->tenure_age;
    if (opt->verify) c->verify = 1;
    if (opt->verbose) c->verbose = 1;
    if (opt->on_bad_free) c->on_bad_free = opt->on_bad_free == 2 ? BAD_FREE_IGNORE : BAD_FREE_ABORT;
    if (opt->mark_stack_max) c->mark_stack_max = opt->mark_stack_max;
    if (opt->barrier) {
        if (strlen(opt->barrier) >= sizeof c->barrier)
            return bad(why, whylen, "wb_options.barrier", opt->barrier, barrier_names());
        strcpy(c->barrier, opt->barrier);
    }
    if (c->tenure_age > MAX_TENURE)
        return bad(why, whylen, "wb_options.tenure_age", "(too large)", "an integer from 0 to 100");
    return 0;
}

/* The default is counted at the first collection, not at start-up: glibc reads
 * /sys/devices/system/cpu/online, a fortieth of a preloaded /bin/true, and most short
 * processes never collect. */
unsigned options_markers(struct wbrt_config *c)
{
    if (!c->markers) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        c->markers = cpus < 1 ? 1 : cpus > MARKERS_MAX ? MARKERS_MAX : (unsigned)cpus;
    }
    return c->markers;
}

int options_resolve(const struct wb_options *opt, struct wbrt_config *c, char *why, size_t whylen)
{
    note_secure_execution();
    *c = (struct wbrt_config){
        .heap_max = (size_t)64 << 30,
        .young_bytes = (size_t)16 << 20,
        .full_min_bytes = (size_t)8 << 20,
        .heap_growth = 100,
        .tenure_age = TENURE_AUTO,
        .barrier = "auto",
        .mark_stack_max = (size_t)16 << 20,
        .stop_signal = SIGPWR,
        .stats_interval_ms = 100,
    };
    for (int i = 0; i < V_COUNT; i++) {
        const char *s = secure_getenv(options_vars[i]);
        if (s && options_parse(c, options_vars[i], s, why, whylen) != 0)
            return -1;
    }
    if (opt && apply_wb_options(opt, c, why, whylen) != 0)
        return -1;
    c->barrier_set.verbose = c->verbose;
    return 0;
}
