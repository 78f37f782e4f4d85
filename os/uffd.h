/* SPDX-License-Identifier: GPL-2.0-or-later */
/* userfaultfd(2): open with the privilege fallbacks, API handshake, register, write-protect.
 * Design: docs/design/os.md */
#ifndef WBRT_OS_UFFD_H
#define WBRT_OS_UFFD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A userfaultfd (O_CLOEXEC) whose UFFDIO_API handshake enabled `features`; or -1 and a
 * one-line reason in why (privileges, missing feature bit, kernel version). */
int uffd_open(uint64_t features, char *why, size_t whylen);

/* uffd_open_ex flags. */
#define UFFD_OPEN_NONBLOCK 1u       /* O_NONBLOCK: read(2) gives EAGAIN when no event waits */
/* Refuse the UFFD_USER_MODE_ONLY fallback: such an fd cannot resolve a fault taken by
 * the kernel, so a read(2) into a protected page would fail with EFAULT. */
#define UFFD_OPEN_KERNEL_FAULTS 2u
/* uffd_open with flags, also enabling those of `optional` that are offered; the features
 * enabled go to *enabled if not NULL. */
int uffd_open_ex(uint64_t features, uint64_t optional, unsigned flags, uint64_t *enabled,
                 char *why, size_t whylen);
/* 0, or -1 with errno. */
int uffd_register_wp(int fd, void *addr, size_t len);
/* Unregister, then wake every thread blocked in a fault of the range. */
int uffd_unregister(int fd, void *addr, size_t len);
/* Set (protect) or clear write protection of [addr, addr+len).  0, or -1 with errno. */
int uffd_writeprotect(int fd, void *addr, size_t len, bool protect);

/* " (Linux <release> predates <major>.<minor>)" into buf if the running kernel is older
 * than that version, else "". */
void kernel_age_note(int major, int minor, char *buf, size_t len);

#endif
