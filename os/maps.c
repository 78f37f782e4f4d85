/* SPDX-License-Identifier: GPL-2.0-or-later */
/* /proc/self/maps, read whole into an mmap'd buffer (its lines may change between two
 * reads otherwise) and parsed by hand: no stdio, no malloc.
 * Design: docs/design/os.md */
#include "maps.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <unistd.h>
#include "vm.h"
#include "sys.h"

static char *buf;
static size_t cap;

/* The whole file into buf; its length, or -1. */
static ssize_t read_all(void)
{
    for (;;) {
        if (!cap) {
            if (!(buf = os_table(64 << 10)))
                return -1;
            cap = 64 << 10;
        }
        int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return -1;
        size_t n = 0;
        ssize_t r;
        while (n < cap && (r = os_read(fd, buf + n, cap - n)) != 0) {
            if (r < 0) {
                if (errno == EINTR)
                    continue;
                close(fd);
                return -1;
            }
            n += (size_t)r;
        }
        close(fd);
        if (n < cap)
            return (ssize_t)n;
        char *bigger = os_table_grow(buf, cap, 0, cap * 2);
        if (!bigger)
            return -1;
        buf = bigger;
        cap *= 2;
    }
}

static uintptr_t hex(const char **p, const char *end)
{
    uintptr_t v = 0;
    for (; *p < end; (*p)++) {
        char c = **p;
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0)
            break;
        v = v * 16 + (uintptr_t)d;
    }
    return v;
}

/* "lo-hi perms offset dev inode   path" */
int os_anon_writable_mappings(void (*fn)(uintptr_t lo, uintptr_t hi, void *ctx), void *ctx)
{
    ssize_t len = read_all();
    if (len < 0)
        return -1;
    const char *p = buf, *end = buf + len;
    while (p < end) {
        const char *eol = p;
        while (eol < end && *eol != '\n')
            eol++;
        uintptr_t lo = hex(&p, eol);
        p++;
        uintptr_t hi = hex(&p, eol);
        p++;
        bool ok = eol - p > 4 && p[0] == 'r' && p[1] == 'w' && p[3] == 'p';
        /* skip perms, offset, dev, inode: the path (if any) follows the 5th field */
        for (int field = 0; field < 4 && p < eol; field++) {
            while (p < eol && *p != ' ')
                p++;
            while (p < eol && *p == ' ')
                p++;
        }
        if (ok && (p == eol || *p != '/') && lo < hi)
            fn(lo, hi, ctx);
        p = eol + 1;
    }
    return 0;
}
