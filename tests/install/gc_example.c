/* A program written for bdwgc's gc.h, built against an installed wbrt.
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include <gc.h>
#include <stdio.h>

int main(void)
{
    GC_INIT();
    void **keep = GC_MALLOC(1000 * sizeof *keep);
    for (int i = 0; i < 1000; i++)
        keep[i] = GC_MALLOC_ATOMIC(64);
    GC_gcollect();
    int live = 0;
    for (int i = 0; i < 1000; i++)
        live += GC_base(keep[i]) == keep[i];
    printf("%d\n", live);
    return 0;
}
