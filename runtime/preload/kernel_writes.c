/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Kernel writes into the heap under the mprotect barrier.  The kernel does not take a
 * user-space fault: a system call writing into a protected (old) heap page fails with
 * EFAULT.  So the libc entry points that let the kernel write into memory the program
 * passes are wrapped: they call wb_prepare_kernel_write on the destination (which
 * records the pages dirty and unprotects them until the next collection) and forward to
 * glibc.  stdio and readdir fill buffers of their own by internal calls that no wrapper
 * sees, so their functions prepare the FILE's buffer or the whole DIR block; no
 * collection starts in this thread during the call, since it would protect the prepared
 * pages again (one in another thread still can: docs/preload.md's limits).  Under the
 * other barriers wb_prepare_kernel_write returns at once.  The list is in docs/preload.md.
 * Design: docs/design/kernel-writes.md */
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysinfo.h>
#include <sys/times.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <wchar.h>
#include <unistd.h>
#include "heap.h"
/* Some of these are also macros in glibc's headers: the functions are what we replace. */
#undef fread_unlocked
#undef fgets_unlocked
#undef getc
#undef getc_unlocked
#undef fgetc_unlocked
#undef getchar_unlocked
#undef getchar
#include "preload.h"

void prep(const void *p, size_t n)
{
    if (n && p && in_heap((uintptr_t)p))
        gc_kernel_write_begin(p, n);
}

static void prep_iov(const struct iovec *iov, int n)
{
    if (in_heap((uintptr_t)iov) || n > 0)
        for (int i = 0; i < n; i++)
            prep(iov[i].iov_base, iov[i].iov_len);
}

static void prep_file(FILE *f)
{
    if (f && f->_IO_buf_base)
        prep(f->_IO_buf_base, (size_t)(f->_IO_buf_end - f->_IO_buf_base));
}

/* Only the mprotect barrier prepares kernel writes.  Under the others each wrapper is a
 * tail call: no frame of ours under the real call (in every fork of bash, its waitpid's
 * frame took a copy-on-write fault on one more stack page in the parent). */
static inline bool kernel_writes_prepared(void)
{
    const struct barrier_ops *b = G.barrier;
    return b && b->prepare_kernel_write != barrier_noop_range;
}

#define WRAP(ret, name, params, args, before)                                             \
    PRELOAD_API ret name params                                                           \
    {                                                                                     \
        REAL(ret, name, params);                                                          \
        if (!kernel_writes_prepared())                                                    \
            return real_##name args;                                                      \
        gc_no_collect++; /* the call may allocate (stdio buffers, ...) */                 \
        before;                                                                           \
        ret rv_ = real_##name args;                                                       \
        gc_kernel_write_end();                                                            \
        gc_no_collect--;                                                                  \
        return rv_;                                                                       \
    }

WRAP(ssize_t, read, (int fd, void *b, size_t n), (fd, b, n), prep(b, n))
WRAP(ssize_t, pread, (int fd, void *b, size_t n, off_t o), (fd, b, n, o), prep(b, n))
WRAP(ssize_t, pread64, (int fd, void *b, size_t n, off_t o), (fd, b, n, o), prep(b, n))
WRAP(ssize_t, readv, (int fd, const struct iovec *v, int n), (fd, v, n), prep_iov(v, n))
WRAP(ssize_t, preadv, (int fd, const struct iovec *v, int n, off_t o), (fd, v, n, o), prep_iov(v, n))
WRAP(ssize_t, preadv64, (int fd, const struct iovec *v, int n, off_t o), (fd, v, n, o), prep_iov(v, n))
WRAP(ssize_t, recv, (int fd, void *b, size_t n, int fl), (fd, b, n, fl), prep(b, n))
WRAP(ssize_t, recvfrom, (int fd, void *b, size_t n, int fl, struct sockaddr *a, socklen_t *al),
     (fd, b, n, fl, a, al), (prep(b, n), prep(al, sizeof *al), prep(a, al ? *al : 0)))
WRAP(ssize_t, recvmsg, (int fd, struct msghdr *m, int fl), (fd, m, fl),
     (prep(m, sizeof *m), prep_iov(m->msg_iov, (int)m->msg_iovlen), prep(m->msg_name, m->msg_namelen),
      prep(m->msg_control, m->msg_controllen)))
WRAP(ssize_t, readlink, (const char *p, char *b, size_t n), (p, b, n), prep(b, n))
WRAP(char *, getcwd, (char *b, size_t n), (b, n), prep(b, n))
WRAP(int, pipe, (int fds[2]), (fds), prep(fds, 2 * sizeof(int)))
WRAP(int, pipe2, (int fds[2], int fl), (fds, fl), prep(fds, 2 * sizeof(int)))
WRAP(int, socketpair, (int d, int t, int p, int fds[2]), (d, t, p, fds), prep(fds, 2 * sizeof(int)))
WRAP(int, poll, (struct pollfd *f, nfds_t n, int t), (f, n, t), prep(f, n * sizeof *f))
WRAP(int, epoll_wait, (int e, struct epoll_event *ev, int n, int t), (e, ev, n, t),
     prep(ev, n > 0 ? (size_t)n * sizeof *ev : 0))
WRAP(int, stat, (const char *p, struct stat *s), (p, s), prep(s, sizeof *s))
WRAP(int, stat64, (const char *p, struct stat64 *s), (p, s), prep(s, sizeof *s))
WRAP(int, lstat, (const char *p, struct stat *s), (p, s), prep(s, sizeof *s))
WRAP(int, lstat64, (const char *p, struct stat64 *s), (p, s), prep(s, sizeof *s))
WRAP(int, fstat, (int fd, struct stat *s), (fd, s), prep(s, sizeof *s))
WRAP(int, fstat64, (int fd, struct stat64 *s), (fd, s), prep(s, sizeof *s))
WRAP(int, fstatat, (int d, const char *p, struct stat *s, int fl), (d, p, s, fl), prep(s, sizeof *s))
WRAP(int, fstatat64, (int d, const char *p, struct stat64 *s, int fl), (d, p, s, fl), prep(s, sizeof *s))
WRAP(int, statx, (int d, const char *p, int fl, unsigned m, struct statx *s), (d, p, fl, m, s), prep(s, sizeof *s))
WRAP(ssize_t, getdents64, (int fd, void *b, size_t n), (fd, b, n), prep(b, n))
/* readdir fills the DIR's own buffer, which opendir allocated with the DIR */
WRAP(struct dirent *, readdir, (DIR *d), (d), prep(d, wb_size(d)))
WRAP(struct dirent64 *, readdir64, (DIR *d), (d), prep(d, wb_size(d)))

/* results the kernel writes through the program's pointers */
WRAP(pid_t, wait, (int *st), (st), prep(st, sizeof *st))
WRAP(pid_t, waitpid, (pid_t pid, int *st, int o), (pid, st, o), prep(st, sizeof *st))
WRAP(pid_t, wait3, (int *st, int o, struct rusage *u), (st, o, u), (prep(st, sizeof *st), prep(u, sizeof *u)))
WRAP(pid_t, wait4, (pid_t pid, int *st, int o, struct rusage *u), (pid, st, o, u),
     (prep(st, sizeof *st), prep(u, sizeof *u)))
WRAP(int, waitid, (idtype_t t, id_t id, siginfo_t *i, int o), (t, id, i, o), prep(i, sizeof *i))
WRAP(int, accept, (int fd, struct sockaddr *a, socklen_t *al), (fd, a, al),
     (prep(al, sizeof *al), prep(a, al ? *al : 0)))
WRAP(int, accept4, (int fd, struct sockaddr *a, socklen_t *al, int fl), (fd, a, al, fl),
     (prep(al, sizeof *al), prep(a, al ? *al : 0)))
WRAP(int, getsockname, (int fd, struct sockaddr *a, socklen_t *al), (fd, a, al),
     (prep(al, sizeof *al), prep(a, al ? *al : 0)))
WRAP(int, getpeername, (int fd, struct sockaddr *a, socklen_t *al), (fd, a, al),
     (prep(al, sizeof *al), prep(a, al ? *al : 0)))
WRAP(int, getsockopt, (int fd, int l, int o, void *v, socklen_t *vl), (fd, l, o, v, vl),
     (prep(vl, sizeof *vl), prep(v, vl ? *vl : 0)))
WRAP(int, select, (int n, fd_set *r, fd_set *w, fd_set *e, struct timeval *t), (n, r, w, e, t),
     (prep(r, sizeof *r), prep(w, sizeof *w), prep(e, sizeof *e), prep(t, sizeof *t)))
WRAP(int, pselect, (int n, fd_set *r, fd_set *w, fd_set *e, const struct timespec *t, const sigset_t *m),
     (n, r, w, e, t, m), (prep(r, sizeof *r), prep(w, sizeof *w), prep(e, sizeof *e)))
WRAP(int, ppoll, (struct pollfd *f, nfds_t n, const struct timespec *t, const sigset_t *m), (f, n, t, m),
     prep(f, n * sizeof *f))
WRAP(int, epoll_pwait, (int e, struct epoll_event *ev, int n, int t, const sigset_t *m), (e, ev, n, t, m),
     prep(ev, n > 0 ? (size_t)n * sizeof *ev : 0))
WRAP(ssize_t, getrandom, (void *b, size_t n, unsigned fl), (b, n, fl), prep(b, n))
WRAP(int, getgroups, (int n, gid_t *l), (n, l), prep(l, n > 0 ? (size_t)n * sizeof *l : 0))
WRAP(ssize_t, readlinkat, (int d, const char *p, char *b, size_t n), (d, p, b, n), prep(b, n))
WRAP(int, statfs, (const char *p, struct statfs *s), (p, s), prep(s, sizeof *s))
WRAP(int, fstatfs, (int fd, struct statfs *s), (fd, s), prep(s, sizeof *s))
WRAP(int, uname, (struct utsname *u), (u), prep(u, sizeof *u))
WRAP(int, getrusage, (int who, struct rusage *u), (who, u), prep(u, sizeof *u))
WRAP(clock_t, times, (struct tms *t), (t), prep(t, sizeof *t))
WRAP(int, sysinfo, (struct sysinfo *i), (i), prep(i, sizeof *i))
WRAP(int, getrlimit, (__rlimit_resource_t r, struct rlimit *l), (r, l), prep(l, sizeof *l))
WRAP(int, prlimit, (pid_t pid, __rlimit_resource_t r, const struct rlimit *n, struct rlimit *o), (pid, r, n, o),
     prep(o, sizeof *o))
WRAP(int, nanosleep, (const struct timespec *t, struct timespec *rem), (t, rem), prep(rem, sizeof *rem))
WRAP(int, clock_nanosleep, (clockid_t c, int fl, const struct timespec *t, struct timespec *rem),
     (c, fl, t, rem), prep(rem, sizeof *rem))
WRAP(int, sched_getaffinity, (pid_t pid, size_t n, cpu_set_t *set), (pid, n, set), prep(set, n))
WRAP(int, sigpending, (sigset_t *set), (set), prep(set, sizeof *set))

/* stdio: the FILE's buffer, and the destination (large freads read into it directly). */
WRAP(size_t, fread, (void *b, size_t s, size_t n, FILE *f), (b, s, n, f), (prep_file(f), prep(b, s * n)))
WRAP(size_t, fread_unlocked, (void *b, size_t s, size_t n, FILE *f), (b, s, n, f), (prep_file(f), prep(b, s * n)))
WRAP(char *, fgets, (char *b, int n, FILE *f), (b, n, f), prep_file(f))
WRAP(char *, fgets_unlocked, (char *b, int n, FILE *f), (b, n, f), prep_file(f))
WRAP(ssize_t, getline, (char **l, size_t *n, FILE *f), (l, n, f), prep_file(f))
WRAP(ssize_t, getdelim, (char **l, size_t *n, int d, FILE *f), (l, n, d, f), prep_file(f))
WRAP(ssize_t, __getdelim, (char **l, size_t *n, int d, FILE *f), (l, n, d, f), prep_file(f))
WRAP(int, fgetc, (FILE *f), (f), prep_file(f))
WRAP(int, getc, (FILE *f), (f), prep_file(f))
WRAP(int, _IO_getc, (FILE *f), (f), prep_file(f))
WRAP(int, fgetc_unlocked, (FILE *f), (f), prep_file(f))
WRAP(int, getc_unlocked, (FILE *f), (f), prep_file(f))
WRAP(int, getchar, (void), (), prep_file(stdin))
WRAP(int, getchar_unlocked, (void), (), prep_file(stdin))
/* what the getc macros call when the buffer is empty */
WRAP(int, __uflow, (FILE *f), (f), prep_file(f))
WRAP(int, __underflow, (FILE *f), (f), prep_file(f))
WRAP(int, __isoc99_vfscanf, (FILE *f, const char *fmt, va_list ap), (f, fmt, ap), prep_file(f))
/* wide stdio: the kernel reads into the same byte buffer, converted from there */
WRAP(wchar_t *, fgetws, (wchar_t *b, int n, FILE *f), (b, n, f), prep_file(f))
WRAP(wchar_t *, fgetws_unlocked, (wchar_t *b, int n, FILE *f), (b, n, f), prep_file(f))
WRAP(wint_t, fgetwc, (FILE *f), (f), prep_file(f))
WRAP(wint_t, getwc, (FILE *f), (f), prep_file(f))
WRAP(wint_t, fgetwc_unlocked, (FILE *f), (f), prep_file(f))
WRAP(wint_t, getwc_unlocked, (FILE *f), (f), prep_file(f))
WRAP(wint_t, getwchar, (void), (), prep_file(stdin))
WRAP(wint_t, getwchar_unlocked, (void), (), prep_file(stdin))
WRAP(wint_t, __wuflow, (FILE *f), (f), prep_file(f))
WRAP(wint_t, __wunderflow, (FILE *f), (f), prep_file(f))

PRELOAD_API int __isoc99_fscanf(FILE *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = __isoc99_vfscanf(f, fmt, ap);
    va_end(ap);
    return rc;
}

PRELOAD_API int __isoc99_scanf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = __isoc99_vfscanf(stdin, fmt, ap);
    va_end(ap);
    return rc;
}
