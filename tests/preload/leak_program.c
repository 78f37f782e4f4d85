/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A small program with a planted leak, for wbrt's leak mode: 40 blocks of 1000 bytes
 * lost by plant_leak, one block kept by keep_block, one freed. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *volatile sink; /* the compiler may not drop the allocations */
static void *kept;

__attribute__((noinline)) void plant_leak(void)
{
    char *p = malloc(1000);
    memset(p, 1, 1000);
    sink = p;
}

__attribute__((noinline)) void keep_block(void)
{
    kept = malloc(5000);
    memset(kept, 2, 5000);
}

int main(void)
{
    for (int i = 0; i < 40; i++)
        plant_leak();
    sink = NULL;
    keep_block();
    free(malloc(100));
    raise(SIGUSR2); /* under wbrt run --leak-signal USR2: a report now; else ignored */
    printf("planted 40 blocks, kept %d bytes\n", ((char *)kept)[4999] * 2500);
    return 0;
}
