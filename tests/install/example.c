/* The README's example, built against an installed wbrt (tests/install/install_test.sh).
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdio.h>
#include <wbrt.h>

struct node { struct node *next; long v; };

int main(void)
{
    if (wb_init(NULL) != 0) {
        fprintf(stderr, "%s\n", wb_last_error());
        return 1;
    }
    struct node *list = NULL;
    for (long i = 0; i < 1000000; i++) {
        struct node *n = wb_malloc(sizeof *n);
        n->v = i;
        n->next = list;
        list = n;
    }
    wb_collect(WB_COLLECT_FULL);
    long sum = 0;
    for (struct node *n = list; n; n = n->next)
        sum += n->v;
    printf("%ld\n", sum);
    return 0;
}
