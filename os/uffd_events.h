/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The event loop of a userfaultfd's handler thread: poll(2) or io_uring, chosen by the
 * caller.  Knows nothing of heaps: it hands batches of uffd_msg to a callback.
 * Design: docs/design/os.md */
#ifndef WBRT_OS_UFFD_EVENTS_H
#define WBRT_OS_UFFD_EVENTS_H

#include <liburing.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "uapi_uffd.h"

enum uffd_loop { UFFD_LOOP_URING, UFFD_LOOP_POLL };

typedef void uffd_events_fn(void *ctx, const struct uffd_msg *m, size_t n);

/* Set up by the opening thread, run by the handler thread; the fields are private. */
struct uffd_events {
    int uffd, stop_fd;          /* stop_fd: an eventfd, written once by uffd_events_stop */
    enum uffd_loop loop;        /* the one asked for; run falls back to poll (read it after the join) */
    bool ring_up, loud;         /* loud: the loop was chosen explicitly */
    const char *who;            /* names the user in messages: "wbrt: <who>: ..." */
    struct io_uring ring;
    uint64_t stop_word;
    struct uffd_msg *msgs;      /* mmap'd, not static: they hold the caller's addresses, and a
                                 * conservative scan of globals must not see them */
};

/* For the O_NONBLOCK uffd: the stop eventfd, the message buffers and the loop (with the
 * ring if it is io_uring); loop NULL: the default, poll.  0, or -1 and a reason in why (ev
 * is then closed). */
int uffd_events_open(struct uffd_events *ev, int uffd, const char *who, const enum uffd_loop *loop,
                     char *why, size_t whylen);
/* The handler thread: calls fn with each batch of events until uffd_events_stop.  0 then,
 * or -1 with errno if reading the events failed (the loop has stopped). */
int uffd_events_run(struct uffd_events *ev, uffd_events_fn *fn, void *ctx);
/* Makes run return.  0, or -1 if the eventfd could not be written (run goes on). */
int uffd_events_stop(struct uffd_events *ev);
/* After run returned, or in a fork child (where the ring's maps are copies).  The uffd
 * stays open: it is the caller's. */
void uffd_events_close(struct uffd_events *ev);
/* "uring" or "poll". */
const char *uffd_loop_name(enum uffd_loop loop);

#endif
