/* soak: the shadow model of one mutator thread: which of its objects its roots reach,
 * with their ids, generations, sizes and references.  It lives in glibc malloc memory,
 * which the collector does not scan, and holds addresses hidden (bit-inverted), so
 * that it keeps nothing alive itself.  SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdlib.h>
#include <string.h>
#include "soak.h"

void soak_model_init(struct soak_thread *t, int index, uint64_t seed, int cap, void **roots)
{
    memset(t, 0, sizeof *t);
    t->index = index;
    t->seed = seed;
    t->rng = seed;
    t->cap = cap;
    t->obj = calloc((size_t)cap, sizeof *t->obj);
    t->free_idx = calloc((size_t)cap, sizeof *t->free_idx);
    t->work = calloc((size_t)cap, sizeof *t->work);
    if (t->obj == NULL || t->free_idx == NULL || t->work == NULL)
        soak_fail(t, "out of memory for the model");
    t->roots = roots;
    for (int r = 0; r < SOAK_ROOTS; r++)
        t->root[r].local = SOAK_NONE;
}

int soak_model_add(struct soak_thread *t, void *p, uint64_t id, uint32_t size, unsigned nslots, int atomic)
{
    int i = t->nfree > 0 ? t->free_idx[--t->nfree] : t->top++;
    struct soak_obj *o = &t->obj[i];

    memset(o, 0, sizeof *o);
    o->addr = wbt_hide(p);
    o->id = id;
    o->gen = SOAK_TAG;
    o->size = size;
    o->nslots = (uint8_t)nslots;
    o->atomic = (uint8_t)atomic;
    o->live = 1;
    for (unsigned k = 0; k < SOAK_SLOTS; k++)
        o->slot[k].local = SOAK_NONE;
    t->count++;
    return i;
}

int soak_model_pick(struct soak_thread *t)
{
    if (t->count == 0)
        return -1;
    for (;;) {
        int i = (int)soak_below(t, (uint64_t)t->top);
        if (t->obj[i].live)
            return i;
    }
}

void *soak_model_addr(const struct soak_thread *t, const struct soak_ref *r)
{
    if (r->local >= 0)
        return wbt_reveal(t->obj[r->local].addr);
    if (r->local == SOAK_FOREIGN)
        return wbt_reveal(r->addr);
    return NULL;
}

static void mark_ref(struct soak_thread *t, const struct soak_ref *r, int *sp)
{
    if (r->local >= 0 && !t->obj[r->local].mark) {
        t->obj[r->local].mark = 1;
        t->work[(*sp)++] = r->local;
    }
}

void soak_model_sample_dead(struct soak_thread *t, wbt_hidden addr, uint64_t id)
{
    if (t->ndead < SOAK_DEAD_RING) {
        t->dead[t->ndead].addr = addr;
        t->dead[t->ndead].id = id;
        t->ndead++;
    }
}

int soak_model_sweep(struct soak_thread *t, int keep)
{
    int sp = 0, dropped = 0;

    for (int i = 0; i < t->top; i++)
        t->obj[i].mark = 0;
    for (int r = 0; r < SOAK_ROOTS; r++)
        mark_ref(t, &t->root[r], &sp);
    while (sp > 0) {
        struct soak_obj *o = &t->obj[t->work[--sp]];
        for (unsigned k = 0; k < o->nslots; k++)
            mark_ref(t, &o->slot[k], &sp);
    }
    for (int i = 0; i < t->top; i++) {
        struct soak_obj *o = &t->obj[i];
        if (!o->live || o->mark)
            continue;
        o->live = 0;
        t->count--;
        t->free_idx[t->nfree++] = i;
        if (i == keep)
            dropped = 1;
        else
            soak_model_sample_dead(t, o->addr, o->id);
    }
    return dropped;
}

uint64_t soak_model_bytes(const struct soak_thread *t)
{
    uint64_t bytes = 0;

    for (int i = 0; i < t->top; i++) {
        const struct soak_obj *o = &t->obj[i];
        if (!o->live)
            continue;
        bytes += wb_size(wbt_reveal(o->addr));
        for (unsigned k = 0; k < o->nslots; k++)
            if (o->slot[k].local == SOAK_FOREIGN)   /* an upper bound: shared ones count twice */
                bytes += wb_size(wbt_reveal(o->slot[k].addr));
    }
    return bytes;
}

void soak_model_check_dead(struct soak_thread *t)
{
    for (unsigned i = 0; i < t->ndead; i++) {
        const struct soak_hdr *p = wbt_reveal(t->dead[i].addr);
        /* Still there, and not handed out again to another object: retained.  Stack
         * words the collector must treat as pointers may keep a few. */
        if (wb_base(p) == p && *(volatile const uint64_t *)&p->id == t->dead[i].id)
            t->n.dead_retained++;
    }
    t->n.dead_sampled += t->ndead;
    t->ndead = 0;
}
