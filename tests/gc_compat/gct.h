/* Shared by the gc.h test programs, which are built against bdwgc and against wbrt and
 * must print the same thing: checks print fixed text, never a figure that may differ.
 * Environment of the tests' own (compare and ctest set them):
 *   GCT_INCREMENTAL=1  the program calls GC_enable_incremental (gct_enable_incremental);
 *   GCT_BARRIER=name   set for the run on wbrt: at exit the program checks on stderr, from
 *                      wbrt's statistics, that it ran under that barrier, that it made young
 *                      collections exactly when incremental, that then a kernel barrier
 *                      reported written pages, and otherwise none (no page was armed).
 * SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef GCT_H
#define GCT_H

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../../runtime/wbrt.h" /* struct wb_stats only: the bdwgc build finds wbrt at run time */

static int gct_failed;

/* Prints "what: yes" or "what: no"; a "no" makes the program fail. */
#define GCT_CHECK(what, cond)                                  \
    do {                                                       \
        int ok_ = (cond) != 0;                                 \
        printf("%s: %s\n", (what), ok_ ? "yes" : "no");        \
        gct_failed |= !ok_;                                    \
    } while (0)

/* Overwrite the dead part of the stack, so that stale pointers left there by earlier
 * calls do not keep objects alive (both collectors scan the stack conservatively). */
static __attribute__((noinline, unused)) void gct_clear_stack(void)
{
    volatile char pad[16384];
    memset((char *)pad, 0, sizeof pad);
}

static int gct_env_is(const char *name, const char *value)
{
    const char *v = getenv(name);
    return v && strcmp(v, value) == 0;
}

/* GC_enable_incremental in the incremental runs; nothing in the others. */
static __attribute__((unused)) void gct_enable_incremental(void)
{
    if (gct_env_is("GCT_INCREMENTAL", "1"))
        GC_enable_incremental();
}

/* An old object (collected once) given a young one after that collection: in the
 * incremental runs only the barrier's report of the store keeps the young one alive
 * through young collections (the runs' own check: a kernel barrier reported written pages). */
static void **gct_old_holder;
static __attribute__((unused)) void gct_store_into_old(void)
{
    gct_old_holder = GC_MALLOC(sizeof *gct_old_holder);
    GC_gcollect();
    char *young = GC_MALLOC_ATOMIC(8);
    strcpy(young, "young");
    *gct_old_holder = young;
}

static __attribute__((unused)) void gct_check_old_holder(void)
{
    GCT_CHECK("a young object stored into an old one is kept", strcmp((char *)*gct_old_holder, "young") == 0);
}

/* Like GCT_CHECK, on stderr: the two collectors' standard outputs stay the same. */
static void gct_check_wbrt(const char *what, int ok)
{
    fprintf(stderr, "gct: %s: %s\n", what, ok ? "yes" : "no");
    gct_failed |= !ok;
}

/* Under GCT_BARRIER: what wbrt's statistics say the barrier did (looked up at run time,
 * so that a program built against bdwgc and run on wbrt's libgc.so.1 checks it too). */
static void gct_check_barrier(void)
{
    const char *barrier = getenv("GCT_BARRIER");
    if (!barrier)
        return;
    void (*get_stats)(struct wb_stats *) = (void (*)(struct wb_stats *))dlsym(RTLD_DEFAULT, "wb_get_stats");
    const char *(*barrier_name)(void) = (const char *(*)(void))dlsym(RTLD_DEFAULT, "wb_barrier_name");
    gct_check_wbrt("running on wbrt", get_stats && barrier_name);
    if (!get_stats || !barrier_name)
        return;
    struct wb_stats s;
    get_stats(&s);
    int incremental = gct_env_is("GCT_INCREMENTAL", "1");
    fprintf(stderr, "gct: barrier %s, young collections %llu, full %llu, dirty pages %llu, barrier pages %llu\n",
            barrier_name(), (unsigned long long)s.young_collections, (unsigned long long)s.full_collections,
            (unsigned long long)s.dirty_pages_total, (unsigned long long)s.barrier_pages_total);
    gct_check_wbrt("the barrier asked for", strcmp(barrier_name(), barrier) == 0);
    gct_check_wbrt(incremental ? "young collections" : "no young collection (not incremental)",
                   incremental == (s.young_collections > 0));
    if (!incremental)   /* every collection full: no page is armed */
        gct_check_wbrt("the barrier reported no written page (not incremental)", s.barrier_pages_total == 0);
    if (incremental) {
        gct_check_wbrt("dirty pages", s.dirty_pages_total > 0);
        if (strcmp(barrier, "none") != 0)
            gct_check_wbrt("the barrier reported written pages", s.barrier_pages_total > 0);
    }
}

static int gct_exit(void)
{
    fflush(stdout);
    gct_check_barrier();
    return gct_failed ? 1 : 0;
}

#endif
