/* SPDX-License-Identifier: GPL-2.0-or-later
 * Allocates 400 MB in 1000-byte blocks, never frees one, and keeps only the last: run
 * under wbrt's preload in gc mode, the heap must stay a small fraction of that. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
    char *volatile keep = NULL;
    for (int i = 0; i < 400000; i++) {
        char *p = malloc(1000);
        if (!p)
            return 1;
        memset(p, i & 0xff, 1000);
        keep = p;
    }
    printf("last block intact: %s\n", keep[0] == (char)(399999 & 0xff) && keep[999] == keep[0] ? "yes" : "no");
    return 0;
}
