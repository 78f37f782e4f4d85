/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Kernel writes into the heap under the mprotect barrier.  The kernel does not take a
 * user-space fault: a system call writing into a protected (old) heap page fails with
 * EFAULT.  So the libc entry points that let the kernel write into memory the program
 * passes are wrapped: they call wb_prepare_kernel_write on the destination (which
 * records the pages dirty and unprotects them until the next collection) and forward to
 * glibc.  stdio and readdir fill buffers of their own by internal calls that no wrapper
 * sees, so their functions prepare the FILE's buffer or the whole DIR block; no
 * collection starts in this thread during the call, since it would protect the prepared
 * pages again (one in another thread still can: README's limits).  Under the
 * other barriers wb_prepare_kernel_write returns at once.  The list is in README.md. */
#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
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

static void prep(const void *p, size_t n)
{
    if (n && in_heap((uintptr_t)p))
        wb_prepare_kernel_write((void *)p, n);
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

/* glibc's definition of name, found once (dlsym allocates: never from inside malloc). */
#define REAL(ret, name, params)                                                           \
    static ret(*real_##name) params;                                                      \
    if (!real_##name)                                                                     \
        real_##name = (ret(*) params)dlsym(RTLD_NEXT, #name)

#define WRAP(ret, name, params, args, before)                                             \
    PRELOAD_API ret name params                                                           \
    {                                                                                     \
        REAL(ret, name, params);                                                          \
        gc_no_collect++; /* the call may allocate (stdio buffers, ...) */                 \
        before;                                                                           \
        ret r = real_##name args;                                                         \
        gc_no_collect--;                                                                  \
        return r;                                                                         \
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
