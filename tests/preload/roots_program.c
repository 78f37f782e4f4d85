/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The program's own memory as roots (runtime/roots.c): the only pointers to young blocks
 * lie in (a) an anonymous mapping written once and then left clean across young
 * collections, (b) one moved by mremap, (c) brk memory grown by sbrk, (d) a mapping
 * replaced by another at the same address, (e) a fork child's copy of (a); after each
 * collection, garbage of the blocks' size takes any block freed by mistake, and every
 * block must be intact.  Blocks whose pointers are cleared are reclaimed.  Under
 * uffd-async, a young collection scans only the root pages written since the last one:
 * a big mapping written once is not scanned again.  Run with WBRT_VERIFY=1 (roots_test.sh). */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include "served.h"
#include "wbrt.h"

#define PAGE 4096
#define BLOCK 200
#define BIG ((size_t)256 << 10)
#define NBIG 16
#define REGION ((size_t)32 << 20)    /* (a): all of it written once */
#define SLOTS 64

static int failures;

#define fail(...) (printf("FAIL: " __VA_ARGS__), printf("\n"), failures++)

static void (*get_stats)(struct wb_stats *);
static const char *(*barrier_name)(void);

static unsigned char fill(uintptr_t tag) { return (unsigned char)(tag * 37 + 11) | 1; }

/* Allocates in a frame that is gone when the collections run: slot[i] holds the only
 * pointer to its block (filled with fill(tag + i)).  stride: words between slots. */
static __attribute__((noinline)) void plant(void **slot, size_t stride, int n, size_t size, uintptr_t tag)
{
    for (int i = 0; i < n; i++) {
        unsigned char *p = malloc(size);
        memset(p, fill(tag + (uintptr_t)i), size);
        slot[(size_t)i * stride] = p;
    }
}

static __attribute__((noinline)) int intact(void **slot, size_t stride, int n, size_t size, uintptr_t tag)
{
    for (int i = 0; i < n; i++) {
        const unsigned char *p = slot[(size_t)i * stride];
        for (size_t k = 0; k < size; k++)
            if (p[k] != fill(tag + (uintptr_t)i))
                return 0;
    }
    return 1;
}

/* Garbage of the blocks' size: it takes the place of any block freed by mistake. */
static __attribute__((noinline)) void churn(void)
{
    for (int i = 0; i < 8000; i++) {
        unsigned char *volatile p = malloc(BLOCK);
        memset(p, 0xee, BLOCK);
    }
    for (int i = 0; i < 4; i++) {
        unsigned char *volatile p = malloc(BIG);
        memset(p, 0xee, BIG);
    }
}

/* Young collections with garbage between them; the blocks of each case checked after each. */
static void young_rounds(const char *what, void **slot, size_t stride, int n, size_t size, uintptr_t tag)
{
    for (int round = 0; round < 4; round++) {
        wbt_preload_collect(WB_COLLECT_YOUNG);
        churn();
        if (!intact(slot, stride, n, size, tag)) {
            fail("%s: a block was lost or overwritten after young collection %d", what, round + 1);
            return;
        }
    }
}

static void *map(size_t len)
{
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        perror("mmap");
        exit(1);
    }
    return p;
}

/* (a): the slots one per page, then the region left alone; the big mapping's pages are
 * not scanned again once clean (uffd-async). */
static void written_once(void **region)
{
    struct wb_stats s;
    memset(region, 1, REGION);
    plant(region, PAGE / sizeof *region * 2, SLOTS, BLOCK, 100);
    plant(region + 1, PAGE / sizeof *region * 64, NBIG, BIG, 300);
    young_rounds("written once", region, PAGE / sizeof *region * 2, SLOTS, BLOCK, 100);
    young_rounds("written once (big blocks)", region + 1, PAGE / sizeof *region * 64, NBIG, BIG, 300);
    get_stats(&s);
    const char *track = getenv("WBRT_TRACK_ROOTS");
    bool tracked = strcmp(barrier_name(), "uffd-async") == 0 && track && *track == '1';  /* (default 0) */
    printf("%s: root bytes scanned by the last young collection: %llu (the region: %zu)\n", barrier_name(),
           (unsigned long long)s.root_bytes_last, REGION);
    if (tracked ? s.root_bytes_last >= REGION / 2 : s.root_bytes_last < REGION)
        fail("%s scanned %llu root bytes in a young collection, with a clean %zu-byte mapping", barrier_name(),
             (unsigned long long)s.root_bytes_last, REGION);
}

/* (b): moved by mremap after a collection armed it. */
static void moved(void)
{
    size_t len = 64 * PAGE;
    void **from = map(len), **to = map(len);
    plant(from, 64, 32, BLOCK, 400);
    young_rounds("before mremap", from, 64, 32, BLOCK, 400);
    void **now = mremap(from, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, to);
    if (now == MAP_FAILED) {
        perror("mremap");
        exit(1);
    }
    young_rounds("moved by mremap", now, 64, 32, BLOCK, 400);
    munmap(now, len);
}

/* (c): brk memory, then more of it. */
static void brk_memory(void)
{
    void **first = sbrk(16 * PAGE);
    if (first == (void *)-1) {
        perror("sbrk");
        exit(1);
    }
    plant(first, 128, 16, BLOCK, 500);
    young_rounds("sbrk", first, 128, 16, BLOCK, 500);
    void **more = sbrk(64 * PAGE);
    plant(more, 256, 32, BLOCK, 600);
    young_rounds("sbrk grown (first part)", first, 128, 16, BLOCK, 500);
    young_rounds("sbrk grown (new part)", more, 256, 32, BLOCK, 600);
}

/* (d): unmapped, and another mapping put at the same address. */
static void replaced(void)
{
    size_t len = 16 * PAGE;
    void **p = map(len);
    plant(p, 512, 16, BLOCK, 700);
    young_rounds("before replacement", p, 512, 16, BLOCK, 700);
    munmap(p, len);
    if (mmap(p, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != p) {
        perror("mmap");
        exit(1);
    }
    plant(p, 512, 16, BLOCK, 800);
    young_rounds("replaced at the same address", p, 512, 16, BLOCK, 800);
    munmap(p, len);
}

/* (e): a fork child collects with what it inherited, and plants more. */
static void forked(void **region)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        young_rounds("fork child, inherited", region, PAGE / sizeof *region * 2, SLOTS, BLOCK, 100);
        plant(region + 3, PAGE / sizeof *region * 2, SLOTS, BLOCK, 900);
        young_rounds("fork child, planted", region + 3, PAGE / sizeof *region * 2, SLOTS, BLOCK, 900);
        fflush(stdout);
        _exit(failures ? 1 : 0);
    }
    int status;
    if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
        fail("the fork child failed");
}

/* The big blocks of (a), no longer pointed at, are freed. */
static void reclaimed(void **region)
{
    struct wb_stats before, after;
    wbt_preload_collect(WB_COLLECT_FULL);
    get_stats(&before);
    for (int i = 0; i < NBIG; i++)
        region[1 + (size_t)i * (PAGE / sizeof *region * 64)] = NULL;
    wbt_preload_collect(WB_COLLECT_YOUNG);
    wbt_preload_collect(WB_COLLECT_FULL);
    get_stats(&after);
    printf("live bytes %llu, then %llu with the big blocks dropped\n", (unsigned long long)before.live_bytes,
           (unsigned long long)after.live_bytes);
    if (after.live_bytes + NBIG * BIG * 3 / 4 > before.live_bytes)
        fail("the big blocks no longer pointed at were not reclaimed");
}

int main(void)
{
    int rc = wbt_preload_served();
    if (rc)
        return rc;
    get_stats = (void (*)(struct wb_stats *))wbt_preload_symbol("wb_get_stats");
    barrier_name = (const char *(*)(void))wbt_preload_symbol("wb_barrier_name");
    void **region = map(REGION);
    written_once(region);
    moved();
    brk_memory();
    replaced();
    forked(region);
    if (!intact(region, PAGE / sizeof *region * 2, SLOTS, BLOCK, 100))
        fail("written once: a block was lost by the end");
    reclaimed(region);
    printf("%s\n", failures ? "FAILED" : "ok");
    return failures ? 1 : 0;
}
