/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Starting the collector inside an unmodified program, and its report at exit. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "gc.h"
#include "dirty_intervals.h"
#include "leaks.h"
#include "preload.h"
#include "preload_stats.h"
#include "roots.h"
#include "wbrt.h"

enum preload_mode preload_mode;

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
    preload_libc_usable_size = (size_t (*)(void *))dlsym(RTLD_NEXT, "malloc_usable_size");
    const char *m = secure_getenv("WBRT_MODE");
    if (!m || strcmp(m, "gc") == 0)
        preload_mode = PRELOAD_GC;
    else if (strcmp(m, "leak") == 0)
        preload_mode = PRELOAD_LEAK;
    else if (strcmp(m, "stats") == 0)
        preload_mode = PRELOAD_STATS;
    else {
        char msg[160];
        snprintf(msg, sizeof msg, "WBRT_MODE=%s is invalid: expected gc, leak or stats", m);
        die(msg);
    }
    roots_scan_mappings();
    preload_stats_start();
    if (wb_init(NULL) != 0)
        die(wb_last_error());
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
