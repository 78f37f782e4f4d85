/* Threads: lists built concurrently (half of them of GC_malloc_many's objects, as Nix
 * takes its values) while other threads collect; results handed back
 * through pthread_join; registration answers.
 * SPDX-License-Identifier: GPL-2.0-or-later */
#define GC_THREADS
#include <gc.h>
#include <stdint.h>
#include "gct.h"

#define THREADS 4
#define NODES 50000

struct node {
    struct node *next;
    long value;
};

struct result {
    struct node *list;
    int registered_again;
    int stack_base_found;
};

/* A node: odd threads take theirs from a GC_malloc_many list, *many (a collection
 * another thread starts may stop this one while it takes a list). */
static struct node *new_node(long id, void **many)
{
    if (id % 2 == 0)
        return GC_MALLOC(sizeof(struct node));
    if (!*many)
        *many = GC_malloc_many(sizeof(struct node));
    struct node *n = *many;
    *many = GC_NEXT(n);
    return n;
}

static void *worker(void *arg)
{
    long id = (long)(intptr_t)arg;
    struct result *r = GC_MALLOC(sizeof *r);
    struct GC_stack_base sb;
    r->stack_base_found = GC_get_stack_base(&sb) == GC_SUCCESS && sb.mem_base != NULL;
    r->registered_again = GC_register_my_thread(&sb);
    for (long round = 0; round < 4; round++) {
        struct node *list = NULL;
        void *many = NULL;
        for (long i = 0; i < NODES; i++) {
            struct node *n = new_node(id, &many);
            n->value = id * NODES + i;
            n->next = list;
            list = n;
            if (i % 10000 == 0)
                GC_MALLOC_ATOMIC(4096); /* garbage in between */
        }
        r->list = list;
    }
    return r;
}

static int whole(const struct result *r, long id)
{
    long n = 0, expect = id * NODES + NODES - 1;
    for (const struct node *p = r->list; p; p = p->next, n++, expect--)
        if (p->value != expect)
            return 0;
    return n == NODES;
}

static int raw_thread_run(void);

int main(void)
{
    GC_INIT();
    gct_enable_incremental();
    GC_allow_register_threads();
    struct GC_stack_base sb;
    GC_get_stack_base(&sb);
    GCT_CHECK("main thread registered by GC_INIT", GC_register_my_thread(&sb) == GC_DUPLICATE);
    pthread_t t[THREADS];
    for (long i = 0; i < THREADS; i++)
        if (pthread_create(&t[i], NULL, worker, (void *)(intptr_t)i) != 0)
            return 1;
    struct result *r[THREADS];
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], (void **)&r[i]);
    int lists = 1, dup = 1, base = 1;
    for (int i = 0; i < THREADS; i++) {
        lists &= whole(r[i], i);
        dup &= r[i]->registered_again == GC_DUPLICATE;
        base &= r[i]->stack_base_found;
    }
    GCT_CHECK("threads found their stack base", base);
    GCT_CHECK("threads created by GC_pthread_create are registered", dup);
    GC_gcollect();
    GCT_CHECK("every thread's list whole after a collection", lists);
    for (int i = 0; i < THREADS; i++)
        lists &= whole(r[i], i);
    GCT_CHECK("still whole", lists);
    GCT_CHECK("a thread from plain pthread_create registers and unregisters", raw_thread_run());
    return gct_exit();
}

/* A thread the collector was not told about (the redirection is undone below). */
static void *raw(void *arg)
{
    (void)arg;
    struct GC_stack_base sb;
    if (GC_get_stack_base(&sb) != GC_SUCCESS || GC_register_my_thread(&sb) != GC_SUCCESS)
        return NULL;
    struct node *n = GC_MALLOC(sizeof *n);
    n->value = 7;
    GC_gcollect();
    long v = n->value;
    return GC_unregister_my_thread() == GC_SUCCESS && v == 7 ? (void *)1 : NULL;
}

#undef pthread_create
#undef pthread_join
static int raw_thread_run(void)
{
    pthread_t t;
    void *ok = NULL;
    if (pthread_create(&t, NULL, raw, NULL) != 0 || pthread_join(t, &ok) != 0)
        return 0;
    return ok != NULL;
}
