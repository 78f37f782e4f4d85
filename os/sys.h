/* SPDX-License-Identifier: GPL-2.0-or-later */
/* wbrt's own system calls, made with syscall(2) so that they never pass through a function
 * of the same name interposed for the program: libwbrt-preload.so wraps read, poll, pipe2,
 * stat, pthread_sigmask, nanosleep... (docs/design/preload.md), and a wrapper may prepare
 * heap pages, drop the stop signal from a mask or call dlsym on first use (not in a
 * signal handler).  Each returns as the libc function does (-1 and errno). */
#ifndef WBRT_OS_SYS_H
#define WBRT_OS_SYS_H

#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <time.h>

ssize_t os_read(int fd, void *buf, size_t n);
ssize_t os_pread(int fd, void *buf, size_t n, off_t off);
int os_poll(struct pollfd *fds, nfds_t n, int timeout_ms);
int os_pipe2(int fds[2], int flags);
int os_fstat(int fd, struct stat *st);
int os_stat(const char *path, struct stat *st);
int os_uname(struct utsname *u);
int os_nanosleep(const struct timespec *t, struct timespec *rem);
/* The calling thread's mask, as pthread_sigmask: libc's internal signals (thread
 * cancellation, setxid) are never blocked.  Async-signal-safe.  0, or an errno. */
int os_sigmask(int how, const sigset_t *set, sigset_t *old);

/* Calls fn with each line of the file at path (without its newline; a line longer than
 * the buffer is cut) until fn returns non-zero: that value, 0 at the end, -1 with errno. */
int os_file_lines(const char *path, int (*fn)(void *ctx, const char *line), void *ctx);

#endif
