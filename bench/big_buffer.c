/* A big untouched buffer: one large allocation written in a few places (as sort's buffer,
 * sized from the machine's memory), next to small young garbage, with old->young pointers
 * stored into it at every cycle.  A collector that reads, zeroes or protects every page of
 * it commits its size and pays per page; the pause should not grow with it.
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include "alloc_api.h"
#include "bench_args.h"

#define TAG 0x6269675f62756621ULL

struct cell {
    uint64_t tag, n;
};

static void usage(void)
{
    fprintf(stderr, "usage: big_buffer [--buffer-mb M] [--places P] [--cycles C] [--young-mb Y]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    unsigned long buffer_mb = 2048, places = 64, cycles = 20, young_mb = 4;
    const struct bench_opt opts[] = {{"--buffer-mb", &buffer_mb}, {"--places", &places},
                                     {"--cycles", &cycles}, {"--young-mb", &young_mb}};
    if (bench_args(argc, argv, opts, sizeof opts / sizeof *opts) != 0)
        usage();
    size_t len = (size_t)buffer_mb << 20;
    if (len == 0 || places == 0 || cycles == 0 || places > len / 4096)
        usage();
    int rc = ba_init("big_buffer", (size_t)1 << 30);
    if (rc)
        return rc;

    double t0 = ba_now_s();
    void **holder = ba_alloc(sizeof *holder);
    BA_STORE_SLOT(holder, holder, ba_alloc(len));
    ba_collect_full();              /* the buffer is old */
    double build_s = ba_now_s() - t0;

    /* places slots spread over the buffer, a page apart at least */
    size_t stride = len / places / sizeof(void *);
    struct ba_cycles cyc;
    ba_cycles_begin(&cyc);
    size_t young_n = ((size_t)young_mb << 20) / 64;
    double t1 = ba_now_s();
    for (unsigned long c = 0; c < cycles; c++) {
        for (size_t j = 0; j < young_n; j++)     /* young garbage */
            ba_alloc_atomic(64);
        void **buf = *holder;
        for (unsigned long p = 0; p < places; p++) {
            struct cell *y = ba_alloc(sizeof *y);
            y->tag = TAG ^ p;
            y->n = c;
            BA_STORE_SLOT(buf, &buf[p * stride], y);   /* old buffer -> young cell */
        }
        ba_collect_young();
        ba_cycle_end(&cyc);
    }
    double elapsed = ba_now_s() - t1;

    void **buf = *holder;
    for (unsigned long p = 0; p < places; p++) {
        const struct cell *y = buf[p * stride];
        if (!y || y->tag != (TAG ^ p) || y->n != cycles - 1) {
            fprintf(stderr, "big_buffer: CORRUPTION at place %lu\n", p);
            abort();
        }
    }
    ba_cycles_print("big_buffer", elapsed, &cyc);
    printf(" build_s=%.3f buffer_mb=%lu places=%lu cycles=%lu\n", build_s, buffer_mb, places, cycles);
    return 0;
}
