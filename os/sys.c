/* SPDX-License-Identifier: GPL-2.0-or-later */
/* wbrt's own system calls, straight to the kernel (os/sys.h says why).  x86_64: struct stat
 * and struct utsname are the kernel's layouts.
 * Design: docs/design/os.md */
#include "sys.h"
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/resource.h>
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

void os_async_signals(sigset_t *set)
{
    static const int sync[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGSYS };
    sigfillset(set);
    for (size_t i = 0; i < sizeof sync / sizeof sync[0]; i++)
        sigdelset(set, sync[i]);
}

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

/* Where the soft limit is the hard one there is no room above it: the preload at start
 * (os_fd_room) gives a hard limit above LOW_LIMIT a soft limit of LOW_LIMIT (select's
 * FD_SETSIZE), a smaller one loses RESERVED.  Not hard - RESERVED for a large hard limit:
 * the kernel's table of descriptors reaches the highest open one, and every fork copies it
 * (8 bytes a descriptor: at 19984, 55 us more per fork than at 1024 on 6.18, a fifth of
 * bash's extra CPU under the preload).  Never later: a program that raised its soft limit
 * to the hard one keeps it, and a descriptor placed then goes to hard - RESERVED, or to
 * LOW_LIMIT above ROOM_UP_TO, where a table up to the top would cost forks too much. */
#define RESERVED 16
#define ROOM_UP_TO 65536
/* A program that lowered its soft limit may hold (and check) descriptors above it: ours go
 * at least this high where the hard limit allows. */
#define LOW_LIMIT 1024

int os_prlimit(int resource, const struct rlimit *set, struct rlimit *old)
{
    return (int)syscall(SYS_prlimit64, 0, resource, set, old);
}

static int nofile(const struct rlimit *set, struct rlimit *old)
{
    return os_prlimit(RLIMIT_NOFILE, set, old);
}

/* The descriptors os_fd_aside placed and os_fd_close has not closed, each + 1 (0: a free
 * slot).  More than this at once are placed but not listed: wbrt keeps at most five. */
#define KEPT 8
static int kept[KEPT];

static int keep(int fd)
{
    for (int i = 0; i < KEPT; i++) {
        int free_slot = 0;
        if (__atomic_compare_exchange_n(&kept[i], &free_slot, fd + 1, false, __ATOMIC_RELEASE,
                                        __ATOMIC_RELAXED))
            break;
    }
    return fd;
}

void os_fd_forget(int fd)
{
    for (int i = 0; fd >= 0 && i < KEPT; i++) {
        int mine = fd + 1;
        __atomic_compare_exchange_n(&kept[i], &mine, 0, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
    }
}

int os_fd_close(int fd)
{
    os_fd_forget(fd);
    return fd >= 0 ? (int)syscall(SYS_close, fd) : 0;
}

int os_fd_kept_from(int from)
{
    int lowest = -1;
    for (int i = 0; i < KEPT; i++) {
        int fd = __atomic_load_n(&kept[i], __ATOMIC_ACQUIRE) - 1;
        if (fd >= from && (lowest < 0 || fd < lowest))
            lowest = fd;
    }
    return lowest;
}

void os_fd_room(void)
{
    struct rlimit r;
    if (nofile(NULL, &r) == 0 && r.rlim_cur == r.rlim_max && r.rlim_max >= 4 * RESERVED) {
        r.rlim_cur = r.rlim_max > LOW_LIMIT ? LOW_LIMIT : r.rlim_max - RESERVED;
        nofile(&r, NULL);
    }
    /* The kernel's table grows to where os_fd_aside places descriptors now, while the
     * process has one thread: grown later, with threads sharing it, it waits for an RCU
     * grace period (expand_fdtable: 15 ms in this project's VM).  It never shrinks; forks
     * copy only up to the highest open descriptor. */
    int fd = open("/", O_PATH | O_CLOEXEC);
    if (fd >= 0)
        os_fd_close(os_fd_aside(fd));
}

int os_fd_aside(int fd)
{
    struct rlimit r;
    if (fd < 0 || nofile(NULL, &r) != 0)
        return fd < 0 ? fd : keep(fd);
    int high;
    if (r.rlim_cur < r.rlim_max) {      /* above the soft limit for a moment */
        struct rlimit raised = {r.rlim_max, r.rlim_max};
        rlim_t floor = r.rlim_cur < LOW_LIMIT && r.rlim_max > LOW_LIMIT ? LOW_LIMIT : r.rlim_cur;
        nofile(&raised, NULL);
        high = fcntl(fd, F_DUPFD_CLOEXEC, (int)floor);
        nofile(&r, NULL);
    } else {
        rlim_t floor = r.rlim_max > ROOM_UP_TO ? LOW_LIMIT
                       : r.rlim_max >= 4 * RESERVED ? r.rlim_max - RESERVED : r.rlim_max / 2;
        high = fcntl(fd, F_DUPFD_CLOEXEC, (int)floor);
    }
    if (high < 0 || high < fd)
        return keep(fd);
    close(fd);
    return keep(high);
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
