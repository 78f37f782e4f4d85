/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Leak mode.  Each block's allocation stack is interned in a hash table of stacks; a
 * side table maps the block's first granule to its stack.  The report marks from the
 * roots without freeing (gc_each_unreachable), adds up the unreachable blocks per stack
 * and prints the largest first, symbolized by backtrace_symbols_fd (which does not
 * allocate).  Stacks come from glibc's backtrace(), whose first call loads libgcc_s
 * (and allocates): it is made once from the constructor.
 * Design: docs/design/preload.md */
#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "fork_page.h"
#include "heap.h"
#include "leaks.h"
#include "preload.h"
#include "thread_spawn.h"
#include "vm.h"
#include "sys.h"

#define DEPTH 12
#define SKIP 2              /* leaks_record and the malloc-family function */
#define STACKS (1u << 16)   /* distinct stacks kept; beyond, blocks count as "unknown" */
#define TOP 20              /* stacks printed */

struct stack {
    uint64_t hash;
    uint32_t depth;
    void *frames[DEPTH];
    uint64_t bytes, blocks;  /* unreachable, during a report */
};

static struct stack *stacks;   /* [0] is "unknown" */
static uint32_t *stack_of;     /* per granule of the heap */
OS_FORK_PAGE static int lock;
static int wake_fd[2] = {-1, -1};

static uint32_t intern(void *const *frames, uint32_t depth)
{
    uint64_t h = 1469598103934665603u;
    for (uint32_t i = 0; i < depth; i++)
        h = (h ^ (uintptr_t)frames[i]) * 1099511628211u;
    h |= 1;
    while (__atomic_exchange_n(&lock, 1, __ATOMIC_ACQUIRE))
        __builtin_ia32_pause();
    uint32_t id = 0;
    for (uint32_t i = 0, slot = (uint32_t)(h % (STACKS - 1)) + 1; i < 64; i++, slot = slot % (STACKS - 1) + 1) {
        struct stack *s = &stacks[slot];
        if (!s->hash) {
            s->hash = h;
            s->depth = depth;
            memcpy(s->frames, frames, depth * sizeof *frames);
        }
        if (s->hash == h && s->depth == depth && !memcmp(s->frames, frames, depth * sizeof *frames)) {
            id = slot;
            break;
        }
    }
    __atomic_store_n(&lock, 0, __ATOMIC_RELEASE);
    return id;
}

void leaks_forked(void)
{
    __atomic_store_n(&lock, 0, __ATOMIC_RELEASE);
}

__attribute__((noinline)) void leaks_record(void *p)
{
    void *frames[DEPTH + SKIP];
    gc_inside++;
    int n = backtrace(frames, DEPTH + SKIP);
    gc_inside--;
    uint32_t depth = n > SKIP ? (uint32_t)n - SKIP : 0;
    stack_of[gran_of((uintptr_t)p)] = intern(frames + SKIP, depth);
}

/* World stopped: no allocation, no lock. */
static void count(uintptr_t obj, size_t size, void *ctx)
{
    (void)ctx;
    struct stack *s = &stacks[stack_of[gran_of(obj)]];
    s->bytes += size;
    s->blocks++;
}

/* Reports asked for by the signal, and made (under report_lock): the exit path makes
 * those still pending first, so none is lost to a process that exits meanwhile. */
static unsigned requested, made;
static pthread_mutex_t report_lock = PTHREAD_MUTEX_INITIALIZER;

static void report_locked(void)
{
    gc_inside++;
    gc_each_unreachable(count, NULL);
    uint64_t total = 0, blocks = 0;
    for (uint32_t i = 0; i < STACKS; i++)
        total += stacks[i].bytes, blocks += stacks[i].blocks;
    dprintf(2, "wbrt: leak report: %llu bytes in %llu unreachable blocks\n", (unsigned long long)total,
            (unsigned long long)blocks);
    for (int k = 0; k < TOP; k++) {
        struct stack *best = NULL;
        for (uint32_t i = 0; i < STACKS; i++)
            if (stacks[i].bytes && (!best || stacks[i].bytes > best->bytes))
                best = &stacks[i];
        if (!best)
            break;
        dprintf(2, "wbrt: leak: %llu bytes in %llu blocks allocated at:\n", (unsigned long long)best->bytes,
                (unsigned long long)best->blocks);
        if (best->depth)
            backtrace_symbols_fd(best->frames, (int)best->depth, 2);
        else
            dprintf(2, "  (stack not recorded)\n");
        best->bytes = 0;
    }
    for (uint32_t i = 0; i < STACKS; i++)
        stacks[i].bytes = stacks[i].blocks = 0;
    gc_inside--;
}

static void report_pending_locked(void)
{
    for (; made != __atomic_load_n(&requested, __ATOMIC_ACQUIRE); made++)
        report_locked();
}

void leaks_report(void)
{
    pthread_mutex_lock(&report_lock);
    report_pending_locked();
    report_locked();
    pthread_mutex_unlock(&report_lock);
}

static void on_signal(int sig)
{
    (void)sig;
    char c = 1;
    __atomic_add_fetch(&requested, 1, __ATOMIC_RELEASE);
    if (write(wake_fd[1], &c, 1) < 0) {
        /* a report is already pending */
    }
}

/* A thread of our own (every signal blocked) makes the reports the signal asks for. */
static void *reporter(void *unused)
{
    (void)unused;
    char c;
    for (;;) {
        ssize_t r = os_read(wake_fd[0], &c, 1);
        if (r == 1) {
            pthread_mutex_lock(&report_lock);
            report_pending_locked();
            pthread_mutex_unlock(&report_lock);
        }
        else if (r == 0 || errno != EINTR)
            return NULL;
    }
}

int leaks_start(char *why, size_t whylen)
{
    stacks = os_table(STACKS * sizeof *stacks);
    stack_of = os_table_scaled(H.npages * GRANS_PER_PAGE * sizeof *stack_of);
    if (!stacks || !stack_of) {
        snprintf(why, whylen, "leak mode: cannot map the stack tables");
        return -1;
    }
    void *warm[4];
    backtrace(warm, 4); /* loads the unwinder now, not inside a malloc */
    int sig = G.cfg.leak_signal;
    if (!sig)
        return 0;
    pthread_t t;
    struct sigaction sa = {.sa_handler = on_signal, .sa_flags = SA_RESTART};
    if (os_pipe2(wake_fd, O_CLOEXEC | O_NONBLOCK) != 0 || fcntl(wake_fd[0], F_SETFL, 0) != 0 ||
        os_thread_spawn(&t, reporter, NULL) != 0 || sigaction(sig, &sa, NULL) != 0) {
        snprintf(why, whylen, "leak mode: cannot set up the WBRT_LEAK_SIGNAL reporter");
        return -1;
    }
    return 0;
}
