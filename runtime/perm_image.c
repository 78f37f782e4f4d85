/* Heap image files: written to a temporary name and renamed, so that a crash never leaves
 * half an image under the name; read with pread only, so that loading never changes them.
 * Design: docs/design/perm.md
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include "perm_image.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "build_id.h"
#include "hash.h"
#include "vm.h"
#include "sys.h"

_Static_assert(sizeof(struct perm_header) % 8 == 0 && sizeof(struct perm_header) <= 4096,
               "the header is hashed as words and fits its page");

#define CHUNK ((size_t)1 << 20)

static size_t page_round(size_t n) { return (n + WB_PAGE_SIZE - 1) & ~(WB_PAGE_SIZE - 1); }

/* The header as hashed: checksum zero, padding zero. */
static uint64_t hash_header(const struct perm_header *h)
{
    struct perm_header c;
    memcpy(&c, h, sizeof c);
    c.checksum = 0;
    uint64_t x = hash_words(HASH_SEED, &c, sizeof c);
    static const uint64_t zeros[512];
    return hash_words(x, zeros, WB_PAGE_SIZE - sizeof c);
}

void perm_header_init(struct perm_header *h)
{
    memset(h, 0, sizeof *h);
    memcpy(h->magic, PERM_MAGIC, sizeof h->magic);
    h->version = PERM_VERSION;
    h->machine = EM_X86_64;
    h->page_size = WB_PAGE_SIZE;
    h->pointer_size = sizeof(void *);
    h->build_id_len = (uint32_t)os_build_id((const void *)perm_header_init, h->build_id, PERM_BUILD_ID_MAX);
}

static int write_all(int fd, const void *p, size_t n, off_t off)
{
    const char *c = p;
    while (n) {
        ssize_t k = pwrite(fd, c, n < CHUNK ? n : CHUNK, off);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        c += k, n -= (size_t)k, off += k;
    }
    return 0;
}

static int write_image(int fd, struct perm_header *h, const struct perm_page *meta, const void *pages)
{
    size_t meta_len = h->page_count * sizeof *meta, page_len = h->page_count << WB_PAGE_SHIFT;
    h->meta_offset = WB_PAGE_SIZE;
    h->pages_offset = h->meta_offset + page_round(meta_len);
    h->file_size = h->pages_offset + page_len;
    h->checksum = 0;
    static const uint64_t zeros[512];
    /* meta_len is a multiple of 8 (40-byte records); its padding is written as zeros. */
    uint64_t x = hash_header(h);
    x = hash_words(x, meta, meta_len);
    x = hash_words(x, zeros, page_round(meta_len) - meta_len);
    x = hash_words(x, pages, page_len);
    h->checksum = x;
    if (ftruncate(fd, (off_t)h->file_size) != 0 || write_all(fd, h, sizeof *h, 0) != 0 ||
        write_all(fd, meta, meta_len, (off_t)h->meta_offset) != 0 ||
        write_all(fd, pages, page_len, (off_t)h->pages_offset) != 0)
        return -1;
    return fsync(fd);
}

int perm_image_write(const char *path, struct perm_header *h, const struct perm_page *meta,
                     const void *pages, char *why, size_t whylen)
{
    static unsigned serial;
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%d.%u", path, (int)getpid(),
                 __atomic_fetch_add(&serial, 1, __ATOMIC_RELAXED)) >= (int)sizeof tmp) {
        snprintf(why, whylen, "%s: path too long", path);
        errno = ENAMETOOLONG;
        return -1;
    }
    /* 0600: the image holds whatever the heap held (chmod it to share it with other
     * users).  O_EXCL (and O_NOFOLLOW) refuse a file or symlink planted at the temporary
     * name; rename() replaces a symlink planted at path instead of writing through it. */
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        int err = errno;
        snprintf(why, whylen, "%s: cannot create %s: %s", path, tmp, strerror(err));
        errno = err;
        return -1;
    }
    int rc = write_image(fd, h, meta, pages);
    int err = errno;
    if (close(fd) != 0 && rc == 0)
        rc = -1, err = errno;
    if (rc == 0 && rename(tmp, path) != 0)
        rc = -1, err = errno;
    if (rc != 0) {
        unlink(tmp);
        snprintf(why, whylen, "%s: cannot write the image: %s", path, strerror(err));
        errno = err;
    }
    return rc;
}

static int refuse(char *why, size_t whylen, int err, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int refuse(char *why, size_t whylen, int err, const char *path, const char *fmt, ...)
{
    int n = snprintf(why, whylen, "%s: ", path);
    va_list ap;
    va_start(ap, fmt);
    if (n >= 0 && (size_t)n < whylen)
        vsnprintf(why + n, whylen - (size_t)n, fmt, ap);
    va_end(ap);
    errno = err;
    return -1;
}

static int read_all(int fd, void *p, size_t n, off_t off)
{
    char *c = p;
    while (n) {
        ssize_t k = os_pread(fd, c, n, off);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return -1;
        if (k == 0) {
            errno = ENODATA;    /* shorter than fstat said: it shrank meanwhile */
            return -1;
        }
        c += k, n -= (size_t)k, off += k;
    }
    return 0;
}

int perm_image_checksum(int fd, const struct perm_header *h, uint64_t *out)
{
    void *buf = os_table(CHUNK);
    if (!buf)
        return -1;
    uint64_t x = hash_header(h);
    int rc = 0;
    for (uint64_t off = WB_PAGE_SIZE; off < h->file_size && rc == 0; off += CHUNK) {
        size_t n = h->file_size - off < CHUNK ? h->file_size - off : CHUNK;
        rc = read_all(fd, buf, n, (off_t)off);
        x = hash_words(x, buf, n);
    }
    os_release(buf, CHUNK);
    *out = x;
    return rc;
}

static void hex(char *out, const uint8_t *id, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", id[i]);
    out[2 * n] = 0;
    if (!n)
        strcpy(out, "(none)");
}

/* Everything but the checksum, in the order that gives the most useful message. */
static int check_header(const char *path, const struct perm_header *h, uint64_t size,
                        char *why, size_t whylen)
{
    struct perm_header me;
    perm_header_init(&me);
    if (memcmp(h->magic, PERM_MAGIC, sizeof h->magic) != 0)
        return refuse(why, whylen, EINVAL, path, "not a wbrt heap image (bad magic)");
    if (h->version != PERM_VERSION)
        return refuse(why, whylen, EINVAL, path, "image format version %u, this wbrt reads version %u",
                      h->version, PERM_VERSION);
    if (h->machine != me.machine || h->page_size != me.page_size || h->pointer_size != me.pointer_size)
        return refuse(why, whylen, EINVAL, path,
                      "saved on another architecture (ELF machine %u, %u-byte pages, %u-byte "
                      "pointers; this is machine %u, %u, %u)", h->machine, h->page_size,
                      h->pointer_size, me.machine, me.page_size, me.pointer_size);
    if (h->build_id_len != me.build_id_len || h->build_id_len > PERM_BUILD_ID_MAX ||
        memcmp(h->build_id, me.build_id, me.build_id_len) != 0) {
        char theirs[2 * PERM_BUILD_ID_MAX + 8], mine[2 * PERM_BUILD_ID_MAX + 8];
        hex(theirs, h->build_id, h->build_id_len <= PERM_BUILD_ID_MAX ? h->build_id_len : 0);
        hex(mine, me.build_id, me.build_id_len);
        return refuse(why, whylen, EINVAL, path, "saved by another build of wbrt (build id %s, this is %s)",
                      theirs, mine);
    }
    uint64_t meta_len = h->page_count * sizeof(struct perm_page);
    if (h->page_count == 0 || h->page_count > (UINT64_C(1) << 36) || h->first_page == 0 ||
        h->base % WB_PAGE_SIZE || h->meta_offset != WB_PAGE_SIZE ||
        h->pages_offset != h->meta_offset + page_round(meta_len) ||
        h->file_size != h->pages_offset + (h->page_count << WB_PAGE_SHIFT))
        return refuse(why, whylen, EINVAL, path, "corrupted (inconsistent header)");
    if (size < h->file_size)
        return refuse(why, whylen, EINVAL, path, "truncated (%llu bytes, the header says %llu)",
                      (unsigned long long)size, (unsigned long long)h->file_size);
    if (size > h->file_size)
        return refuse(why, whylen, EINVAL, path, "corrupted (%llu bytes, the header says %llu)",
                      (unsigned long long)size, (unsigned long long)h->file_size);
    return 0;
}

int perm_image_open(const char *path, struct perm_header *h, int *fdp, char *why, size_t whylen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return refuse(why, whylen, errno, path, "cannot open: %s", strerror(errno));
    struct stat st;
    uint64_t sum;
    int rc;
    if (os_fstat(fd, &st) != 0)
        rc = refuse(why, whylen, errno, path, "cannot stat: %s", strerror(errno));
    else if (!S_ISREG(st.st_mode))
        rc = refuse(why, whylen, EINVAL, path, "not a regular file");
    else if ((uint64_t)st.st_size < WB_PAGE_SIZE)
        rc = refuse(why, whylen, EINVAL, path, "truncated (%lld bytes: not even a header)",
                    (long long)st.st_size);
    else if (read_all(fd, h, sizeof *h, 0) != 0)
        rc = refuse(why, whylen, errno, path, "cannot read: %s", strerror(errno));
    else if ((rc = check_header(path, h, (uint64_t)st.st_size, why, whylen)) != 0)
        ;
    else if (perm_image_checksum(fd, h, &sum) != 0)
        rc = refuse(why, whylen, errno, path, "cannot read: %s", strerror(errno));
    else if (sum != h->checksum)
        rc = refuse(why, whylen, EINVAL, path, "corrupted (checksum mismatch)");
    if (rc != 0) {
        int err = errno;
        close(fd);
        errno = err;
        return -1;
    }
    *fdp = fd;
    return 0;
}

struct perm_page *perm_image_read_meta(int fd, const struct perm_header *h)
{
    size_t len = h->page_count * sizeof(struct perm_page);
    struct perm_page *m = os_table(len);
    if (m && read_all(fd, m, len, (off_t)h->meta_offset) != 0) {
        int err = errno;
        os_release(m, len);
        errno = err;
        return NULL;
    }
    return m;
}

void perm_image_free_meta(struct perm_page *meta, const struct perm_header *h)
{
    os_release(meta, h->page_count * sizeof(struct perm_page));
}

/* A small page's allocation bits only at its class's slot starts: any other bit would be
 * an object the allocator and the collector cannot find the start or the end of. */
static bool slot_starts_only(const struct perm_page *p)
{
    uint64_t slots[PAGE_WORDS] = {0};
    size_t step = class_size[p->sclass] >> GRAN_SHIFT;
    for (size_t g = 0; g < class_count[p->sclass] * step; g += step)
        slots[g / 64] |= (uint64_t)1 << (g % 64);
    for (int k = 0; k < PAGE_WORDS; k++)
        if (p->alloc[k] & ~slots[k])
            return false;
    return true;
}

bool perm_image_meta_sane(const struct perm_page *m, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        switch (m[i].kind) {
        case PK_FREE:
            break;
        case PK_SMALL:
            if (m[i].sclass >= NCLASS || !slot_starts_only(&m[i]))
                return false;
            break;
        case PK_LARGE:
            /* Its run: aux pages inside the image, each after it a tail naming it (page i + 1). */
            if (m[i].aux == 0 || m[i].aux > count - i)
                return false;
            for (size_t t = i + 1; t < i + m[i].aux; t++)
                if (m[t].kind != PK_TAIL || m[t].aux != i + 1)
                    return false;
            i += m[i].aux - 1;
            break;
        default:        /* a tail outside its head's run, or no kind at all */
            return false;
        }
    }
    return true;
}
