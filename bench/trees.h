/* The complete binary trees of binary_trees and mt_trees: their nodes, the walk that
 * counts them, and dropping one (freed by the malloc peers, left to the collectors).
 * Each workload builds its trees itself: mt_trees stores through BA_STORE.
 * SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef WBRT_BENCH_TREES_H
#define WBRT_BENCH_TREES_H

#include "alloc_api.h"

struct node {
    struct node *left, *right;
};

static inline long tree_check(const struct node *n)
{
    return n->left ? 1 + tree_check(n->left) + tree_check(n->right) : 1;
}

static inline void tree_drop(struct node *n)
{
#if BA_FREES
    if (n->left) {
        tree_drop(n->left);
        tree_drop(n->right);
    }
    ba_free(n);
#else
    (void)n;
#endif
}

#endif
