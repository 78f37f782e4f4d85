/* Thin wrappers over mmap/madvise: address-space reservation and side tables. */
#ifndef WBRT_OS_VM_H
#define WBRT_OS_VM_H

#include <stddef.h>

/* Reserve len bytes readable/writable, committed on first touch, without huge pages
 * (barriers work on 4 KiB pages).  NULL with errno on failure. */
void *os_reserve(size_t len);
/* Zero-filled, lazily committed memory for side tables; NULL with errno on failure. */
void *os_table(size_t len);
void os_release(void *p, size_t len);
/* A larger table holding the first `used` bytes of old (which is released); NULL with
 * errno if memory ran out, old then untouched. */
void *os_table_grow(void *old, size_t old_len, size_t used, size_t new_len);
/* Give pages back to the OS; they read as zero afterwards. */
void os_decommit(void *p, size_t len);

#endif
