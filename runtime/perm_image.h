/* The heap image file: its format, writing it atomically, and validating it.
 * Layout (little-endian x86-64, every part page-aligned):
 *   page 0              struct perm_header, zero-padded to 4 KiB
 *   pages_offset - ...  one struct perm_page per image page (kind, class, alloc bits)
 *   pages_offset        the heap pages [first_page, first_page + page_count), verbatim,
 *                       so that they can be mmap'd straight from the file
 * checksum: word-wise FNV-1a 64 of the whole file with the checksum field zero.
 * Design: docs/design/perm.md */
#ifndef WBRT_PERM_IMAGE_H
#define WBRT_PERM_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "heap.h"

#define PERM_MAGIC "WBRTPERM"
#define PERM_VERSION 1
#define PERM_ROOTS 64
#define PERM_BUILD_ID_MAX 32

struct perm_header {
    char magic[8];
    uint32_t version;
    uint32_t machine;          /* ELF e_machine of the saver (EM_X86_64) */
    uint32_t page_size;
    uint32_t pointer_size;
    uint32_t build_id_len;
    uint32_t reserved;         /* zero: no padding in the hashed header */
    uint8_t build_id[PERM_BUILD_ID_MAX]; /* of the libwbrt (or program) that saved it */
    uint64_t base;             /* heap reservation base: the image maps back at its addresses */
    uint64_t first_page;       /* heap page of the first image page */
    uint64_t page_count;
    uint64_t meta_offset, pages_offset, file_size;
    uint64_t roots[PERM_ROOTS];
    uint64_t checksum;
};

/* What the loader needs of each image page. */
struct perm_page {
    uint8_t kind, sclass;
    uint16_t flags;            /* PF_ATOMIC only */
    uint32_t aux;              /* as in struct page_info */
    uint64_t alloc[PAGE_WORDS];
};

/* Fills the header fields that describe this process (magic, version, arch, build). */
void perm_header_init(struct perm_header *h);

/* Writes header, meta and pages (page_count pages from address pages) to a temporary file
 * next to path, fsyncs and renames it to path.  h's offsets, size and checksum are set
 * here.  0, or -1 with errno and the reason in why (nothing is left under either name). */
int perm_image_write(const char *path, struct perm_header *h, const struct perm_page *meta,
                     const void *pages, char *why, size_t whylen);

/* Opens path read-only and checks all of it (size, magic, version, architecture, build,
 * checksum).  0 with *fd open and *h filled, or -1 with errno and the reason in why. */
int perm_image_open(const char *path, struct perm_header *h, int *fd, char *why, size_t whylen);

/* The checksum of the image in fd as h describes it (h->checksum itself counts as zero),
 * read in chunks: 0, or -1 with errno. */
int perm_image_checksum(int fd, const struct perm_header *h, uint64_t *out);

/* Reads the meta records of an image perm_image_open accepted; NULL with errno on failure.
 * Release with perm_image_free_meta. */
struct perm_page *perm_image_read_meta(int fd, const struct perm_header *h);
void perm_image_free_meta(struct perm_page *meta, const struct perm_header *h);
/* Whether the count records describe a heap this build can hold: known kinds, small pages
 * of a real class with objects at its slot starts only, every large object's run inside
 * the image and made of it and its tails, no tail outside a run.  Checked before anything
 * is mapped (records are page 1 onwards). */
bool perm_image_meta_sane(const struct perm_page *m, size_t count);

#endif
