/* SPDX-License-Identifier: GPL-2.0-or-later */
/* softdirty: the kernel's soft-dirty bits.  Writing "4" to /proc/self/clear_refs clears the
 * bit and write-protects every page of the WHOLE PROCESS, not just the heap: the stacks,
 * malloc arenas, side tables and libraries' data take a kernel fault (no user code) on
 * their next write too, after every harvest.  A written page then has bit 55 set in its
 * /proc/self/pagemap entry.  Harvest reads the bits and clears them all once, so it must
 * cover every armed page: it takes in the hull of the pages ever armed.  The kernel also
 * sets the bit on freshly faulted pages and on every page of a new (or grown) mapping:
 * over-reporting, which is sound.  Kernel writes (read(2) into the heap) just work.
 * Soft-dirty is one per process: anyone else who clears it (CRIU's pre-dump, a second
 * user in the process) makes us miss writes.
 * Design: docs/design/barrier.md */
#include "errno_text.h"
#include "barrier.h"
#include "harvest_report.h"
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
#include <sys/prctl.h>
#include <sys/utsname.h>
#include <unistd.h>

static struct {
    int pagemap, clear_refs;
    uintptr_t armed_lo, armed_hi;       /* hull of the pages armed since attach */
    bool scan;                          /* PAGEMAP_SCAN reports soft-dirty pages (6.7+) */
    bool all_dirty;                     /* the next harvest reports every page */
    /* Set in a fork child: the inherited fds still act on the parent's address space (a
     * clear would wipe the PARENT's bits). */
    volatile sig_atomic_t forked;
} sd = {.pagemap = -1, .clear_refs = -1};

/* bench/pagemap_read, 6.18 nested VM, 256 MiB and 2 GiB populated, no page soft-dirty:
 * PAGEMAP_SCAN 4-5 ns/page; pread of the entries 29-38 ns/page whatever the batch (4 KiB to
 * 4 MiB); the same reads through io_uring 21-40 ns/page at best (IOSQE_ASYNC: io-wq reads
 * in parallel).  So PAGEMAP_SCAN, and pread in 64 KiB batches where it is missing (< 6.7).  Both buffers mmap'd, not static: the
 * regions hold heap addresses and globals are GC roots. */
#define HARVEST_REGIONS 512
#define HARVEST_ENTRIES 8192
static struct page_region *harvest_regions;
static uint64_t *harvest_entries;
static bool unchecked, pread_only;

/* Tests only: attach where the check fails too (to drive harvest's fallbacks on any
 * kernel); read with pread where PAGEMAP_SCAN works. */
void softdirty_test_mode(bool attach_unchecked, bool use_pread)
{
    unchecked = attach_unchecked;
    pread_only = use_pread;
}

/* The soft-dirty pages of [lo, hi) into h.  0, or -1 with errno. */
static int scan_bits(uintptr_t lo, uintptr_t hi, struct harvest *h)
{
    return pagemap_scan(sd.pagemap, lo, hi, 0, PAGE_IS_SOFT_DIRTY, harvest_regions, HARVEST_REGIONS, harvest_mark, h);
}

static int pread_bits(uintptr_t lo, uintptr_t hi, struct harvest *h)
{
    for (uintptr_t a = lo; a < hi; a += HARVEST_ENTRIES << WB_PAGE_SHIFT) {
        size_t n = (hi - a) >> WB_PAGE_SHIFT;
        n = n < HARVEST_ENTRIES ? n : HARVEST_ENTRIES;
        if (pagemap_read(sd.pagemap, a, harvest_entries, n) < 0)
            return -1;
        pagemap_soft_dirty_runs(harvest_entries, n, a, harvest_mark, h);
    }
    return 0;
}

static void count_pages(void *ctx, uintptr_t start, uintptr_t end)
{
    *(size_t *)ctx += (end - start) >> WB_PAGE_SHIFT;
}

/* Why opening /proc/self/<name> failed, with the likely cause. */
static void open_failed(const char *name, int err, char *why, size_t whylen)
{
    char e[96];
    const char *hint = "";
    if (err == ENOENT)
        hint = access("/proc/self/stat", F_OK) == 0 ? " (kernel built without CONFIG_PROC_PAGE_MONITOR)"
                                                    : " (/proc is not mounted)";
    else if ((err == EACCES || err == EPERM) && prctl(PR_GET_DUMPABLE) == 0)
        hint = " (this process is not dumpable, so /proc/self is root's)";
    snprintf(why, whylen, "open /proc/self/%s: %s%s", name, errno_text(err, e, sizeof e), hint);
}

static int open_files(int *pagemap, int *clear_refs, char *why, size_t whylen)
{
    *pagemap = pagemap_open(true);
    if (*pagemap < 0) {
        open_failed("pagemap", errno, why, whylen);
        return -1;
    }
    *clear_refs = clear_refs_open();
    if (*clear_refs < 0) {
        open_failed("clear_refs for writing", errno, why, whylen);
        os_fd_close(*pagemap);
        return -1;
    }
    return 0;
}

/* 1: the config says soft-dirty is off, 2: on, 0: not this line. */
static int config_line(void *unused, const char *line)
{
    (void)unused;
    return strcmp(line, "# CONFIG_MEM_SOFT_DIRTY is not set") == 0 ? 1
         : strcmp(line, "CONFIG_MEM_SOFT_DIRTY=y") == 0      ? 2 : 0;
}

/* Bit 55 never set: say so, and what the kernel's config file says if it is readable
 * (/proc/config.gz would need gunzip). */
static void no_soft_dirty(char *why, size_t whylen)
{
    static const char *const verdicts[] = {
        [1] = "confirms: # CONFIG_MEM_SOFT_DIRTY is not set", [2] = "says CONFIG_MEM_SOFT_DIRTY=y, though"};
    struct utsname u;
    char path[128];
    int n = snprintf(why, whylen, "kernel built without CONFIG_MEM_SOFT_DIRTY "
                     "(pagemap bit 55 stays clear after a write)");
    if (os_uname(&u) != 0)
        return;
    snprintf(path, sizeof path, "/boot/config-%s", u.release);
    int v = os_file_lines(path, config_line, NULL);
    if (v > 0 && n > 0 && (size_t)n < whylen)
        snprintf(why + n, whylen - (size_t)n, "; %s %s", path, verdicts[v]);
}

/* Write a scratch page, clear, expect bit 55 clear; write it again, expect it set.  This
 * clears the whole process's bits.  *scan: PAGEMAP_SCAN agrees (else pread is used). */
static int check_flow(int pagemap, int clear_refs, bool *scan, char *why, size_t whylen)
{
    char e[96];
    uint64_t entry;
    struct page_region regions[2];      /* not harvest's: the heap may be in use */
    size_t scanned = 0;
    volatile char *p = mmap(NULL, WB_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    int rc = -1;
    if (p == MAP_FAILED) {
        snprintf(why, whylen, "mmap: %s", errno_text(errno, e, sizeof e));
        return -1;
    }
    p[0] = 1;
    if (clear_refs_soft_dirty(clear_refs) < 0) {
        snprintf(why, whylen, "write \"4\" to /proc/self/clear_refs: %s", errno_text(errno, e, sizeof e));
    } else if (pagemap_read(pagemap, (uintptr_t)p, &entry, 1) < 0) {
        snprintf(why, whylen, "pread /proc/self/pagemap: %s", errno_text(errno, e, sizeof e));
    } else if (entry & PAGEMAP_SOFT_DIRTY) {
        snprintf(why, whylen, "pagemap bit 55 still set after writing \"4\" to /proc/self/clear_refs");
    } else {
        p[0] = 2;
        if (pagemap_read(pagemap, (uintptr_t)p, &entry, 1) < 0)
            snprintf(why, whylen, "pread /proc/self/pagemap: %s", errno_text(errno, e, sizeof e));
        else if (!(entry & PAGEMAP_SOFT_DIRTY))
            no_soft_dirty(why, whylen);
        else
            rc = 0;
    }
    /* Before 6.7 there is no PAGEMAP_SCAN (ENOTTY); it must agree with bit 55. */
    *scan = rc == 0 && pagemap_scan(pagemap, (uintptr_t)p, (uintptr_t)p + WB_PAGE_SIZE, 0,
                                    PAGE_IS_SOFT_DIRTY, regions, 2, count_pages, &scanned) == 0 &&
            scanned == 1;
    munmap((void *)p, WB_PAGE_SIZE);
    return rc;
}

static int sd_probe(char *why, size_t whylen)
{
    int pagemap, clear_refs;
    bool scan;
    /* Attached: the check passed then, and clearing now would lose the heap's bits. */
    if (sd.pagemap >= 0)
        return 0;
    if (open_files(&pagemap, &clear_refs, why, whylen) < 0)
        return -1;
    int rc = check_flow(pagemap, clear_refs, &scan, why, whylen);
    os_fd_close(pagemap);
    os_fd_close(clear_refs);
    return rc;
}

static void sd_after_fork(void)
{
    sd.forked = 1;
}

/* World stopped. */
static void warn_once(const char *cause)
{
    static bool warned;
    harvest_warn_once(&warned, "wbrt: softdirty: %s; collections scan every page while this fails\n",
                      cause);
}

/* A fork child opens its own files, and reports everything once rather than trust what
 * fork did to the soft-dirty bits.  World stopped. */
static void follow_fork(void)
{
    char why[256];
    if (!sd.forked)
        return;
    sd.forked = 0;
    sd.all_dirty = true;
    os_fd_close(sd.pagemap);
    os_fd_close(sd.clear_refs);
    if (open_files(&sd.pagemap, &sd.clear_refs, why, sizeof why) < 0) {
        sd.pagemap = sd.clear_refs = -1;        /* every harvest then fails: all pages */
        warn_once(why);
    }
}

static int sd_attach(void *base, size_t len, struct dirty_map *dm, const struct barrier_settings *set,
                     char *why, size_t whylen)
{
    (void)set;
    (void)base;         /* harvest is told where to look */
    (void)len;
    (void)dm;
    if (!harvest_regions) {
        void *r = os_table(HARVEST_REGIONS * sizeof *harvest_regions);
        void *e = os_table(HARVEST_ENTRIES * sizeof *harvest_entries);
        if (!r || !e) {
            snprintf(why, whylen, "cannot map the harvest buffers: %s", strerror(errno));
            if (r)
                os_release(r, HARVEST_REGIONS * sizeof *harvest_regions);
            if (e)
                os_release(e, HARVEST_ENTRIES * sizeof *harvest_entries);
            return -1;
        }
        harvest_regions = r;
        harvest_entries = e;
    }
    int pagemap, clear_refs;
    bool scan;
    if (open_files(&pagemap, &clear_refs, why, whylen) < 0)
        return -1;
    /* Its clear is the first one: from here on, a write to the heap sets its bit. */
    if (check_flow(pagemap, clear_refs, &scan, why, whylen) < 0 && !unchecked) {
        os_fd_close(pagemap);
        os_fd_close(clear_refs);
        return -1;
    }
    sd.pagemap = pagemap;
    sd.clear_refs = clear_refs;
    sd.scan = scan;
    sd.armed_lo = sd.armed_hi = 0;
    sd.all_dirty = false;
    sd.forked = 0;
    return 0;
}

/* Nothing to undo: pages stay write-protected until their next write, one fault each. */
static void sd_detach(void)
{
    if (sd.pagemap >= 0)
        os_fd_close(sd.pagemap);
    if (sd.clear_refs >= 0)
        os_fd_close(sd.clear_refs);
    sd.pagemap = sd.clear_refs = -1;
    sd.armed_lo = sd.armed_hi = 0;
    sd.forked = 0;
}

/* Clearing is global, so there is nothing to arm: only remember how far harvest must look. */
static void sd_arm(void *addr, size_t len)
{
    uintptr_t lo = (uintptr_t)addr, hi = lo + len;
    if (!len)
        return;
    if (sd.armed_hi == 0 || lo < sd.armed_lo)
        sd.armed_lo = lo;
    if (hi > sd.armed_hi)
        sd.armed_hi = hi;
}

/* Read the bits, then clear them.  A write that lands between the two is lost: the world
 * is stopped, but asynchronous kernel writes (io_uring, AIO) into the heap are not, and
 * neither is another process (process_vm_writev).  No kernel interface reads and clears
 * soft-dirty atomically. */
static size_t sd_harvest(struct dirty_map *dm, void *addr, size_t len)
{
    char e[96], cause[160];
    follow_fork();
    uintptr_t lo = (uintptr_t)addr, hi = lo + len;
    if (sd.armed_hi) {
        lo = sd.armed_lo < lo ? sd.armed_lo : lo;
        hi = sd.armed_hi > hi ? sd.armed_hi : hi;
    }
    struct harvest h = {dm, 0};
    bool all = sd.all_dirty;
    sd.all_dirty = false;
    /* What a failed PAGEMAP_SCAN reported stays reported: reading again only adds. */
    if (!all && (!sd.scan || pread_only || scan_bits(lo, hi, &h) < 0) && pread_bits(lo, hi, &h) < 0) {
        snprintf(cause, sizeof cause, "reading /proc/self/pagemap: %s", errno_text(errno, e, sizeof e));
        warn_once(cause);
        all = true;
    }
    /* After a failed read too: every page is reported, so the next harvest can be exact. */
    if (clear_refs_soft_dirty(sd.clear_refs) < 0) {
        snprintf(cause, sizeof cause, "writing \"4\" to /proc/self/clear_refs: %s", errno_text(errno, e, sizeof e));
        warn_once(cause);
        all = true;
    }
    return all ? harvest_all(dm, lo, hi) : h.pages;
}

const struct barrier_ops barrier_softdirty = {
    .name = "softdirty",
    .tracks = 1,
    .probe = sd_probe,
    .attach = sd_attach,
    .detach = sd_detach,
    .after_fork = sd_after_fork,
    .arm = sd_arm,
    .harvest = sd_harvest,
    /* Writes need no help: the kernel sets the bits (kernel writes too), reads report them. */
    .will_write = barrier_noop_range,
    .disarm = barrier_noop_range,
    .prepare_kernel_write = barrier_noop_range,
    .faults = barrier_noop_faults,
};
