/* Error tests: bad frees and reallocs, invalid WBRT_* values, calls before wb_init.
 * Every case runs in a forked child with its own environment; this process never
 * initialises the heap, so each child's first wbrt call does.
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include "wbt.h"

#include <errno.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum bad_kind { FOREIGN, GLIBC, INTERIOR, LARGE_INTERIOR, DOUBLE };

struct bad {
    int use_realloc;
    enum bad_kind kind;
};

static void bad_call(void *arg)
{
    static char foreign[64];
    const struct bad *b = arg;
    char *live, *big, *target = NULL;

    assert_int_equal(wb_init(NULL), 0);
    live = wb_malloc(64);
    big = wb_malloc(20000);
    assert_non_null(live);
    assert_non_null(big);
    wbt_fill(live, 64, 1);
    wbt_fill(big, 20000, 2);
    switch (b->kind) {
    case FOREIGN: target = foreign; break;
    case GLIBC: target = malloc(32); break;
    case INTERIOR: target = live + 16; break;
    case LARGE_INTERIOR: target = big + 4096; break;
    case DOUBLE:
        target = wb_malloc(64);
        wb_free(target);
        break;
    }
    fprintf(stderr, "target %p\n", (void *)target);
    fflush(stderr);
    if (b->use_realloc)
        wb_realloc(target, 128);
    else
        wb_free(target);
    /* Only with WBRT_ON_BAD_FREE=ignore: nothing was freed, and the heap still works. */
    assert_ptr_equal(wb_base(live), live);
    assert_true(wbt_intact(live, 64, 1));
    assert_ptr_equal(wb_base(big), big);
    assert_true(wbt_intact(big, 20000, 2));
    wb_collect(WB_COLLECT_FULL);
    assert_true(wbt_intact(live, 64, 1));
    assert_non_null(wb_malloc(100));
}

/* The child printed "target <p>" and then, from wbrt, "wbrt: <call>(<p>): <why>". */
static void expect_message(const struct wbt_child *c, const char *call)
{
    char pattern[128], expected[128], target[64];
    const char *t = strstr(c->out, "target ");
    regex_t re;

    assert_non_null(t);
    assert_int_equal(sscanf(t, "target %63s", target), 1);
    snprintf(pattern, sizeof pattern, "^wbrt: %s\\(0x[0-9a-f]+\\): .+$", call);
    assert_int_equal(regcomp(&re, pattern, REG_EXTENDED | REG_NEWLINE | REG_NOSUB), 0);
    if (regexec(&re, c->out, 0, NULL, 0) != 0)
        fail_msg("no line matching %s in:\n%s", pattern, c->out);
    regfree(&re);
    snprintf(expected, sizeof expected, "wbrt: %s(%s): ", call, target);
    if (strstr(c->out, expected) == NULL)
        fail_msg("no \"%s\" in:\n%s", expected, c->out);
}

static void check_bad(int use_realloc, enum bad_kind kind)
{
    static const char *const ignore[] = { "WBRT_ON_BAD_FREE=ignore", NULL };
    static const char *const abort_[] = { "WBRT_ON_BAD_FREE=abort", NULL };
    const char *call = use_realloc ? "wb_realloc" : "wb_free";
    struct bad b = { use_realloc, kind };
    struct wbt_child *c = malloc(sizeof *c);

    assert_non_null(c);
    wbt_fork(c, NULL, bad_call, &b);
    if (!wbt_killed_by(c, SIGABRT))
        fail_msg("%s, kind %d: status 0x%x, not SIGABRT; output:\n%s", call, kind, c->status, c->out);
    expect_message(c, call);

    wbt_fork(c, abort_, bad_call, &b);
    if (!wbt_killed_by(c, SIGABRT))
        fail_msg("%s, kind %d, abort: status 0x%x; output:\n%s", call, kind, c->status, c->out);
    expect_message(c, call);

    wbt_fork(c, ignore, bad_call, &b);
    if (!wbt_exited(c, 0))
        fail_msg("%s, kind %d, ignore: status 0x%x; output:\n%s", call, kind, c->status, c->out);
    free(c);
}

static void test_free_foreign(void **state) { (void)state; check_bad(0, FOREIGN); check_bad(0, GLIBC); }
static void test_free_interior(void **state) { (void)state; check_bad(0, INTERIOR); check_bad(0, LARGE_INTERIOR); }
static void test_free_double(void **state) { (void)state; check_bad(0, DOUBLE); }
static void test_realloc_foreign(void **state) { (void)state; check_bad(1, FOREIGN); check_bad(1, GLIBC); }
static void test_realloc_interior(void **state) { (void)state; check_bad(1, INTERIOR); check_bad(1, LARGE_INTERIOR); }
static void test_realloc_freed(void **state) { (void)state; check_bad(1, DOUBLE); }

static void free_null(void *arg)
{
    (void)arg;
    wb_free(NULL);
}

static void test_free_null(void **state)
{
    struct wbt_child c;

    (void)state;
    wbt_fork(&c, NULL, free_null, NULL);
    if (!wbt_exited(&c, 0))
        fail_msg("wb_free(NULL): status 0x%x; output:\n%s", c.status, c.out);
}

struct bad_option {
    const char *setting, *var;
    const char *accepted[5];
};

/* WBRT_STATS_FILE=<a path longer than PATH_MAX>, filled by test_bad_options. */
static char long_stats_file[4200];

static const struct bad_option bad_options[] = {
    { "WBRT_BARRIER=bogus", "WBRT_BARRIER", { "auto", "uffd-async", "mprotect", "none" } },
    { "WBRT_HEAP_MAX=12Q", "WBRT_HEAP_MAX", { "K", "M", "G" } },
    { "WBRT_YOUNG_BYTES=lots", "WBRT_YOUNG_BYTES", { "K", "M", "G" } },
    { "WBRT_FULL_MIN=1.5M", "WBRT_FULL_MIN", { "K", "M", "G" } },
    { "WBRT_MARK_STACK_MAX=x", "WBRT_MARK_STACK_MAX", { "K", "M", "G" } },
    { "WBRT_HEAP_GROWTH=fast", "WBRT_HEAP_GROWTH", { "integer" } },
    { "WBRT_TENURE_AGE=-3", "WBRT_TENURE_AGE", { "0" } },
    { "WBRT_VERIFY=2", "WBRT_VERIFY", { "0", "1" } },
    { "WBRT_VERBOSE=yes", "WBRT_VERBOSE", { "0", "1" } },
    { "WBRT_ON_BAD_FREE=maybe", "WBRT_ON_BAD_FREE", { "abort", "ignore" } },
    /* the barriers' and the preload's, refused by wb_init like the others */
    { "WBRT_UFFD_LOOP=epoll", "WBRT_UFFD_LOOP", { "poll", "uring" } },
    { "WBRT_UFFD_LOOP=", "WBRT_UFFD_LOOP", { "poll", "uring" } },
    { "WBRT_MODE=collect", "WBRT_MODE", { "gc", "leak", "stats" } },
    { "WBRT_STATS_INTERVAL=0", "WBRT_STATS_INTERVAL", { "milliseconds", "1", "60000" } },
    { "WBRT_STATS_INTERVAL=+5", "WBRT_STATS_INTERVAL", { "milliseconds", "1", "60000" } },
    { "WBRT_LEAK_SIGNAL=HUP", "WBRT_LEAK_SIGNAL", { "PWR", "USR1", "USR2", "RTMIN+N" } },
    { long_stats_file, "WBRT_STATS_FILE", { "path" } },
    { "WBRT_MARKERS=0", "WBRT_MARKERS", { "1", "64" } },
};

static void init_with_bad_option(void *arg)
{
    const struct bad_option *o = arg;
    const char *msg, *after;
    int rc, e;

    rc = wb_init(NULL);
    e = errno;
    msg = wb_last_error();
    assert_int_equal(rc, -1);
    assert_int_equal(e, EINVAL);
    assert_non_null(msg);
    after = strstr(msg, o->var);
    if (after == NULL)
        fail_msg("%s: message does not name %s: %s", o->setting, o->var, msg);
    after += strlen(o->var);   /* the accepted values are named after the variable */
    for (int i = 0; i < 5 && o->accepted[i] != NULL; i++)
        if (strstr(after, o->accepted[i]) == NULL)
            fail_msg("%s: message does not name \"%s\": %s", o->setting, o->accepted[i], msg);
}

static void test_bad_options(void **state)
{
    struct wbt_child *c = malloc(sizeof *c);

    (void)state;
    assert_non_null(c);
    memset(long_stats_file, 'x', sizeof long_stats_file - 1);
    memcpy(long_stats_file, "WBRT_STATS_FILE=/", 17);
    for (size_t i = 0; i < sizeof bad_options / sizeof bad_options[0]; i++) {
        const char *env[] = { bad_options[i].setting, NULL };
        wbt_fork(c, env, init_with_bad_option, (void *)&bad_options[i]);
        if (!wbt_exited(c, 0))
            fail_msg("%s: status 0x%x; output:\n%s", bad_options[i].setting, c->status, c->out);
    }
    free(c);
}

static void init_ok(void *arg)
{
    const char *barrier = arg;

    if (wb_init(NULL) != 0)
        fail_msg("wb_init: %s", wb_last_error());
    if (barrier != NULL)
        assert_string_equal(wb_barrier_name(), barrier);
    assert_non_null(wb_malloc(100));
    wb_collect(WB_COLLECT_FULL);
}

static void test_good_options(void **state)
{
    static const char *const settings[] = {
        "WBRT_HEAP_MAX=1G", "WBRT_HEAP_MAX=512M", "WBRT_HEAP_MAX=65536K",
        "WBRT_HEAP_MAX=1073741824", "WBRT_YOUNG_BYTES=4M", "WBRT_FULL_MIN=32M",
        "WBRT_MARK_STACK_MAX=1024", "WBRT_HEAP_GROWTH=50", "WBRT_TENURE_AGE=0",
        "WBRT_TENURE_AGE=3", "WBRT_VERIFY=0", "WBRT_VERIFY=1", "WBRT_VERBOSE=0",
        "WBRT_ON_BAD_FREE=abort", "WBRT_ON_BAD_FREE=ignore", "WBRT_BARRIER=auto",
        "WBRT_UFFD_LOOP=poll", "WBRT_UFFD_LOOP=uring", "WBRT_MODE=gc", "WBRT_STATS_INTERVAL=60000",
        "WBRT_LEAK_SIGNAL=SIGUSR2", "WBRT_STATS_FILE=/no/such/file",
        "WBRT_MARKERS=1", "WBRT_MARKERS=4",
    };
    static const char *const none[] = { "WBRT_BARRIER=none", NULL };
    struct wbt_child *c = malloc(sizeof *c);

    (void)state;
    assert_non_null(c);
    for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++) {
        const char *env[] = { settings[i], NULL };
        wbt_fork(c, env, init_ok, NULL);
        if (!wbt_exited(c, 0))
            fail_msg("%s: status 0x%x; output:\n%s", settings[i], c->status, c->out);
    }
    wbt_fork(c, none, init_ok, "none");
    if (!wbt_exited(c, 0))
        fail_msg("WBRT_BARRIER=none: status 0x%x; output:\n%s", c->status, c->out);
    free(c);
}

/* A non-zero wb_options field wins over the environment. */
static void init_options_win(void *arg)
{
    struct wb_options opt;

    (void)arg;
    memset(&opt, 0, sizeof opt);
    opt.barrier = "none";
    if (wb_init(&opt) != 0)
        fail_msg("wb_init: %s", wb_last_error());
    assert_string_equal(wb_barrier_name(), "none");
}

static void test_options_win_over_env(void **state)
{
    static const char *const env[] = { "WBRT_BARRIER=mprotect", NULL };
    struct wbt_child c;

    (void)state;
    wbt_fork(&c, env, init_options_win, NULL);
    if (!wbt_exited(&c, 0))
        fail_msg("status 0x%x; output:\n%s", c.status, c.out);
}

/* No wb_init: the first call initialises with the defaults and the environment. */
static void use_without_init(void *arg)
{
    struct wb_stats st;
    unsigned char *p;

    (void)arg;
    p = wb_malloc(100);
    assert_non_null(p);
    for (int i = 0; i < 100; i++)
        assert_int_equal(p[i], 0);
    wbt_fill(p, 100, 3);
    wb_collect(WB_COLLECT_FULL);
    assert_ptr_equal(wb_base(p), p);
    assert_true(wbt_intact(p, 100, 3));
    wb_get_stats(&st);
    assert_true(st.full_collections >= 1);
    assert_string_equal(wb_barrier_name(), "none");
}

static void test_calls_before_init(void **state)
{
    static const char *const env[] = { "WBRT_BARRIER=none", NULL };
    struct wbt_child c;

    (void)state;
    wbt_fork(&c, env, use_without_init, NULL);
    if (!wbt_exited(&c, 0))
        fail_msg("status 0x%x; output:\n%s", c.status, c.out);
}

int main(void)
{
    extern char **environ;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_free_foreign),
        cmocka_unit_test(test_free_interior),
        cmocka_unit_test(test_free_double),
        cmocka_unit_test(test_realloc_foreign),
        cmocka_unit_test(test_realloc_interior),
        cmocka_unit_test(test_realloc_freed),
        cmocka_unit_test(test_free_null),
        cmocka_unit_test(test_bad_options),
        cmocka_unit_test(test_good_options),
        cmocka_unit_test(test_options_win_over_env),
        cmocka_unit_test(test_calls_before_init),
    };

    /* The children's settings are the only WBRT_* ones they see. */
    for (char **e = environ; *e != NULL;) {
        if (strncmp(*e, "WBRT_", 5) == 0) {
            char name[128];
            snprintf(name, sizeof name, "%.*s", (int)strcspn(*e, "="), *e);
            unsetenv(name);
        } else {
            e++;
        }
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
