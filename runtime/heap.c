/* The heap reservation, its side tables, page runs and free-slot lists.
 * Design: docs/design/heap.md
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include "heap.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/platform/x86.h>
#include "fork_page.h"
#include "vm.h"

OS_FORK_PAGE struct heap H = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* Sizes chosen so that each is the largest 16-byte multiple fitting count times
 * in a page: at most 15 bytes per page wasted beyond the rounding of the request. */
const uint16_t class_size[NCLASS] = {
    16, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240,
    256, 272, 288, 304, 336, 368, 400, 448, 512, 576, 672, 816, 1024, 1360, 2048 };
const uint16_t class_count[NCLASS] = {
    256, 128, 85, 64, 51, 42, 36, 32, 28, 25, 23, 21, 19, 18, 17,
    16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2 };
/* floor(2^32 / size) + 1: offset * recip >> 32 == offset / size for offsets < 4096. */
#define R(s) (uint32_t)((((uint64_t)1 << 32) / (s)) + 1)
const uint32_t class_recip[NCLASS] = {
    R(16), R(32), R(48), R(64), R(80), R(96), R(112), R(128), R(144), R(160), R(176),
    R(192), R(208), R(224), R(240), R(256), R(272), R(288), R(304), R(336), R(368),
    R(400), R(448), R(512), R(576), R(672), R(816), R(1024), R(1360), R(2048) };
#undef R

uint8_t class_of[SMALL_MAX / GRAN + 1];
uint64_t class_starts[NCLASS][PAGE_WORDS];
bool cpu_popcnt;

static void init_classes(void)
{
    int c = 0;
    for (size_t g = 0; g <= SMALL_MAX / GRAN; g++) {
        while (class_size[c] < g * GRAN)
            c++;
        class_of[g] = (uint8_t)c;
    }
    for (c = 0; c < NCLASS; c++)
        for (size_t i = 0; i < class_count[c]; i++)
            bit_set(class_starts[c], i * class_size[c] >> GRAN_SHIFT);
    /* glibc's figures, not libgcc's __builtin_cpu_init: its cpuid instructions trap to the
     * hypervisor in a VM, tens of microseconds in every preloaded process's start-up */
    cpu_popcnt = CPU_FEATURE_ACTIVE(POPCNT);
}

#define HEAP_BASE ((uintptr_t)32 << 40)

int heap_init(size_t max_bytes, int with_ages, char *why, size_t whylen)
{
    init_classes();
    size_t len = max_bytes & ~(WB_PAGE_SIZE - 1);
    void *base = NULL;
    /* The default reservation may exceed RLIMIT_AS: halve until it fits.  A fixed address
     * first, far from where Linux puts executables (85 TiB) and mmap (below 128 TiB):
     * objects never move, so a heap image only maps back where its heap was. */
    while (len >= ((size_t)16 << 20) && !(base = os_reserve_at((void *)HEAP_BASE, len)) &&
           !(base = os_reserve(len)))
        len /= 2;
    if (!base) {
        snprintf(why, whylen, "cannot reserve the heap (%zu bytes): %s", max_bytes, strerror(errno));
        return -1;
    }
    H.base = (uintptr_t)base;
    H.npages = len >> WB_PAGE_SHIFT;
    H.top = 1;
    H.lowest_free = 1;
    size_t bits = H.npages * GRANS_PER_PAGE / 8;
    /* Those every process touches first, so that their used parts share page-table pages
     * (fewer to allocate, and to copy at each fork); the collection's and the ages' last. */
    enum { PAGES, LINKS, FREE_PAGES, YOUNG, BITS, OLD, FREED, AGE, TABLES };
    const size_t len_of[TABLES] = {
        [PAGES] = H.npages * sizeof *H.pages, [LINKS] = H.npages * sizeof *H.links,
        [BITS] = H.npages * sizeof *H.bits, [OLD] = bits, [FREED] = bits,
        [FREE_PAGES] = H.npages / 8 + 8, [YOUNG] = H.npages / 8 + 8,
        [AGE] = with_ages ? H.npages * GRANS_PER_PAGE : 0 };
    void *t[TABLES];
    if (os_tables_scaled(len_of, t, TABLES) != 0 || dirty_map_init(&H.dirty, H.base, H.npages) != 0)
        goto nomem;
    H.pages = t[PAGES];
    H.links = t[LINKS];
    H.bits = t[BITS];
    H.old_bits = t[OLD];
    H.freed_bits = t[FREED];
    H.free_pages = t[FREE_PAGES];
    H.young_map = t[YOUNG];
    H.age = t[AGE];
    return 0;
nomem:
    snprintf(why, whylen, "cannot map the heap's side tables: %s", strerror(errno));
    return -1;
}

int heap_move(uintptr_t base)
{
    size_t len = H.npages << WB_PAGE_SHIFT;
    if (base == H.base)
        return 0;
    bool overlap = base < H.base + len && H.base < base + len;
    if (overlap)
        os_release((void *)H.base, len);
    if (!os_reserve_at((void *)base, len)) {
        int err = errno;
        if (overlap && !os_reserve_at((void *)H.base, len))
            abort();    /* the heap's own range vanished: nothing sane is left to do */
        errno = err;
        return -1;
    }
    if (!overlap)
        os_release((void *)H.base, len);
    H.base = base;
    H.dirty.base = base;
    return 0;
}

void heap_clear_marks(void)
{
    os_table_clear_fields(H.bits, H.top * sizeof *H.bits, sizeof *H.bits,
                          offsetof(struct page_bits, mark), sizeof H.bits->mark);
}

uintptr_t heap_slot(uintptr_t a, size_t *size, size_t *pgp)
{
    if (!in_heap(a))
        return 0;
    size_t pg = page_of(a);
    const struct page_info *pi = &H.pages[pg];
    switch (pi->kind) {
    case PK_SMALL:
        *pgp = pg;
        return small_slot(a, pg, pi, size);
    case PK_TAIL:
        pg = pi->aux;
        pi = &H.pages[pg];
        /* fall through */
    case PK_LARGE:
        *size = (size_t)pi->aux << WB_PAGE_SHIFT;
        *pgp = pg;
        return page_addr(pg);
    default:
        return 0;
    }
}

uintptr_t heap_object(uintptr_t a, size_t *size)
{
    size_t pg;
    uintptr_t s = heap_slot(a, size, &pg);
    return s && is_allocated(gran_of(s)) ? s : 0;
}

static bool page_free(size_t pg) { return bit_test(H.free_pages, pg); }

/* First run of n free pages below top, or 0. */
static size_t find_free_run(size_t n)
{
    size_t words = (H.top + 63) / 64;
    if (H.lowest_free >= H.top)
        return 0;       /* none below top: the bitmap is not even read (a process that
                         * frees no page never touches it) */
    for (size_t w = H.lowest_free / 64; w < words; w++) {
        uint64_t m = H.free_pages[w];
        while (m) {
            size_t start = w * 64 + (size_t)__builtin_ctzll(m);
            if (start >= H.top)
                return 0;
            size_t end = start;
            while (end < H.top && end - start < n && page_free(end))
                end++;
            if (end - start == n)
                return start;
            if (end >= H.top)
                return 0;
            /* skip the short run: continue after it */
            w = end / 64;
            m = H.free_pages[w] & (~(uint64_t)0 << (end & 63));
        }
    }
    return 0;
}

/* Top grew: once it has grown by an eighth since the side tables were last told, tell
 * them (they look at how much of their part in use was touched). */
static void top_grew(void)
{
    static size_t told;
    if (H.top - told >= told / 8) {
        os_tables_scaled_use(H.top, H.npages);
        told = H.top;
    }
}

static bool within_max(size_t n) { return !H.max_pages || H.pages_in_use + n <= H.max_pages; }

static void count_taken(size_t n)
{
    H.pages_in_use += n;
    if (H.pages_in_use > H.pages_peak)
        H.pages_peak = H.pages_in_use;
}

size_t heap_take_pages(size_t n)
{
    if (!within_max(n))
        return 0;
    size_t pg = find_free_run(n);
    if (pg) {
        for (size_t i = pg; i < pg + n; i++)
            bit_clear(H.free_pages, i);
        if (pg == H.lowest_free)
            H.lowest_free = pg + n;
    } else {
        if (n > H.npages - H.top)
            return 0;
        pg = H.top;
        H.top += n;
        if (H.lowest_free == pg)
            H.lowest_free = H.top;      /* still none below top */
        top_grew();
    }
    count_taken(n);
    return pg;
}

bool heap_take_run_at(size_t pg, size_t n)
{
    if (!within_max(n) || pg > H.top || n > H.npages - pg)
        return false;
    size_t below_top = pg + n < H.top ? pg + n : H.top;
    for (size_t i = pg; i < below_top; i++)
        if (!page_free(i))
            return false;
    for (size_t i = pg; i < below_top; i++)
        bit_clear(H.free_pages, i);
    if (pg + n > H.top) {
        H.top = pg + n;
        top_grew();
    }
    count_taken(n);
    return true;
}

void heap_free_run(size_t pg, size_t n, uint64_t gc_no)
{
    for (size_t i = pg; i < pg + n; i++) {
        struct page_info *pi = &H.pages[i];
        pi->kind = PK_FREE;
        pi->flags &= PF_USED | PF_AGED;
        pi->aux = (uint32_t)gc_no;
        bit_set(H.free_pages, i);
    }
    if (pg < H.lowest_free)
        H.lowest_free = pg;
    H.pages_in_use -= n;
}

/* Calls fn for each run of free, committed pages freed between `most` and `least`
 * collections before collection gc_no (0: by gc_no itself). */
static void free_used_runs(uint32_t gc_no, uint32_t least, uint32_t most, void (*fn)(size_t pg, size_t n))
{
    size_t run = 0, len = 0;
    size_t words = (H.top + 63) / 64;
    for (size_t w = H.lowest_free / 64; w < words; w++)
        for (uint64_t m = H.free_pages[w]; m; m &= m - 1) {
            size_t pg = w * 64 + (size_t)__builtin_ctzll(m);
            const struct page_info *pi = &H.pages[pg];
            uint32_t age = gc_no - pi->aux;     /* aux: the collection that freed it */
            if (!(pi->flags & PF_USED) || age < least || age > most)
                continue;
            if (len && run + len == pg) {
                len++;
                continue;
            }
            if (len)
                fn(run, len);
            run = pg, len = 1;
        }
    if (len)
        fn(run, len);
}

static void decommit(size_t pg, size_t n)
{
    for (size_t i = pg; i < pg + n; i++)
        H.pages[i].flags &= (uint16_t)~PF_USED;
    os_decommit((void *)page_addr(pg), n << WB_PAGE_SHIFT);
}

/* Pages that stayed free for age collections go back to the OS; those freed since wait,
 * since the allocator would otherwise fault them straight back. */
void heap_decommit_pending(uint64_t gc_no, unsigned age)
{
    free_used_runs((uint32_t)gc_no, age, UINT32_MAX, decommit);
}

void heap_freed_runs(uint64_t gc_no, void (*fn)(size_t pg, size_t n))
{
    free_used_runs((uint32_t)gc_no, 0, 0, fn);
}

void heap_used_runs(size_t pg, size_t n, struct used_runs *u)
{
    u->n = 0;
    for (size_t i = pg; i < pg + n; i++) {
        if (!(H.pages[i].flags & PF_USED))
            continue;
        struct page_span *last = u->n ? &u->r[u->n - 1] : NULL;
        if (last && (last->pg + last->n == i || u->n == USED_RUNS_MAX))
            last->n = i + 1 - last->pg;         /* adjacent, or no room: stretched */
        else
            u->r[u->n++] = (struct page_span){ i, 1 };
    }
}

void heap_zero_runs(const struct used_runs *u)
{
    for (size_t i = 0; i < u->n; i++)
        memset((void *)page_addr(u->r[i].pg), 0, u->r[i].n << WB_PAGE_SHIFT);
}

static uint32_t *list_head(const struct page_info *pi)
{
    return &H.partial[(pi->flags & PF_ATOMIC) != 0][pi->sclass];
}

void partial_push(size_t pg)
{
    struct page_info *pi = &H.pages[pg];
    struct page_link *l = &H.links[pg];
    uint32_t *head = list_head(pi);
    pi->flags |= PF_LISTED;
    l->prev = 0;
    l->next = *head;
    if (*head)
        H.links[*head].prev = (uint32_t)pg;
    *head = (uint32_t)pg;
}

void partial_remove(size_t pg)
{
    struct page_info *pi = &H.pages[pg];
    const struct page_link *l = &H.links[pg];
    if (!(pi->flags & PF_LISTED))
        return;
    if (l->prev)
        H.links[l->prev].next = l->next;
    else
        *list_head(pi) = l->next;
    if (l->next)
        H.links[l->next].prev = l->prev;
    pi->flags &= (uint16_t)~PF_LISTED;
}

size_t partial_pop(int atomic, int cls)
{
    size_t pg = H.partial[atomic][cls];
    if (pg)
        partial_remove(pg);
    return pg;
}

void page_settle(size_t pg, uint64_t gc_no)
{
    struct page_info *pi = &H.pages[pg];
    if (pi->flags & (PF_OWNED | PF_PERM))
        return; /* its free slots belong to a thread, or to nobody (perm) */
    size_t n = page_objects(pg);
    if (n == 0) {
        partial_remove(pg);
        heap_free_run(pg, 1, gc_no);
    } else if (n < class_count[pi->sclass] && !(pi->flags & PF_LISTED)) {
        partial_push(pg);
    }
}

void young_add(size_t pg)
{
    struct page_info *pi = &H.pages[pg];
    if (pi->flags & PF_YOUNG)
        return;
    pi->flags |= PF_YOUNG;
    vec_push(&H.young, (uint32_t)pg);
}

void young_map_build(void)
{
    memset(H.young_map, 0, (H.top + 63) / 64 * sizeof *H.young_map);
    for (size_t i = 0; i < H.young.n; i++) {
        size_t pg = H.young.v[i];
        const struct page_info *pi = &H.pages[pg];
        if (!(pi->flags & PF_YOUNG))
            continue;
        size_t n = pi->kind == PK_LARGE ? pi->aux : 1;
        for (size_t j = pg; j < pg + n; j++)
            bit_set(H.young_map, j);
    }
}
