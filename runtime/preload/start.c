/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Starting the collector inside an unmodified program, and its report at exit.
 * Design: docs/design/preload.md */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "gc.h"
#include "dirty_intervals.h"
#include "fork.h"
#include "leaks.h"
#include "preload.h"
#include "preload_stats.h"
#include "roots.h"
#include "sys.h"
#include "wbrt.h"

enum preload_mode preload_mode;

/* The preload's step in a fork child, after the collector's (runtime/fork.c). */
static void forked_child(void)
{
    preload_exec_owner();
    preload_stats_forked();
    dirty_intervals_forked();
    leaks_forked();
}

static void die(const char *msg)
{
    fprintf(stderr, "wbrt: %s\n", msg);
    _exit(127);
}

/* Runs before the program's constructors (those of the objects loaded after this one);
 * until it is done every allocation goes to glibc's allocator. */
__attribute__((constructor)) static void preload_start(void)
{
    gc_inside++;
    /* glibc's allocator sets itself up at its first call, without a lock, and binds the
     * caller to its main arena, which counts one thread.  wbrt's own calls into glibc go
     * there (pthread_getattr_np in every new thread): two new threads making the first
     * call at once were both bound with one count, and glibc aborted at the second's exit
     * ("a->attached_threads > 0").  Make that first call here, before any thread. */
    __libc_free(__libc_malloc(1));
    preload_libc_usable_size = (size_t (*)(void *))dlsym(RTLD_NEXT, "malloc_usable_size");
    roots_scan_mappings();
    fork_preload_child = forked_child;
    os_fd_room();               /* before the program can raise its limit (docs/preload.md) */
    /* Also refuses a bad WBRT_MODE and the preload's other settings; the barrier waits for
     * the first collection (most processes, make's and bash's children, never collect). */
    if (gc_init_deferred() != 0)
        die(wb_last_error());
    preload_mode = G.cfg.preload_mode;
    G.sw.is_malloc = true;
    char why[200];
    if (preload_mode != PRELOAD_GC)
        G.cfg.young_bytes = SIZE_MAX; /* nothing is reclaimed */
    if ((preload_mode == PRELOAD_LEAK && leaks_start(why, sizeof why) != 0) ||
        (preload_mode == PRELOAD_STATS && dirty_intervals_start(why, sizeof why) != 0))
        die(why);
    gc_inside--;
    __atomic_store_n(&preload_ready, 1, __ATOMIC_RELEASE);
}

__attribute__((destructor)) static void preload_finish(void)
{
    if (!preload_ready)
        return;
    gc_inside++;
    if (preload_mode == PRELOAD_LEAK)
        leaks_report();
    if (preload_mode == PRELOAD_STATS)
        dirty_intervals_finish();
    preload_write_stats();
    gc_inside--;
}
