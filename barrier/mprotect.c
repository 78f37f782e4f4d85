/* SPDX-License-Identifier: GPL-2.0-or-later */
/* mprotect: armed pages are made read-only; the first write faults (SIGSEGV through
 * os/faults), the handler marks the page dirty and makes it writable; harvest makes the
 * written armed pages read-only again.  Adjacent pages share one mprotect call, because
 * every protection boundary costs a mapping (vm.max_map_count, 65530 by default).
 * If mprotect fails (ENOMEM: out of mappings) the barrier gives up protecting for good:
 * the whole heap is made writable in one call and every page of each harvested range is
 * reported dirty from then on (tracks stays 1, but the answer is "everything").
 * Design: docs/design/barrier.md */
#include "barrier.h"
#include "faults.h"
#include "page_runs.h"

#include <errno.h>
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
} mp;

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
    if (dirty_map_test(&mp.pages.prot, page)) {
        dirty_map_set(mp.dm, (a - mp.dm->base) >> WB_PAGE_SHIFT);
        if (mprotect(page_addr(page), WB_PAGE_SIZE, PROT_READ | PROT_WRITE) == 0)
            dirty_map_clear_range(&mp.pages.prot, page, 1);
        else
            give_up(errno);
        __atomic_fetch_add(&mp.faults, 1, __ATOMIC_RELAXED);
        return 1;
    }
    /* Armed but writable: another thread made it writable after this one faulted. */
    return dirty_map_test(&mp.pages.armed, page);
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
    dirty_map_set_range(&mp.pages.armed, first, n);
    page_runs_written(&mp.pages, first, n, protect_run, NULL);
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
        size_t count = page_runs_written(&mp.pages, first, n, protect_run, dm);
        if (!gave_up())
            return count;
    }
    return page_runs_report(&mp.pages, dm, first, n);
}

static void mp_will_write(void *addr, size_t len)
{
    size_t first, n = page_runs_clip(&mp.pages, addr, len, &first);
    if (n && !gave_up())
        page_runs_protected(&mp.pages, first, n, unprotect_run, NULL);
}

static void mp_disarm(void *addr, size_t len)
{
    size_t first, n = page_runs_clip(&mp.pages, addr, len, &first);
    if (!n || gave_up())
        return;
    dirty_map_clear_range(&mp.pages.armed, first, n);
    page_runs_protected(&mp.pages, first, n, unprotect_run, NULL);
}

static void mp_prepare_kernel_write(void *addr, size_t len)
{
    size_t first, n = page_runs_clip(&mp.pages, addr, len, &first);
    if (!n)
        return;
    page_runs_report(&mp.pages, mp.dm, first, n);
    if (!gave_up())
        page_runs_protected(&mp.pages, first, n, unprotect_run, NULL);
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
    .after_fork = barrier_noop,
    .arm = mp_arm,
    .harvest = mp_harvest,
    .will_write = mp_will_write,
    .disarm = mp_disarm,
    .prepare_kernel_write = mp_prepare_kernel_write,
    .fault_signal = SIGSEGV,
    .faults = mp_faults,
};
