/* SPDX-License-Identifier: GPL-2.0-or-later */
/* uffd: userfaultfd write-protect, synchronous.  Armed pages are write-protected through
 * the uffd; the first write to one blocks the writer in the kernel and queues an event;
 * a handler thread of ours reads the events and un-protects each page, which wakes its
 * writer.  Kernel writes (read(2) into the heap) fault and are resolved the same way, so
 * the fd must not be user-mode-only.  Bookkeeping as in mprotect.c: page bitmaps `armed`
 * and `prot`; harvest reports the armed pages that are not protected and re-protects them.
 * The handler is not a mutator (stop-the-world does not stop it), so one mutex makes every
 * change of the kernel's protection and of `prot` a single step: a page writable in the
 * kernel while its prot bit is set would lose its writes.  The opposite (protected, bit
 * clear) is harmless: its next write faults and the handler resolves it. */
#include "barrier.h"
#include "thread_spawn.h"
#include "uapi_uffd.h"
#include "uffd.h"

#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

enum loop { LOOP_URING, LOOP_POLL };
static const char *const loop_names[] = {"uring", "poll"};
/* bench/uffd_loop (21 runs, 2 CPUs, nested VM): poll 7.6 us per fault against 8.6 for
 * uring on one CPU, 62 against 70 across CPUs; with 4 writers about even.  The thread
 * wake-up per fault dominates; the ring's saved read(2) does not pay for its own path. */
#define DEFAULT_LOOP LOOP_POLL

#define MSGS 64     /* events taken per read */
#define READS 2     /* reads in flight on the ring: one stays armed while the other's batch is handled */
#define TIDS 64     /* faulting threads told apart */
#define STOP_TAG READS  /* user_data of the eventfd read; reads are tagged 0..READS-1 */
#define CANCEL_TAG (READS + 1)

struct uf {
    int uffd, efd;              /* efd: written once by detach to stop the handler */
    uintptr_t base;
    size_t len;
    uint64_t features;          /* enabled by UFFDIO_API */
    struct dirty_map armed, prot;
    pthread_mutex_t lock;       /* prot, armed and the kernel's protection */
    pthread_t thread;
    bool thread_up, ring_up, loud; /* loud: the loop was chosen explicitly */
    enum loop loop;             /* the one asked for; the handler falls back to poll */
    struct io_uring ring;
    uint64_t stop_word;
    /* READS * MSGS, mmap'd: they hold heap addresses, and globals are GC roots. */
    struct uffd_msg *msgs;
    uint64_t faults;
    pid_t tids[TIDS];           /* handler only */
    unsigned ntids;             /* TIDS + 1: more than TIDS */
    int gave_up;
    volatile sig_atomic_t forked;
};

static struct uf uf = {.uffd = -1, .efd = -1};

#define MSG_BYTES (READS * MSGS * sizeof(struct uffd_msg))

/* The pages [*first, *first + n) of the heap that [addr, addr+len) touches; returns n. */
static size_t pages_of(const struct uf *u, void *addr, size_t len, size_t *first)
{
    uintptr_t lo = (uintptr_t)addr > u->base ? (uintptr_t)addr : u->base;
    uintptr_t hi = (uintptr_t)addr + len < u->base + u->len ? (uintptr_t)addr + len : u->base + u->len;
    if (hi <= lo)
        return 0;
    *first = (lo - u->base) >> WB_PAGE_SHIFT;
    return ((hi - u->base + WB_PAGE_SIZE - 1) >> WB_PAGE_SHIFT) - *first;
}

static void *page_addr(const struct uf *u, size_t page)
{
    return (void *)(u->base + (page << WB_PAGE_SHIFT));
}

static uint64_t word_of(const struct dirty_map *m, size_t w)
{
    return __atomic_load_n(&m->bits[w], __ATOMIC_RELAXED);
}

static uint64_t written_word(const struct uf *u, size_t w)
{
    return word_of(&u->armed, w) & ~word_of(&u->prot, w);
}

static uint64_t protected_word(const struct uf *u, size_t w)
{
    return word_of(&u->prot, w);
}

typedef void run_fn(struct uf *u, size_t page, size_t n, void *ctx);

/* fn once per maximal run of pages in [first, first+n) whose bits sel() sets; returns the
 * pages passed.  Whole words at a time: a harvest walks the bitmaps of the whole heap. */
static size_t each_run(struct uf *u, uint64_t (*sel)(const struct uf *, size_t), size_t first,
                       size_t n, run_fn *fn, void *ctx)
{
    size_t limit = first + n, run = 0, len = 0, total = 0;
    for (size_t w = first / 64; w * 64 < limit; w++) {
        uint64_t x = sel(u, w);
        if (w == first / 64)
            x &= ~(uint64_t)0 << (first % 64);
        if ((w + 1) * 64 > limit)
            x &= ~(~(uint64_t)0 << (limit % 64));
        while (x) {
            unsigned lo = (unsigned)__builtin_ctzll(x);
            uint64_t gap = ~(x >> lo);
            unsigned bits = gap ? (unsigned)__builtin_ctzll(gap) : 64 - lo;
            size_t page = w * 64 + lo;
            if (len && run + len == page) {
                len += bits;
            } else {
                if (len)
                    fn(u, run, len, ctx);
                total += len;
                run = page, len = bits;
            }
            x = lo + bits >= 64 ? 0 : x & (~(uint64_t)0 << (lo + bits));
        }
    }
    if (len)
        fn(u, run, len, ctx);
    return total + len;
}

/* dm may start elsewhere than the heap: index it by address. */
static void report(const struct uf *u, struct dirty_map *dm, size_t page, size_t n)
{
    dirty_map_set_range(dm, ((uintptr_t)page_addr(u, page) - dm->base) >> WB_PAGE_SHIFT, n);
}

/* Lock held.  The bits are set only once the kernel protects the pages: a failure leaves
 * them counted as written, to be reported and retried at the next harvest. */
static void protect_run(struct uf *u, size_t page, size_t n, void *dm)
{
    if (dm)
        report(u, dm, page, n);
    if (uffd_writeprotect(u->uffd, page_addr(u, page), n << WB_PAGE_SHIFT, true) == 0)
        dirty_map_set_range(&u->prot, page, n);
}

/* Lock held.  The bits go whatever the ioctl says: a page it leaves protected only costs
 * a fault. */
static void unprotect_run(struct uf *u, size_t page, size_t n, void *unused)
{
    (void)unused;
    dirty_map_clear_range(&u->prot, page, n);
    uffd_writeprotect(u->uffd, page_addr(u, page), n << WB_PAGE_SHIFT, false);
}

/* Lock held.  The handler cannot un-protect a page, so its writer would stay blocked:
 * unregister the heap, which wakes every writer and drops every protection, and count
 * every page as written from now on. */
static void give_up(struct uf *u, int err)
{
    char e[96], line[256];
    if (u->gave_up)
        return;
    u->gave_up = 1;
    uffd_unregister(u->uffd, page_addr(u, 0), u->len);
    dirty_map_clear_range(&u->prot, 0, u->len >> WB_PAGE_SHIFT);
    int n = snprintf(line, sizeof line, "wbrt: uffd barrier: the fault handler failed (%s); "
                     "every heap page now counts as dirty at each collection\n",
                     errno_text(err, e, sizeof e));
    ssize_t rc = write(STDERR_FILENO, line, (size_t)n);  /* no stdio: the world may be stopped */
    (void)rc;
}

/* Handler thread only: ntids is read after the join. */
static void count_thread(struct uf *u, pid_t tid)
{
    for (unsigned i = 0; i < u->ntids && i < TIDS; i++)
        if (u->tids[i] == tid)
            return;
    if (u->ntids < TIDS)
        u->tids[u->ntids] = tid;
    if (u->ntids <= TIDS)
        u->ntids++;
}

/* One batch of events: un-protect each page, which wakes its writers. */
static void resolve(struct uf *u, const struct uffd_msg *m, size_t n)
{
    pthread_mutex_lock(&u->lock);
    for (size_t i = 0; i < n; i++) {
        if (m[i].event != UFFD_EVENT_PAGEFAULT)
            continue;           /* no other event was asked for */
        uintptr_t a = m[i].arg.pagefault.address & ~(uintptr_t)(WB_PAGE_SIZE - 1);
        __atomic_fetch_add(&u->faults, 1, __ATOMIC_RELAXED);
        if (u->features & UFFD_FEATURE_THREAD_ID)
            count_thread(u, (pid_t)m[i].arg.pagefault.feat.ptid);
        if (u->gave_up || a - u->base >= u->len)
            continue;
        dirty_map_clear_range(&u->prot, (a - u->base) >> WB_PAGE_SHIFT, 1);
        /* Even if the bit was clear already (a second writer's event, resolved by the
         * first one's ioctl): the ioctl also wakes, and a blocked writer costs more. */
        if (uffd_writeprotect(u->uffd, (void *)a, WB_PAGE_SIZE, false) != 0)
            give_up(u, errno);
    }
    pthread_mutex_unlock(&u->lock);
}

/* Until efd is written.  Reads take every queued event at once (O_NONBLOCK fd). */
static void poll_loop(struct uf *u)
{
    struct pollfd p[2] = {{.fd = u->uffd, .events = POLLIN}, {.fd = u->efd, .events = POLLIN}};
    for (;;) {
        if (poll(p, 2, -1) < 0 && errno != EINTR)
            break;
        if (p[1].revents)
            return;
        ssize_t got;
        while ((got = read(u->uffd, u->msgs, MSG_BYTES)) > 0) {
            resolve(u, u->msgs, (size_t)got / sizeof *u->msgs);
            if ((size_t)got < MSG_BYTES)
                break;
        }
        if (got < 0 && errno != EAGAIN && errno != EINTR)
            break;
    }
    int err = errno;
    pthread_mutex_lock(&u->lock);
    give_up(u, err);
    pthread_mutex_unlock(&u->lock);
}

static void queue_read(struct uf *u, int fd, void *buf, unsigned len, uint64_t tag)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);   /* never full: READS + 2 < entries */
    io_uring_prep_read(sqe, fd, buf, len, 0);
    io_uring_sqe_set_data64(sqe, tag);
}

/* Until efd is written: 0.  -1 if the ring fails.  Reads still in flight then never
 * complete: under DEFER_TASKRUN they run only when this thread enters the ring again. */
static int uring_loop(struct uf *u)
{
    unsigned inflight = 0;
    bool stopping = false, failed = false, cancelled = false;
    /* io_uring_enable_rings(), which Debian's liburing 2.3 declares but does not export. */
    if (syscall(SYS_io_uring_register, u->ring.ring_fd, IORING_REGISTER_ENABLE_RINGS, NULL, 0) < 0)
        return -1;
    for (unsigned i = 0; i < READS; i++, inflight++)
        queue_read(u, u->uffd, u->msgs + i * MSGS, MSGS * sizeof *u->msgs, i);
    queue_read(u, u->efd, &u->stop_word, sizeof u->stop_word, STOP_TAG);
    while (!stopping || inflight) {
        int rc = io_uring_submit_and_wait(&u->ring, 1);
        if (rc < 0 && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY) {
            failed = true;
            break;
        }
        struct io_uring_cqe *cqe;
        unsigned head, seen = 0;
        io_uring_for_each_cqe(&u->ring, head, cqe) {
            uint64_t tag = io_uring_cqe_get_data64(cqe);
            seen++;
            if (tag >= READS) {
                stopping |= tag == STOP_TAG;
                continue;
            }
            if (cqe->res > 0)
                resolve(u, u->msgs + tag * MSGS, (size_t)cqe->res / sizeof *u->msgs);
            else if (cqe->res != -EAGAIN && cqe->res != -EINTR && cqe->res != -ECANCELED)
                failed = stopping = true;
            if (stopping)
                inflight--;
            else
                queue_read(u, u->uffd, u->msgs + tag * MSGS, MSGS * sizeof *u->msgs, tag);
        }
        io_uring_cq_advance(&u->ring, seen);
        if (stopping && inflight && !cancelled) {
            struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
            io_uring_prep_cancel64(sqe, 0, IORING_ASYNC_CANCEL_ANY);
            io_uring_sqe_set_data64(sqe, CANCEL_TAG);
            cancelled = true;
        }
    }
    return failed ? -1 : 0;
}

static void *handler(void *arg)
{
    struct uf *u = arg;
    pthread_setname_np(pthread_self(), "wbrt-uffd");
    if (u->loop == LOOP_URING && uring_loop(u) == 0)
        return NULL;
    if (u->loop == LOOP_URING) {
        if (u->loud) {
            static const char line[] = "wbrt: uffd barrier: io_uring failed; the fault handler polls\n";
            ssize_t rc = write(STDERR_FILENO, line, sizeof line - 1);
            (void)rc;
        }
        u->loop = LOOP_POLL;    /* read by detach, after the join */
    }
    poll_loop(u);
    return NULL;
}

/* WBRT_UFFD_LOOP, or the default (one line on stderr, once, for a bad value). */
static enum loop chosen_loop(bool *loud)
{
    static int warned;
    const char *s = getenv("WBRT_UFFD_LOOP");
    *loud = false;
    if (!s || !*s)
        return DEFAULT_LOOP;
    for (int l = 0; l < 2; l++)
        if (strcmp(s, loop_names[l]) == 0) {
            *loud = true;
            return (enum loop)l;
        }
    if (!__atomic_exchange_n(&warned, 1, __ATOMIC_RELAXED))
        fprintf(stderr, "wbrt: WBRT_UFFD_LOOP=%s is not one of uring|poll; using %s\n", s,
                loop_names[DEFAULT_LOOP]);
    return DEFAULT_LOOP;
}

/* Undo track.  own: not a fork child, whose fds act on the parent and whose handler
 * thread does not exist (it must neither join it nor unregister the parent's heap). */
static void untrack(struct uf *u, bool own)
{
    if (own && u->thread_up) {
        uint64_t one = 1;
        if (write(u->efd, &one, sizeof one) == sizeof one)
            pthread_join(u->thread, NULL);
    }
    if (own && u->uffd >= 0)
        uffd_unregister(u->uffd, page_addr(u, 0), u->len);  /* wakes writers left blocked */
    if (u->ring_up)
        io_uring_queue_exit(&u->ring);      /* in a child: its copy of the ring's maps */
    if (u->efd >= 0)
        close(u->efd);
    if (u->uffd >= 0)
        close(u->uffd);
    u->uffd = u->efd = -1;
    u->thread_up = u->ring_up = false;
}

/* Open and register the uffd and start the handler; the bitmaps exist. */
static int track(struct uf *u, char *why, size_t whylen)
{
    char e[96];
    const uint64_t need = UFFD_FEATURE_PAGEFAULT_FLAG_WP | UFFD_FEATURE_WP_UNPOPULATED;
    u->uffd = uffd_open_ex(need, UFFD_FEATURE_THREAD_ID, UFFD_OPEN_NONBLOCK | UFFD_OPEN_KERNEL_FAULTS,
                           &u->features, why, whylen);
    if (u->uffd < 0)
        return -1;
    if (uffd_register_wp(u->uffd, page_addr(u, 0), u->len) < 0) {
        snprintf(why, whylen, "UFFDIO_REGISTER (write-protect mode): %s", errno_text(errno, e, sizeof e));
        goto fail;
    }
    if ((u->efd = eventfd(0, EFD_CLOEXEC)) < 0) {
        snprintf(why, whylen, "eventfd: %s", errno_text(errno, e, sizeof e));
        goto fail;
    }
    u->loop = chosen_loop(&u->loud);
    if (u->loop == LOOP_URING) {
        /* Enabled by the handler: single issuer, whose task runs the completions. */
        int rc = io_uring_queue_init(READS + 4, &u->ring, IORING_SETUP_R_DISABLED |
                                     IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN);
        u->ring_up = rc == 0;
        static int warned;
        if (rc != 0 && u->loud && !__atomic_exchange_n(&warned, 1, __ATOMIC_RELAXED))
            fprintf(stderr, "wbrt: uffd barrier: io_uring_queue_init: %s; the fault handler polls\n",
                    errno_text(-rc, e, sizeof e));
        if (rc != 0)
            u->loop = LOOP_POLL;
    }
    int rc = os_thread_spawn(&u->thread, handler, u);
    if (rc != 0) {
        snprintf(why, whylen, "cannot start the fault handler thread: %s", errno_text(rc, e, sizeof e));
        goto fail;
    }
    u->thread_up = true;
    return 0;
fail:
    untrack(u, true);
    return -1;
}

static void release(struct uf *u)
{
    dirty_map_destroy(&u->armed);
    dirty_map_destroy(&u->prot);
    if (u->msgs)
        munmap(u->msgs, MSG_BYTES);
    pthread_mutex_destroy(&u->lock);
    memset(u, 0, sizeof *u);
    u->uffd = u->efd = -1;
}

static int start(struct uf *u, void *base, size_t len, char *why, size_t whylen)
{
    size_t npages = len >> WB_PAGE_SHIFT;
    memset(u, 0, sizeof *u);
    u->uffd = u->efd = -1;
    u->base = (uintptr_t)base;
    u->len = len;
    pthread_mutex_init(&u->lock, NULL);
    u->msgs = mmap(NULL, MSG_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (u->msgs == MAP_FAILED || dirty_map_init(&u->armed, u->base, npages) < 0 ||
        dirty_map_init(&u->prot, u->base, npages) < 0) {
        snprintf(why, whylen, "mmap of the page bitmaps: %s", strerror(errno));
        if (u->msgs == MAP_FAILED)
            u->msgs = NULL;
        release(u);
        return -1;
    }
    if (track(u, why, whylen) < 0) {
        release(u);
        return -1;
    }
    return 0;
}

/* With WBRT_VERBOSE=1, at detach: what the handler saw (the runtime detaches only in a
 * fork child; the bench and the tests detach). */
static void say_stats(const struct uf *u)
{
    const char *v = getenv("WBRT_VERBOSE");
    char threads[32] = "";
    if (!v || strcmp(v, "1") != 0)
        return;
    if (u->features & UFFD_FEATURE_THREAD_ID)
        snprintf(threads, sizeof threads, ", faulting threads %s%u", u->ntids > TIDS ? "over " : "",
                 u->ntids > TIDS ? TIDS : u->ntids);
    fprintf(stderr, "wbrt: uffd barrier: write faults %llu%s, handler loop %s\n",
            (unsigned long long)u->faults, threads, loop_names[u->loop]);
}

static void stop(struct uf *u)
{
    untrack(u, !u->forked);
    release(u);
}

static void arm(struct uf *u, void *addr, size_t len)
{
    size_t first, n = pages_of(u, addr, len, &first);
    if (!n)
        return;
    pthread_mutex_lock(&u->lock);
    dirty_map_set_range(&u->armed, first, n);
    if (!u->gave_up)
        each_run(u, written_word, first, n, protect_run, NULL);
    pthread_mutex_unlock(&u->lock);
}

static size_t harvest(struct uf *u, struct dirty_map *dm, void *addr, size_t len)
{
    size_t first, n = pages_of(u, addr, len, &first);
    if (!n)
        return 0;
    pthread_mutex_lock(&u->lock);
    if (u->gave_up)
        report(u, dm, first, n);
    else
        n = each_run(u, written_word, first, n, protect_run, dm);
    pthread_mutex_unlock(&u->lock);
    return n;
}

/* Every page, a single one too: an ioctl costs less than a fault and a thread wake-up
 * (bench/uffd_loop.c). */
static void unprotect(struct uf *u, void *addr, size_t len, bool disarm)
{
    size_t first, n = pages_of(u, addr, len, &first);
    if (!n)
        return;
    pthread_mutex_lock(&u->lock);
    if (disarm)
        dirty_map_clear_range(&u->armed, first, n);
    if (!u->gave_up)
        each_run(u, protected_word, first, n, unprotect_run, NULL);
    pthread_mutex_unlock(&u->lock);
}

/* The whole flow on two never-touched scratch pages (so WP_UNPOPULATED is exercised): a
 * write must block until the handler resolves it and be reported alone, and a kernel
 * write (read(2) from a pipe) into a protected page must succeed and be reported. */
static int us_probe(char *why, size_t whylen)
{
    size_t len = 2 * WB_PAGE_SIZE;
    char e[96];
    int p[2] = {-1, -1}, rc = -1;
    struct dirty_map dm;
    struct uf u;
    char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED || dirty_map_init(&dm, (uintptr_t)m, 2) < 0) {
        snprintf(why, whylen, "mmap: %s", errno_text(errno, e, sizeof e));
        if (m != MAP_FAILED)
            munmap(m, len);
        return -1;
    }
    if (start(&u, m, len, why, whylen) < 0)
        goto out;
    arm(&u, m, len);
    *(volatile char *)(m + WB_PAGE_SIZE) = 1;
    size_t got = harvest(&u, &dm, m, len);
    if (got != 1 || !dirty_map_test(&dm, 1)) {
        snprintf(why, whylen, "write-protected 2 never-touched pages, wrote one: %zu reported instead "
                 "of that one", got);
        goto stop;
    }
    dirty_map_clear_range(&dm, 0, 2);
    if (pipe2(p, O_CLOEXEC) < 0 || write(p[1], "k", 1) != 1) {
        snprintf(why, whylen, "pipe: %s", errno_text(errno, e, sizeof e));
        goto stop;
    }
    if (read(p[0], m + 7, 1) != 1) {
        snprintf(why, whylen, "read(2) into a write-protected page: %s", errno_text(errno, e, sizeof e));
        goto stop;
    }
    got = harvest(&u, &dm, m, len);
    if (got != 1 || !dirty_map_test(&dm, 0) || m[7] != 'k') {
        snprintf(why, whylen, "read(2) into a write-protected page: %zu pages reported instead of "
                 "that one", got);
        goto stop;
    }
    rc = 0;
stop:
    stop(&u);
out:
    if (p[0] >= 0) {
        close(p[0]);
        close(p[1]);
    }
    dirty_map_destroy(&dm);
    munmap(m, len);
    return rc;
}

/* The fork child: the handler thread is not there, the uffd acts on the parent, and the
 * heap is neither registered nor protected in the child.  The lock may have been held by
 * the parent's handler: take a fresh one. */
static void on_fork_child(void)
{
    if (!uf.base)
        return;
    pthread_mutex_init(&uf.lock, NULL);
    uf.forked = 1;
}

/* Track the child's heap afresh: every armed page counts as written at the next harvest
 * (which re-protects it), which is sound.  If that fails, every page does, always. */
static void follow_fork(void)
{
    char why[256];
    if (!uf.forked)
        return;
    uf.forked = 0;
    untrack(&uf, false);
    dirty_map_clear_range(&uf.prot, 0, uf.len >> WB_PAGE_SHIFT);
    if (track(&uf, why, sizeof why) < 0)
        uf.gave_up = 1;
}

static int us_attach(void *base, size_t len, struct dirty_map *dm, char *why, size_t whylen)
{
    static int fork_hook;
    (void)dm;
    if (start(&uf, base, len, why, whylen) < 0)
        return -1;
    if (!__atomic_exchange_n(&fork_hook, 1, __ATOMIC_RELAXED))
        pthread_atfork(NULL, NULL, on_fork_child);
    return 0;
}

static void us_detach(void)
{
    if (!uf.base)
        return;
    if (!uf.forked) {
        untrack(&uf, true);     /* joins the handler: its counts are final */
        say_stats(&uf);
    }
    stop(&uf);
}

static void us_arm(void *addr, size_t len)
{
    follow_fork();
    arm(&uf, addr, len);
}

static size_t us_harvest(struct dirty_map *dm, void *addr, size_t len)
{
    follow_fork();
    return harvest(&uf, dm, addr, len);
}

static void us_will_write(void *addr, size_t len)
{
    follow_fork();
    unprotect(&uf, addr, len, false);
}

static void us_disarm(void *addr, size_t len)
{
    follow_fork();
    unprotect(&uf, addr, len, true);
}

/* The handler resolves kernel writes like any other (the fd is not user-mode-only). */
static void us_prepare_kernel_write(void *addr, size_t len)
{
    (void)addr;
    (void)len;
}

static uint64_t us_faults(void)
{
    return __atomic_load_n(&uf.faults, __ATOMIC_RELAXED);
}

const struct barrier_ops barrier_uffd = {
    .name = "uffd",
    .tracks = 1,
    .probe = us_probe,
    .attach = us_attach,
    .detach = us_detach,
    .arm = us_arm,
    .harvest = us_harvest,
    .will_write = us_will_write,
    .disarm = us_disarm,
    .prepare_kernel_write = us_prepare_kernel_write,
    .faults = us_faults,
};
