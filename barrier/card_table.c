/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The card table.  Bytes rather than bits: a card mark is then one plain store, and two
 * threads marking neighbouring cards cannot lose each other's mark.
 * Design: docs/design/barrier.md */
#include "card_table.h"
#include "soft.h"
#include "vm.h"
#include "wbrt.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

WB_API unsigned char *wb_soft_cards;
static size_t ncards;
static unsigned shift;

int card_table_attach(void *base, size_t len, unsigned card_size, char *why, size_t whylen)
{
    if (card_size < 16 || (card_size & (card_size - 1))) {
        snprintf(why, whylen, "card size %u is not a power of two >= 16", card_size);
        return -1;
    }
    shift = (unsigned)__builtin_ctz(card_size);
    ncards = len >> shift;
    wb_soft_cards = os_table(ncards);
    if (!wb_soft_cards) {
        snprintf(why, whylen, "cannot map the card table (%zu bytes): %s", ncards, strerror(errno));
        return -1;
    }
    soft_set_heap(base, len);
    return 0;
}

void card_table_detach(void)
{
    soft_set_heap(NULL, 0);
    if (wb_soft_cards)
        os_release(wb_soft_cards, ncards);
    wb_soft_cards = NULL;
    ncards = 0;
}

void card_table_mark(uintptr_t addr)
{
    if (soft_in_heap(addr, wb_soft_base, wb_soft_len))
        wb_soft_cards[(addr - wb_soft_base) >> shift] = 1;
}

size_t card_table_report(void *addr, size_t len, barrier_visit_fn visit, void *ctx)
{
    size_t first = ((uintptr_t)addr - wb_soft_base) >> shift;
    size_t limit = first + (len >> shift), runs = 0;
    unsigned char *c = wb_soft_cards;
    for (size_t i = first; i < limit;) {
        /* Skip clean cards eight at a time. */
        uint64_t w;
        if (i % 8 == 0 && i + 8 <= limit && (memcpy(&w, c + i, 8), w == 0)) {
            i += 8;
            continue;
        }
        if (!c[i]) {
            i++;
            continue;
        }
        size_t end = i;
        while (end < limit && c[end])
            end++;
        memset(c + i, 0, end - i);
        visit(ctx, wb_soft_base + (i << shift), wb_soft_base + (end << shift), 0);
        runs++;
        i = end;
    }
    return runs;
}
