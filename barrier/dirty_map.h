/* One bit per 4 KiB page of the heap reservation.  Set with atomic ORs from any
 * thread or signal handler; read and cleared only while the world is stopped.
 * Design: docs/design/dirty-map.md */
#ifndef WBRT_DIRTY_MAP_H
#define WBRT_DIRTY_MAP_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define WB_PAGE_SHIFT 12
#define WB_PAGE_SIZE ((size_t)1 << WB_PAGE_SHIFT)

struct dirty_map {
    uintptr_t base;           /* address of page 0 */
    size_t npages;
    uint64_t *bits;           /* npages bits, mmap'd */
};

/* The page of dm that addr lies in. */
static inline size_t dirty_map_page(const struct dirty_map *dm, uintptr_t addr)
{
    return (addr - dm->base) >> WB_PAGE_SHIFT;
}

int dirty_map_init(struct dirty_map *dm, uintptr_t base, size_t npages);
void dirty_map_destroy(struct dirty_map *dm);
/* Async-signal-safe. */
void dirty_map_set(struct dirty_map *dm, size_t page);
void dirty_map_set_range(struct dirty_map *dm, size_t page, size_t n);
void dirty_map_set_addr(struct dirty_map *dm, const void *addr);
bool dirty_map_test(const struct dirty_map *dm, size_t page);
/* First set page >= from and < limit, or limit if none. */
size_t dirty_map_next(const struct dirty_map *dm, size_t from, size_t limit);
/* First clear page >= from and < limit, or limit if none. */
size_t dirty_map_next_clear(const struct dirty_map *dm, size_t from, size_t limit);
void dirty_map_clear_range(struct dirty_map *dm, size_t page, size_t n);
size_t dirty_map_count(const struct dirty_map *dm, size_t limit);

#endif
