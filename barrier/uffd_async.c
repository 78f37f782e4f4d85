/* SPDX-License-Identifier: GPL-2.0-or-later */
/* uffd-async: userfaultfd write-protect in asynchronous mode.  The kernel resolves the
 * first write to a protected page itself (no handler, no signal) and PAGEMAP_SCAN both
 * reports the written pages and re-protects them in one walk.  Kernel writes (read(2)
 * into the heap) just work.  A page that is not protected counts as written, so any
 * failure to protect is sound: the page is reported by the next scan.
 * Design: docs/design/barrier.md */
#include "errno_text.h"
#include "barrier.h"
#include "harvest_report.h"
#include "pagemap.h"
#include "uffd.h"
#include "vm.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static struct {
    int uffd, pagemap;
    void *base;
    size_t len;
    /* Set in a fork child: the inherited fds still act on the parent's address space. */
    volatile sig_atomic_t forked;
} ua = {.uffd = -1, .pagemap = -1};

/* Harvest runs with the world stopped, one at a time: a fixed buffer, no allocation.
 * mmap'd, not static: the regions hold heap addresses, and globals are GC roots. */
#define HARVEST_REGIONS 512
static struct page_region *harvest_regions;

/* WP_ASYNC alone also protects never-populated pages (measured on 6.18: reading an armed,
 * untouched page is not reported as written), so WP_UNPOPULATED is not requested. */
static int track(void *base, size_t len, int *uffd, int *pagemap, char *why, size_t whylen)
{
    char e[96];
    int u = uffd_open(UFFD_FEATURE_WP_ASYNC, why, whylen);
    if (u < 0)
        return -1;
    if (uffd_register_wp(u, base, len) < 0) {
        snprintf(why, whylen, "UFFDIO_REGISTER (write-protect mode): %s", errno_text(errno, e, sizeof e));
        close(u);
        return -1;
    }
    int pm = pagemap_open();
    if (pm < 0) {
        snprintf(why, whylen, "open /proc/self/pagemap: %s", errno_text(errno, e, sizeof e));
        close(u);
        return -1;
    }
    *uffd = u;
    *pagemap = pm;
    return 0;
}

static int scan(int pagemap, void *addr, size_t len, struct page_region *buf, size_t nbuf,
                struct harvest *h)
{
    return pagemap_scan(pagemap, (uintptr_t)addr, (uintptr_t)addr + len,
                        PM_SCAN_WP_MATCHING | PM_SCAN_CHECK_WPASYNC, PAGE_IS_WRITTEN, buf, nbuf, harvest_mark, h);
}

/* Arm both pages of p, write the second: exactly it must be reported. */
static int check_flow(char *p, struct dirty_map *dm, int uffd, int pagemap, char *why, size_t whylen)
{
    char e[96], note[96];
    struct page_region buf[2];          /* not harvest's: the heap may be in use */
    struct harvest h = {dm, 0};
    p[0] = 1;
    if (uffd_writeprotect(uffd, p, 2 * WB_PAGE_SIZE, true) < 0) {
        snprintf(why, whylen, "UFFDIO_WRITEPROTECT: %s", errno_text(errno, e, sizeof e));
        return -1;
    }
    p[WB_PAGE_SIZE] = 1;
    if (scan(pagemap, p, 2 * WB_PAGE_SIZE, buf, 2, &h) < 0) {
        int err = errno;
        kernel_age_note(6, 7, note, sizeof note);
        snprintf(why, whylen, "PAGEMAP_SCAN on /proc/self/pagemap: %s%s", errno_text(err, e, sizeof e), note);
        return -1;
    }
    if (h.pages != 1 || !dirty_map_test(dm, 1)) {
        snprintf(why, whylen, "PAGEMAP_SCAN reported %zu written pages instead of the one written", h.pages);
        return -1;
    }
    return 0;
}

/* The whole flow, on two scratch pages. */
static int ua_probe(char *why, size_t whylen)
{
    size_t len = 2 * WB_PAGE_SIZE;
    char e[96];
    struct dirty_map dm;
    int uffd, pagemap, rc = -1;
    char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED || dirty_map_init(&dm, (uintptr_t)p, 2) < 0) {
        snprintf(why, whylen, "mmap: %s", errno_text(errno, e, sizeof e));
        if (p != MAP_FAILED)
            munmap(p, len);
        return -1;
    }
    if (track(p, len, &uffd, &pagemap, why, whylen) == 0) {
        rc = check_flow(p, &dm, uffd, pagemap, why, whylen);
        close(uffd);
        close(pagemap);
    }
    dirty_map_destroy(&dm);
    munmap(p, len);
    return rc;
}

static void ua_after_fork(void)
{
    ua.forked = 1;
}

/* After fork the child's heap is neither registered nor protected: track it afresh.
 * Everything then counts as written at its first harvest, which is sound. */
static void follow_fork(void)
{
    char why[256];
    if (!ua.forked)
        return;
    ua.forked = 0;
    close(ua.uffd);
    close(ua.pagemap);
    if (track(ua.base, ua.len, &ua.uffd, &ua.pagemap, why, sizeof why) < 0)
        ua.uffd = ua.pagemap = -1;      /* harvest then reports every page */
}

static int ua_attach(void *base, size_t len, struct dirty_map *dm, const struct barrier_settings *set,
                     char *why, size_t whylen)
{
    (void)set;
    (void)dm;
    if (!harvest_regions) {
        void *p = os_table(HARVEST_REGIONS * sizeof *harvest_regions);
        if (!p) {
            snprintf(why, whylen, "cannot map the harvest buffer: %s", strerror(errno));
            return -1;
        }
        harvest_regions = p;
    }
    if (track(base, len, &ua.uffd, &ua.pagemap, why, whylen) < 0)
        return -1;
    ua.base = base;
    ua.len = len;
    ua.forked = 0;
    return 0;
}

static void ua_detach(void)
{
    if (ua.uffd >= 0 && !ua.forked)
        uffd_unregister(ua.uffd, ua.base, ua.len);      /* also drops the protection */
    if (ua.uffd >= 0)
        close(ua.uffd);
    if (ua.pagemap >= 0)
        close(ua.pagemap);
    ua.uffd = ua.pagemap = -1;
    ua.base = NULL;
    ua.len = 0;
    ua.forked = 0;
}

static void protect_run(void *unused, uintptr_t lo, uintptr_t hi)
{
    (void)unused;
    uffd_writeprotect(ua.uffd, (void *)lo, hi - lo, true);
}

/* A big run has only its populated pages protected: protecting a never-populated
 * page costs a page-table entry (measured on 6.18, nested VM: about 17 us a page, 9 s for
 * an untouched 2 GiB buffer), and an unprotected page counts as written only once it is
 * populated, i.e. written: so one populated meanwhile is reported by the next harvest. */
/* A failure leaves pages unprotected, i.e. reported by the next harvest: nothing to do. */
static void ua_arm(void *addr, size_t len)
{
    follow_fork();
    if (len < PAGEMAP_SPARSE_MIN || pagemap_populated((uintptr_t)addr, (uintptr_t)addr + len, protect_run, NULL) != 0)
        uffd_writeprotect(ua.uffd, addr, len, true);
}

/* Measured on 6.18 (nested VM): un-protecting a run then writing it costs 0.1-0.35 us per
 * page for runs of 4+ pages, against 0.7 us per page for the asynchronous fault; for one
 * page the ioctl (1.0-1.7 us) costs as much as the fault (0.7-1.2 us), so a single page
 * takes the fault.  The pages are then reported written at the next harvest, as they should. */
static void ua_will_write(void *addr, size_t len)
{
    follow_fork();
    if (len > WB_PAGE_SIZE)
        uffd_writeprotect(ua.uffd, addr, len, false);
}

/* The harvest re-protected every written page, young ones too; those the sweep freed are
 * un-protected again in one ioctl per run, so refilling them takes no fault. */
static void ua_disarm(void *addr, size_t len)
{
    follow_fork();
    uffd_writeprotect(ua.uffd, addr, len, false);
}

static size_t ua_harvest(struct dirty_map *dm, void *addr, size_t len)
{
    static bool warned;
    follow_fork();
    struct harvest h = {dm, 0};
    if (ua.pagemap >= 0 && scan(ua.pagemap, addr, len, harvest_regions,
                                   HARVEST_REGIONS, &h) == 0)
        return h.pages;
    /* Which pages were written is unknown: report them all.  Pages the failed scan did not
     * re-protect stay unprotected, so the next scan reports them again. */
    char e[96];
    harvest_warn_once(&warned, "wbrt: uffd-async: PAGEMAP_SCAN failed (%s); this collection scans "
                      "every page\n", errno_text(errno, e, sizeof e));
    return harvest_all(dm, (uintptr_t)addr, (uintptr_t)addr + len);
}

const struct barrier_ops barrier_uffd_async = {
    .name = "uffd-async",
    .tracks = 1,
    .probe = ua_probe,
    .attach = ua_attach,
    .detach = ua_detach,
    .after_fork = ua_after_fork,
    .arm = ua_arm,
    .harvest = ua_harvest,
    .will_write = ua_will_write,
    .disarm = ua_disarm,
    /* Kernel writes into write-protected pages succeed under WP_ASYNC and are reported. */
    .prepare_kernel_write = barrier_noop_range,
    .faults = barrier_noop_faults,
};
