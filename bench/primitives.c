/* Primitive costs, in the style of Appel & Li: the floor under the collector's figures.
 * Per page (every other page of a populated range is written once, so that no two
 * written pages are adjacent and no mechanism can batch them):
 *   first_touch     first write to a fresh anonymous page (a minor fault, no barrier)
 *   mprotect_raw    write to a PROT_READ page, a raw SA_SIGINFO SIGSEGV handler mprotects
 *                   it writable
 *   mprotect        the same through wbrt's mprotect barrier (libsigsegv, dirty map)
 *   mprotect_rearm  its harvest: report the written pages and mprotect each back
 *   uffd            wbrt's uffd barrier: fault, handler-thread round trip, un-protect
 *   uffd_async      wbrt's uffd-async barrier: a write-protect fault the kernel resolves
 *   uffd_async_rearm  its harvest: PAGEMAP_SCAN that reports and re-protects
 * Per store (a pointer store through wb_store into a large array, strided):
 *   plain_store in this build; card_mark, ssb_append, remset_check in the builds for
 *   those software barriers (-DWB_SOFT_BARRIER=...), which measure stores only.
 * Each is repeated; prints "primitive name=N unit=page|store ns=MEDIAN min=.. max=..".
 * Usage: primitives [--pages N] [--reps R] [--stores S]
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include "bench_args.h"
#include "wbrt.h"
#ifndef WB_SOFT_BARRIER
#include "barrier.h"
#include "vm.h"
#endif

#define PG 4096
#define MAX_REPS 64
#define SLOTS ((size_t)1 << 20)   /* 8 MiB of pointer slots: larger than the caches */

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void report(const char *name, const char *unit, double *v, int reps)
{
    qsort(v, (size_t)reps, sizeof *v, cmp);
    printf("primitive name=%s unit=%s ns=%.2f min=%.2f max=%.2f reps=%d\n", name, unit, v[reps / 2], v[0],
           v[reps - 1], reps);
    fflush(stdout);
}

/* Stores spread over the array with an odd stride, as a program's would be. */
static __attribute__((noinline)) double store_ns(void **arr, void *val, size_t stores)
{
    size_t i = 0;
    double t0 = now_ns();
    for (size_t s = 0; s < stores; s++) {
        wb_store(arr, &arr[i], val);
        i += 4099;
        if (i >= SLOTS)
            i -= SLOTS;
    }
    return (now_ns() - t0) / (double)stores;
}

#ifdef WB_SOFT_BARRIER
#define STORE_NAME WB_SOFT_NAME(WB_SOFT_BARRIER)
#define WB_SOFT_NAME(b) WB_SOFT_NAME_(b)
#define WB_SOFT_NAME_(b) #b
static const char *store_name(void)
{
    return !strcmp(STORE_NAME, "card") ? "card_mark" : !strcmp(STORE_NAME, "ssb") ? "ssb_append" : "remset_check";
}
#else
static const char *store_name(void)
{
    return "plain_store";
}

static size_t npages;
static char *range;
static size_t range_len;

static void write_pages(void)
{
    for (size_t p = 0; p < npages; p += 2)
        *(volatile char *)(range + p * PG) = 1;
}

static double per_written(double ns)
{
    return ns / (double)((npages + 1) / 2);
}

static double first_touch(void)
{
    range = os_reserve(range_len);
    if (!range) {
        perror("primitives: mmap");
        exit(1);
    }
    double t0 = now_ns();
    write_pages();
    double ns = now_ns() - t0;
    os_release(range, range_len);
    return per_written(ns);
}

static void raw_handler(int sig, siginfo_t *si, void *ctx)
{
    (void)sig;
    (void)ctx;
    mprotect((void *)((uintptr_t)si->si_addr & ~(uintptr_t)(PG - 1)), PG, PROT_READ | PROT_WRITE);
}

static double mprotect_raw(void)
{
    struct sigaction sa = {.sa_sigaction = raw_handler, .sa_flags = SA_SIGINFO}, old;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, &old);
    mprotect(range, range_len, PROT_READ);
    double t0 = now_ns();
    write_pages();
    double ns = now_ns() - t0;
    sigaction(SIGSEGV, &old, NULL);
    mprotect(range, range_len, PROT_READ | PROT_WRITE);
    return per_written(ns);
}

/* A barrier's first writes, and optionally its harvest and re-arm, per written page. */
static int via_barrier(const struct barrier_ops *b, double *fault, double *rearm)
{
    char why[512];
    struct dirty_map dm;
    if (b->probe(why, sizeof why) != 0) {
        printf("primitive name=%s unit=page skipped=%s\n", b->name, why);
        return -1;
    }
    if (dirty_map_init(&dm, (uintptr_t)range, npages) < 0 || b->attach(range, range_len, &dm, NULL, why, sizeof why) != 0) {
        fprintf(stderr, "primitives: %s: %s\n", b->name, why);
        exit(1);
    }
    b->arm(range, range_len);
    double t0 = now_ns();
    write_pages();
    *fault = per_written(now_ns() - t0);
    t0 = now_ns();
    size_t got = b->harvest(&dm, range, range_len);
    *rearm = per_written(now_ns() - t0);
    b->detach();
    dirty_map_destroy(&dm);
    if (got != (npages + 1) / 2) {
        fprintf(stderr, "primitives: %s reported %zu written pages instead of %zu\n", b->name, got, (npages + 1) / 2);
        exit(1);
    }
    return 0;
}

static void page_costs(int reps)
{
    double touch[MAX_REPS], raw[MAX_REPS], mp[MAX_REPS], mp_re[MAX_REPS], uf[MAX_REPS], uf_re[MAX_REPS],
        ua[MAX_REPS], ua_re[MAX_REPS];
    int have_mp = 1, have_uf = 1, have_ua = 1;
    range_len = npages * PG;
    for (int r = 0; r < reps; r++) {
        touch[r] = first_touch();
        range = os_reserve(range_len);
        if (!range) {
            perror("primitives: mmap");
            exit(1);
        }
        memset(range, 0, range_len);   /* populated: the faults below are protection faults only */
        raw[r] = mprotect_raw();
        have_mp = have_mp && via_barrier(&barrier_mprotect, &mp[r], &mp_re[r]) == 0;
        have_uf = have_uf && via_barrier(&barrier_uffd, &uf[r], &uf_re[r]) == 0;
        have_ua = have_ua && via_barrier(&barrier_uffd_async, &ua[r], &ua_re[r]) == 0;
        os_release(range, range_len);
    }
    report("first_touch", "page", touch, reps);
    report("mprotect_raw", "page", raw, reps);
    if (have_mp) {
        report("mprotect", "page", mp, reps);
        report("mprotect_rearm", "page", mp_re, reps);
    }
    if (have_uf)
        report("uffd", "page", uf, reps);
    if (have_ua) {
        report("uffd_async", "page", ua, reps);
        report("uffd_async_rearm", "page", ua_re, reps);
    }
}
#endif

static void usage(void)
{
    fprintf(stderr, "usage: primitives [--pages N] [--reps R (1-%d)] [--stores S]\n", MAX_REPS);
    exit(2);
}

int main(int argc, char **argv)
{
    unsigned long pages = 4096, reps = 7, stores = 1ul << 24;
    const struct bench_opt opts[] = {{"--pages", &pages}, {"--reps", &reps}, {"--stores", &stores}};
    if (bench_args(argc, argv, opts, sizeof opts / sizeof *opts) != 0)
        usage();
    if (pages < 2 || reps < 1 || reps > MAX_REPS || stores == 0)
        usage();
#ifndef WB_SOFT_BARRIER
    npages = pages;
    page_costs((int)reps);
#endif
    /* The store array comes from wbrt (the software barriers' tables cover only its heap);
     * nothing is allocated while storing, so no collection runs. */
    if (wb_init(NULL) != 0) {
        fprintf(stderr, "primitives: wbrt unavailable: %s\n", wb_last_error());
        return 77;
    }
    void **arr = wb_malloc(SLOTS * sizeof *arr);
    void *val = wb_malloc(16);
    if (!arr || !val) {
        fprintf(stderr, "primitives: out of memory\n");
        return 1;
    }
    double st[MAX_REPS];
    store_ns(arr, val, SLOTS);   /* warm: pages present, caches and predictors primed */
    for (unsigned long r = 0; r < reps; r++)
        st[r] = store_ns(arr, val, stores);
    report(store_name(), "store", st, (int)reps);
    return 0;
}
