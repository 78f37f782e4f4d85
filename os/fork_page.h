/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Globals written just after fork: by the parent (the locks its prepare handler took) or
 * by the child (locks reset, flags set).  Each page of them costs a copy-on-write fault
 * on that side at every fork, and bash or make fork hundreds of times: they share one
 * section, which os/fork_page.ld starts on a page of its own in the shared libraries
 * (its total is asserted there to fit one page). */
#ifndef WBRT_FORK_PAGE_H
#define WBRT_FORK_PAGE_H

#define OS_FORK_PAGE __attribute__((section("wbrt_fork_page")))

#endif
