/* Perm space: saving the heap as an image, loading an image as perm space, the image's
 * root table, and finding the perm pages this process wrote.
 * Design: docs/design/perm.md
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include "perm.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "gc.h"
#include "harvest_report.h"
#include "heap.h"
#include "errno_text.h"
#include "page_state.h"
#include "perm_image.h"
#include "threads.h"
#include "vm.h"

/* A global: the collector scans it as a root in this process, whatever it names. */
static void *perm_roots[PERM_ROOTS];

static int bad_root(const char *call, int i)
{
    return gc_error(EINVAL, "%s(%d): no such root (0 to %d)", call, i, PERM_ROOTS - 1);
}

void *wb_perm_root(int i)
{
    if (i < 0 || i >= PERM_ROOTS) {
        bad_root("wb_perm_root", i);
        return NULL;
    }
    return perm_roots[i];
}

int wb_perm_set_root(int i, void *p)
{
    if (i < 0 || i >= PERM_ROOTS)
        return bad_root("wb_perm_set_root", i);
    perm_roots[i] = p;
    return 0;
}

/* World stopped, right after a global collection: every allocated object is live. */
static int save_locked(const char *path, char *why, size_t whylen)
{
    size_t count = H.top - 1;
    if (count == 0) {
        snprintf(why, whylen, "%s: nothing to save (the heap is empty)", path);
        errno = EINVAL;
        return -1;
    }
    struct perm_page *meta = os_table(count * sizeof *meta);
    if (!meta) {
        snprintf(why, whylen, "%s: no memory for the page table: %s", path, strerror(errno));
        return -1;
    }
    for (size_t i = 0; i < count; i++) {
        const struct page_info *pi = &H.pages[1 + i];
        meta[i] = (struct perm_page){ .kind = pi->kind, .sclass = pi->sclass,
                                      .flags = pi->flags & PF_ATOMIC, .aux = pi->aux };
        if (pi->kind == PK_FREE)
            meta[i].aux = 0;
        memcpy(meta[i].alloc, H.bits[1 + i].alloc, sizeof meta[i].alloc);
    }
    struct perm_header h;
    perm_header_init(&h);
    h.base = H.base;
    h.first_page = 1;
    h.page_count = count;
    for (int i = 0; i < PERM_ROOTS; i++)
        h.roots[i] = (uintptr_t)perm_roots[i];
    int rc = perm_image_write(path, &h, meta, (const void *)page_addr(1), why, whylen);
    int err = errno;
    os_release(meta, count * sizeof *meta);
    errno = err;
    return rc;
}

int wb_perm_save(const char *path)
{
    char why[600];
    if (!gc_ready())
        return -1;
    pthread_mutex_lock(&H.lock);
    /* Only live objects go into the image, perm ones of an earlier image included. */
    gc_collect_locked(WB_COLLECT_GLOBAL);
    threads_stop_world();       /* the pages must not change while they are copied */
    int rc = save_locked(path, why, sizeof why);
    threads_start_world();
    pthread_mutex_unlock(&H.lock);
    return rc == 0 ? 0 : gc_error(errno, "wb_perm_save: %s", why);
}

/* The side tables of the mapped image: its objects are old and perm. */
static void adopt(const struct perm_page *m, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        size_t pg = 1 + i;
        H.pages[pg] = (struct page_info){ .kind = m[i].kind, .sclass = m[i].sclass,
                                          .flags = (uint16_t)((m[i].flags & PF_ATOMIC) | PF_PERM | PF_USED),
                                          .aux = m[i].aux };
        if (m[i].kind == PK_FREE)
            continue;       /* a hole of the saver's heap: never reused here */
        H.pages_in_use++;
        if (m[i].kind == PK_TAIL)
            continue;
        uint64_t *a = H.bits[pg].alloc, *o = page_words(H.old_bits, pg);
        for (int k = 0; k < PAGE_WORDS; k++)
            a[k] = o[k] = m[i].kind == PK_SMALL ? m[i].alloc[k] : k == 0;
    }
}

int perm_load_locked(const char *path, char *why, size_t whylen)
{
    struct perm_header h;
    int fd;
    if (H.perm_end || H.top != 1) {
        snprintf(why, whylen, "%s: %s", path, H.perm_end ? "an image is loaded already"
                 : "objects were allocated already (load the image first, or set WBRT_IMAGE)");
        errno = EBUSY;
        return -1;
    }
    if (perm_image_open(path, &h, &fd, why, whylen) != 0)
        return -1;
    size_t count = h.page_count, len = count << WB_PAGE_SHIFT;
    struct perm_page *meta = NULL;
    int err = 0;
    if (h.first_page != 1 || count + 2 > H.npages) {
        err = ENOMEM;
        snprintf(why, whylen, "%s: needs a heap of more than %zu MiB, this one has %zu MiB (WBRT_HEAP_MAX)",
                 path, (len >> 20) + 1, (H.npages << WB_PAGE_SHIFT) >> 20);
    } else if (!(meta = perm_image_read_meta(fd, &h))) {
        err = errno;
        snprintf(why, whylen, "%s: cannot read: %s", path, strerror(err));
    } else if (!perm_image_meta_sane(meta, count)) {
        err = EINVAL;
        snprintf(why, whylen, "%s: corrupted (bad page table)", path);
    }
    if (!err) {
        /* The barrier lets go of the reservation while it moves and changes. */
        G.barrier->detach();
        if (heap_move(h.base) != 0) {
            err = errno;
            snprintf(why, whylen, "%s: the address range [%#lx, %#lx) the image needs is taken: %s",
                     path, (unsigned long)h.base, (unsigned long)(h.base + (H.npages << WB_PAGE_SHIFT)),
                     strerror(err));
        } else if (os_map_file_private((void *)page_addr(1), len, fd, (off_t)h.pages_offset) != 0) {
            err = errno;
            snprintf(why, whylen, "%s: cannot map: %s", path, strerror(err));
        } else {
            adopt(meta, count);
            H.top = H.lowest_free = H.perm_end = 1 + count;
            for (int i = 0; i < PERM_ROOTS; i++)
                perm_roots[i] = (void *)(uintptr_t)h.roots[i];
        }
        gc_attach_barrier("after loading a heap image");
    }
    if (meta)
        perm_image_free_meta(meta, &h);
    close(fd);
    errno = err;
    return err ? -1 : 0;
}

int wb_perm_load(const char *path)
{
    char why[600];
    if (!gc_ready())
        return -1;
    pthread_mutex_lock(&H.lock);
    int rc = perm_load_locked(path, why, sizeof why);
    pthread_mutex_unlock(&H.lock);
    return rc == 0 ? 0 : gc_error(errno, "wb_perm_load: %s", why);
}

void perm_note_written(struct dirty_map *dm)
{
    static bool warned;
    if (!H.perm_end)
        return;
    struct harvest hv = {dm, 0};
    if (os_written_runs(page_addr(1), page_addr(H.perm_end), harvest_mark, &hv) == 0)
        return;
    char e[96];
    harvest_warn_once(&warned, "wbrt: perm space: the kernel cannot tell which pages were written (%s); "
                      "every perm page is scanned at each collection\n", errno_text(errno, e, sizeof e));
    harvest_all(dm, page_addr(1), page_addr(H.perm_end));
}
