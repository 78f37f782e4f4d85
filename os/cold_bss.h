/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Large zeroed globals that a process needs late (at its first collection) or only the
 * start of: placed after the other zeroed globals (ld puts .lbss after .bss), so that the
 * small ones that every process writes at start share fewer pages: each page is a page
 * fault in every process the preload starts (a read then a write of a fresh page, two). */
#ifndef WBRT_COLD_BSS_H
#define WBRT_COLD_BSS_H

#define OS_COLD_BSS __attribute__((section(".lbss.wbrt")))

#endif
