/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Build id lookup through dl_iterate_phdr: the PT_NOTE segments of the object whose
 * PT_LOAD segments contain the address.
 * Design: docs/design/os.md */
#include "build_id.h"

#include <elf.h>
#include <link.h>
#include <stdbool.h>
#include <string.h>

struct want {
    uintptr_t addr;
    uint8_t *buf;
    size_t cap, len;
};

static bool contains(const struct dl_phdr_info *info, uintptr_t a)
{
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD && a >= lo && a - lo < ph->p_memsz)
            return true;
    }
    return false;
}

/* The NT_GNU_BUILD_ID note among the notes of [p, end), or 0. */
static size_t note_id(const uint8_t *p, const uint8_t *end, struct want *w)
{
    while (p + sizeof(ElfW(Nhdr)) <= end) {
        const ElfW(Nhdr) *n = (const ElfW(Nhdr) *)p;
        const uint8_t *name = p + sizeof *n;
        const uint8_t *desc = name + ((n->n_namesz + 3) & ~3u);
        if (n->n_type == NT_GNU_BUILD_ID && n->n_namesz == 4 && memcmp(name, "GNU", 4) == 0) {
            size_t len = n->n_descsz < w->cap ? n->n_descsz : w->cap;
            memcpy(w->buf, desc, len);
            return len;
        }
        p = desc + ((n->n_descsz + 3) & ~3u);
    }
    return 0;
}

static int visit(struct dl_phdr_info *info, size_t size, void *ctx)
{
    struct want *w = ctx;
    (void)size;
    if (!contains(info, w->addr))
        return 0;
    for (int i = 0; i < info->dlpi_phnum && !w->len; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_NOTE)
            continue;
        const uint8_t *p = (const uint8_t *)(info->dlpi_addr + ph->p_vaddr);
        w->len = note_id(p, p + ph->p_memsz, w);
    }
    return 1;
}

size_t os_build_id(const void *addr, uint8_t *buf, size_t cap)
{
    struct want w = {(uintptr_t)addr, buf, cap, 0};
    dl_iterate_phdr(visit, &w);
    return w.len;
}
