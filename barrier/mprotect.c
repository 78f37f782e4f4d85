/* SPDX-License-Identifier: GPL-2.0-or-later */
/* mprotect: armed pages are made read-only; the first write faults (SIGSEGV through
 * os/faults), the handler marks the page dirty and makes it writable; harvest makes the
 * written armed pages read-only again.  Adjacent pages share one mprotect call, because
 * every protection boundary costs a mapping (vm.max_map_count, 65530 by default).
 * If mprotect fails (ENOMEM: out of mappings) the barrier gives up protecting for good:
 * the whole heap is made writable in one call and every page of each harvested range is
 * reported dirty from then on (tracks stays 1, but the answer is "everything"). */
#include "barrier.h"
#include "faults.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static struct {
    uintptr_t base;
    size_t len;
    struct dirty_map *dm;
    /* Page bitmaps of the same kind as the dirty map.  A page stays armed once armed
     * (like uffd-async, which re-protects every written page): harvest re-protects it. */
    struct dirty_map armed;
    struct dirty_map prot;      /* read-only now */
    uint64_t faults;
    int gave_up;
} mp;

static uint64_t bits(const struct dirty_map *m, size_t w)
{
    return __atomic_load_n(&m->bits[w], __ATOMIC_RELAXED);
}

/* Bitmap words that select pages for the run walks below. */
static uint64_t protected_word(size_t w) { return bits(&mp.prot, w); }
static uint64_t writable_word(size_t w) { return ~bits(&mp.prot, w); }
static uint64_t written_word(size_t w) { return bits(&mp.armed, w) & ~bits(&mp.prot, w); }

/* First page in [from, limit) whose bit in word() is `want`, or limit. */
static size_t find(uint64_t (*word)(size_t), bool want, size_t from, size_t limit)
{
    while (from < limit) {
        size_t w = from / 64;
        uint64_t x = (want ? word(w) : ~word(w)) & (~(uint64_t)0 << (from % 64));
        if (x) {
            size_t page = w * 64 + (size_t)__builtin_ctzll(x);
            return page < limit ? page : limit;
        }
        from = (w + 1) * 64;
    }
    return limit;
}

static bool gave_up(void)
{
    return __atomic_load_n(&mp.gave_up, __ATOMIC_RELAXED);
}

static void *page_addr(size_t page)
{
    return (void *)(mp.base + (page << WB_PAGE_SHIFT));
}

/* The heap pages [*first, *first + n) that [addr, addr+len) touches; returns n. */
static size_t clip(void *addr, size_t len, size_t *first)
{
    uintptr_t lo = (uintptr_t)addr & ~(WB_PAGE_SIZE - 1);
    uintptr_t hi = ((uintptr_t)addr + len + WB_PAGE_SIZE - 1) & ~(WB_PAGE_SIZE - 1);
    if (lo < mp.base)
        lo = mp.base;
    if (hi > mp.base + mp.len)
        hi = mp.base + mp.len;
    if (hi <= lo)
        return 0;
    *first = (lo - mp.base) >> WB_PAGE_SHIFT;
    return (hi - lo) >> WB_PAGE_SHIFT;
}

/* dm may start elsewhere than the heap: index it by address. */
static void report(struct dirty_map *dm, size_t page, size_t n)
{
    dirty_map_set_range(dm, ((uintptr_t)page_addr(page) - dm->base) >> WB_PAGE_SHIFT, n);
}

/* Make the whole heap writable.  Async-signal-safe.  One call over the whole reservation
 * only merges mappings, so it cannot run out of them.  Writable first, bits after: a
 * thread that faulted meanwhile finds the page armed but not protected, and retries. */
static void lift_all(void)
{
    mprotect(page_addr(0), mp.len, PROT_READ | PROT_WRITE);
    dirty_map_clear_range(&mp.prot, 0, mp.len >> WB_PAGE_SHIFT);
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

/* Make read-only each run of pages selected by word() in [first, limit), reporting them
 * to dm if given.  Returns the pages changed.  World stopped. */
static size_t protect_runs(uint64_t (*word)(size_t), size_t first, size_t limit, struct dirty_map *dm)
{
    size_t count = 0;
    for (size_t p = find(word, true, first, limit); p < limit; p = find(word, true, p, limit)) {
        size_t end = find(word, false, p, limit);
        if (dm)
            report(dm, p, end - p);
        if (mprotect(page_addr(p), (end - p) << WB_PAGE_SHIFT, PROT_READ) != 0) {
            give_up(errno);
            return count;
        }
        dirty_map_set_range(&mp.prot, p, end - p);
        count += end - p;
        p = end;
    }
    return count;
}

/* Make writable each protected run in [first, limit): one mprotect per run. */
static void unprotect_runs(size_t first, size_t limit)
{
    for (size_t p = find(protected_word, true, first, limit); p < limit;
         p = find(protected_word, true, p, limit)) {
        size_t end = find(protected_word, false, p, limit);
        if (mprotect(page_addr(p), (end - p) << WB_PAGE_SHIFT, PROT_READ | PROT_WRITE) != 0) {
            give_up(errno);
            return;
        }
        dirty_map_clear_range(&mp.prot, p, end - p);
        p = end;
    }
}

/* SIGSEGV (write-permission fault) handler.  Async-signal-safe. */
static int on_fault(void *addr)
{
    uintptr_t a = (uintptr_t)addr;
    if (a - mp.base >= mp.len)
        return 0;
    size_t page = (a - mp.base) >> WB_PAGE_SHIFT;
    if (dirty_map_test(&mp.prot, page)) {
        dirty_map_set(mp.dm, (a - mp.dm->base) >> WB_PAGE_SHIFT);
        if (mprotect(page_addr(page), WB_PAGE_SIZE, PROT_READ | PROT_WRITE) == 0)
            dirty_map_clear_range(&mp.prot, page, 1);
        else
            give_up(errno);
        __atomic_fetch_add(&mp.faults, 1, __ATOMIC_RELAXED);
        return 1;
    }
    /* Armed but writable: another thread made it writable after this one faulted. */
    return dirty_map_test(&mp.armed, page);
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

static int mp_attach(void *base, size_t len, struct dirty_map *dm, char *why, size_t whylen)
{
    size_t npages = len >> WB_PAGE_SHIFT;
    if (dirty_map_init(&mp.armed, (uintptr_t)base, npages) < 0 ||
        dirty_map_init(&mp.prot, (uintptr_t)base, npages) < 0) {
        snprintf(why, whylen, "mmap of the page bitmaps: %s", strerror(errno));
        dirty_map_destroy(&mp.armed);
        return -1;
    }
    mp.base = (uintptr_t)base;
    mp.len = len;
    mp.dm = dm;
    mp.faults = 0;
    mp.gave_up = 0;
    if (faults_install(on_fault, lift_all, why, whylen) < 0) {
        dirty_map_destroy(&mp.armed);
        dirty_map_destroy(&mp.prot);
        memset(&mp, 0, sizeof mp);
        return -1;
    }
    return 0;
}

static void mp_detach(void)
{
    lift_all();                 /* first: a write must not fault once we are gone */
    faults_uninstall();
    dirty_map_destroy(&mp.armed);
    dirty_map_destroy(&mp.prot);
    memset(&mp, 0, sizeof mp);
}

static void mp_arm(void *addr, size_t len)
{
    size_t first, n = clip(addr, len, &first);
    if (!n || gave_up())
        return;
    dirty_map_set_range(&mp.armed, first, n);
    protect_runs(writable_word, first, first + n, NULL);
}

static size_t mp_harvest(struct dirty_map *dm, void *addr, size_t len)
{
    char why[128];
    /* Take SIGSEGV back if it was handed to the program (lift_all ran: every armed page is
     * now writable and is reported below) or if the program installed a handler over ours. */
    faults_install(on_fault, lift_all, why, sizeof why);
    size_t first, n = clip(addr, len, &first);
    if (!n)
        return 0;
    if (!gave_up()) {
        size_t count = protect_runs(written_word, first, first + n, dm);
        if (!gave_up())
            return count;
    }
    report(dm, first, n);
    return n;
}

static void mp_will_write(void *addr, size_t len)
{
    size_t first, n = clip(addr, len, &first);
    if (n && !gave_up())
        unprotect_runs(first, first + n);
}

static void mp_disarm(void *addr, size_t len)
{
    size_t first, n = clip(addr, len, &first);
    if (!n || gave_up())
        return;
    dirty_map_clear_range(&mp.armed, first, n);
    unprotect_runs(first, first + n);
}

static void mp_prepare_kernel_write(void *addr, size_t len)
{
    size_t first, n = clip(addr, len, &first);
    if (!n)
        return;
    report(mp.dm, first, n);
    if (!gave_up())
        unprotect_runs(first, first + n);
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
    .arm = mp_arm,
    .harvest = mp_harvest,
    .will_write = mp_will_write,
    .disarm = mp_disarm,
    .prepare_kernel_write = mp_prepare_kernel_write,
    .faults = mp_faults,
};
