/* SPDX-License-Identifier: GPL-2.0-or-later */
/* SIGSEGV write faults, through libsigsegv, chained to the program's own disposition.
 * Design: docs/design/os.md */
#ifndef WBRT_OS_FAULTS_H
#define WBRT_OS_FAULTS_H

#include <signal.h>
#include <stddef.h>

/* Route write-permission faults (SIGSEGV with SEGV_ACCERR) to on_fault(fault address),
 * which runs in the signal handler (async-signal-safe) and returns 1 when it has made the
 * access possible (the instruction is then retried), or 0 to decline.
 * Every other SIGSEGV (unmapped address, sent by kill(2), declined) goes to the disposition
 * that was in force before: a handler is called as the kernel would call it; under the
 * default action, on_release() is called first, then that disposition is put back, so
 * this process stops routing SIGSEGV to on_fault until faults_install() is called again.
 * Calling it while installed only updates the callbacks.  SIGBUS is never touched.
 * 0, or -1 with a reason in why. */
int faults_install(int (*on_fault)(void *addr), void (*on_release)(void), char *why, size_t whylen);

/* Put back the disposition found by faults_install() (no-op if already handed back). */
void faults_uninstall(void);

/* For a sigaction(2) wrapper: while SIGSEGV is routed here, a program's new SIGSEGV
 * disposition becomes the one faults are passed on to instead of replacing ours, and the
 * program reads back its own.  1 if it took the call (act and old as for sigaction),
 * 0 if the wrapper must make the real call. */
int faults_sigaction(int sig, const struct sigaction *act, struct sigaction *old);

#endif
