/* Address-space reservation and lazily committed tables.
 * Design: docs/design/os.md
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include "vm.h"
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>
#include "cold_bss.h"
#include "page_state.h"
#include "race_annotations.h"

/* Every mapping made here, so that a scan of the process's mappings can leave out the
 * library's own (its tables hold addresses and bit patterns that would look like
 * pointers).  Read without a lock while other threads are stopped: an entry is valid
 * once hi is non-zero.  Beyond OWN_MAX mappings the rest are simply not listed. */
#define OWN_MAX 1024
OS_COLD_BSS static struct os_range own[OWN_MAX];
static int own_lock;

static void own_lock_take(void)
{
    OS_ATOMIC_ONLY(&own_lock);
    while (__atomic_exchange_n(&own_lock, 1, __ATOMIC_ACQUIRE))
        __builtin_ia32_pause();
    OS_HAPPENS_AFTER(&own_lock);
}

static void own_lock_drop(void)
{
    OS_HAPPENS_BEFORE(&own_lock);
    __atomic_store_n(&own_lock, 0, __ATOMIC_RELEASE);
}

static void own_add(void *p, size_t len)
{
    own_lock_take();
    for (size_t i = 0; i < OWN_MAX; i++)
        if (!own[i].hi) {
            own[i].lo = (uintptr_t)p;
            __atomic_store_n(&own[i].hi, (uintptr_t)p + ((len + 4095) & ~(size_t)4095), __ATOMIC_RELEASE);
            break;
        }
    own_lock_drop();
}

static void own_remove(void *p)
{
    own_lock_take();
    for (size_t i = 0; i < OWN_MAX; i++)
        if (own[i].hi && own[i].lo == (uintptr_t)p) {
            __atomic_store_n(&own[i].hi, 0, __ATOMIC_RELEASE);
            break;
        }
    own_lock_drop();
}

size_t os_own_mappings(struct os_range *out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < OWN_MAX && n < max; i++) {
        uintptr_t hi = __atomic_load_n(&own[i].hi, __ATOMIC_ACQUIRE);
        if (hi)
            out[n++] = (struct os_range){ own[i].lo, hi };
    }
    return n;
}

/* Every mapping of ours goes through here, so that none is missing from the list above.
 * addr: NULL, or exactly where (MAP_FIXED_NOREPLACE; EEXIST if part of it is mapped). */
static void *map(void *addr, size_t len)
{
    /* NORESERVE: a 64 GiB reservation must not count against overcommit. */
    void *p = mmap(addr, len, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | (addr ? MAP_FIXED_NOREPLACE : 0), -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    if (addr && p != addr) {    /* a kernel older than 4.17 takes the flag as a mere hint */
        munmap(p, len);
        errno = EEXIST;
        return NULL;
    }
    own_add(p, len);
    return p;
}

static void *reserve(void *addr, size_t len)
{
    void *p = map(addr, len);
    if (p)
        madvise(p, len, MADV_NOHUGEPAGE); /* a huge page would be split on its first protected write */
    return p;
}

void *os_reserve(size_t len) { return reserve(NULL, len); }

void *os_reserve_at(void *addr, size_t len) { return reserve(addr, len); }

void *os_table(size_t len)
{
    void *p = map(NULL, len);
    /* Side tables are read at random during marking: with 4 KiB pages nearly every
     * lookup misses the TLB, which is very costly under virtualisation. */
    if (p && len >= ((size_t)2 << 20))
        madvise(p, len, MADV_HUGEPAGE);
    return p;
}

/* Tables sized for the whole heap reservation, of which a small heap uses the first few
 * KiB: they get huge pages only once the part in use has many touched pages, not one 2 MiB
 * page per table in a process that allocates almost nothing, nor two per table for a
 * heap whose one big buffer, touched in a few places, spans most of its used part. */
#define SCALED_MAX 32
#define SCALED_HUGE_FROM ((size_t)1 << 20)
static struct scaled {
    void *p;
    size_t len;
    bool huge;
} scaled[SCALED_MAX];

static void scaled_add(void *p, size_t len)
{
    own_lock_take();
    for (size_t i = 0; i < SCALED_MAX; i++)
        if (!scaled[i].p) {
            scaled[i] = (struct scaled){ p, len, false };
            break;
        }
    own_lock_drop();
}

void *os_table_scaled(size_t len)
{
    void *p = map(NULL, len);
    if (p)
        scaled_add(p, len);
    return p;
}

/* A table's room in a shared mapping: a large one starts on a huge-page boundary. */
static size_t scaled_span(size_t len)
{
    size_t unit = len >= ((size_t)2 << 20) ? (size_t)2 << 20 : 4096;
    return (len + unit - 1) & ~(unit - 1);
}

int os_tables_scaled(const size_t *len, void **out, size_t n)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += scaled_span(len[i]);
    char *p = map(NULL, total);
    if (!p)
        return -1;
    for (size_t i = 0; i < n; i++) {
        out[i] = len[i] ? p : NULL;
        if (len[i])
            scaled_add(p, len[i]);
        p += scaled_span(len[i]);
    }
    return 0;
}

static void count_bytes(void *total, uintptr_t lo, uintptr_t hi) { *(size_t *)total += hi - lo; }

/* Bytes of [p, p + len) the kernel has pages for (len where it cannot tell). */
static size_t touched(void *p, size_t len)
{
    size_t n = 0;
    if (os_populated_runs((uintptr_t)p, (uintptr_t)p + len, count_bytes, &n) != 0)
        return len;
    return n;
}

void os_tables_scaled_use(size_t num, size_t den)
{
    own_lock_take();
    for (size_t i = 0; i < SCALED_MAX; i++) {
        struct scaled *t = &scaled[i];
        size_t used = t->len / den * num;
        if (t->p && !t->huge && t->len >= ((size_t)2 << 20) && used >= SCALED_HUGE_FROM &&
            touched(t->p, used) >= SCALED_HUGE_FROM) {
            madvise(t->p, t->len, MADV_HUGEPAGE);
            t->huge = true;
        }
    }
    own_lock_drop();
}

/* fn over the runs of [p, p + len) the kernel has pages for (over all of it where it
 * cannot tell, or the range is too short to ask). */
static void each_populated(void *p, size_t len, os_page_run_fn fn, void *ctx)
{
    uintptr_t lo = (uintptr_t)p, hi = lo + len;
    if (len < OS_PAGE_STATE_MIN || os_populated_runs(lo, hi, fn, ctx) != 0)
        fn(ctx, lo, hi);
}

static void clear_run(void *unused, uintptr_t lo, uintptr_t hi)
{
    (void)unused;
    memset((void *)lo, 0, hi - lo);
}

void os_table_clear(void *p, size_t len) { each_populated(p, len, clear_run, NULL); }

struct fields {
    size_t stride, off, n;
};

static void clear_fields_run(void *ctx, uintptr_t lo, uintptr_t hi)
{
    const struct fields *f = ctx;
    for (uintptr_t r = lo; r < hi; r += f->stride)
        memset((void *)(r + f->off), 0, f->n);
}

void os_table_clear_fields(void *p, size_t len, size_t stride, size_t off, size_t n)
{
    struct fields f = { stride, off, n };
    each_populated(p, len, clear_fields_run, &f);
}

void os_release(void *p, size_t len)
{
    own_remove(p);
    own_lock_take();
    for (size_t i = 0; i < SCALED_MAX; i++)
        if (scaled[i].p == p)
            scaled[i].p = NULL;
    own_lock_drop();
    munmap(p, len);
}

/* No huge pages: a growing table (a mark stack, a list) is used from its start, and a
 * huge page would make 2 MiB resident for its first touched bytes (Guile's two mark
 * stacks held 8 MiB so, a fifth of its peak RSS in incremental mode). */
void *os_table_grow(void *old, size_t old_len, size_t used, size_t new_len)
{
    void *p = map(NULL, new_len);
    if (p && old) {
        memcpy(p, old, used);
        os_release(old, old_len);
    }
    return p;
}

void os_decommit(void *p, size_t len) { madvise(p, len, MADV_DONTNEED); }

int os_map_file_private(void *addr, size_t len, int fd, off_t off)
{
    /* MAP_FIXED replaces our own reservation there; MAP_PRIVATE: a write copies the page
     * into this process, so the file and other processes never see it. */
    void *p = mmap(addr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, fd, off);
    if (p != MAP_FAILED)
        return 0;
    /* A failed MAP_FIXED may have unmapped the range: make it reserved memory again. */
    int err = errno;
    mmap(addr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
    errno = err;
    return -1;
}
