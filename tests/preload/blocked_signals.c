/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Threads that block every signal and then write into old heap blocks, as Python's
 * faulthandler watchdog does (it blocks all signals, then waits on a lock it malloc'd):
 * under the mprotect barrier such a write is a SIGSEGV, which must still reach the
 * barrier (a blocked SIGSEGV raised by a fault kills the process).  The blocks are made
 * old first (garbage forces collections), then written by a thread that blocked all
 * signals with pthread_sigmask and by the main thread after sigprocmask; all bytes checked. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "served.h"

#define BLOCKS 64
#define SIZE 4096

static unsigned char *block[BLOCKS];   /* globals: the program's roots */

static void age_blocks(void)
{
    for (int i = 0; i < 200000; i++) {
        char *volatile garbage = malloc(1000);
        garbage[0] = 1;
    }
}

static void write_blocks(int first, int step, unsigned char value)
{
    for (int i = first; i < BLOCKS; i += step)
        memset(block[i], value, SIZE);
}

static void *blocked_writer(void *arg)
{
    (void)arg;
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    write_blocks(0, 2, 0x11);
    return NULL;
}

int main(void)
{
    int served = wbt_preload_served();
    if (served != 0)
        return served;
    for (int i = 0; i < BLOCKS; i++)
        block[i] = calloc(1, SIZE);
    age_blocks();
    pthread_t t;
    if (pthread_create(&t, NULL, blocked_writer, NULL) != 0 || pthread_join(t, NULL) != 0)
        return 1;
    sigset_t all, old;
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, &old);
    write_blocks(1, 2, 0x22);
    sigprocmask(SIG_SETMASK, &old, NULL);
    age_blocks();
    for (int i = 0; i < BLOCKS; i++)
        for (int k = 0; k < SIZE; k++)
            if (block[i][k] != (i % 2 ? 0x22 : 0x11)) {
                printf("FAIL: block %d byte %d is %#x\n", i, k, block[i][k]);
                return 1;
            }
    printf("ok: old blocks written by threads that block every signal\n");
    return 0;
}
