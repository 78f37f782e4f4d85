/* SPDX-License-Identifier: GPL-2.0-or-later */
/* userfaultfd(2) wrappers.  Knows nothing of heaps: ranges and feature bits only.
 * Design: docs/design/os.md */
#include "uffd.h"
#include "errno_text.h"
#include "uapi_uffd.h"
#include "sys.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

void kernel_age_note(int major, int minor, char *buf, size_t len)
{
    struct utsname u;
    int maj = 0, min = 0;
    buf[0] = '\0';
    if (os_uname(&u) == 0 && sscanf(u.release, "%d.%d", &maj, &min) == 2 &&
        (maj < major || (maj == major && min < minor)))
        snprintf(buf, len, " (Linux %s predates %d.%d)", u.release, major, minor);
}

/* The first line into buf (16 bytes). */
static int first_line(void *buf, const char *line)
{
    snprintf(buf, 16, "%s", line);
    return 1;
}

/* Why userfaultfd(0) got EPERM and no fallback worked: name the knobs to change.
 * user_mode: what userfaultfd(UFFD_USER_MODE_ONLY) gave. */
static void explain_eperm(const char *user_mode, char *why, size_t whylen)
{
    char sysctl[16] = "?", mode[32] = "missing";
    os_file_lines("/proc/sys/vm/unprivileged_userfaultfd", first_line, sysctl);
    struct stat st;
    if (os_stat("/dev/userfaultfd", &st) == 0)
        snprintf(mode, sizeof mode, "mode %04o", (unsigned)(st.st_mode & 07777));
    snprintf(why, whylen,
             "vm.unprivileged_userfaultfd=%s and /dev/userfaultfd not accessible (%s): "
             "run as root, or chmod /dev/userfaultfd, or sysctl vm.unprivileged_userfaultfd=1"
             " (userfaultfd(UFFD_USER_MODE_ONLY): %s)", sysctl, mode, user_mode);
}

/* What userfaultfd(UFFD_USER_MODE_ONLY) would give, for explain_eperm. */
static const char *user_mode_text(int fd, int err, char *buf, size_t len)
{
    char e[96], note[96];
    if (fd >= 0)
        return "allowed, but it cannot resolve kernel writes: a read(2) into a protected "
               "page would fail with EFAULT";
    kernel_age_note(5, 11, note, sizeof note);
    snprintf(buf, len, "%s%s", errno_text(err, e, sizeof e), note);
    return buf;
}

/* Any userfaultfd this process may have: plain, then user-mode-only (allowed unprivileged
 * when vm.unprivileged_userfaultfd=0; async WP still sees kernel writes) unless flags
 * forbid it, then the device. */
static int open_any(unsigned flags, char *why, size_t whylen)
{
    char e[96], text[160];
    int oflags = O_CLOEXEC | (flags & UFFD_OPEN_NONBLOCK ? O_NONBLOCK : 0);
    int fd = (int)syscall(SYS_userfaultfd, oflags);
    if (fd >= 0)
        return fd;
    int plain = errno;
    if (plain == ENOSYS) {
        snprintf(why, whylen, "userfaultfd(2): %s: kernel built without CONFIG_USERFAULTFD",
                 errno_text(plain, e, sizeof e));
        return -1;
    }
    int user_fd = (int)syscall(SYS_userfaultfd, oflags | UFFD_USER_MODE_ONLY);
    int user_mode = errno;
    if (user_fd >= 0 && !(flags & UFFD_OPEN_KERNEL_FAULTS))
        return user_fd;
    int dev = open("/dev/userfaultfd", O_RDWR | O_CLOEXEC);
    if (dev >= 0) {
        if (user_fd >= 0)
            close(user_fd);
        fd = ioctl(dev, USERFAULTFD_IOC_NEW, oflags);
        int saved = errno;
        close(dev);
        if (fd >= 0)
            return fd;
        snprintf(why, whylen, "/dev/userfaultfd USERFAULTFD_IOC_NEW: %s", errno_text(saved, e, sizeof e));
        return -1;
    }
    if (plain == EPERM)
        explain_eperm(user_mode_text(user_fd, user_mode, text, sizeof text), why, whylen);
    else
        snprintf(why, whylen, "userfaultfd(2): %s", errno_text(plain, e, sizeof e));
    if (user_fd >= 0)
        close(user_fd);
    return -1;
}

static const struct {
    uint64_t bit;
    const char *name;
    int major, minor;           /* first kernel with it */
} feature_names[] = {
    {UFFD_FEATURE_PAGEFAULT_FLAG_WP, "UFFD_FEATURE_PAGEFAULT_FLAG_WP", 5, 7},
    {UFFD_FEATURE_WP_UNPOPULATED, "UFFD_FEATURE_WP_UNPOPULATED", 6, 4},
    {UFFD_FEATURE_WP_ASYNC, "UFFD_FEATURE_WP_ASYNC", 6, 7},
};

static void explain_missing(uint64_t missing, char *why, size_t whylen)
{
    char note[96] = "";
    for (size_t i = 0; i < sizeof feature_names / sizeof feature_names[0]; i++)
        if (missing & feature_names[i].bit) {
            kernel_age_note(feature_names[i].major, feature_names[i].minor, note, sizeof note);
            snprintf(why, whylen, "%s missing from UFFDIO_API features%s", feature_names[i].name, note);
            return;
        }
    snprintf(why, whylen, "UFFD_FEATURE bit %d missing from UFFDIO_API features",
             __builtin_ctzll(missing));
}

static int api(int fd, uint64_t features, uint64_t *offered, char *why, size_t whylen)
{
    struct uffdio_api a = {.api = UFFD_API, .features = features};
    if (ioctl(fd, UFFDIO_API, &a) == 0) {
        *offered = a.features;
        return 0;
    }
    char e[96];
    snprintf(why, whylen, "UFFDIO_API: %s", errno_text(errno, e, sizeof e));
    return -1;
}

int uffd_open_ex(uint64_t features, uint64_t optional, unsigned flags, uint64_t *enabled,
                 char *why, size_t whylen)
{
    uint64_t offered;
    /* Everything asked at once first: one fd and one handshake, where the kernel has them
     * all (a process's start-up pays it).  UFFDIO_API works once per fd, so otherwise ask
     * what is offered on one fd and enable on another. */
    int fd = open_any(flags, why, whylen);
    if (fd < 0)
        return -1;
    if (api(fd, features | optional, &offered, why, whylen) == 0) {
        features |= optional;
    } else {
        close(fd);
        if ((fd = open_any(flags, why, whylen)) < 0)
            return -1;
        int rc = api(fd, 0, &offered, why, whylen);
        close(fd);
        if (rc < 0)
            return -1;
        if (features & ~offered) {
            explain_missing(features & ~offered, why, whylen);
            return -1;
        }
        features |= optional & offered;
        if ((fd = open_any(flags, why, whylen)) < 0)
            return -1;
        if (api(fd, features, &offered, why, whylen) < 0) {
            close(fd);
            return -1;
        }
    }
    if (enabled)
        *enabled = features;
    return os_fd_aside(fd);
}

int uffd_open(uint64_t features, char *why, size_t whylen)
{
    return uffd_open_ex(features, 0, 0, NULL, why, whylen);
}

int uffd_register_wp(int fd, void *addr, size_t len)
{
    struct uffdio_register r = {.range = {(uintptr_t)addr, len}, .mode = UFFDIO_REGISTER_MODE_WP};
    return ioctl(fd, UFFDIO_REGISTER, &r);
}

/* The kernel wakes the threads blocked in a fault of the range only for a MISSING-mode
 * registration (fs/userfaultfd.c, userfaultfd_unregister): a writer blocked on a
 * write-protect fault would sleep for ever.  Wake them: they retry the write, which the
 * unregistered range no longer traps. */
int uffd_unregister(int fd, void *addr, size_t len)
{
    struct uffdio_range r = {(uintptr_t)addr, len};
    if (ioctl(fd, UFFDIO_UNREGISTER, &r) != 0)
        return -1;
    return ioctl(fd, UFFDIO_WAKE, &r);
}

int uffd_writeprotect(int fd, void *addr, size_t len, bool protect)
{
    struct uffdio_writeprotect w = {.range = {(uintptr_t)addr, len},
                                    .mode = protect ? UFFDIO_WRITEPROTECT_MODE_WP : 0};
    return ioctl(fd, UFFDIO_WRITEPROTECT, &w);
}
