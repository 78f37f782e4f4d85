/* GC_set_all_interior_pointers(0) with a registered displacement, and GC_set_no_dls(1)
 * (Nix's settings): a word in the heap keeps an object only if it points at its start
 * or at the displacement; the program's globals are no roots, registered ranges are.
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include <gc.h>
#include <stdint.h>
#include "gct.h"

#define N 300
#define DISPLACEMENT 16

struct obj {
    long id, pad[5];
};

enum { AT_START, AT_DISPLACEMENT, INSIDE, GLOBAL_ONLY, GROUPS };

/* holder[g][i] holds object i of group g as a start, displaced or interior pointer.  The
 * links are in atomic memory, which is not scanned: they keep nothing. */
static char **holder[GROUPS];
static void **links[GROUPS];
static struct obj *global_only[N]; /* a global, not a registered root */

static __attribute__((noinline)) void make(void)
{
    static const size_t offset[GROUPS] = { 0, DISPLACEMENT, 24, 0 };
    for (int g = 0; g < GROUPS; g++)
        for (long i = 0; i < N; i++) {
            struct obj *o = GC_MALLOC(sizeof *o);
            o->id = i;
            links[g][i] = o;
            GC_GENERAL_REGISTER_DISAPPEARING_LINK(&links[g][i], o);
            if (g == GLOBAL_ONLY)
                global_only[i] = o;
            else
                holder[g][i] = (char *)o + offset[g];
        }
}

static long alive(int g)
{
    long n = 0;
    for (long i = 0; i < N; i++)
        n += links[g][i] && ((struct obj *)links[g][i])->id == i;
    return n;
}

int main(void)
{
    GC_set_all_interior_pointers(0);
    GC_set_no_dls(1);
    GC_INIT();
    gct_enable_incremental();
    GCT_CHECK("interior pointers: off as set", GC_get_all_interior_pointers() == 0);
    GCT_CHECK("no_dls: on as set", GC_get_no_dls() == 1);
    GC_REGISTER_DISPLACEMENT(DISPLACEMENT);
    GC_add_roots(holder, holder + GROUPS);
    GC_add_roots(links, links + GROUPS);
    for (int g = 0; g < GROUPS; g++) {
        holder[g] = GC_MALLOC(N * sizeof *holder[g]);
        links[g] = GC_MALLOC_ATOMIC(N * sizeof *links[g]);
    }
    make();
    for (int round = 0; round < 3; round++) {
        gct_clear_stack();
        GC_gcollect();
    }
    GCT_CHECK("a pointer to an object's start keeps it", alive(AT_START) == N);
    GCT_CHECK("a pointer to a registered displacement keeps it", alive(AT_DISPLACEMENT) == N);
    /* Conservative scanning may keep a few by chance; most must go. */
    GCT_CHECK("a pointer elsewhere inside does not", alive(INSIDE) < N / 2);
    GCT_CHECK("a global keeps nothing under no_dls", alive(GLOBAL_ONLY) < N / 2);
    (void)global_only;
    return gct_exit();
}
