/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Happens-before edges that a race checker cannot see by itself (helgrind: atomics used as
 * a lock, a futex wake, a signal sent to a thread), told to it where the valgrind headers
 * exist (package valgrind).  Outside valgrind they are a few no-op instructions.
 * Design: docs/design/os.md */
#ifndef WBRT_RACE_ANNOTATIONS_H
#define WBRT_RACE_ANNOTATIONS_H

#if __has_include(<valgrind/helgrind.h>)
#include <valgrind/helgrind.h>
#define OS_HAPPENS_BEFORE(addr) ANNOTATE_HAPPENS_BEFORE(addr)
#define OS_HAPPENS_AFTER(addr) ANNOTATE_HAPPENS_AFTER(addr)
/* A word only ever accessed with atomics (a spin lock's): nothing to check there. */
#define OS_ATOMIC_ONLY(addr) VALGRIND_HG_DISABLE_CHECKING(addr, sizeof *(addr))
#define OS_ATOMIC_ONLY_RANGE(addr, len) VALGRIND_HG_DISABLE_CHECKING(addr, len)
#else
#define OS_HAPPENS_BEFORE(addr) ((void)(addr))
#define OS_HAPPENS_AFTER(addr) ((void)(addr))
#define OS_ATOMIC_ONLY(addr) ((void)(addr))
#define OS_ATOMIC_ONLY_RANGE(addr, len) ((void)(addr), (void)(len))
#endif

#endif
