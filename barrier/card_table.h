/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A byte per card of the heap reservation (wb_soft_cards): written by the inline card
 * barrier and by the store buffer when it overflows; read and cleared by the collector.
 * Design: docs/design/barrier.md */
#ifndef WBRT_CARD_TABLE_H
#define WBRT_CARD_TABLE_H

#include <stddef.h>
#include <stdint.h>
#include "barrier.h"

/* card_size: a power of two >= 16.  0, or -1 with why. */
int card_table_attach(void *base, size_t len, unsigned card_size, char *why, size_t whylen);
void card_table_detach(void);
/* Mark the card of a heap address (others are ignored). */
void card_table_mark(uintptr_t addr);
/* World stopped: visit each run of dirty cards in [addr, addr+len) (whole=0), clear it.
 * Returns the runs. */
size_t card_table_report(void *addr, size_t len, barrier_visit_fn visit, void *ctx);

#endif
