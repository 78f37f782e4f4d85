/* wbt: what every wbrt test needs: init/skip, child processes, hidden pointers, payloads.
 * SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef WBT_H
#define WBT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <pthread.h>
#include <sys/types.h>
#include <cmocka.h>
#include "wbrt.h"
#include "wbt_required.h"

/* WBT_SOFT is 1 in a test built for a software barrier (-DWB_SOFT_BARRIER=card|ssb|remset),
 * whose WB_STORE()s are the only stores the collector learns of, else 0 (a kernel barrier
 * sees every store).  WBT_NEEDS_KERNEL_BARRIER(why), first in a cmocka test, skips it
 * there with "SKIPPED: <barrier>: <test> needs a kernel barrier (<why>)": for tests of what
 * only the kernel can see (stores that bypass WB_STORE, barrier faults).  Before
 * WBT_FRESH_PROCESS, so that the line is the test's own output. */
#ifdef WB_SOFT_BARRIER
#define WBT_SOFT 1
#define WBT_STR_(x) #x
#define WBT_STR(x) WBT_STR_(x)
#define WBT_NEEDS_KERNEL_BARRIER(why)                                                      \
    do {                                                                                   \
        print_message("SKIPPED: %s: %s needs a kernel barrier (%s)\n",                     \
                      WBT_STR(WB_SOFT_BARRIER), __func__, why);                            \
        skip();                                                                            \
    } while (0)
#else
#define WBT_SOFT 0
#define WBT_NEEDS_KERNEL_BARRIER(why) ((void)0)
#endif

/* First call of a collector test's main(): initialises the heap from the WBRT_*
 * environment.  A forced barrier this machine cannot use (wb_init fails with ENOTSUP) prints
 * "SKIPPED: <backend>: <reason>" and exits WBT_SKIP, or fails if WBRT_TEST_BARRIERS lists
 * it (wbt_unavailable); any other failure exits 1.
 * In a process started by wbt_respawn() it also limits cmocka to that one test. */
void wbt_init(void);

/* What a child process did: its wait status and its stdout+stderr, NUL-terminated
 * (truncated to fit). */
struct wbt_child {
    int status;
    char out[16384];
};

/* Runs fn(arg) in a forked child after adding env ("NAME=value" strings, NULL-terminated;
 * env may be NULL) to its environment.  The child exits 0 when fn returns; a failed
 * cmocka assertion in it aborts it (CMOCKA_TEST_ABORT), so it cannot run other tests. */
void wbt_fork(struct wbt_child *c, const char *const *env, void (*fn)(void *), void *arg);

int wbt_exited(const struct wbt_child *c, int code);      /* exited with that code */
int wbt_killed_by(const struct wbt_child *c, int sig);    /* died of that signal */

/* Runs test (a cmocka test function name) again in a fresh process of this program with
 * env added, so that it gets its own wb_init.  In the parent: waits, fails the test if
 * the child did not pass, and returns 1.  In that fresh process: returns 0. */
int wbt_respawn(const char *test, const char *const *env);
#define WBT_FRESH_PROCESS(...)                                                   \
    do {                                                                         \
        if (wbt_respawn(__func__, (const char *const[]){__VA_ARGS__, NULL}))     \
            return;                                                              \
    } while (0)

/* A pointer stored bit-inverted: no conservative scan sees it as a reference. */
typedef uintptr_t wbt_hidden;
static inline wbt_hidden wbt_hide(const void *p) { return ~(uintptr_t)p; }
static inline void *wbt_reveal(wbt_hidden h) { return (void *)~h; }

/* Zeroes a few KiB of stack below the caller and the scratch registers, so that no dead
 * copy of a pointer the caller's callees handled is left where the collector looks. */
void wbt_scrub_stack(void);

/* Tests handle heap pointers inside these noinline helpers, never in their own bodies, so
 * that after wbt_scrub_stack() no stale copy is left on the stack or in a register.
 * A pointer stored into a heap object goes through wb_store()/WB_STORE(), as in any
 * program that may be built for a software barrier. */

/* *slot = a new object of n bytes filled with seed's payload; returns it hidden.  holder
 * is the start of the heap object that holds slot (the store goes through wb_store), or
 * NULL if slot is not in the heap (a global, a stack or malloc slot: a plain store). */
wbt_hidden wbt_store_new(void *holder, void **slot, size_t n, uint64_t seed);
/* A new object of n bytes that nothing references, hidden. */
wbt_hidden wbt_garbage(size_t n, uint64_t seed);
/* Fails unless h is a live object still holding seed's payload. */
void wbt_assert_live(wbt_hidden h, size_t n, uint64_t seed);
/* Allocates and overwrites count objects of n bytes, so that memory wrongly freed by the
 * last collection is handed out and overwritten. */
void wbt_churn(size_t n, int count);

/* In a mutator thread: waits until *collections (which a collecting thread bumps after
 * each collection) has grown by n, so that at least n collections overlap its work. */
void wbt_await_collections(int *collections, int n);

/* A thread that runs collections of kind back to back (yielding in between) and bumps
 * count after each, until wbt_collector_stop() joins it: "another thread collects" for
 * wbt_await_collections(&c->count, n). */
struct wbt_collector {
    pthread_t thread;
    int kind, stop, count;
};
void wbt_collector_start(struct wbt_collector *c, int kind);
void wbt_collector_stop(struct wbt_collector *c);

/* Waits until thread tid of this process is blocked in one of the system calls nrs[]
 * (a list ended by -1), as /proc/self/task/<tid>/syscall shows: an event, not a delay. */
void wbt_await_syscall(pid_t tid, const long *nrs);

/* Fails unless none of the n objects h[] pointed to is live any more (call it right after
 * a collection, before allocating again, so that their memory cannot be in use anew). */
void wbt_assert_reclaimed(const wbt_hidden *h, size_t n);

/* A "Vm...:" field of /proc/self/status (name without the colon, e.g. "VmRSS"), in KiB;
 * fails the test if it is missing. */
size_t wbt_status_kib(const char *name);

/* rm -rf dir (a test's scratch directory): 0, or -1 if that failed. */
int wbt_remove_tree(const char *dir);

/* A payload that depends on seed and is never a heap address, and its check. */
void wbt_fill(void *p, size_t n, uint64_t seed);
int wbt_intact(const void *p, size_t n, uint64_t seed);

#endif
