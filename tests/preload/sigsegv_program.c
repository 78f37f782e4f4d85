/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A program that uses libsigsegv itself, as gawk does: a sigsegv_install_handler() handler
 * for faults on a page of its own, and a stackoverflow_install_handler() handler that
 * leaves the overflow by a continuation, in rounds between which it builds and rewrites
 * heap lists (barrier faults under mprotect, collections).  Built plain for
 * libwbrt-preload.so, and linked with libwbrt (-DWBT_LINKED: wb_malloc, and it checks that
 * the barrier took faults).  Prints counts and checksums: its output must not depend on the
 * allocator, and each handler must have run once per round. */
#include <errno.h>
#include <setjmp.h>
#include <sigsegv.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#ifdef WBT_LINKED
#include "wbrt.h"
#define ALLOC(n) wb_malloc(n)
#else
#define ALLOC(n) malloc(n)
#endif

enum { ROUNDS = 4, NODES = 30000 };

struct node { struct node *next; uint64_t value; char pad[48]; };

static char *own;                   /* its own page: read-only until its handler runs */
static size_t page;
static volatile int own_faults, overflows;
static char overflow_stack[1 << 16];
static sigjmp_buf after_overflow;
static struct node *head;

static void fail(const char *what)
{
    fprintf(stderr, "sigsegv_program: %s\n", what);
    exit(1);
}

static int on_fault(void *addr, int serious)
{
    (void)serious;
    if ((char *)addr < own || (char *)addr >= own + page)
        return 0;   /* not its page: libsigsegv passes it on (a barrier fault never gets here) */
    if (mprotect(own, page, PROT_READ | PROT_WRITE) != 0)
        return 0;
    own_faults++;
    return 1;
}

static void leave(void *a, void *b, void *c)
{
    (void)a, (void)b, (void)c;
    siglongjmp(after_overflow, 1);
}

static void on_overflow(int emergency, stackoverflow_context_t scp)
{
    (void)emergency, (void)scp;
    overflows++;
    sigsegv_leave_handler(leave, NULL, NULL, NULL);
}

/* Until the stack overflows (the depth bound is never reached: the compiler must not
 * see an endless recursion). */
static __attribute__((noinline)) int recurse(int n)
{
    volatile char frame[512];
    frame[n % 512] = (char)n;
    if (n == __INT_MAX__)
        return 0;
    return recurse(n + 1) + frame[(n + 1) % 512];
}

/* Prepends n nodes, then rewrites every node (most are old by then: barrier faults). */
static uint64_t heap_round(int round)
{
    for (int i = 0; i < NODES; i++) {
        struct node *x = ALLOC(sizeof *x);
        if (!x)
            fail("out of memory");
        x->value = (uint64_t)round * NODES + i;
        x->next = head;
        head = x;
        if (!ALLOC(100))    /* lost: collections come from here */
            fail("out of memory");
    }
    uint64_t sum = 0;
    for (struct node *x = head; x; x = x->next) {
        x->value = x->value * 3 + 1;
        sum += x->value;
    }
    return sum;
}

int main(void)
{
#ifdef WBT_LINKED
    if (wb_init(NULL) != 0) {
        if (errno != ENOTSUP)
            fail(wb_last_error());
        printf("SKIPPED: %s: %s\n", getenv("WBRT_BARRIER"), wb_last_error());
        return 77;  /* the barrier asked for is unavailable here */
    }
#endif
    page = (size_t)sysconf(_SC_PAGESIZE);
    own = mmap(NULL, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (own == MAP_FAILED)
        fail("mmap");
    if (sigsegv_install_handler(on_fault) != 0 ||
        stackoverflow_install_handler(on_overflow, overflow_stack, sizeof overflow_stack) != 0)
        fail("libsigsegv cannot install its handlers here");
    uint64_t sum = 0;
    for (int round = 0; round < ROUNDS; round++) {
        sum += heap_round(round);
        if (mprotect(own, page, PROT_READ) != 0)
            fail("mprotect");
        own[round] = (char)(round + 1);   /* its handler makes the page writable */
        if (sigsetjmp(after_overflow, 1) == 0)
            recurse(0);
        sum += heap_round(round);
    }
    if (own_faults != ROUNDS || overflows != ROUNDS || own[ROUNDS - 1] != ROUNDS)
        fail("a handler of the program's did not run once per round");
#ifdef WBT_LINKED
    struct wb_stats st;
    wb_get_stats(&st);
    if (strcmp(wb_barrier_name(), "mprotect") == 0 && st.barrier_faults == 0)
        fail("the mprotect barrier took no fault");
#endif
    printf("own faults %d, stack overflows %d, sum %llu\n", own_faults, overflows, (unsigned long long)sum);
    return 0;
}
