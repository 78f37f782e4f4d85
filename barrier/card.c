/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Placeholder until the backend lands. */
#include "barrier.h"
#include <stdio.h>

static int probe(char *why, size_t whylen)
{
    snprintf(why, whylen, "not built yet");
    return -1;
}

const struct barrier_ops barrier_card = {
    .name = "card",
    .tracks = 1,
    .probe = probe,
};
