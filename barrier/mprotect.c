/* SPDX-License-Identifier: GPL-2.0-or-later */
/* mprotect: armed pages are made read-only; the first write faults (SIGSEGV through
 * os/faults), the handler marks the page dirty and makes it writable; harvest makes the
 * written armed pages read-only again.  Adjacent pages share one mprotect call, because
 * every protection boundary costs a mapping (vm.max_map_count, 65530 by default).
 * If mprotect fails (ENOMEM: out of mappings) the barrier gives up protecting for good:
 * the whole heap is made writable in one call and every page of each harvested range is
 * reported dirty from then on (tracks stays 1, but the answer is "everything").
 * One lock makes each change of a page's protection and of its prot bit a single step, as
 * in uffd_sync.c: a thread the collection does not stop (one past its exit, in a late
 * destructor) may take a fault while a harvest re-protects the same page, and two
 * interleaved pairs leave the page read-only with its bit clear (every later write would
 * fault for ever, and crash once the page is disarmed) or writable with its bit set (its
 * writes lost).  The fault handler spins for it; everyone else holds it with the
 * asynchronous signals blocked, so that no stop-the-world signal or program handler that
 * writes a protected page can run in a holder.
 * Design: docs/design/barrier.md */
#include "barrier.h"
#include "faults.h"
#include "page_runs.h"
#include "race_annotations.h"
#include "sys.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static struct {
    struct page_runs pages;     /* read by the fault handler: atomic bits, no lock */
    struct dirty_map *dm;
    uint64_t faults;
    int gave_up;
    int lock;                   /* see the top of the file */
} mp;

/* A write fault on a heap page that is neither protected nor armed can predate a disarm
 * (another thread un-protected the page, then the collection disarmed it): the write is
 * re-executed once, and only a second fault at the same address is declined. */
static __thread uintptr_t retried __attribute__((tls_model("initial-exec")));

/* Async-signal-safe: in the fault handler, whose mask blocks the asynchronous signals.
 * The annotations tell a race checker (helgrind) that this is a lock. */
static void lock_raw(void)
{
    while (__atomic_exchange_n(&mp.lock, 1, __ATOMIC_ACQUIRE))
        while (__atomic_load_n(&mp.lock, __ATOMIC_RELAXED))
            sched_yield();
    OS_HAPPENS_AFTER(&mp.lock);
}

static void unlock_raw(void)
{
    OS_HAPPENS_BEFORE(&mp.lock);
    __atomic_store_n(&mp.lock, 0, __ATOMIC_RELEASE);
}

static void lock(sigset_t *old)
{
    sigset_t async;
    os_async_signals(&async);
    os_sigmask(SIG_BLOCK, &async, old);
    lock_raw();
}

static void unlock(const sigset_t *old)
{
    unlock_raw();
    os_sigmask(SIG_SETMASK, old, NULL);
}

static bool gave_up(void)
{
    return __atomic_load_n(&mp.gave_up, __ATOMIC_RELAXED);
}

static void *page_addr(size_t page)
{
    return page_runs_addr(&mp.pages, page);
}

/* Make the whole heap writable.  Async-signal-safe.  One call over the whole reservation
 * only merges mappings, so it cannot run out of them.  Writable first, bits after: a
 * thread that faulted meanwhile finds the page armed but not protected, and retries. */
static void lift_all(void)
{
    mprotect(page_addr(0), mp.pages.len, PROT_READ | PROT_WRITE);
    page_runs_none_protected(&mp.pages);
}

/* Async-signal-safe. */
static void give_up(int err)
{
    static const char enomem[] = "wbrt: mprotect barrier: out of mappings (vm.max_map_count); "
                                 "every heap page now counts as dirty at each collection\n";
    static const char other[] = "wbrt: mprotect barrier: mprotect failed; "
                                "every heap page now counts as dirty at each collection\n";
    lift_all();
    if (!__atomic_exchange_n(&mp.gave_up, 1, __ATOMIC_SEQ_CST)) {
        ssize_t rc = err == ENOMEM ? write(STDERR_FILENO, enomem, sizeof enomem - 1)
                                   : write(STDERR_FILENO, other, sizeof other - 1);
        (void)rc;
    }
}

/* Make a run read-only, reporting it to dm if given.  A failure gives up and stops the
 * walk.  World stopped. */
static bool protect_run(void *dm, size_t page, size_t n)
{
    if (dm)
        page_runs_report(&mp.pages, dm, page, n);
    if (mprotect(page_addr(page), n << WB_PAGE_SHIFT, PROT_READ) != 0) {
        give_up(errno);
        return false;
    }
    dirty_map_set_range(&mp.pages.prot, page, n);
    return true;
}

/* Make a protected run writable: one mprotect per run. */
static bool unprotect_run(void *unused, size_t page, size_t n)
{
    (void)unused;
    if (mprotect(page_addr(page), n << WB_PAGE_SHIFT, PROT_READ | PROT_WRITE) != 0) {
        give_up(errno);
        return false;
    }
    dirty_map_clear_range(&mp.pages.prot, page, n);
    return true;
}

/* SIGSEGV (write-permission fault) handler.  Async-signal-safe. */
static int on_fault(void *addr)
{
    uintptr_t a = (uintptr_t)addr;
    if (a - mp.pages.base >= mp.pages.len)
        return 0;
    size_t page = (a - mp.pages.base) >> WB_PAGE_SHIFT;
    lock_raw();
    bool prot = dirty_map_test(&mp.pages.prot, page);
    bool armed = dirty_map_test(&mp.pages.armed, page);
    if (prot) {
        dirty_map_set(mp.dm, dirty_map_page(mp.dm, a));
        if (mprotect(page_addr(page), WB_PAGE_SIZE, PROT_READ | PROT_WRITE) == 0)
            dirty_map_clear_range(&mp.pages.prot, page, 1);
        else
            give_up(errno);
        __atomic_fetch_add(&mp.faults, 1, __ATOMIC_RELAXED);
    }
    unlock_raw();
    /* Armed but writable: another thread made it writable after this one faulted. */
    if (prot || armed) {
        retried = 0;
        return 1;
    }
    if (retried == a) {
        retried = 0;
        return 0;
    }
    retried = a;
    return 1;
}

static int mp_probe(char *why, size_t whylen)
{
    void *p = mmap(NULL, WB_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        snprintf(why, whylen, "mmap: %s", strerror(errno));
        return -1;
    }
    int rc = mprotect(p, WB_PAGE_SIZE, PROT_READ);
    if (rc != 0)
        snprintf(why, whylen, "mprotect(PROT_READ): %s", strerror(errno));
    munmap(p, WB_PAGE_SIZE);
    return rc;
}

static int mp_attach(void *base, size_t len, struct dirty_map *dm, const struct barrier_settings *set,
                     char *why, size_t whylen)
{
    (void)set;
    if (page_runs_init(&mp.pages, base, len) < 0) {
        snprintf(why, whylen, "mmap of the page bitmaps: %s", strerror(errno));
        return -1;
    }
    mp.dm = dm;
    mp.faults = 0;
    mp.gave_up = 0;
    OS_ATOMIC_ONLY(&mp.lock);
    if (faults_install(on_fault, lift_all, why, whylen) < 0) {
        page_runs_destroy(&mp.pages);
        memset(&mp, 0, sizeof mp);
        return -1;
    }
    return 0;
}

static void mp_detach(void)
{
    lift_all();                 /* first: a write must not fault once we are gone */
    faults_uninstall();
    page_runs_destroy(&mp.pages);
    memset(&mp, 0, sizeof mp);
}

static void mp_arm(void *addr, size_t len)
{
    size_t first, n = page_runs_clip(&mp.pages, addr, len, &first);
    if (!n || gave_up())
        return;
    sigset_t old;
    lock(&old);
    dirty_map_set_range(&mp.pages.armed, first, n);
    page_runs_written(&mp.pages, first, n, protect_run, NULL);
    unlock(&old);
}

static size_t mp_harvest(struct dirty_map *dm, void *addr, size_t len)
{
    char why[128];
    /* Take SIGSEGV back if it was handed to the program (lift_all ran: every armed page is
     * now writable and is reported below) or if the program installed a handler over ours. */
    faults_install(on_fault, lift_all, why, sizeof why);
    size_t first, n = page_runs_clip(&mp.pages, addr, len, &first);
    if (!n)
        return 0;
    if (!gave_up()) {
        sigset_t old;
        lock(&old);
        size_t count = page_runs_written(&mp.pages, first, n, protect_run, dm);
        unlock(&old);
        if (!gave_up())
            return count;
    }
    return page_runs_report(&mp.pages, dm, first, n);
}

/* Make the protected pages of [first, first+n) writable.  Mostly called for pages that
 * are not protected: the lock (and the two system calls of the signal mask) only when
 * one is.  A page a harvest protects meanwhile is a thread's that was not stopped: its
 * next write faults and is handled. */
static void unprotect(size_t first, size_t n)
{
    if (!n || gave_up() || dirty_map_next(&mp.pages.prot, first, first + n) == first + n)
        return;
    sigset_t old;
    lock(&old);
    page_runs_protected(&mp.pages, first, n, unprotect_run, NULL);
    unlock(&old);
}

static void mp_will_write(void *addr, size_t len)
{
    size_t first, n = page_runs_clip(&mp.pages, addr, len, &first);
    unprotect(first, n);
}

static void mp_disarm(void *addr, size_t len)
{
    size_t first, n = page_runs_clip(&mp.pages, addr, len, &first);
    if (!n || gave_up())
        return;
    dirty_map_clear_range(&mp.pages.armed, first, n);
    unprotect(first, n);
}

static void mp_prepare_kernel_write(void *addr, size_t len)
{
    size_t first, n = page_runs_clip(&mp.pages, addr, len, &first);
    if (!n)
        return;
    page_runs_report(&mp.pages, mp.dm, first, n);
    unprotect(first, n);
}

/* A thread that held the lock at the fork is gone from the child; its page stays
 * writable with its bit set at worst, which the child's next collection (full, barrier
 * attached afresh) does not rely on. */
static void mp_after_fork(void)
{
    unlock_raw();
}

static uint64_t mp_faults(void)
{
    return __atomic_load_n(&mp.faults, __ATOMIC_RELAXED);
}

const struct barrier_ops barrier_mprotect = {
    .name = "mprotect",
    .tracks = 1,
    .probe = mp_probe,
    .attach = mp_attach,
    .detach = mp_detach,
    .after_fork = mp_after_fork,
    .arm = mp_arm,
    .harvest = mp_harvest,
    .will_write = mp_will_write,
    .disarm = mp_disarm,
    .prepare_kernel_write = mp_prepare_kernel_write,
    .fault_signal = SIGSEGV,
    .faults = mp_faults,
};
