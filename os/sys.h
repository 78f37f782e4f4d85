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
#include <sys/resource.h>
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
/* prlimit(2) on this process: sets resource's limit to *set unless NULL, gives the old one
 * in *old unless NULL (the preload wraps getrlimit). */
int os_prlimit(int resource, const struct rlimit *set, struct rlimit *old);
/* The calling thread's mask, as pthread_sigmask: libc's internal signals (thread
 * cancellation, setxid) are never blocked.  Async-signal-safe.  0, or an errno. */
int os_sigmask(int how, const sigset_t *set, sigset_t *old);
/* Every signal but the synchronous ones (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP,
 * SIGSYS): blocked, one of those kills the thread that raises it. */
void os_async_signals(sigset_t *set);

/* Moves a descriptor wbrt keeps open out of the program's sight: a program expects the
 * lowest free descriptor to be 3, dup2 onto any number below its limit to clobber nothing
 * of ours, and one that walks 0..sysconf(_SC_OPEN_MAX)-1 to find only its own (Python's
 * subprocess tests check all three).  So the descriptor goes to the first free number at
 * or above both the soft RLIMIT_NOFILE and 1024 (the soft limit raised for the dup, then
 * restored), close-on-exec.  Where the soft limit is the hard one (os_fd_room could not
 * make room, or the program raised it since) it goes to the hard limit minus 16, or to
 * 1024 above 65536.  The new descriptor (fd is closed), or fd itself when no other is
 * free; either is listed for os_fd_kept_from until os_fd_close. */
int os_fd_aside(int fd);
/* The preload, before the program runs: a soft limit equal to the hard one becomes 1024
 * (by 16 where the hard limit is 1024 or less), so that wbrt's descriptors have room above
 * it low in the descriptor table, which every fork copies up to the highest open one.  (A
 * program linked with wbrt keeps its limits: it may have raised them already.) */
void os_fd_room(void);
/* Closes a descriptor of os_fd_aside's (or any, by the system call: never a wrapper). */
int os_fd_close(int fd);
/* Takes fd off the list without closing it (something else closes it). */
void os_fd_forget(int fd);
/* The lowest descriptor os_fd_aside placed that is open and at least from, or -1: the
 * preload's close_range, closefrom, dup2 and dup3 spare them.  Async-signal-safe. */
int os_fd_kept_from(int from);

/* Calls fn with each line of the file at path (without its newline; a line longer than
 * the buffer is cut) until fn returns non-zero: that value, 0 at the end, -1 with errno. */
int os_file_lines(const char *path, int (*fn)(void *ctx, const char *line), void *ctx);

#endif
