/* Fuzz target: the WBRT_* option parser.  The input is lines NAME=VALUE.  Each one goes to
 * options_parse on its own, then all of them through the environment to options_resolve,
 * and both must agree with an independent reading of what each variable accepts: good
 * values are taken as they are, bad ones refused with EINVAL and a message naming the
 * variable and the accepted values, nothing else changed.  SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include "fuzz_check.h"
#include "options.h"

#define VALUE_MAX 8192

/* What a variable should become: its kind and bounds, as documented in docs/guide.md. */
enum kind { SIZE, INT, BAD_FREE, SIGNAL, STRING, WORDS };
static const char *const arm_words[] = {[ARM_BY_COST] = "cost", [ARM_ALWAYS] = "always", [ARM_HOT] = "hot", NULL};
static const char *const loop_words[] = {[BARRIER_LOOP_DEFAULT] = "", [BARRIER_LOOP_POLL] = "poll",
                                         [BARRIER_LOOP_URING] = "uring", NULL};
static const char *const mode_words[] = {[PRELOAD_GC] = "gc", [PRELOAD_LEAK] = "leak",
                                         [PRELOAD_STATS] = "stats", NULL};
static const char *const tenure_words[] = {"auto", NULL};
static const struct spec {
    const char *name;
    enum kind kind;
    unsigned long long lo, hi;     /* SIZE: lo is the minimum; STRING: hi is the field size */
    const char *const *words;      /* WORDS: the value is the index of the word ("": none);
                                    * INT: a word also accepted (TENURE_AGE's auto) */
} specs[] = {
    {"WBRT_HEAP_MAX", SIZE, 16 << 20, 0, NULL},
    {"WBRT_YOUNG_BYTES", SIZE, 4096, 0, NULL},
    {"WBRT_FULL_MIN", SIZE, 0, 0, NULL},
    {"WBRT_MARK_STACK_MAX", SIZE, 1, 0, NULL},
    {"WBRT_HEAP_GROWTH", INT, 1, 10000, NULL},
    {"WBRT_TENURE_AGE", INT, 0, 100, tenure_words},
    {"WBRT_VERIFY", INT, 0, 1, NULL},
    {"WBRT_VERBOSE", INT, 0, 1, NULL},
    {"WBRT_ON_BAD_FREE", BAD_FREE, 0, 0, NULL},
    {"WBRT_STOP_SIGNAL", SIGNAL, 0, 0, NULL},
    {"WBRT_BARRIER", STRING, 0, 32, NULL},
    {"WBRT_IMAGE", STRING, 0, 4096, NULL},
    {"WBRT_ARM", WORDS, 0, 0, arm_words},
    {"WBRT_UFFD_LOOP", WORDS, 0, 0, loop_words},
    {"WBRT_MODE", WORDS, 0, 0, mode_words},
    {"WBRT_STATS_INTERVAL", INT, 1, 60000, NULL},
    {"WBRT_LEAK_SIGNAL", SIGNAL, 0, 0, NULL},
    {"WBRT_STATS_FILE", STRING, 0, 4096, NULL},
    {"WBRT_MARKERS", INT, 1, 64, NULL},
    {"WBRT_TRACK_ROOTS", INT, 0, 1, NULL},
};
#define NSPECS (sizeof specs / sizeof specs[0])

/* Decimal digits only (no sign, no blank), at most max; -1 if not. */
static long long decimal(const char *s, size_t len, unsigned long long max, unsigned long long *out)
{
    unsigned long long v = 0;
    if (len == 0)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, (unsigned)(s[i] - '0'), &v))
            return -1;
    }
    if (v > max)
        return -1;
    *out = v;
    return 0;
}

/* The value the variable takes, or false if s is not one it accepts. */
static bool expect(const struct spec *sp, const char *s, unsigned long long *val)
{
    size_t len = strlen(s);
    switch (sp->kind) {
    case SIZE: {
        int shift = 0;
        const char *suf = "kmgt", *p = len ? strchr(suf, s[len - 1] | 0x20) : NULL;
        if (p)
            shift = 10 * (int)(p - suf + 1), len--;
        unsigned long long v;
        if (decimal(s, len, SIZE_MAX >> shift, &v) != 0 || (v << shift) < sp->lo)
            return false;
        *val = v << shift;
        return true;
    }
    case INT:
        if (sp->words && strcmp(s, sp->words[0]) == 0)
            return *val = (unsigned long long)TENURE_AUTO, true;
        return decimal(s, len, sp->hi, val) == 0 && *val >= sp->lo;
    case BAD_FREE:
        *val = strcmp(s, "ignore") == 0 ? BAD_FREE_IGNORE : BAD_FREE_ABORT;
        return strcmp(s, "abort") == 0 || strcmp(s, "ignore") == 0;
    case SIGNAL: {
        static const struct { const char *name; int sig; } named[] = {
            {"PWR", SIGPWR}, {"XCPU", SIGXCPU}, {"USR1", SIGUSR1}, {"USR2", SIGUSR2}};
        if (strncmp(s, "SIG", 3) == 0)
            s += 3, len -= 3;
        for (size_t i = 0; i < 4; i++)
            if (strcmp(s, named[i].name) == 0)
                return *val = (unsigned long long)named[i].sig, true;
        unsigned long long n;
        if (strncmp(s, "RTMIN+", 6) != 0 || decimal(s + 6, len - 6, (unsigned)(SIGRTMAX - SIGRTMIN), &n) != 0)
            return false;
        *val = (unsigned long long)SIGRTMIN + n;
        return true;
    }
    case STRING:
        return len < sp->hi;
    case WORDS:
        for (size_t i = 0; sp->words[i]; i++)
            if (*sp->words[i] && strcmp(s, sp->words[i]) == 0)
                return *val = i, true;
        return false;
    }
    return false;
}

/* Whether c holds what s makes of the variable (val from expect). */
static bool holds(const struct wbrt_config *c, const struct spec *sp, const char *s, unsigned long long val)
{
    const char *n = sp->name + 5;
    if (!strcmp(n, "HEAP_MAX")) return c->heap_max == val;
    if (!strcmp(n, "YOUNG_BYTES")) return c->young_bytes == val;
    if (!strcmp(n, "FULL_MIN")) return c->full_min_bytes == val;
    if (!strcmp(n, "MARK_STACK_MAX")) return c->mark_stack_max == val;
    if (!strcmp(n, "HEAP_GROWTH")) return c->heap_growth == val;
    if (!strcmp(n, "TENURE_AGE")) return (unsigned long long)c->tenure_age == val;
    if (!strcmp(n, "VERIFY")) return (unsigned long long)c->verify == val;
    if (!strcmp(n, "VERBOSE")) return (unsigned long long)c->verbose == val;
    if (!strcmp(n, "ON_BAD_FREE")) return c->on_bad_free == val;
    if (!strcmp(n, "STOP_SIGNAL")) return (unsigned long long)c->stop_signal == val;
    if (!strcmp(n, "BARRIER")) return strcmp(c->barrier, s) == 0;
    if (!strcmp(n, "ARM")) return (unsigned long long)c->arm == val;
    if (!strcmp(n, "UFFD_LOOP")) return (unsigned long long)c->barrier_set.loop == val;
    if (!strcmp(n, "MODE")) return (unsigned long long)c->preload_mode == val;
    if (!strcmp(n, "STATS_INTERVAL")) return (unsigned long long)c->stats_interval_ms == val;
    if (!strcmp(n, "LEAK_SIGNAL")) return (unsigned long long)c->leak_signal == val;
    if (!strcmp(n, "STATS_FILE")) return strcmp(c->stats_file, s) == 0;
    if (!strcmp(n, "MARKERS")) return c->markers == val;
    if (!strcmp(n, "TRACK_ROOTS")) return (unsigned long long)c->track_roots == val;
    return strcmp(c->image, s) == 0;
}

/* A refusal names the variable and says what it accepts. */
static void check_refusal(const char *why, const char *name)
{
    char head[64];
    snprintf(head, sizeof head, "%s=", name);
    FUZZ_CHECK(errno == EINVAL, "%s: errno %d", name, errno);
    FUZZ_CHECK(strncmp(why, head, strlen(head)) == 0 && strstr(why, "expected "), "message: %s", why);
}

static char env_lines[NSPECS][VALUE_MAX + 32];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char text[VALUE_MAX];
    const char *set[NSPECS] = {0};
    if (size >= sizeof text)
        return 0;
    memcpy(text, data, size);
    text[size] = 0;

    struct wbrt_config defaults, c;
    char why[600];
    for (size_t i = 0; i < NSPECS; i++)
        unsetenv(specs[i].name);
    FUZZ_CHECK(options_resolve(NULL, &defaults, why, sizeof why) == 0, "defaults refused: %s", why);
    FUZZ_CHECK(options_vars[NSPECS] == NULL, "a variable the fuzzer does not know");

    for (char *line = text, *next; line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = 0;
        char *eq = strchr(line, '=');
        if (!eq)
            continue;
        *eq = 0;
        const char *value = eq + 1;
        const struct spec *sp = NULL;
        for (size_t i = 0; i < NSPECS; i++)
            if (strcmp(line, specs[i].name) == 0)
                sp = &specs[i], set[i] = value;
        c = defaults;
        errno = 0;
        int rc = options_parse(&c, line, value, why, sizeof why);
        unsigned long long val = 0;
        if (!sp) {
            FUZZ_CHECK(rc == -1 && errno == EINVAL && strstr(why, "not a wbrt option"), "%s accepted", line);
        } else if (expect(sp, value, &val)) {
            FUZZ_CHECK(rc == 0, "%s=%s refused: %s", line, value, why);
            FUZZ_CHECK(holds(&c, sp, value, val), "%s=%s taken as something else", line, value);
        } else {
            FUZZ_CHECK(rc == -1, "%s=%s accepted", line, value);
            check_refusal(why, line);
            FUZZ_CHECK(memcmp(&c, &defaults, sizeof c) == 0, "%s=%s changed the configuration", line, value);
        }
    }

    /* The same settings through the environment, as wb_init reads them. */
    bool all_good = true;
    unsigned long long vals[NSPECS];
    for (size_t i = 0; i < NSPECS; i++) {
        if (!set[i])
            continue;
        snprintf(env_lines[i], sizeof env_lines[i], "%s=%s", specs[i].name, set[i]);
        putenv(env_lines[i]);
        all_good &= expect(&specs[i], set[i], &vals[i]);
    }
    errno = 0;
    int rc = options_resolve(NULL, &c, why, sizeof why);
    if (all_good) {
        FUZZ_CHECK(rc == 0, "refused: %s", why);
        for (size_t i = 0; i < NSPECS; i++)
            FUZZ_CHECK(!set[i] || holds(&c, &specs[i], set[i], vals[i]), "%s=%s not taken", specs[i].name, set[i]);
    } else {
        FUZZ_CHECK(rc == -1, "bad settings accepted");
        size_t i = 0;
        char head[64];
        while (i < NSPECS && !(set[i] && (snprintf(head, sizeof head, "%s=", specs[i].name),
                                          strncmp(why, head, strlen(head)) == 0)))
            i++;
        FUZZ_CHECK(i < NSPECS && !expect(&specs[i], set[i], &vals[i]), "message names no bad variable: %s", why);
        check_refusal(why, specs[i].name);
    }
    for (size_t i = 0; i < NSPECS; i++)
        unsetenv(specs[i].name);
    return 0;
}
