/* soak: the heap objects: header, slots and a payload that only (id, gen) produces, so
 * that an object overwritten or handed out again while live is caught.
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include <stddef.h>
#include "soak.h"

static uint64_t payload_seed(uint64_t id, uint64_t gen)
{
    return id * 0x2545f4914f6cdd1du ^ gen;
}

static size_t payload_offset(unsigned nslots)
{
    return sizeof(struct soak_hdr) + (size_t)nslots * sizeof(void *);
}

uint32_t soak_object_min_size(unsigned nslots)
{
    return (uint32_t)payload_offset(nslots) + 8;
}

/* Rewrites the header and the payload; the slots are left as they are. */
void soak_object_fill(void *p, uint64_t id, uint64_t gen, uint32_t size, unsigned nslots, int atomic)
{
    struct soak_hdr *h = p;
    size_t off = payload_offset(nslots);

    h->id = id;
    h->gen = gen;
    h->shape = soak_shape(size, nslots, atomic);
    wbt_fill((char *)p + off, size - off, payload_seed(id, gen));
}

void *soak_object_new(uint64_t id, uint32_t size, unsigned nslots, int atomic)
{
    void *p = atomic ? wb_malloc_atomic(size) : wb_malloc(size);

    if (p != NULL)
        soak_object_fill(p, id, SOAK_TAG, size, nslots, atomic);
    return p;
}

const char *soak_object_check_prefix(const void *p, uint64_t id, uint64_t gen, uint32_t size,
                                     unsigned nslots, int atomic, size_t n)
{
    const struct soak_hdr *h = p;
    size_t off = payload_offset(nslots);

    if (wb_base(p) != p)
        return "not the start of a live object (freed while reachable)";
    if (wb_size(p) < n)
        return "smaller than the model says";
    if (h->id != id)
        return "header id overwritten (memory handed out again?)";
    if (h->gen != gen)
        return "header generation overwritten";
    if (h->shape != soak_shape(size, nslots, atomic))
        return "header shape overwritten";
    if (!wbt_intact((const char *)p + off, n - off, payload_seed(id, gen)))
        return "payload overwritten";
    return NULL;
}

const char *soak_object_check(const void *p, uint64_t id, uint64_t gen, uint32_t size,
                              unsigned nslots, int atomic)
{
    return soak_object_check_prefix(p, id, gen, size, nslots, atomic, size);
}
