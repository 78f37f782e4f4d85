/* soak: one random mutator step (allocate, link, unlink, free, realloc, rewrite, share
 * through the hub, collect) with its model update, and the check of everything a thread
 * keeps.  SPDX-License-Identifier: GPL-2.0-or-later */
#include <pthread.h>
#include <string.h>
#include "soak.h"

/* The hub: one heap object whose slots every thread overwrites with objects it
 * publishes (so stores into an old object race with other threads' collections); the
 * ids and sizes the slots should hold are kept beside it. */
static void *g_hub;
static pthread_mutex_t g_hub_lock[SOAK_HUB_SLOTS];
static struct { uint64_t id; uint32_t size, atomic; } g_hub_info[SOAK_HUB_SLOTS];

/* A place that holds a reference: a root (obj < 0) or slot k of object obj. */
struct pos {
    int obj, k;
};

void soak_hub_init(void)
{
    g_hub = wb_malloc(SOAK_HUB_SLOTS * sizeof(void *));
    if (g_hub == NULL)
        soak_fail(NULL, "wb_malloc of the hub failed");
    for (int k = 0; k < SOAK_HUB_SLOTS; k++)
        pthread_mutex_init(&g_hub_lock[k], NULL);
}

uint64_t soak_hub_bytes(void)
{
    uint64_t bytes = wb_size(g_hub);

    for (int k = 0; k < SOAK_HUB_SLOTS; k++)
        bytes += g_hub_info[k].size;
    return bytes;
}

static struct soak_ref *pos_ref(struct soak_thread *t, struct pos p)
{
    return p.obj < 0 ? &t->root[p.k] : &t->obj[p.obj].slot[p.k];
}

static void pos_store(struct soak_thread *t, struct pos p, void *v)
{
    if (p.obj < 0) {
        t->roots[p.k] = v;
        return;
    }
    struct soak_hdr *h = wbt_reveal(t->obj[p.obj].addr);
    WB_STORE(h, slot[p.k], v);
}

/* Seldom a root: dropping one drops a 32nd of the graph, which would keep it small. */
static struct pos pick_pos(struct soak_thread *t)
{
    for (int tries = 0; soak_below(t, 64) != 0 && tries < 8; tries++) {
        int i = soak_model_pick(t);
        if (i >= 0 && t->obj[i].nslots > 0)
            return (struct pos){ i, (int)soak_below(t, t->obj[i].nslots) };
    }
    return (struct pos){ -1, (int)soak_below(t, SOAK_ROOTS) };
}

/* Mostly small objects, some medium, 1 in 64 large (its own page run). */
static uint32_t pick_size(struct soak_thread *t, unsigned nslots)
{
    uint32_t min = soak_object_min_size(nslots), size;
    uint64_t r = soak_below(t, 64);

    if (r == 0) {
        size = 2049 + (uint32_t)soak_below(t, 96 * 1024);
        t->n.large++;
    } else if (r < 8) {
        size = 256 + (uint32_t)soak_below(t, 1793);
    } else {
        size = 16 + (uint32_t)soak_below(t, 240);
    }
    return size < min ? min : size;
}

/* Replaces the reference at p.  The old target stays in this frame (a root) until the
 * model knows whether anything still reaches it; if nothing does, it is freed
 * explicitly half of the time, else left to the collector. */
static void set_ref(struct soak_thread *t, struct pos p, struct soak_ref nref, void *v)
{
    struct soak_ref *ref = pos_ref(t, p);
    struct soak_ref old = *ref;
    void *volatile keep = soak_model_addr(t, &old);

    pos_store(t, p, v);
    *ref = nref;
    if (old.local < 0)
        return;
    int free_it = soak_below(t, 2) == 0;
    if (soak_model_sweep(t, free_it ? old.local : -1)) {
        wb_free(keep);
        t->n.frees++;
    }
}

static struct soak_ref local_ref(int i)
{
    return (struct soak_ref){ .local = i };
}

static void op_alloc(struct soak_thread *t, int linked)
{
    int atomic = soak_below(t, 4) == 0;
    unsigned nslots = atomic ? 0 : (unsigned)soak_below(t, SOAK_SLOTS + 1);
    uint32_t size = pick_size(t, nslots);
    uint64_t id = SOAK_TAG | (uint64_t)t->index << 40 | ++t->serial;
    void *volatile p = soak_object_new(id, size, nslots, atomic);

    if (p == NULL)
        soak_fail(t, "wb_malloc(%u) failed", size);
    t->n.allocs++;
    if (!linked) {
        soak_model_sample_dead(t, wbt_hide(p), id);
        return;
    }
    if (t->count >= t->cap - 1) {   /* full: drop a whole root's subgraph instead */
        set_ref(t, (struct pos){ -1, (int)soak_below(t, SOAK_ROOTS) }, local_ref(SOAK_NONE), NULL);
        if (t->count >= t->cap - 1)
            return;
    }
    /* Mostly into an empty place, so that the graph grows until it is full. */
    struct pos at = pick_pos(t);
    for (int tries = 0; tries < 8 && pos_ref(t, at)->local != SOAK_NONE; tries++)
        at = pick_pos(t);
    int i = soak_model_add(t, p, id, size, nslots, atomic);
    set_ref(t, at, local_ref(i), p);
}

static void op_link(struct soak_thread *t)
{
    int i = soak_model_pick(t);

    if (i < 0)
        return;
    t->n.links++;
    set_ref(t, pick_pos(t), local_ref(i), wbt_reveal(t->obj[i].addr));
}

static void op_unlink(struct soak_thread *t)
{
    t->n.unlinks++;
    set_ref(t, pick_pos(t), local_ref(SOAK_NONE), NULL);
}

static void check_one(struct soak_thread *t, int i)
{
    const struct soak_obj *o = &t->obj[i];
    const struct soak_hdr *p = wbt_reveal(o->addr);
    const char *bad = soak_object_check(p, o->id, o->gen, o->size, o->nslots, o->atomic);

    if (bad != NULL)
        soak_fail(t, "object %d (id %#llx, %u bytes, at %p): %s", i, (unsigned long long)o->id,
                  o->size, (const void *)p, bad);
    for (unsigned k = 0; k < o->nslots; k++) {
        const struct soak_ref *r = &o->slot[k];
        if (p->slot[k] != soak_model_addr(t, r))
            soak_fail(t, "object %d (id %#llx at %p): slot %u is %p, the model says %p", i,
                      (unsigned long long)o->id, (const void *)p, k, p->slot[k], soak_model_addr(t, r));
        if (r->local == SOAK_FOREIGN &&
            (bad = soak_object_check(wbt_reveal(r->addr), r->id, SOAK_TAG, r->size, 0, r->atomic)) != NULL)
            soak_fail(t, "shared object %#llx at %p, from slot %u of object %d: %s",
                      (unsigned long long)r->id, wbt_reveal(r->addr), k, i, bad);
    }
    t->n.checked++;
}

/* A new size for an object; realloc keeps its contents up to the smaller size. */
static void op_realloc(struct soak_thread *t)
{
    int i = soak_model_pick(t);

    if (i < 0)
        return;
    struct soak_obj *o = &t->obj[i];
    uint32_t size = pick_size(t, o->nslots);
    size_t common = size < o->size ? size : o->size;
    void *volatile p = wb_realloc(wbt_reveal(o->addr), size);
    const char *bad;

    if (p == NULL)
        soak_fail(t, "wb_realloc(%u) of object %d failed", size, i);
    if ((bad = soak_object_check_prefix(p, o->id, o->gen, o->size, o->nslots, o->atomic, common)) != NULL)
        soak_fail(t, "object %d (id %#llx) after wb_realloc(%u): %s", i, (unsigned long long)o->id,
                  size, bad);
    t->n.reallocs++;
    o->addr = wbt_hide(p);
    o->size = size;
    soak_object_fill(p, o->id, ++o->gen, size, o->nslots, o->atomic);
    /* Every place that held the old address gets the new one (its own slots too). */
    for (int r = 0; r < SOAK_ROOTS; r++)
        if (t->root[r].local == i)
            t->roots[r] = p;
    for (int j = 0; j < t->top; j++)
        for (unsigned k = 0; t->obj[j].live && k < t->obj[j].nslots; k++)
            if (t->obj[j].slot[k].local == i)
                pos_store(t, (struct pos){ j, (int)k }, p);
}

/* Rewrites an object's payload: writes to old objects that hold no pointer. */
static void op_mutate(struct soak_thread *t)
{
    int i = soak_model_pick(t);

    if (i < 0)
        return;
    struct soak_obj *o = &t->obj[i];
    soak_object_fill(wbt_reveal(o->addr), o->id, ++o->gen, o->size, o->nslots, o->atomic);
    t->n.mutates++;
}

/* A new immutable leaf object into a hub slot, replacing what was there (which slots of
 * other threads' objects may still reference). */
static void op_publish(struct soak_thread *t)
{
    int k = (int)soak_below(t, SOAK_HUB_SLOTS);
    int atomic = (int)soak_below(t, 2);
    uint32_t size = soak_object_min_size(0) + (uint32_t)soak_below(t, 300);
    uint64_t id = SOAK_TAG | (uint64_t)t->index << 40 | ++t->serial;
    void *volatile p = soak_object_new(id, size, 0, atomic);

    if (p == NULL)
        soak_fail(t, "wb_malloc(%u) failed", size);
    pthread_mutex_lock(&g_hub_lock[k]);
    wb_store(g_hub, &((void **)g_hub)[k], p);
    g_hub_info[k].id = id;
    g_hub_info[k].size = size;
    g_hub_info[k].atomic = (uint32_t)atomic;
    pthread_mutex_unlock(&g_hub_lock[k]);
    t->n.published++;
}

/* A reference to whatever a hub slot holds now, from one of this thread's objects. */
static void op_adopt(struct soak_thread *t)
{
    int k = (int)soak_below(t, SOAK_HUB_SLOTS);
    struct soak_ref r = { .local = SOAK_FOREIGN };
    void *volatile p;

    pthread_mutex_lock(&g_hub_lock[k]);
    p = ((void **)g_hub)[k];
    r.id = g_hub_info[k].id;
    r.size = g_hub_info[k].size;
    r.atomic = (uint8_t)g_hub_info[k].atomic;
    pthread_mutex_unlock(&g_hub_lock[k]);
    if (p == NULL)
        return;
    r.addr = wbt_hide(p);
    struct pos at = pick_pos(t);
    if (at.obj < 0)
        return;   /* roots hold local objects only */
    set_ref(t, at, r, p);
    t->n.adopted++;
}

void soak_step(struct soak_thread *t)
{
    uint64_t r = soak_below(t, 1000);

    t->n.steps++;
    if (r < 400)
        op_alloc(t, 1);
    else if (r < 530)
        op_alloc(t, 0);
    else if (r < 630)
        op_link(t);
    else if (r < 680)
        op_unlink(t);
    else if (r < 740)
        op_realloc(t);
    else if (r < 820)
        op_mutate(t);
    else if (r < 870)
        op_publish(t);
    else if (r < 930)
        op_adopt(t);
    else if (r < 999) {
        int i = soak_model_pick(t);
        if (i >= 0)
            check_one(t, i);
    } else if (soak_below(t, 8) == 0) {
        wb_collect(WB_COLLECT_FULL);
        t->n.explicit_full++;
    } else {
        wb_collect(WB_COLLECT_YOUNG);
        t->n.explicit_young++;
    }
}

static void check_hub(struct soak_thread *t)
{
    for (int k = 0; k < SOAK_HUB_SLOTS; k++) {
        pthread_mutex_lock(&g_hub_lock[k]);
        void *p = ((void **)g_hub)[k];
        const char *bad = p == NULL ? NULL
                                    : soak_object_check(p, g_hub_info[k].id, SOAK_TAG,
                                                        g_hub_info[k].size, 0,
                                                        (int)g_hub_info[k].atomic);
        pthread_mutex_unlock(&g_hub_lock[k]);
        if (bad != NULL)
            soak_fail(t, "hub slot %d (id %#llx at %p): %s", k,
                      (unsigned long long)g_hub_info[k].id, p, bad);
    }
}

void soak_check_all(struct soak_thread *t)
{
    for (int r = 0; r < SOAK_ROOTS; r++)
        if (t->roots[r] != soak_model_addr(t, &t->root[r]))
            soak_fail(t, "root %d is %p, the model says %p", r, t->roots[r],
                      soak_model_addr(t, &t->root[r]));
    for (int i = 0; i < t->top; i++)
        if (t->obj[i].live)
            check_one(t, i);
    check_hub(t);
}
