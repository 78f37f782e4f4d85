/* SPDX-License-Identifier: GPL-2.0-or-later */
/* For C programs run with LD_PRELOAD=libwbrt-preload.so by ctest: is malloc wbrt's? */
#ifndef WBT_PRELOAD_SERVED_H
#define WBT_PRELOAD_SERVED_H

/* 0 if malloc's blocks come from the wbrt heap.  Otherwise what main should return: 1
 * if the preload is not loaded; if it is but could not start (its barrier, WBRT_BARRIER,
 * unavailable here), wbt_unavailable's skip or failure. */
int wbt_preload_served(void);

/* wbrt's wb_base (from the preload), or NULL if it is not loaded. */
void *wbt_preload_base(const void *p);

/* The preload's function of that name (wb_get_stats...), or NULL if it is not loaded. */
void *wbt_preload_symbol(const char *name);

/* wb_collect(kind) of the preload (1 young, 2 full), if it is loaded. */
void wbt_preload_collect(int kind);

#endif
