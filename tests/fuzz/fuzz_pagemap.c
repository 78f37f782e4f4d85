/* Fuzz target: turning what /proc/self/pagemap says into page runs.  The input chooses
 * which pages of a private anonymous mapping are present, a range and a buffer size; the
 * real PAGEMAP_SCAN walk (pagemap_scan / pagemap_private_copies, resuming after every full
 * buffer) feeds harvest_mark's dirty map, which must then hold exactly the present pages of
 * the range; pagemap_read must say the same of each page.  The rest of the input is
 * pagemap entries for pagemap_soft_dirty_runs, whose runs must be exactly the maximal runs
 * of entries with the soft-dirty bit.  SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>
#include "fuzz_check.h"
#include "harvest_report.h"
#include "pagemap.h"

#define NPAGES 256
#define MAX_BUF 16
#define MAX_ENTRIES 1024
#define PAGEMAP_PRESENT ((uint64_t)1 << 63)

static char *map;
static int pm = -1;
static struct dirty_map dm;
static bool scan_unsupported;

static void setup(void)
{
    map = mmap(NULL, NPAGES * WB_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    FUZZ_CHECK(map != MAP_FAILED, "mmap: %s", strerror(errno));
    /* A huge page would make a whole 2 MiB present at the first touch. */
    madvise(map, NPAGES * WB_PAGE_SIZE, MADV_NOHUGEPAGE);
    pm = pagemap_open(true);
    FUZZ_CHECK(pm >= 0, "pagemap_open: %s", strerror(errno));
    FUZZ_CHECK(dirty_map_init(&dm, (uintptr_t)map, NPAGES) == 0, "dirty_map_init: %s", strerror(errno));
    struct page_region r[1];
    struct harvest hv = {&dm, 0};
    if (pagemap_scan(pm, (uintptr_t)map, (uintptr_t)map + WB_PAGE_SIZE, 0, PAGE_IS_PRESENT, r, 1,
                     harvest_mark, &hv) != 0) {
        fprintf(stderr, "fuzz_pagemap: PAGEMAP_SCAN unsupported (%s): the entries only\n", strerror(errno));
        scan_unsupported = true;
    }
}

/* The regions of one walk, checked as they come: non-empty, in order, apart, inside. */
struct walk {
    uintptr_t lo, hi, last_end;
    struct harvest hv;
};

static void region(void *ctx, uintptr_t start, uintptr_t end)
{
    struct walk *w = ctx;
    FUZZ_CHECK(start < end && start >= w->lo && end <= w->hi && !(start % WB_PAGE_SIZE) && !(end % WB_PAGE_SIZE),
               "region [%#lx, %#lx) of [%#lx, %#lx)", (unsigned long)start, (unsigned long)end,
               (unsigned long)w->lo, (unsigned long)w->hi);
    FUZZ_CHECK(start > w->last_end, "region at %#lx does not follow the one that ended at %#lx",
               (unsigned long)start, (unsigned long)w->last_end);
    w->last_end = end;
    harvest_mark(&w->hv, start, end);
}

static void scan(const uint8_t *data, size_t size)
{
    uint8_t flags = size > 0 ? data[0] : 0;
    size_t nbuf = (flags & 15u) + 1, a = size > 1 ? data[1] : 0, b = size > 2 ? data[2] + 1u : NPAGES;
    size_t lo = a < b ? a : b, hi = a < b ? b : a;
    bool present[NPAGES];
    madvise(map, NPAGES * WB_PAGE_SIZE, MADV_DONTNEED);
    for (size_t p = 0; p < NPAGES; p++) {
        size_t byte = 3 + p / 8;
        present[p] = byte < size && (data[byte] >> (p % 8) & 1);
        if (present[p])
            map[p * WB_PAGE_SIZE] = 1;
    }
    uint64_t entries[NPAGES];
    FUZZ_CHECK(pagemap_read(pm, (uintptr_t)map, entries, NPAGES) == 0, "pagemap_read: %s", strerror(errno));
    for (size_t p = 0; p < NPAGES; p++)
        FUZZ_CHECK(!!(entries[p] & PAGEMAP_PRESENT) == present[p], "page %zu: entry %#llx", p,
                   (unsigned long long)entries[p]);
    if (scan_unsupported || lo == hi)
        return;

    struct page_region buf[MAX_BUF + 1];
    memset(buf, 0xa5, sizeof buf);   /* the walk must never use more than nbuf of them */
    struct walk w = {(uintptr_t)map + lo * WB_PAGE_SIZE, (uintptr_t)map + hi * WB_PAGE_SIZE, 0, {&dm, 0}};
    dirty_map_clear_range(&dm, 0, NPAGES);
    int rc = flags & 16 ? pagemap_private_copies(pm, w.lo, w.hi, buf, nbuf, region, &w)
                        : pagemap_scan(pm, w.lo, w.hi, 0, PAGE_IS_PRESENT, buf, nbuf, region, &w);
    FUZZ_CHECK(rc == 0, "scan: %s", strerror(errno));
    size_t want = 0;
    for (size_t p = 0; p < NPAGES; p++) {
        bool in = p >= lo && p < hi && present[p];
        want += in;
        FUZZ_CHECK(dirty_map_test(&dm, p) == in, "page %zu of [%zu, %zu): reported %d, present %d",
                   p, lo, hi, dirty_map_test(&dm, p), present[p]);
    }
    FUZZ_CHECK(w.hv.pages == want, "%zu pages reported, %zu present", w.hv.pages, want);
    const uint8_t *guard = (const uint8_t *)&buf[nbuf];
    for (size_t i = 0; i < sizeof buf[0]; i++)
        FUZZ_CHECK(guard[i] == 0xa5, "the walk wrote past its %zu regions", nbuf);
}

/* The soft-dirty runs of the entries: each reported once, maximal, in order. */
struct runs {
    uintptr_t base, last_end;
    size_t n;
    bool covered[MAX_ENTRIES];
};

static void soft_run(void *ctx, uintptr_t start, uintptr_t end)
{
    struct runs *r = ctx;
    FUZZ_CHECK(start < end && start >= r->base && end <= r->base + (r->n << PAGEMAP_PAGE_SHIFT),
               "run [%#lx, %#lx)", (unsigned long)start, (unsigned long)end);
    FUZZ_CHECK(r->last_end == 0 || start > r->last_end, "run at %#lx touches or overlaps the last",
               (unsigned long)start);
    r->last_end = end;
    for (uintptr_t a = start; a < end; a += (uintptr_t)1 << PAGEMAP_PAGE_SHIFT)
        r->covered[(a - r->base) >> PAGEMAP_PAGE_SHIFT] = true;
}

static void soft_dirty(const uint8_t *data, size_t size)
{
    static struct runs r;
    uint64_t entries[MAX_ENTRIES];
    size_t n = size / 8 < MAX_ENTRIES ? size / 8 : MAX_ENTRIES;
    memcpy(entries, data, n * 8);
    memset(&r, 0, sizeof r);
    r.base = (uintptr_t)0x7f0000000000;
    r.n = n;
    pagemap_soft_dirty_runs(entries, n, r.base, soft_run, &r);
    for (size_t i = 0; i < n; i++)
        FUZZ_CHECK(r.covered[i] == !!(entries[i] & PAGEMAP_SOFT_DIRTY), "entry %zu (%#llx)", i,
                   (unsigned long long)entries[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!map)
        setup();
    scan(data, size);
    size_t head = 3 + NPAGES / 8;
    if (size > head)
        soft_dirty(data + head, size - head);
    return 0;
}
