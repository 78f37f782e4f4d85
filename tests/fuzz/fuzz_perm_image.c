/* Fuzz target: validating a heap image before anything is mapped.  The input is a flags
 * byte, a struct perm_header's bytes, then struct perm_page records; the flags can make the header
 * this build's (magic, version, architecture, build id), its layout consistent, its
 * checksum right, and then the size wrong again, so that the fuzzer gets past each check to
 * the next one.  The image goes to a memfd read by path, through the loader's own calls:
 * perm_image_open, perm_image_read_meta, perm_image_meta_sane.  A refusal must say why
 * (the path first, errno set) and leave no fd open; an image taken must be one the heap
 * can hold: every large object's tail pages follow it and name it, every tail page belongs
 * to one, small pages have a real class and objects only at its slot starts.  A refused
 * image is also given to wb_perm_load, which must refuse it too, naming the file, with
 * nothing of it mapped.
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "fuzz_check.h"
#include "perm_image.h"
#include "wbrt.h"

#define FIX_IDENTITY 1
#define FIX_LAYOUT 2
#define FIX_CHECKSUM 4
#define SIZE_PLUS_PAGE 8
#define SIZE_MINUS_BYTE 16
#define RAW_FILE 32        /* the input after the flags is the whole file */
#define MAX_PAGES 8

FUZZ_NO_LEAK_CHECK

static int memfd = -1;
static char path[64];

static void put(const void *p, size_t n, off_t off)
{
    FUZZ_CHECK(pwrite(memfd, p, n, off) == (ssize_t)n, "pwrite: %s", strerror(errno));
}

/* The lowest free descriptor: the same before and after means none was left open. */
static int lowest_free_fd(void)
{
    int fd = dup(0);
    close(fd);
    return fd;
}

/* Whether the records describe a heap that a loaded image can be: see the top. */
static bool holdable(const struct perm_page *m, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        switch (m[i].kind) {
        case PK_FREE:
            break;
        case PK_SMALL: {
            if (m[i].sclass >= NCLASS)
                return false;
            size_t step = class_size[m[i].sclass] / GRAN, end = step * class_count[m[i].sclass];
            for (size_t g = 0; g < GRANS_PER_PAGE; g++)
                if ((m[i].alloc[g / 64] >> (g % 64) & 1) && (g % step || g >= end))
                    return false;
            break;
        }
        case PK_LARGE: {
            size_t n = m[i].aux;
            if (n == 0 || i + n > count)
                return false;
            for (size_t t = i + 1; t < i + n; t++)
                if (m[t].kind != PK_TAIL || m[t].aux != i + 1)
                    return false;
            i += n - 1;
            break;
        }
        default:
            return false;      /* a tail page not right after its head's run start */
        }
    }
    return true;
}

/* Whether the image file is mapped anywhere in this process. */
static bool image_mapped(void)
{
    static char maps[1 << 20];
    int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    FUZZ_CHECK(fd >= 0, "/proc/self/maps: %s", strerror(errno));
    size_t n = 0;
    ssize_t k;
    while (n < sizeof maps - 1 && (k = read(fd, maps + n, sizeof maps - 1 - n)) > 0)
        n += (size_t)k;
    close(fd);
    maps[n] = 0;
    return strstr(maps, "memfd:fuzz_perm_image") != NULL;
}

/* The public loader on an image the checks refused: refused as well, nothing mapped. */
static void check_load_refuses(void)
{
    errno = 0;
    FUZZ_CHECK(wb_perm_load(path) == -1 && errno != 0, "wb_perm_load took a refused image");
    FUZZ_CHECK(strstr(wb_last_error(), path), "wb_perm_load: %s", wb_last_error());
    FUZZ_CHECK(!image_mapped(), "a refused image is mapped");
    FUZZ_CHECK(wb_perm_root(0) == NULL, "a refused image left a root");
}

static size_t round_page(size_t n) { return (n + WB_PAGE_SIZE - 1) & ~(WB_PAGE_SIZE - 1); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (memfd < 0) {
        memfd = memfd_create("fuzz_perm_image", MFD_CLOEXEC);
        FUZZ_CHECK(memfd >= 0, "memfd_create: %s", strerror(errno));
        snprintf(path, sizeof path, "/proc/self/fd/%d", memfd);
        struct wb_options o = {.heap_max = (size_t)64 << 20};
        FUZZ_CHECK(wb_init(&o) == 0, "wb_init: %s", wb_last_error());
    }
    if (size == 0)
        return 0;
    uint8_t flags = data[0];
    data++, size--;
    FUZZ_CHECK(ftruncate(memfd, 0) == 0, "ftruncate: %s", strerror(errno));

    struct perm_header h;
    memset(&h, 0, sizeof h);
    size_t hlen = size < sizeof h ? size : sizeof h;
    memcpy(&h, data, hlen);
    const uint8_t *rest = data + hlen;
    size_t rest_len = size - hlen;
    if (flags & RAW_FILE) {
        put(data, size, 0);
    } else {
        if (flags & FIX_IDENTITY) {
            struct perm_header me;
            perm_header_init(&me);
            memcpy(&h, &me, offsetof(struct perm_header, base));
        }
        size_t file_len = WB_PAGE_SIZE + rest_len;
        if (flags & FIX_LAYOUT) {
            h.page_count = h.page_count % MAX_PAGES + 1;
            h.first_page = h.first_page ? h.first_page : 1;
            h.base &= ~(uint64_t)(WB_PAGE_SIZE - 1);
            h.meta_offset = WB_PAGE_SIZE;
            h.pages_offset = WB_PAGE_SIZE + round_page(h.page_count * sizeof(struct perm_page));
            h.file_size = h.pages_offset + h.page_count * WB_PAGE_SIZE;
            file_len = h.file_size;
            if (rest_len > h.page_count * sizeof(struct perm_page))
                rest_len = h.page_count * sizeof(struct perm_page);
        }
        FUZZ_CHECK(ftruncate(memfd, (off_t)file_len) == 0, "ftruncate: %s", strerror(errno));
        put(&h, sizeof h, 0);
        put(rest, rest_len, WB_PAGE_SIZE);
        if (flags & FIX_CHECKSUM && perm_image_checksum(memfd, &h, &h.checksum) == 0)
            put(&h, sizeof h, 0);
        if (flags & (SIZE_PLUS_PAGE | SIZE_MINUS_BYTE))
            FUZZ_CHECK(ftruncate(memfd, (off_t)(flags & SIZE_PLUS_PAGE ? file_len + WB_PAGE_SIZE : file_len - 1)) == 0,
                       "ftruncate: %s", strerror(errno));
    }

    struct perm_header got;
    char why[600];
    int fd = -1, free_fd = lowest_free_fd();
    errno = 0;
    if (perm_image_open(path, &got, &fd, why, sizeof why) != 0) {
        FUZZ_CHECK(errno != 0, "refused without errno: %s", why);
        FUZZ_CHECK(strncmp(why, path, strlen(path)) == 0 && strlen(why) > strlen(path) + 2, "message: %s", why);
        FUZZ_CHECK(lowest_free_fd() == free_fd, "a refused image left a descriptor open");
        check_load_refuses();
        return 0;
    }
    /* Taken: the header must describe this file exactly, as the loader will map it. */
    off_t len = lseek(memfd, 0, SEEK_END);
    size_t count = got.page_count;
    FUZZ_CHECK(count > 0 && got.meta_offset == WB_PAGE_SIZE &&
               got.pages_offset == WB_PAGE_SIZE + round_page(count * sizeof(struct perm_page)) &&
               got.file_size == got.pages_offset + count * WB_PAGE_SIZE && got.file_size == (uint64_t)len &&
               got.first_page != 0 && got.base % WB_PAGE_SIZE == 0,
               "inconsistent header taken: %zu pages, file %lld bytes", count, (long long)len);
    struct perm_page *meta = perm_image_read_meta(fd, &got);
    FUZZ_CHECK(meta, "perm_image_read_meta: %s", strerror(errno));
    bool sane = perm_image_meta_sane(meta, count), want = holdable(meta, count);
    FUZZ_CHECK(sane == want, "page records %s, but the heap %s hold them", sane ? "taken" : "refused",
               want ? "can" : "cannot");
    perm_image_free_meta(meta, &got);
    close(fd);
    if (!sane)
        check_load_refuses();
    return 0;
}
