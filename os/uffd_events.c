/* SPDX-License-Identifier: GPL-2.0-or-later */
/* userfaultfd event loops: poll(2) + read(2), or io_uring reads.  Ranges and fds only.
 * Design: docs/design/os.md */
#include "uffd_events.h"
#include "errno_text.h"
#include "uffd.h"
#include "vm.h"
#include "sys.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *const loop_names[] = {"uring", "poll"};
/* bench/uffd_loop (21 runs, 2 CPUs, nested VM): poll 7.6 us per fault against 8.6 for
 * uring on one CPU, 62 against 70 across CPUs; with 4 writers about even.  The thread
 * wake-up per fault dominates; the ring's saved read(2) does not pay for its own path. */
#define DEFAULT_LOOP UFFD_LOOP_POLL

#define MSGS 64     /* events taken per read */
#define READS 2     /* reads in flight on the ring: one stays armed while the other's batch is handled */
#define STOP_TAG READS  /* user_data of the eventfd read; reads are tagged 0..READS-1 */
#define CANCEL_TAG (READS + 1)

#define MSG_BYTES (READS * MSGS * sizeof(struct uffd_msg))

const char *uffd_loop_name(enum uffd_loop loop)
{
    return loop_names[loop];
}

int uffd_events_open(struct uffd_events *ev, int uffd, const char *who, const enum uffd_loop *loop,
                     char *why, size_t whylen)
{
    char e[96];
    memset(ev, 0, sizeof *ev);
    ev->uffd = uffd;
    ev->who = who;
    if ((ev->stop_fd = os_fd_aside(eventfd(0, EFD_CLOEXEC))) < 0) {
        snprintf(why, whylen, "eventfd: %s", errno_text(errno, e, sizeof e));
        return -1;
    }
    ev->msgs = os_table(MSG_BYTES);
    if (!ev->msgs) {
        snprintf(why, whylen, "mmap of the event buffer: %s", errno_text(errno, e, sizeof e));
        uffd_events_close(ev);
        return -1;
    }
    ev->loop = loop ? *loop : DEFAULT_LOOP;
    ev->loud = loop != NULL;
    if (ev->loop == UFFD_LOOP_URING) {
        /* Enabled by the handler: single issuer, whose task runs the completions. */
        int rc = io_uring_queue_init(READS + 4, &ev->ring, IORING_SETUP_R_DISABLED |
                                     IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN);
        ev->ring_up = rc == 0;
        if (rc == 0) { /* liburing leaves the ring fd open across exec; the rings are mapped: it may move */
            fcntl(ev->ring.ring_fd, F_SETFD, FD_CLOEXEC);
            ev->ring.ring_fd = ev->ring.enter_ring_fd = os_fd_aside(ev->ring.ring_fd);
        }
        static int warned;
        if (rc != 0 && ev->loud && !__atomic_exchange_n(&warned, 1, __ATOMIC_RELAXED))
            fprintf(stderr, "wbrt: %s: io_uring_queue_init: %s; the fault handler polls\n", who,
                    errno_text(-rc, e, sizeof e));
        if (rc != 0)
            ev->loop = UFFD_LOOP_POLL;
    }
    return 0;
}

void uffd_events_close(struct uffd_events *ev)
{
    if (ev->ring_up) {
        int ring_fd = ev->ring.ring_fd;
        io_uring_queue_exit(&ev->ring);     /* closes it */
        os_fd_forget(ring_fd);
    }
    os_fd_close(ev->stop_fd);
    if (ev->msgs)
        os_release(ev->msgs, MSG_BYTES);
    ev->stop_fd = -1;
    ev->ring_up = false;
    ev->msgs = NULL;
}

int uffd_events_stop(struct uffd_events *ev)
{
    uint64_t one = 1;
    return write(ev->stop_fd, &one, sizeof one) == sizeof one ? 0 : -1;
}

/* Until stop_fd is written: 0.  Reads take every queued event at once (O_NONBLOCK fd). */
static int poll_loop(struct uffd_events *ev, uffd_events_fn *fn, void *ctx)
{
    struct pollfd p[2] = {{.fd = ev->uffd, .events = POLLIN}, {.fd = ev->stop_fd, .events = POLLIN}};
    for (;;) {
        if (os_poll(p, 2, -1) < 0 && errno != EINTR)
            return -1;
        if (p[1].revents)
            return 0;
        ssize_t got;
        while ((got = os_read(ev->uffd, ev->msgs, MSG_BYTES)) > 0) {
            fn(ctx, ev->msgs, (size_t)got / sizeof *ev->msgs);
            if ((size_t)got < MSG_BYTES)
                break;
        }
        if (got < 0 && errno != EAGAIN && errno != EINTR)
            return -1;
    }
}

static void queue_read(struct uffd_events *ev, int fd, void *buf, unsigned len, uint64_t tag)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&ev->ring);   /* never full: READS + 2 < entries */
    io_uring_prep_read(sqe, fd, buf, len, 0);
    io_uring_sqe_set_data64(sqe, tag);
}

/* Until stop_fd is written: 0.  -1 if the ring fails.  Reads still in flight then never
 * complete: under DEFER_TASKRUN they run only when this thread enters the ring again. */
static int uring_loop(struct uffd_events *ev, uffd_events_fn *fn, void *ctx)
{
    unsigned inflight = 0;
    bool stopping = false, failed = false, cancelled = false;
    /* io_uring_enable_rings(), which Debian's liburing 2.3 declares but does not export. */
    if (syscall(SYS_io_uring_register, ev->ring.ring_fd, IORING_REGISTER_ENABLE_RINGS, NULL, 0) < 0)
        return -1;
    for (unsigned i = 0; i < READS; i++, inflight++)
        queue_read(ev, ev->uffd, ev->msgs + i * MSGS, MSGS * sizeof *ev->msgs, i);
    queue_read(ev, ev->stop_fd, &ev->stop_word, sizeof ev->stop_word, STOP_TAG);
    while (!stopping || inflight) {
        int rc = io_uring_submit_and_wait(&ev->ring, 1);
        if (rc < 0 && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY) {
            failed = true;
            break;
        }
        struct io_uring_cqe *cqe;
        unsigned head, seen = 0;
        io_uring_for_each_cqe(&ev->ring, head, cqe) {
            uint64_t tag = io_uring_cqe_get_data64(cqe);
            seen++;
            if (tag >= READS) {
                stopping |= tag == STOP_TAG;
                continue;
            }
            if (cqe->res > 0)
                fn(ctx, ev->msgs + tag * MSGS, (size_t)cqe->res / sizeof *ev->msgs);
            else if (cqe->res != -EAGAIN && cqe->res != -EINTR && cqe->res != -ECANCELED)
                failed = stopping = true;
            if (stopping)
                inflight--;
            else
                queue_read(ev, ev->uffd, ev->msgs + tag * MSGS, MSGS * sizeof *ev->msgs, tag);
        }
        io_uring_cq_advance(&ev->ring, seen);
        if (stopping && inflight && !cancelled) {
            struct io_uring_sqe *sqe = io_uring_get_sqe(&ev->ring);
            io_uring_prep_cancel64(sqe, 0, IORING_ASYNC_CANCEL_ANY);
            io_uring_sqe_set_data64(sqe, CANCEL_TAG);
            cancelled = true;
        }
    }
    return failed ? -1 : 0;
}

int uffd_events_run(struct uffd_events *ev, uffd_events_fn *fn, void *ctx)
{
    if (ev->loop == UFFD_LOOP_URING && uring_loop(ev, fn, ctx) == 0)
        return 0;
    if (ev->loop == UFFD_LOOP_URING) {
        if (ev->loud) {
            char line[160];
            int n = snprintf(line, sizeof line, "wbrt: %s: io_uring failed; the fault handler polls\n",
                             ev->who);
            ssize_t rc = write(STDERR_FILENO, line, n < (int)sizeof line ? (size_t)n : sizeof line - 1);
            (void)rc;
        }
        ev->loop = UFFD_LOOP_POLL;
    }
    return poll_loop(ev, fn, ctx);
}
