/* SPDX-License-Identifier: GPL-2.0-or-later */
/* wbrt's own system calls, straight to the kernel (os/sys.h says why).  x86_64: struct stat
 * and struct utsname are the kernel's layouts.
 * Design: docs/design/os.md */
#include "sys.h"
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

ssize_t os_read(int fd, void *buf, size_t n)
{
    return syscall(SYS_read, fd, buf, n);
}

ssize_t os_pread(int fd, void *buf, size_t n, off_t off)
{
    return syscall(SYS_pread64, fd, buf, n, off);
}

int os_poll(struct pollfd *fds, nfds_t n, int timeout_ms)
{
    return (int)syscall(SYS_poll, fds, n, timeout_ms);
}

int os_pipe2(int fds[2], int flags)
{
    return (int)syscall(SYS_pipe2, fds, flags);
}

int os_fstat(int fd, struct stat *st)
{
    return (int)syscall(SYS_fstat, fd, st);
}

int os_stat(const char *path, struct stat *st)
{
    return (int)syscall(SYS_stat, path, st);
}

int os_uname(struct utsname *u)
{
    return (int)syscall(SYS_uname, u);
}

int os_nanosleep(const struct timespec *t, struct timespec *rem)
{
    return (int)syscall(SYS_nanosleep, t, rem);
}

/* glibc's: SIGCANCEL and SIGSETXID, the first two real-time signals. */
#define LIBC_SIGNALS 2

int os_sigmask(int how, const sigset_t *set, sigset_t *old)
{
    sigset_t copy;
    if (set && how != SIG_UNBLOCK) {
        copy = *set;
        for (int s = 0; s < LIBC_SIGNALS; s++)
            sigdelset(&copy, __SIGRTMIN + s);
        set = &copy;
    }
    /* the kernel's sigset is _NSIG bits */
    return syscall(SYS_rt_sigprocmask, how, set, old, _NSIG / 8) == 0 ? 0 : errno;
}

int os_file_lines(const char *path, int (*fn)(void *ctx, const char *line), void *ctx)
{
    char buf[512];
    size_t used = 0;
    bool cut = false;       /* the rest of a line longer than buf is skipped */
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    for (;;) {
        ssize_t got = os_read(fd, buf + used, sizeof buf - 1 - used);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            int err = errno;
            close(fd);
            errno = err;
            return -1;
        }
        used += (size_t)got;
        buf[used] = '\0';
        char *line = buf, *nl;
        int rc = 0;
        while (!rc && (nl = memchr(line, '\n', used - (size_t)(line - buf)))) {
            *nl = '\0';
            if (!cut)
                rc = fn(ctx, line);
            cut = false;
            line = nl + 1;
        }
        used -= (size_t)(line - buf);
        memmove(buf, line, used);
        if (!rc && (got == 0 || used == sizeof buf - 1)) {   /* the end, or a line too long */
            buf[used] = '\0';
            if (used && !cut)
                rc = fn(ctx, buf);
            cut = got != 0;
            used = 0;
        }
        if (rc || got == 0) {
            close(fd);
            return rc;
        }
    }
}
