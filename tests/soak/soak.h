/* soak: a randomized mutator checked against a shadow model of what must be reachable.
 * What the files share: the heap object layout, the model, one mutator thread's state.
 * SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SOAK_H
#define SOAK_H

#include <stdint.h>
#include "wbt.h"

#define SOAK_SLOTS 6          /* pointer slots of a model object, at most */
#define SOAK_ROOTS 32         /* root slots per mutator thread (a global array: scanned) */
#define SOAK_THREADS_MAX 16
#define SOAK_HUB_SLOTS 64     /* slots of the shared object every thread stores into */
#define SOAK_DEAD_RING 512    /* objects that died, sampled for the reclamation check */

/* Every word of a header has its top bit set (a non-canonical address), so that no
 * header keeps anything alive by looking like a pointer. */
#define SOAK_TAG (1ull << 63)

/* A heap object: header, slots, then a payload derived from (id, gen). */
struct soak_hdr {
    uint64_t id;      /* SOAK_TAG | thread << 40 | serial: unique in the run */
    uint64_t gen;     /* SOAK_TAG | how many times the payload was rewritten */
    uint64_t shape;   /* soak_shape(size, nslots, atomic) */
    void *slot[];
};

static inline uint64_t soak_shape(uint32_t size, unsigned nslots, int atomic)
{
    return SOAK_TAG | (uint64_t)atomic << 48 | (uint64_t)nslots << 32 | size;
}

/* A reference as the model knows it: nothing, an object of the thread's own table, or a
 * foreign object (published through the hub: immutable, never freed explicitly). */
enum { SOAK_NONE = -1, SOAK_FOREIGN = -2 };
struct soak_ref {
    int32_t local;        /* index in the thread's table, SOAK_NONE or SOAK_FOREIGN */
    uint32_t size;        /* foreign: its size */
    uint8_t atomic;       /* foreign: allocated with wb_malloc_atomic */
    uint64_t id;          /* foreign: its id */
    wbt_hidden addr;      /* foreign: its address */
};

/* An object of a thread's model.  Every object in the table is reachable from that
 * thread's roots: the one that loses a reference is followed by soak_model_sweep(). */
struct soak_obj {
    wbt_hidden addr;      /* hidden: the model itself must keep nothing alive */
    uint64_t id, gen;
    uint32_t size;
    uint8_t nslots, atomic, live, mark;
    struct soak_ref slot[SOAK_SLOTS];
};

struct soak_counts {
    uint64_t steps, checked, allocs, large, frees, reallocs, links, unlinks, mutates,
        published, adopted, explicit_young, explicit_full, dead_sampled, dead_retained;
};

struct soak_thread {
    int index;
    uint64_t seed;
    uint64_t rng;
    struct soak_obj *obj;      /* the table, in glibc malloc memory (not a root) */
    int cap, top, count;       /* top: entries ever used; count: live entries */
    int *free_idx, nfree;
    int *work;                 /* mark stack */
    struct soak_ref root[SOAK_ROOTS];
    void **roots;              /* this thread's row of the global root array */
    uint64_t serial;
    struct { wbt_hidden addr; uint64_t id; } dead[SOAK_DEAD_RING];
    unsigned ndead;
    uint64_t collections_seen;
    struct soak_counts n;
};

/* The run's settings, for messages. */
struct soak_config {
    const char *barrier, *argv0;
    int tenure, threads, small;   /* small: a smaller model (multi-threaded) */
    uint64_t seed;
    double seconds;
};
extern struct soak_config soak_cfg;

static inline uint64_t soak_splitmix(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}
static inline uint64_t soak_rand(struct soak_thread *t) { return soak_splitmix(&t->rng); }
static inline uint64_t soak_below(struct soak_thread *t, uint64_t n) { return soak_rand(t) % n; }

/* soak_object.c: the heap side. */
void *soak_object_new(uint64_t id, uint32_t size, unsigned nslots, int atomic);
void soak_object_fill(void *p, uint64_t id, uint64_t gen, uint32_t size, unsigned nslots, int atomic);
/* NULL if p holds that object intact (header and payload), else what is wrong. */
const char *soak_object_check(const void *p, uint64_t id, uint64_t gen, uint32_t size,
                              unsigned nslots, int atomic);
/* NULL if the first n bytes of p are those of that object before a realloc. */
const char *soak_object_check_prefix(const void *p, uint64_t id, uint64_t gen, uint32_t size,
                                     unsigned nslots, int atomic, size_t n);
uint32_t soak_object_min_size(unsigned nslots);

/* soak_model.c: the shadow model. */
void soak_model_init(struct soak_thread *t, int index, uint64_t seed, int cap, void **roots);
int soak_model_add(struct soak_thread *t, void *p, uint64_t id, uint32_t size, unsigned nslots, int atomic);
int soak_model_pick(struct soak_thread *t);         /* a random live object, -1 if none */
void *soak_model_addr(const struct soak_thread *t, const struct soak_ref *r);
/* Marks from the roots and drops what is unreachable; returns 1 if object keep was
 * dropped (it is not sampled as dead: the caller frees it or samples it). */
int soak_model_sweep(struct soak_thread *t, int keep);
void soak_model_sample_dead(struct soak_thread *t, wbt_hidden addr, uint64_t id);
uint64_t soak_model_bytes(const struct soak_thread *t);   /* usable bytes it keeps */
/* Counts the sampled dead objects still allocated (right after a full collection). */
void soak_model_check_dead(struct soak_thread *t);

/* soak_mutator.c: one random step, and the check of everything the thread keeps. */
void soak_step(struct soak_thread *t);
void soak_check_all(struct soak_thread *t);
void soak_hub_init(void);
uint64_t soak_hub_bytes(void);

/* Prints the configuration, seed, thread, step and what is wrong, and aborts. */
__attribute__((noreturn, format(printf, 2, 3))) void soak_fail(const struct soak_thread *t,
                                                              const char *fmt, ...);

#endif
