/* The client's hooks and the remaining calls Guile, ECL, Inkscape and Macaulay2 import:
 * the start callback, the finalizer notifier, Java-style finalization, blocking regions,
 * the debugging allocator, dlopen, thread exit, settings and checks.
 * SPDX-License-Identifier: GPL-2.0-or-later */
#define GC_THREADS
#include <gc.h>
#include <gc/gc_mark.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#include "gct.h"

#define N 100

static volatile int starts;
static void on_start(void) { starts++; }

static volatile int notified, finalized, reached_intact;
static void on_notify(void) { notified++; }
static void count_final(void *obj, void *cd)
{
    (void)obj, (void)cd;
    finalized++;
}

/* The object obj reaches is still there: filled with 42 (freed and reused, it would be
 * zeroed or overwritten; wbrt's verifier would also stop at reaching a freed object). */
static void check_reached(void *obj, void *cd)
{
    char *r = ((char **)obj)[0];
    int ok = 1;
    for (int i = 0; i < 32; i++)
        ok &= r[i] == 42;
    reached_intact += ok;
    count_final(obj, cd);
}

static char *global_word; /* for GC_is_visible */

static __attribute__((noinline)) void make_finalizable(void)
{
    for (int i = 0; i < N; i++) {
        void **obj = GC_MALLOC(32);
        obj[0] = GC_MALLOC(32); /* reached only from obj */
        memset(obj[0], 42, 32);
        GC_REGISTER_FINALIZER_NO_ORDER(obj, check_reached, NULL, NULL, NULL);
    }
}

static void check_finalization(void)
{
    GC_set_finalize_on_demand(1);
    GC_set_finalizer_notifier(on_notify);
    GCT_CHECK("GC_get_finalizer_notifier", GC_get_finalizer_notifier() == on_notify);
    GCT_CHECK("Java-style finalization is on by default", GC_get_java_finalization() == 1);
    make_finalizable();
    for (int round = 0; round < 3 && !notified; round++) {
        gct_clear_stack();
        GC_gcollect();
        GC_MALLOC(16); /* bdwgc notifies on an allocation */
    }
    GCT_CHECK("the notifier ran once finalizers waited", notified > 0);
    GCT_CHECK("no finalizer ran before GC_invoke_finalizers", finalized == 0);
    int ran = GC_invoke_finalizers();
    GCT_CHECK("GC_invoke_finalizers ran them", ran > 0 && ran == finalized);
    GCT_CHECK("what a no-order finalizable object reaches lives until its finalizer ran",
              reached_intact == finalized);
    GC_set_finalizer_notifier(NULL);
    GC_set_finalize_on_demand(0);
    GC_set_java_finalization(0);
    GCT_CHECK("GC_set_java_finalization(0)", GC_get_java_finalization() == 0);
    GC_set_java_finalization(1);
}

static void *blocked(void *cd) { return (char *)cd + 1; }
static void *active(void *cd) { return GC_call_with_gc_active(blocked, cd); }

static void *exiting(void *arg)
{
    void *keep = GC_MALLOC(64);
    ((void **)keep)[0] = arg;
    GC_pthread_exit(keep);
}

static __attribute__((noinline)) void make_debug(void **links)
{
    for (int i = 0; i < N; i++) {
        void *p = GC_debug_malloc(40, __FILE__, __LINE__);
        links[i] = p;
        GC_general_register_disappearing_link(&links[i], p);
        if (i % 2)
            GC_debug_register_finalizer_ignore_self(p, count_final, NULL, NULL, NULL);
    }
}

static void check_debug(void)
{
    void **links = GC_MALLOC_ATOMIC(N * sizeof *links);
    char *a = GC_debug_malloc_atomic(10, __FILE__, __LINE__);
    void **u = GC_debug_malloc_uncollectable(16, __FILE__, __LINE__);
    GCT_CHECK("GC_debug_malloc_atomic, _uncollectable", a && u && GC_size(a) >= 10 && u[0] == NULL);
    *u = GC_MALLOC(8);
    finalized = 0;
    make_debug(links);
    gct_clear_stack();
    GC_gcollect();
    GC_invoke_finalizers();
    long cleared = 0;
    for (int i = 0; i < N; i++)
        cleared += links[i] == NULL;
    GCT_CHECK("GC_debug_malloc: collected", cleared > N / 2);
    GCT_CHECK("GC_debug_register_finalizer_ignore_self: finalized", finalized > N / 4);
    GC_debug_free(u);
    GC_debug_free(a);
}

int main(void)
{
    GC_set_handle_fork(1);
    GC_INIT();
    gct_enable_incremental();
    void **old_obj = GC_MALLOC(64); /* old after the next collection */
    GC_set_start_callback(on_start);
    GCT_CHECK("GC_get_start_callback", GC_get_start_callback() == on_start);
    GC_gcollect();
    GCT_CHECK("the start callback ran at a collection", starts > 0);
    GC_set_start_callback(NULL);
    int before = starts;
    GC_gcollect();
    GCT_CHECK("and not once removed", starts == before);

    for (int i = 0; i < 4000; i++) /* young collections in the incremental runs, stores into old objects */
        old_obj[0] = GC_MALLOC(64);
    check_finalization();
    check_debug();

    GCT_CHECK("GC_do_blocking, GC_call_with_gc_active", GC_do_blocking(active, (char *)0 + 41) == (char *)0 + 42);
    int local;
    /* bdwgc marks the variable deprecated; Crystal reads it. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    GCT_CHECK("GC_stackbottom lies above the stack", (uintptr_t)GC_stackbottom > (uintptr_t)&local);
#pragma GCC diagnostic pop
    GCT_CHECK("GC_get_thr_restart_signal", GC_get_thr_restart_signal() > 0);
    GCT_CHECK("GC_get_time_limit: unlimited by default", GC_get_time_limit() == GC_TIME_UNLIMITED);
    GC_set_time_limit(50);
    GCT_CHECK("GC_set_time_limit", GC_get_time_limit() == 50);
    GC_set_time_limit(GC_TIME_UNLIMITED);
    GCT_CHECK("GC_get_full_freq", GC_get_full_freq() > 0);
    void *lib = GC_dlopen("libm.so.6", RTLD_NOW);
    GCT_CHECK("GC_dlopen", lib && dlsym(lib, "cos"));
    pthread_t t;
    void *ret = NULL;
    int arg;
    GCT_CHECK("GC_pthread_exit: the thread's result", pthread_create(&t, NULL, exiting, &arg) == 0 &&
              pthread_join(t, &ret) == 0 && ret && ((void **)ret)[0] == &arg);
    void **obj = GC_MALLOC(32);
    GCT_CHECK("GC_is_visible: a word of a scanned object", GC_is_visible(&obj[1]) == &obj[1]);
    GCT_CHECK("GC_is_visible: a global", GC_is_visible(&global_word) == &global_word);
    /* Its text is each collector's own: not compared. */
    fflush(stdout);
    int out = dup(1), null = open("/dev/null", O_WRONLY);
    dup2(null, 1);
    GC_dump();
    fflush(stdout);
    dup2(out, 1);
    close(null), close(out);
    return gct_exit();
}
