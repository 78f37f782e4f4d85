/* SPDX-License-Identifier: GPL-2.0-or-later */
/* exec_chain N: allocates a little, then execs itself with N - 1 (execl, execv and execve
 * in turn), until 0.  Under the preload's stats mode a thread of wbrt's stops this one
 * every millisecond: a stop signal caught in the middle of an exec must not end the next
 * image. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 0;
    if (n <= 0) {
        printf("exec chain done\n");
        return 0;
    }
    for (int i = 0; i < 2000; i++)
        memset(malloc(256), i, 256);
    char next[32];
    snprintf(next, sizeof next, "%ld", n - 1);
    char *args[] = {argv[0], next, NULL};
    if (n % 3 == 0)
        execl("/proc/self/exe", argv[0], next, (char *)NULL);
    else if (n % 3 == 1)
        execv("/proc/self/exe", args);
    else
        execve("/proc/self/exe", args, environ);
    perror("exec");
    return 1;
}
