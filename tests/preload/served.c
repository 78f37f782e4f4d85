/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "served.h"
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include "wbt_required.h"

void *wbt_preload_symbol(const char *name)
{
    return dlsym(RTLD_DEFAULT, name);
}

void *wbt_preload_base(const void *p)
{
    void *(*base)(const void *) = (void *(*)(const void *))wbt_preload_symbol("wb_base");
    return base ? base(p) : NULL;
}

void wbt_preload_collect(int kind)
{
    void (*collect)(int) = (void (*)(int))wbt_preload_symbol("wb_collect");
    if (collect)
        collect(kind);
}

int wbt_preload_served(void)
{
    if (!wbt_preload_symbol("wb_base")) {
        printf("FAIL: not run under libwbrt-preload.so\n");
        return 1;
    }
    void *probe = malloc(100);
    int served = wbt_preload_base(probe) != NULL;
    free(probe);
    if (served)
        return 0;
    const char *b = getenv("WBRT_BARRIER");
    return wbt_unavailable(b ? b : "auto", "malloc is not served by the wbrt heap (wbrt unavailable, see stderr)");
}
