/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The GNU build id (ELF note NT_GNU_BUILD_ID) of the loaded object that contains an address.
 * Design: docs/design/os.md */
#ifndef WBRT_OS_BUILD_ID_H
#define WBRT_OS_BUILD_ID_H

#include <stddef.h>
#include <stdint.h>

/* Copies up to cap bytes of the build id of the object containing addr into buf; returns
 * its length, 0 if that object has no build id note. */
size_t os_build_id(const void *addr, uint8_t *buf, size_t cap);

#endif
