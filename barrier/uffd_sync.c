/* SPDX-License-Identifier: GPL-2.0-or-later */
/* uffd: userfaultfd write-protect, synchronous.  Armed pages are write-protected through
 * the uffd; the first write to one blocks the writer in the kernel and queues an event;
 * a handler thread of ours reads the events and un-protects each page, which wakes its
 * writer.  Kernel writes (read(2) into the heap) fault and are resolved the same way, so
 * the fd must not be user-mode-only; the handler's event loop is os/uffd_events.  Page
 * bookkeeping as in mprotect.c (page_runs): harvest reports the armed pages that are not
 * protected and re-protects them.
 * The handler is not a mutator (stop-the-world does not stop it), so one mutex makes every
 * change of the kernel's protection and of `prot` a single step: a page writable in the
 * kernel while its prot bit is set would lose its writes.  The opposite (protected, bit
 * clear) is harmless: its next write faults and the handler resolves it.
 * Design: docs/design/barrier.md */
#include "errno_text.h"
#include "barrier.h"
#include "fork_page.h"
#include "page_runs.h"
#include "thread_spawn.h"
#include "uapi_uffd.h"
#include "uffd.h"
#include "uffd_events.h"
#include "sys.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define TIDS 64     /* faulting threads told apart */

struct uf {
    int uffd;
    uint64_t features;          /* enabled by UFFDIO_API */
    struct page_runs pages;
    pthread_mutex_t lock;       /* pages' bits and the kernel's protection */
    pthread_t thread;
    bool thread_up, events_up;
    struct uffd_events ev;      /* the handler's loop */
    uint64_t faults;
    pid_t tids[TIDS];           /* handler only */
    unsigned ntids;             /* TIDS + 1: more than TIDS */
    int gave_up;
    volatile sig_atomic_t forked;
    struct barrier_settings set;
};

OS_FORK_PAGE static struct uf uf = {.uffd = -1};

static void *page_addr(const struct uf *u, size_t page)
{
    return page_runs_addr(&u->pages, page);
}

/* The walks' context: which uf, and the dirty map to report to (NULL: none). */
struct walk {
    struct uf *u;
    struct dirty_map *dm;
};

/* Lock held.  The bits are set only once the kernel protects the pages: a failure leaves
 * them counted as written, to be reported and retried at the next harvest. */
static bool protect_run(void *ctx, size_t page, size_t n)
{
    struct walk *w = ctx;
    if (w->dm)
        page_runs_report(&w->u->pages, w->dm, page, n);
    if (uffd_writeprotect(w->u->uffd, page_addr(w->u, page), n << WB_PAGE_SHIFT, true) == 0)
        dirty_map_set_range(&w->u->pages.prot, page, n);
    return true;
}

/* Lock held.  The bits go whatever the ioctl says: a page it leaves protected only costs
 * a fault. */
static bool unprotect_run(void *ctx, size_t page, size_t n)
{
    struct walk *w = ctx;
    dirty_map_clear_range(&w->u->pages.prot, page, n);
    uffd_writeprotect(w->u->uffd, page_addr(w->u, page), n << WB_PAGE_SHIFT, false);
    return true;
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
    uffd_unregister(u->uffd, page_addr(u, 0), u->pages.len);
    page_runs_none_protected(&u->pages);
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
static void resolve(void *ctx, const struct uffd_msg *m, size_t n)
{
    struct uf *u = ctx;
    pthread_mutex_lock(&u->lock);
    for (size_t i = 0; i < n; i++) {
        if (m[i].event != UFFD_EVENT_PAGEFAULT)
            continue;           /* no other event was asked for */
        uintptr_t a = m[i].arg.pagefault.address & ~(uintptr_t)(WB_PAGE_SIZE - 1);
        __atomic_fetch_add(&u->faults, 1, __ATOMIC_RELAXED);
        if (u->features & UFFD_FEATURE_THREAD_ID)
            count_thread(u, (pid_t)m[i].arg.pagefault.feat.ptid);
        if (u->gave_up || a - u->pages.base >= u->pages.len)
            continue;
        dirty_map_clear_range(&u->pages.prot, (a - u->pages.base) >> WB_PAGE_SHIFT, 1);
        /* Even if the bit was clear already (a second writer's event, resolved by the
         * first one's ioctl): the ioctl also wakes, and a blocked writer costs more. */
        if (uffd_writeprotect(u->uffd, (void *)a, WB_PAGE_SIZE, false) != 0)
            give_up(u, errno);
    }
    pthread_mutex_unlock(&u->lock);
}

static void *handler(void *arg)
{
    struct uf *u = arg;
    pthread_setname_np(pthread_self(), "wbrt-uffd");
    if (uffd_events_run(&u->ev, resolve, u) < 0) {
        int err = errno;
        pthread_mutex_lock(&u->lock);
        give_up(u, err);
        pthread_mutex_unlock(&u->lock);
    }
    return NULL;
}

/* Undo track.  own: not a fork child, whose fds act on the parent and whose handler
 * thread does not exist (it must neither join it nor unregister the parent's heap). */
static void untrack(struct uf *u, bool own)
{
    if (own && u->thread_up && uffd_events_stop(&u->ev) == 0)
        pthread_join(u->thread, NULL);
    if (own && u->uffd >= 0)
        uffd_unregister(u->uffd, page_addr(u, 0), u->pages.len);  /* wakes writers left blocked */
    if (u->events_up)
        uffd_events_close(&u->ev);      /* in a child: its copy of the ring's maps */
    if (u->uffd >= 0)
        os_fd_close(u->uffd);
    u->uffd = -1;
    u->thread_up = u->events_up = false;
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
    if (uffd_register_wp(u->uffd, page_addr(u, 0), u->pages.len) < 0) {
        snprintf(why, whylen, "UFFDIO_REGISTER (write-protect mode): %s", errno_text(errno, e, sizeof e));
        goto fail;
    }
    enum uffd_loop loop = u->set.loop == BARRIER_LOOP_URING ? UFFD_LOOP_URING : UFFD_LOOP_POLL;
    if (uffd_events_open(&u->ev, u->uffd, "uffd barrier", u->set.loop == BARRIER_LOOP_DEFAULT ? NULL : &loop,
                         why, whylen) < 0)
        goto fail;
    u->events_up = true;
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
    page_runs_destroy(&u->pages);
    pthread_mutex_destroy(&u->lock);
    memset(u, 0, sizeof *u);
    u->uffd = -1;
}

static int start(struct uf *u, void *base, size_t len, const struct barrier_settings *set, char *why,
                 size_t whylen)
{
    memset(u, 0, sizeof *u);
    u->uffd = -1;
    if (set)
        u->set = *set;
    pthread_mutex_init(&u->lock, NULL);
    if (page_runs_init(&u->pages, base, len) < 0) {
        snprintf(why, whylen, "mmap of the page bitmaps: %s", strerror(errno));
        release(u);
        return -1;
    }
    if (track(u, why, whylen) < 0) {
        release(u);
        return -1;
    }
    return 0;
}

/* Verbose, at detach: what the handler saw (the runtime detaches only in a fork child;
 * the bench and the tests detach). */
static void say_stats(const struct uf *u)
{
    char threads[32] = "";
    if (!u->set.verbose)
        return;
    if (u->features & UFFD_FEATURE_THREAD_ID)
        snprintf(threads, sizeof threads, ", faulting threads %s%u", u->ntids > TIDS ? "over " : "",
                 u->ntids > TIDS ? TIDS : u->ntids);
    fprintf(stderr, "wbrt: uffd barrier: write faults %llu%s, handler loop %s\n",
            (unsigned long long)u->faults, threads, uffd_loop_name(u->ev.loop));
}

static void stop(struct uf *u)
{
    untrack(u, !u->forked);
    release(u);
}

static void arm(struct uf *u, void *addr, size_t len)
{
    size_t first, n = page_runs_clip(&u->pages, addr, len, &first);
    if (!n)
        return;
    struct walk w = {u, NULL};
    pthread_mutex_lock(&u->lock);
    dirty_map_set_range(&u->pages.armed, first, n);
    if (!u->gave_up)
        page_runs_written(&u->pages, first, n, protect_run, &w);
    pthread_mutex_unlock(&u->lock);
}

static size_t harvest(struct uf *u, struct dirty_map *dm, void *addr, size_t len)
{
    size_t first, n = page_runs_clip(&u->pages, addr, len, &first);
    if (!n)
        return 0;
    struct walk w = {u, dm};
    pthread_mutex_lock(&u->lock);
    if (u->gave_up)
        page_runs_report(&u->pages, dm, first, n);
    else
        n = page_runs_written(&u->pages, first, n, protect_run, &w);
    pthread_mutex_unlock(&u->lock);
    return n;
}

/* Every page, a single one too: an ioctl costs less than a fault and a thread wake-up
 * (bench/uffd_loop.c).  A mutator's call, so with the asynchronous signals blocked while
 * it holds the lock: a handler of the program's that wrote a protected page there would
 * wait for the handler thread, which waits for the lock (bash under the preload hung so),
 * and a thread stopped there would keep the collector from arming. */
static void unprotect(struct uf *u, void *addr, size_t len, bool disarm)
{
    size_t first, n = page_runs_clip(&u->pages, addr, len, &first);
    if (!n)
        return;
    struct walk w = {u, NULL};
    sigset_t async, old;
    os_async_signals(&async);
    os_sigmask(SIG_BLOCK, &async, &old);
    pthread_mutex_lock(&u->lock);
    if (disarm)
        dirty_map_clear_range(&u->pages.armed, first, n);
    if (!u->gave_up)
        page_runs_protected(&u->pages, first, n, unprotect_run, &w);
    pthread_mutex_unlock(&u->lock);
    os_sigmask(SIG_SETMASK, &old, NULL);
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
    if (start(&u, m, len, NULL, why, whylen) < 0)
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
    if (os_pipe2(p, O_CLOEXEC) < 0 || write(p[1], "k", 1) != 1) {
        snprintf(why, whylen, "pipe: %s", errno_text(errno, e, sizeof e));
        goto stop;
    }
    if (os_read(p[0], m + 7, 1) != 1) {
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
static void us_after_fork(void)
{
    if (!uf.pages.base)
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
    page_runs_none_protected(&uf.pages);
    if (track(&uf, why, sizeof why) < 0)
        uf.gave_up = 1;
}

static int us_attach(void *base, size_t len, struct dirty_map *dm, const struct barrier_settings *set,
                     char *why, size_t whylen)
{
    (void)dm;
    return start(&uf, base, len, set, why, whylen);
}

static void us_detach(void)
{
    if (!uf.pages.base)
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
    .after_fork = us_after_fork,
    .arm = us_arm,
    .harvest = us_harvest,
    .will_write = us_will_write,
    .disarm = us_disarm,
    /* The handler resolves kernel writes like any other (the fd is not user-mode-only). */
    .prepare_kernel_write = barrier_noop_range,
    .faults = us_faults,
};
