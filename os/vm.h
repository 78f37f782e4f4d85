/* Thin wrappers over mmap/madvise: address-space reservation and side tables.
 * Design: docs/design/os.md */
#ifndef WBRT_OS_VM_H
#define WBRT_OS_VM_H

#include <stddef.h>
#include <sys/types.h>
#include "segments.h"

/* Reserve len bytes readable/writable, committed on first touch, without huge pages
 * (barriers work on 4 KiB pages).  NULL with errno on failure. */
void *os_reserve(size_t len);
/* Like os_reserve, exactly at addr; NULL with errno EEXIST if part of the range is mapped. */
void *os_reserve_at(void *addr, size_t len);
/* Maps [off, off+len) of fd copy-on-write over [addr, addr+len) (replacing what was
 * there); 0, or -1 with errno and the range reserved memory again.  The file is never written through this mapping.  Never
 * decommit such pages: MADV_DONTNEED drops the private copy and the file content returns. */
int os_map_file_private(void *addr, size_t len, int fd, off_t off);
/* Zero-filled, lazily committed memory for side tables; NULL with errno on failure. */
void *os_table(size_t len);
/* The same for a table sized in proportion to the heap reservation: huge pages (fewer TLB
 * misses when marking) only from os_tables_scaled_use's call that finds its part in use
 * large, so that a small heap's tables stay small. */
void *os_table_scaled(size_t len);
/* n such tables in one mapping (one system call, not n, in every process's start-up):
 * table i of len[i] bytes (none, NULL, if 0) at out[i].  0, or -1 with errno. */
int os_tables_scaled(const size_t *len, void **out, size_t n);
/* num/den of the reservation is in use (the same share of each scaled table): a table
 * whose part in use holds at least 1 MiB of touched pages gets huge pages from then on. */
void os_tables_scaled_use(size_t num, size_t den);
/* Zeroes [p, p + len) of a lazily committed table without committing its pages never
 * touched (a memset would commit them all). */
void os_table_clear(void *p, size_t len);
/* The same for bytes [off, off + n) of each stride-byte record of [p, p + len) (stride
 * divides the page size, p is page aligned). */
void os_table_clear_fields(void *p, size_t len, size_t stride, size_t off, size_t n);
void os_release(void *p, size_t len);
/* A larger table holding the first `used` bytes of old (which is released); NULL with
 * errno if memory ran out, old then untouched. */
void *os_table_grow(void *old, size_t old_len, size_t used, size_t new_len);
/* Give pages back to the OS; they read as zero afterwards. */
void os_decommit(void *p, size_t len);
/* The mappings made above and not yet released (up to max of them): a scan of the
 * process's own mappings leaves them out.  Lock-free, for a stopped world. */
size_t os_own_mappings(struct os_range *out, size_t max);

#endif
