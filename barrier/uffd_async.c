/* SPDX-License-Identifier: GPL-2.0-or-later */
/* uffd-async: userfaultfd write-protect in asynchronous mode.  The kernel resolves the
 * first write to a protected page itself (no handler, no signal) and PAGEMAP_SCAN both
 * reports the written pages and re-protects them in one walk.  Kernel writes (read(2)
 * into the heap) just work.  The harvest looks only where this file protected pages (a
 * bitmap of its own): the young pages being filled, hot pages kept writable and free or
 * never-populated ones are neither scanned nor protected again each collection.  It walks
 * page tables with the kernel's fast form (PAGE_IS_WRITTEN alone: 2.7 ns a page against
 * 4.2 for a walk that also skips unpopulated pages), except over the holes of big runs,
 * which it only asks about.
 * Design: docs/design/barrier.md */
#include "errno_text.h"
#include "barrier.h"
#include "fork_page.h"
#include "harvest_report.h"
#include "page_runs.h"
#include "sys.h"
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

OS_FORK_PAGE static struct {
    int uffd, pagemap;
    void *base;
    size_t len;
    /* prot: the pages the harvest must look at, i.e. protected since, whether written
     * meanwhile or not (set even when protecting failed: the page is then reported
     * written).  A page outside it is never protected: its writes need no report (a
     * free page, or one the collector keeps in the dirty map).  armed: as in mprotect.c. */
    struct page_runs pages;
    /* sparse: pages of prot left unprotected when armed, because they were never populated
     * (a big run's holes: an untouched buffer).  The fast walk counts an unpopulated page
     * as written and installs a marker in it (4 MiB of page tables for 2 GiB): these
     * pages are asked about with the form that skips them, and protect nothing. */
    struct dirty_map sparse;
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
        os_fd_close(u);
        return -1;
    }
    int pm = pagemap_open(true);
    if (pm < 0) {
        snprintf(why, whylen, "open /proc/self/pagemap: %s", errno_text(errno, e, sizeof e));
        os_fd_close(u);
        return -1;
    }
    *uffd = u;
    *pagemap = pm;
    return 0;
}

/* The written pages, protected again.  sparse: only those populated: a never-populated
 * page also counts as written (nothing protects it), and protecting it would cost a
 * page-table entry and make it look swapped out to pagemap_populated() from then on.
 * Else the kernel's fast form, for pages that were protected (an unpopulated one among
 * them is reported once, then protected: sound, and rare outside sparse runs). */
static int scan(int pagemap, void *addr, size_t len, bool sparse, struct page_region *buf, size_t nbuf,
                pagemap_region_fn fn, void *ctx)
{
    uintptr_t lo = (uintptr_t)addr, hi = lo + len;
    uint64_t flags = PM_SCAN_WP_MATCHING | PM_SCAN_CHECK_WPASYNC;
    return sparse ? pagemap_scan_written(pagemap, lo, hi, flags, buf, nbuf, fn, ctx)
                  : pagemap_scan(pagemap, lo, hi, flags, PAGE_IS_WRITTEN, buf, nbuf, fn, ctx);
}

/* The pages a scan reported, and whether any lies outside the expected one. */
struct flow_seen {
    uintptr_t expect;
    size_t pages;
    bool other;
};

static void flow_report(void *ctx, uintptr_t start, uintptr_t end)
{
    struct flow_seen *f = ctx;
    f->pages += (end - start) >> WB_PAGE_SHIFT;
    f->other |= start != f->expect || end != f->expect + WB_PAGE_SIZE;
}

/* Arm both pages of p, write the second: exactly it must be reported. */
static int check_flow(char *p, int uffd, int pagemap, char *why, size_t whylen)
{
    char e[96], note[96];
    struct page_region buf[2];          /* not harvest's: the heap may be in use */
    struct flow_seen f = {(uintptr_t)p + WB_PAGE_SIZE, 0, false};
    p[0] = 1;
    if (uffd_writeprotect(uffd, p, 2 * WB_PAGE_SIZE, true) < 0) {
        snprintf(why, whylen, "UFFDIO_WRITEPROTECT: %s", errno_text(errno, e, sizeof e));
        return -1;
    }
    p[WB_PAGE_SIZE] = 1;
    if (scan(pagemap, p, 2 * WB_PAGE_SIZE, true, buf, 2, flow_report, &f) < 0) {
        int err = errno;
        kernel_age_note(6, 7, note, sizeof note);
        snprintf(why, whylen, "PAGEMAP_SCAN on /proc/self/pagemap: %s%s", errno_text(err, e, sizeof e), note);
        return -1;
    }
    if (f.pages != 1 || f.other) {
        snprintf(why, whylen, "PAGEMAP_SCAN reported %zu written pages instead of the one written", f.pages);
        return -1;
    }
    return 0;
}

/* The descriptors of a probe that passed, for the attach that follows it in wb_init: a
 * process's start-up then opens one userfaultfd and /proc/self/pagemap once, not twice
 * (the check's scratch pages leave the userfaultfd when they are unmapped).  pid: the
 * descriptors act on the address space of the process that opened them, not a fork's. */
static struct {
    int uffd, pagemap;
    pid_t pid;
} probed = {-1, -1, 0};

static void close_pair(int uffd, int pagemap)
{
    os_fd_close(uffd);
    os_fd_close(pagemap);
}

/* The probe's descriptors, if this process opened them (a fork's copies are closed). */
static bool probed_here(void)
{
    if (probed.uffd >= 0 && probed.pid != getpid()) {
        close_pair(probed.uffd, probed.pagemap);
        probed.uffd = probed.pagemap = -1;
    }
    return probed.uffd >= 0;
}

/* The probe's descriptors, now tracking [base, base+len): false if it left none. */
static bool take_probed(void *base, size_t len, int *uffd, int *pagemap)
{
    if (!probed_here())
        return false;
    int u = probed.uffd, pm = probed.pagemap;
    probed.uffd = probed.pagemap = -1;
    if (uffd_register_wp(u, base, len) != 0) {
        close_pair(u, pm);
        return false;
    }
    *uffd = u;
    *pagemap = pm;
    return true;
}

/* The whole flow, on two scratch pages. */
static int ua_probe(char *why, size_t whylen)
{
    size_t len = 2 * WB_PAGE_SIZE;
    char e[96];
    int uffd, pagemap, rc = -1;
    if (probed_here())
        return 0;
    char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        snprintf(why, whylen, "mmap: %s", errno_text(errno, e, sizeof e));
        return -1;
    }
    if (track(p, len, &uffd, &pagemap, why, whylen) == 0) {
        rc = check_flow(p, uffd, pagemap, why, whylen);
        if (rc == 0)
            probed.uffd = uffd, probed.pagemap = pagemap, probed.pid = getpid();
        else
            close_pair(uffd, pagemap);
    }
    munmap(p, len);
    return rc;
}

static void ua_after_fork(void)
{
    ua.forked = 1;
}

/* After fork the child's heap is neither registered nor protected: track it afresh.
 * The harvest looks at the pages of prot, inherited as the parent left it: those had
 * protection, and fork dropped their uffd-wp bits, so every one of them counts as written
 * at the first harvest, which is sound.  The other pages had none to lose.  (Marking the
 * whole reservation in prot instead cost each forked child 2 MiB of bitmap, 1-2 ms.) */
static void follow_fork(void)
{
    char why[256];
    if (!ua.forked)
        return;
    ua.forked = 0;
    close_pair(ua.uffd, ua.pagemap);
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
    if (page_runs_init(&ua.pages, base, len) < 0 ||
        dirty_map_init(&ua.sparse, (uintptr_t)base, len >> WB_PAGE_SHIFT) < 0) {
        snprintf(why, whylen, "mmap of the page bitmaps: %s", strerror(errno));
        page_runs_destroy(&ua.pages);
        return -1;
    }
    if (!take_probed(base, len, &ua.uffd, &ua.pagemap) &&
        track(base, len, &ua.uffd, &ua.pagemap, why, whylen) < 0) {
        page_runs_destroy(&ua.pages);
        dirty_map_destroy(&ua.sparse);
        return -1;
    }
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
        os_fd_close(ua.uffd);
    if (ua.pagemap >= 0)
        os_fd_close(ua.pagemap);
    page_runs_destroy(&ua.pages);
    dirty_map_destroy(&ua.sparse);
    ua.uffd = ua.pagemap = -1;
    ua.base = NULL;
    ua.len = 0;
    ua.forked = 0;
}

static size_t page_of(uintptr_t addr)
{
    return (addr - ua.pages.base) >> WB_PAGE_SHIFT;
}

static void protect_populated(void *unused, uintptr_t lo, uintptr_t hi)
{
    (void)unused;
    uffd_writeprotect(ua.uffd, (void *)lo, hi - lo, true);
    dirty_map_clear_range(&ua.sparse, page_of(lo), (hi - lo) >> WB_PAGE_SHIFT);
}

/* A big run has only its populated pages protected: protecting a never-populated
 * page costs a page-table entry (measured on 6.18, nested VM: about 17 us a page, 9 s for
 * an untouched 2 GiB buffer), and an unprotected page counts as written only once it is
 * populated, i.e. written: so one populated meanwhile is reported by the next harvest.
 * A failure leaves pages unprotected, i.e. reported by the next harvest: nothing to do. */
static bool protect_run(void *unused, size_t page, size_t n)
{
    (void)unused;
    uintptr_t lo = (uintptr_t)page_runs_addr(&ua.pages, page), hi = lo + (n << WB_PAGE_SHIFT);
    bool big = hi - lo >= PAGEMAP_SPARSE_MIN;
    if (big)
        dirty_map_set_range(&ua.sparse, page, n);       /* protect_populated clears the rest */
    if (!big || pagemap_populated(lo, hi, protect_populated, NULL) != 0) {
        uffd_writeprotect(ua.uffd, (void *)lo, hi - lo, true);
        dirty_map_clear_range(&ua.sparse, page, n);
    }
    dirty_map_set_range(&ua.pages.prot, page, n);
    return true;
}

static int unprotect(size_t page, size_t n)
{
    return uffd_writeprotect(ua.uffd, page_runs_addr(&ua.pages, page), n << WB_PAGE_SHIFT, false);
}

/* Pages no longer protected: the harvest stops looking at them. */
static void left_unprotected(size_t page, size_t n)
{
    dirty_map_clear_range(&ua.pages.prot, page, n);
    dirty_map_clear_range(&ua.sparse, page, n);
}

/* Still protected after a failure: the harvest keeps looking at it. */
static bool unprotect_run(void *unused, size_t page, size_t n)
{
    (void)unused;
    if (unprotect(page, n) == 0)
        left_unprotected(page, n);
    return true;
}

/* The harvest still looks at the run, for the writes about to come. */
static bool open_run(void *unused, size_t page, size_t n)
{
    (void)unused;
    unprotect(page, n);
    return true;
}

/* Protects the armed pages of the range that are not protected yet: a page the harvest
 * just protected again costs no second walk. */
static void ua_arm(void *addr, size_t len)
{
    size_t first, n = page_runs_clip(&ua.pages, addr, len, &first);
    follow_fork();
    if (!n)
        return;
    dirty_map_set_range(&ua.pages.armed, first, n);
    page_runs_written(&ua.pages, first, n, protect_run, NULL);
}

/* Measured on 6.18 (nested VM): un-protecting a run then writing it costs 0.1-0.35 us per
 * page for runs of 4+ pages, against 0.7 us per page for the asynchronous fault; for one
 * page the ioctl (1.0-1.7 us) costs as much as the fault (0.7-1.2 us), so a single page
 * takes the fault.  Pages never protected (fresh or freed ones) cost nothing.  The pages
 * are then reported written at the next harvest, as they should (which protects them
 * again: arming them after it costs nothing more). */
static void ua_will_write(void *addr, size_t len)
{
    size_t first, n = page_runs_clip(&ua.pages, addr, len, &first);
    follow_fork();
    if (n > 1)
        page_runs_protected(&ua.pages, first, n, open_run, NULL);
}

/* The pages the sweep freed, opened again if protected, so refilling them takes no fault. */
static void ua_disarm(void *addr, size_t len)
{
    size_t first, n = page_runs_clip(&ua.pages, addr, len, &first);
    follow_fork();
    if (!n)
        return;
    dirty_map_clear_range(&ua.pages.armed, first, n);
    page_runs_protected(&ua.pages, first, n, unprotect_run, NULL);
}

/* Runs of protected pages closer than this are scanned in one ioctl: a PAGEMAP_SCAN call
 * costs 1-5 us here, a page walked over ~2 ns (nested VM, 6.18).  Not over a page the
 * dirty map has already (one the allocator is filling, or kept writable): the scan would
 * protect it, and opening it again when the sweep frees it, or its fault when refilled,
 * costs about what the call saved (mt_trees: 1 000 such pages a collection, old and young
 * ones interleaved, each opened again by its own call). */
#define HARVEST_GAP 8
/* Holes of sparse runs closer than this (a page table's entries, walked for about what a
 * call costs) are asked about in one walk, over the pages between them. */
#define QUERY_GAP 512

/* Pages waiting for one call, joined over gaps shorter than gap (lo == hi: none), and
 * for a call that protects, gaps with no page in the dirty map. */
struct harvest_walk;
struct pending {
    size_t lo, hi, gap;
    int (*scan)(struct harvest_walk *w, uintptr_t lo, uintptr_t hi);
    bool protects;
};

struct harvest_walk {
    struct harvest h;
    struct pending fast;    /* protected pages: the fast scan */
    struct pending holes;   /* a sparse run's holes, and the pages between them */
    int failed;             /* errno of a failed scan, 0 if none */
};

/* A written page in a gap bridged over is protected again by the scan: the harvest looks
 * at it from now on. */
static void reported(void *ctx, uintptr_t start, uintptr_t end)
{
    struct harvest_walk *w = ctx;
    dirty_map_set_range(&ua.pages.prot, page_of(start), (end - start) >> WB_PAGE_SHIFT);
    harvest_mark(&w->h, start, end);
}

static int scan_protected(struct harvest_walk *w, uintptr_t lo, uintptr_t hi)
{
    return scan(ua.pagemap, (void *)lo, hi - lo, false, harvest_regions, HARVEST_REGIONS, reported, w);
}

/* Of the written pages the walk found, the holes, populated since: reported, and left
 * writable, out of prot (the arming protects those the collector arms, and those it keeps
 * writable cost no call).  The others are not the walk's: the protected ones are the fast
 * scan's, the rest are left writable on purpose. */
static void populated_holes(void *ctx, uintptr_t start, uintptr_t end)
{
    struct harvest_walk *w = ctx;
    size_t page = page_of(start), last = page_of(end);
    while ((page = dirty_map_next(&ua.sparse, page, last)) < last) {
        size_t n = dirty_map_next_clear(&ua.sparse, page, last) - page;
        left_unprotected(page, n);
        harvest_mark(&w->h, (uintptr_t)page_runs_addr(&ua.pages, page),
                     (uintptr_t)page_runs_addr(&ua.pages, page + n));
        page += n;
    }
}

/* One walk that protects nothing finds the populated holes (protecting over the pages
 * between would protect what the collector keeps writable).  big_buffer's 2 GiB buffer,
 * written in 64 places kept writable, took 65 calls a collection (70 us). */
static int ask_holes(struct harvest_walk *w, uintptr_t lo, uintptr_t hi)
{
    return pagemap_scan_written(ua.pagemap, lo, hi, 0, harvest_regions, HARVEST_REGIONS, populated_holes, w);
}

/* Which pages were written is unknown after a failure: all count.  Pages the failed scan
 * did not re-protect stay unprotected, and protected in the bitmap: the next scan reports
 * them. */
static void flush(struct harvest_walk *w, struct pending *p)
{
    uintptr_t lo = (uintptr_t)page_runs_addr(&ua.pages, p->lo), hi = (uintptr_t)page_runs_addr(&ua.pages, p->hi);
    if (p->lo != p->hi && (ua.pagemap < 0 || p->scan(w, lo, hi) != 0)) {
        w->failed = ua.pagemap < 0 ? EBADF : errno;
        w->h.pages += harvest_all(w->h.dm, lo, hi);
    }
    p->lo = p->hi = 0;
}

/* Whether a page of [page, end) is in the dirty map already. */
static bool in_map(const struct harvest_walk *w, size_t page, size_t end)
{
    const struct dirty_map *dm = w->h.dm;
    size_t lo = dirty_map_page(dm, (uintptr_t)page_runs_addr(&ua.pages, page));
    return dirty_map_next(dm, lo, lo + (end - page)) < lo + (end - page);
}

/* Pages [page, end) join p's, over a short gap. */
static void add(struct harvest_walk *w, struct pending *p, size_t page, size_t end)
{
    if (p->lo != p->hi && (page - p->hi >= p->gap || (p->protects && in_map(w, p->hi, page))))
        flush(w, p);
    if (p->lo == p->hi)
        p->lo = page;
    p->hi = end;
}

/* A run of prot: its sparse parts join the pending holes (the fast scan never bridges
 * over them: it would protect them), the others the pending fast scan. */
static bool harvest_run(void *ctx, size_t page, size_t n)
{
    struct harvest_walk *w = ctx;
    size_t end = page + n;
    while (page < end) {
        size_t holes = dirty_map_next(&ua.sparse, page, end);
        if (holes > page)
            add(w, &w->fast, page, holes);
        if (holes == end)
            break;
        page = dirty_map_next_clear(&ua.sparse, holes, end);
        flush(w, &w->fast);
        add(w, &w->holes, holes, page);
    }
    return true;
}

static size_t ua_harvest(struct dirty_map *dm, void *addr, size_t len)
{
    static bool warned;
    char e[96];
    size_t first, n = page_runs_clip(&ua.pages, addr, len, &first);
    struct harvest_walk w = {.h = {dm, 0}, .fast = {.gap = HARVEST_GAP, .scan = scan_protected, .protects = true},
                             .holes = {.gap = QUERY_GAP, .scan = ask_holes}};
    follow_fork();
    if (!n)
        return 0;
    page_runs_protected(&ua.pages, first, n, harvest_run, &w);
    flush(&w, &w.fast);
    flush(&w, &w.holes);
    if (w.failed)
        harvest_warn_once(&warned, "wbrt: uffd-async: PAGEMAP_SCAN failed (%s); this collection scans "
                          "every page\n", errno_text(w.failed, e, sizeof e));
    return w.h.pages;
}

/* Root ranges UFFDIO_REGISTER refused (a VM_DROPPABLE mapping, one the program registered
 * with a userfaultfd of its own): reported whole each time without asking again.  A range
 * is its bounds: if another mapping takes its place, it is still scanned whole, which is
 * sound.  Full: asked again each time, which costs two failing calls. */
#define UNTRACKABLE_MAX 64
static struct os_range untrackable[UNTRACKABLE_MAX];
static size_t untrackable_n;

static bool is_untrackable(uintptr_t lo, uintptr_t hi)
{
    for (size_t i = 0; i < untrackable_n; i++)
        if (untrackable[i].lo == lo && untrackable[i].hi == hi)
            return true;
    return false;
}

struct root_report {
    barrier_visit_fn visit;     /* NULL: the report is not needed */
    void *ctx;
};

static void written_root(void *ctx, uintptr_t lo, uintptr_t hi)
{
    const struct root_report *r = ctx;
    if (r->visit)
        r->visit(r->ctx, lo, hi, 0);
}

/* The kernel is the cache of what is registered: a scan with PM_SCAN_CHECK_WPASYNC fails
 * (EPERM) on a range that is not, so a registered mapping costs one call per collection
 * and only a new one (or one the kernel dropped: moved by mremap, replaced, a fork child's)
 * is registered, then protected by a scan whose report is not needed. */
static void ua_written_roots(void *addr, size_t len, barrier_visit_fn visit, void *ctx)
{
    uintptr_t lo = (uintptr_t)addr, hi = lo + len;
    struct root_report report = {visit, ctx}, quiet = {NULL, NULL};
    bool refused = is_untrackable(lo, hi);
    follow_fork();
    if (ua.pagemap >= 0 && !refused &&
        scan(ua.pagemap, addr, len, true, harvest_regions, HARVEST_REGIONS, written_root, &report) == 0)
        return;
    visit(ctx, lo, hi, 1);
    if (ua.uffd < 0 || refused)
        return;
    if (uffd_register_wp(ua.uffd, addr, len) < 0) {
        if (untrackable_n < UNTRACKABLE_MAX)
            untrackable[untrackable_n++] = (struct os_range){lo, hi};
        return;
    }
    scan(ua.pagemap, addr, len, true, harvest_regions, HARVEST_REGIONS, written_root, &quiet);
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
    .written_roots = ua_written_roots,
};
