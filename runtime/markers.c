/* Marker threads.  They are the library's own (os_thread_spawn): never registered, so
 * never stopped by a collection nor scanned as roots, every signal blocked, their stacks
 * left out of a scan of the process's memory.  Between phases they sleep on a futex, so
 * they hold up nothing, fork included; a forked child has none and starts its own when
 * it first needs them.
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include "markers.h"
#include <stdint.h>
#include <unistd.h>
#include "futex.h"
#include "gc.h"
#include "options.h"
#include "race_annotations.h"
#include "thread_spawn.h"

struct helper {
    unsigned idx;
    unsigned seen; /* the phase when it was started (those before are not its) */
};

static struct {
    pid_t pid;          /* the process whose helpers these are */
    unsigned started;   /* helpers 1..started exist */
    pid_t starting;     /* the process of a thread in markers_start, or 0 */
    int failed;         /* a helper could not be started: do not try again in this process */
    unsigned phase;     /* bumped to start a phase: the helpers wait on it */
    unsigned open;      /* a phase runs: a helper that wakes now may take part */
    unsigned inside;    /* helpers between waking and having seen the phase closed (or done
                           their part): the caller waits for none to be left */
    unsigned n;
    void (*fn)(unsigned i, void *ctx);
    void *ctx;
    struct helper helpers[MARKERS_MAX];
} W;

static void *helper_main(void *arg)
{
    const struct helper *h = arg;
    unsigned seen = h->seen; /* a local: the collector scans its own globals as roots */
    for (;;) {
        unsigned ph;
        while ((ph = __atomic_load_n(&W.phase, __ATOMIC_ACQUIRE)) == seen)
            os_futex_wait(&W.phase, seen);
        seen = ph;
        /* A helper that woke too late (under load it may wait long for a CPU) finds the
         * phase closed and holds nothing up; fn itself copes with a phase already over. */
        __atomic_add_fetch(&W.inside, 1, __ATOMIC_SEQ_CST);
        if (__atomic_load_n(&W.open, __ATOMIC_SEQ_CST)) {
            OS_HAPPENS_AFTER(&W.open);
            if (h->idx < W.n)
                W.fn(h->idx, W.ctx);
        }
        OS_HAPPENS_BEFORE(&W.inside);
        if (__atomic_sub_fetch(&W.inside, 1, __ATOMIC_SEQ_CST) == 0)
            os_futex_wake(&W.inside, 1);
    }
    return NULL;
}

/* A forked child has none of its parent's helpers. */
static void forget_if_forked(void)
{
    pid_t pid = getpid();
    if (W.pid != pid) {
        W.pid = pid;
        __atomic_store_n(&W.started, 0, __ATOMIC_RELAXED);
        __atomic_store_n(&W.failed, 0, __ATOMIC_RELAXED);
        OS_ATOMIC_ONLY(&W.started);  /* read by collections while a thread starts helpers */
        OS_ATOMIC_ONLY(&W.starting);
        OS_ATOMIC_ONLY(&W.failed);
        OS_ATOMIC_ONLY(&W.phase);
        OS_ATOMIC_ONLY(&W.open);
        OS_ATOMIC_ONLY(&W.inside);
    }
}

bool markers_missing(unsigned want)
{
    forget_if_forked();
    if (want > MARKERS_MAX)
        want = MARKERS_MAX;
    return __atomic_load_n(&W.started, __ATOMIC_ACQUIRE) + 1 < want && !__atomic_load_n(&W.failed, __ATOMIC_RELAXED);
}

void markers_start(unsigned want)
{
    if (want > MARKERS_MAX)
        want = MARKERS_MAX;
    /* One thread at a time (collections may overlap here, the heap lock being released); a
     * forked child takes over from a thread of its parent's. */
    pid_t me = getpid(), cur = 0;
    if (!__atomic_compare_exchange_n(&W.starting, &cur, me, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED) &&
        (cur == me || !__atomic_compare_exchange_n(&W.starting, &cur, me, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)))
        return;
    OS_HAPPENS_AFTER(&W.starting);
    forget_if_forked();
    gc_inside++; /* pthread_create may allocate: not from the collector's heap (the preload) */
    for (unsigned n; (n = W.started) + 1 < want && !__atomic_load_n(&W.failed, __ATOMIC_RELAXED);) {
        struct helper *h = &W.helpers[n + 1];
        pthread_t tid;
        h->idx = n + 1;
        h->seen = __atomic_load_n(&W.phase, __ATOMIC_ACQUIRE);
        if (os_thread_spawn(&tid, helper_main, h) != 0)
            __atomic_store_n(&W.failed, 1, __ATOMIC_RELAXED); /* marking goes on with those there are */
        else
            __atomic_store_n(&W.started, n + 1, __ATOMIC_RELEASE); /* a collection may count it now */
    }
    gc_inside--;
    OS_HAPPENS_BEFORE(&W.starting);
    __atomic_store_n(&W.starting, 0, __ATOMIC_RELEASE);
}

unsigned markers_ready(unsigned want)
{
    forget_if_forked();
    unsigned n = __atomic_load_n(&W.started, __ATOMIC_ACQUIRE) + 1;
    return n < want ? n : want;
}

void markers_run(unsigned n, void (*fn)(unsigned i, void *ctx), void *ctx)
{
    if (n > 1) {
        W.n = n;
        W.fn = fn;
        W.ctx = ctx;
        OS_HAPPENS_BEFORE(&W.open);
        __atomic_store_n(&W.open, 1, __ATOMIC_SEQ_CST);
        __atomic_add_fetch(&W.phase, 1, __ATOMIC_RELEASE);
        os_futex_wake(&W.phase, INT32_MAX);
    }
    fn(0, ctx);
    if (n > 1) {
        /* Closed first: a helper counted inside after the wait below saw it closed. */
        __atomic_store_n(&W.open, 0, __ATOMIC_SEQ_CST);
        for (unsigned k; (k = __atomic_load_n(&W.inside, __ATOMIC_SEQ_CST)) != 0;)
            os_futex_wait(&W.inside, k);
        OS_HAPPENS_AFTER(&W.inside);
    }
}
