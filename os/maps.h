/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The process's anonymous writable mappings, from /proc/self/maps.
 * Design: docs/design/os.md */
#ifndef WBRT_OS_MAPS_H
#define WBRT_OS_MAPS_H

#include <stdint.h>

/* Calls fn(lo, hi, ctx) for each mapping that is readable, writable, private and not
 * backed by a file ([heap], [stack], anonymous mmaps).  Makes no call to malloc and takes
 * no lock, so it may run while other threads are stopped.  0, or -1 with errno if
 * /proc/self/maps cannot be read. */
int os_anon_writable_mappings(void (*fn)(uintptr_t lo, uintptr_t hi, void *ctx), void *ctx);

#endif
