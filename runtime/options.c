/* WBRT_* environment variables: parsed strictly, so that a typo is an error that names
 * the variable and what it accepts, not a silently ignored setting.
 * Under secure execution (setuid, setgid or file capabilities: AT_SECURE) the environment
 * belongs to a less privileged user, so every WBRT_* variable, here and in the preload and
 * the barriers, is read with secure_getenv(): ignored, defaults used, like glibc's LD_*.
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

static int bad(char *why, size_t whylen, const char *var, const char *val, const char *accepted)
{
    snprintf(why, whylen, "%s=%s is invalid: expected %s", var, val, accepted);
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

static int parse_int(const char *s, long lo, long hi, long *out)
{
    char *end;
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

static int env_size(const char *var, size_t min, size_t *out, char *why, size_t whylen)
{
    const char *v = secure_getenv(var);
    if (!v)
        return 0;
    size_t n;
    if (parse_size(v, &n) != 0 || n < min) {
        char acc[96];
        snprintf(acc, sizeof acc, SIZE_WORDS ", at least %zu", min);
        return bad(why, whylen, var, v, acc);
    }
    *out = n;
    return 0;
}

static int env_int(const char *var, long lo, long hi, long *out, char *why, size_t whylen)
{
    const char *v = secure_getenv(var);
    if (!v)
        return 0;
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

int options_resolve(const struct wb_options *opt, struct wbrt_config *c, char *why, size_t whylen)
{
    long v;
    note_secure_execution();
    *c = (struct wbrt_config){
        .heap_max = (size_t)64 << 30,
        .young_bytes = (size_t)16 << 20,
        .full_min_bytes = (size_t)64 << 20,
        .heap_growth = 100,
        .barrier = "auto",
        .mark_stack_max = (size_t)16 << 20,
        .stop_signal = SIGPWR,
    };
    if (env_size("WBRT_HEAP_MAX", (size_t)16 << 20, &c->heap_max, why, whylen) ||
        env_size("WBRT_YOUNG_BYTES", 4096, &c->young_bytes, why, whylen) ||
        env_size("WBRT_FULL_MIN", 0, &c->full_min_bytes, why, whylen) ||
        env_size("WBRT_MARK_STACK_MAX", 1, &c->mark_stack_max, why, whylen))
        return -1;
    v = c->heap_growth;
    if (env_int("WBRT_HEAP_GROWTH", 1, 10000, &v, why, whylen))
        return -1;
    c->heap_growth = (unsigned)v;
    v = 0;
    if (env_int("WBRT_TENURE_AGE", 0, MAX_TENURE, &v, why, whylen))
        return -1;
    c->tenure_age = (int)v;
    v = 0;
    if (env_int("WBRT_VERIFY", 0, 1, &v, why, whylen))
        return -1;
    c->verify = (int)v;
    v = 0;
    if (env_int("WBRT_VERBOSE", 0, 1, &v, why, whylen))
        return -1;
    c->verbose = (int)v;
    const char *s = secure_getenv("WBRT_ON_BAD_FREE");
    if (s) {
        if (strcmp(s, "abort") == 0)
            c->on_bad_free = BAD_FREE_ABORT;
        else if (strcmp(s, "ignore") == 0)
            c->on_bad_free = BAD_FREE_IGNORE;
        else
            return bad(why, whylen, "WBRT_ON_BAD_FREE", s, "abort or ignore");
    }
    s = secure_getenv("WBRT_STOP_SIGNAL");
    if (s && (c->stop_signal = options_parse_signal(s)) < 0)
        return bad(why, whylen, "WBRT_STOP_SIGNAL", s, OPTIONS_SIGNAL_WORDS);
    s = secure_getenv("WBRT_BARRIER");
    if (s && strlen(s) < sizeof c->barrier)
        strcpy(c->barrier, s);
    else if (s)
        return bad(why, whylen, "WBRT_BARRIER", s, barrier_names());

    s = secure_getenv("WBRT_IMAGE");
    if (s && strlen(s) < sizeof c->image)
        strcpy(c->image, s);
    else if (s)
        return bad(why, whylen, "WBRT_IMAGE", "(too long)", "the path of a heap image saved by wb_perm_save");

    if (!opt)
        return 0;
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
