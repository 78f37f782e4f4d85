/* SPDX-License-Identifier: GPL-2.0-or-later */
/* card: WB_STORE() marks the card (WB_CARD_SIZE bytes, a build option of the program) of
 * the slot it wrote; a young collection scans the words of the dirty cards.
 * Design: docs/design/barrier.md */
#include "barrier.h"
#include "card_table.h"
#include "soft.h"

/* Defined (weak) by a program compiled with -DWB_SOFT_BARRIER=card: its card size. */
extern const unsigned wb_program_barrier_card __attribute__((weak, visibility("default")));

static int card_probe(char *why, size_t whylen)
{
    return soft_probe("card", &wb_program_barrier_card, why, whylen);
}

static int card_attach(void *base, size_t len, struct dirty_map *dm, const struct barrier_settings *set,
                       char *why, size_t whylen)
{
    (void)set;
    (void)dm;
    return card_table_attach(base, len, wb_program_barrier_card, why, whylen);
}

const struct barrier_ops barrier_card = SOFT_BARRIER_OPS("card", card_probe, card_attach, card_table_detach, card_table_report);
