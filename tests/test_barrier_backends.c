/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Each barrier backend driven directly through barrier.h on a real 64 MiB mapping: which
 * writes are reported, re-arming, will_write, kernel writes, foreign faults, fork, and
 * the choice of backend.  No runtime involved. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "barrier.h"
#include "dirty_map.h"
#include "faults.h"
#include "wbt_required.h"

#define HEAP_LEN ((size_t)64 << 20)
#define USED 1024               /* pages handed out: the harvested range */
#define PG WB_PAGE_SIZE

struct fx {
    const struct barrier_ops *b;
    char *heap;
    struct dirty_map dm;
    struct barrier_settings set;    /* what the runtime's options would give the barrier */
};

static char *pg(struct fx *f, size_t i)
{
    return f->heap + i * PG;
}

static size_t harvest(struct fx *f)
{
    return f->b->harvest(&f->dm, f->heap, USED * PG);
}

static void clear(struct fx *f)
{
    dirty_map_clear_range(&f->dm, 0, f->dm.npages);
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    f->b = *state;
    f->heap = mmap(NULL, HEAP_LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    assert_true(f->heap != MAP_FAILED);
    madvise(f->heap, HEAP_LEN, MADV_NOHUGEPAGE);
    assert_int_equal(dirty_map_init(&f->dm, (uintptr_t)f->heap, HEAP_LEN / PG), 0);
    *state = f;
    return 0;
}

/* Like the runtime: attach, fill the used pages, arm them, first harvest.  Called inside
 * each test because cmocka replaces the SIGSEGV handler around every test and fixture:
 * the test starts from the default action, as a program without a handler would. */
static void start(struct fx *f)
{
    char why[512];
    signal(SIGSEGV, SIG_DFL);
    assert_int_equal(f->b->attach(f->heap, HEAP_LEN, &f->dm, &f->set, why, sizeof why), 0);
    f->b->will_write(f->heap, USED * PG);
    for (size_t i = 0; i < USED; i++)
        pg(f, i)[0] = 1;
    f->b->arm(f->heap, USED * PG);
    harvest(f);
    clear(f);
}

static int teardown(void **state)
{
    struct fx *f = *state;
    f->b->detach();
    dirty_map_destroy(&f->dm);
    munmap(f->heap, HEAP_LEN);
    free(f);
    return 0;
}

/* Harvest reports exactly these pages (n of them) and returns n. */
static void expect_exactly(struct fx *f, const size_t *pages, size_t n)
{
    assert_int_equal(harvest(f), n);
    assert_int_equal(dirty_map_count(&f->dm, f->dm.npages), n);
    for (size_t i = 0; i < n; i++)
        assert_true(dirty_map_test(&f->dm, pages[i]));
    clear(f);
}

static volatile char *signal_target;

static void write_in_handler(int sig)
{
    (void)sig;
    *signal_target = 5;
}

static void *write_in_thread(void *p)
{
    *(volatile char *)p = 4;
    return NULL;
}

typedef long long v2 __attribute__((vector_size(16)));
typedef long long v4 __attribute__((vector_size(32)));

__attribute__((target("avx"))) static void avx_store(void *p)
{
    *(volatile v4 *)p = (v4){1, 2, 3, 4};
}

static void test_writes_reported(void **state)
{
    struct fx *f = *state;
    start(f);
    uint64_t faults = f->b->faults();
    size_t want[16], n = 0;
    char buf[64] = "moved";

    pg(f, 3)[100] = 1;                                       /* plain store */
    want[n++] = 3;
    memmove(pg(f, 7) + 10, buf, sizeof buf);                 /* memmove */
    want[n++] = 7;
    long expected = 0;
    __atomic_compare_exchange_n((long *)pg(f, 11), &expected, 9, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    want[n++] = 11;
    pthread_t t;                                             /* another thread */
    pthread_create(&t, NULL, write_in_thread, pg(f, 19) + 8);
    pthread_join(t, NULL);
    want[n++] = 19;
    struct sigaction sa = {.sa_handler = write_in_handler}, old;   /* a signal handler */
    sigaction(SIGUSR1, &sa, &old);
    signal_target = pg(f, 23) + 1;
    raise(SIGUSR1);
    sigaction(SIGUSR1, &old, NULL);
    want[n++] = 23;
    *(volatile v2 *)(pg(f, 31) + 32) = (v2){7, 8};            /* SSE store */
    want[n++] = 31;
    __builtin_ia32_movnti((int *)(pg(f, 33) + 64), 3);        /* non-temporal store */
    want[n++] = 33;
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx")) {                     /* AVX store */
        avx_store(pg(f, 35) + 64);
        want[n++] = 35;
    }
    uint64_t word = 0x0123456789abcdef;                      /* one store over two pages */
    memcpy(pg(f, 41) - 4, &word, sizeof word);
    want[n++] = 40;
    want[n++] = 41;
    memset(pg(f, 50), 0xab, 2 * PG);                         /* two whole pages */
    want[n++] = 50;
    want[n++] = 51;
    assert_true(pg(f, 3)[100] == 1 && pg(f, 19)[8] == 4 && pg(f, 23)[1] == 5 && pg(f, 51)[PG - 1] == (char)0xab);

    expect_exactly(f, want, n);
    if (f->b == &barrier_mprotect || f->b == &barrier_uffd)      /* the ones that see faults */
        assert_true(f->b->faults() - faults >= n);
    else
        assert_int_equal(f->b->faults(), 0);
    expect_exactly(f, NULL, 0);                              /* re-armed: nothing new */
    pg(f, 3)[200] = 2;                                       /* and tracked again */
    expect_exactly(f, (size_t[]){3}, 1);
}

static void test_will_write(void **state)
{
    struct fx *f = *state;
    start(f);
    size_t run[16];
    for (size_t i = 0; i < 16; i++)
        run[i] = 100 + i;
    f->b->will_write(pg(f, 100), 16 * PG);
    uint64_t faults = f->b->faults();
    memset(pg(f, 100), 7, 16 * PG);
    assert_int_equal(f->b->faults(), faults);
    expect_exactly(f, run, 16);
}

static void test_kernel_write(void **state)
{
    struct fx *f = *state;
    start(f);
    int p[2];
    assert_int_equal(pipe(p), 0);
    assert_int_equal(write(p[1], "hello", 5), 5);
    ssize_t got = read(p[0], pg(f, 200) + 100, 5);
    if (f->b == &barrier_mprotect) {
        /* Without prepare_kernel_write the kernel finds the page read-only. */
        assert_int_equal(got, -1);
        assert_int_equal(errno, EFAULT);
        expect_exactly(f, NULL, 0);
        f->b->prepare_kernel_write(pg(f, 200) + 100, 5);
        assert_true(dirty_map_test(&f->dm, 200));
        got = read(p[0], pg(f, 200) + 100, 5);
    }
    assert_int_equal(got, 5);
    assert_memory_equal(pg(f, 200) + 100, "hello", 5);
    expect_exactly(f, (size_t[]){200}, 1);
    close(p[0]);
    close(p[1]);
}

/* Several threads storing into the same armed pages at once. */
static void *hammer(void *arg)
{
    struct fx *f = arg;
    for (size_t i = 300; i < 364; i++)
        __atomic_fetch_add((long *)pg(f, i), 1, __ATOMIC_RELAXED);
    return NULL;
}

static void test_concurrent_first_writes(void **state)
{
    struct fx *f = *state;
    start(f);
    pthread_t t[4];
    size_t want[64];
    long before = *(long *)pg(f, 300);
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, hammer, f);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    for (size_t i = 0; i < 64; i++)
        want[i] = 300 + i;
    assert_int_equal(*(long *)pg(f, 300), before + 4);
    expect_exactly(f, want, 64);
}

/* Threads storing into the same armed pages while harvests re-protect them, as a thread
 * that a collection does not stop (one exiting) may do: every store lands, and the pages
 * are tracked as before afterwards (each write reported; once disarmed, written freely).
 * Under mprotect, a fault handled while the harvest re-protected its page could leave the
 * page read-only and marked writable: its writes then faulted for ever, and crashed once
 * the page was disarmed. */
#define RACE_FIRST 400
#define RACE_PAGES 8
#define RACE_WRITERS 3
#define RACE_HARVESTS 4000

struct racer {
    struct fx *f;
    long rounds;
};

static int race_over;

static void *race_writer(void *p)
{
    struct racer *r = p;
    while (!__atomic_load_n(&race_over, __ATOMIC_RELAXED)) {
        for (size_t i = 0; i < RACE_PAGES; i++)
            __atomic_fetch_add((long *)(pg(r->f, RACE_FIRST + i) + 64), 1, __ATOMIC_RELAXED);
        __atomic_store_n(&r->rounds, r->rounds + 1, __ATOMIC_RELAXED);
    }
    return NULL;
}

static long race_rounds(struct racer *r)
{
    long sum = 0;
    for (int i = 0; i < RACE_WRITERS; i++)
        sum += __atomic_load_n(&r[i].rounds, __ATOMIC_RELAXED);
    return sum;
}

static void test_writes_racing_harvest(void **state)
{
    struct fx *f = *state;
    start(f);
    struct racer r[RACE_WRITERS];
    pthread_t t[RACE_WRITERS];
    race_over = 0;
    alarm(120);         /* a watchdog, not a timing: a write that faults for ever ends here */
    for (int i = 0; i < RACE_WRITERS; i++) {
        r[i] = (struct racer){f, 0};
        assert_int_equal(pthread_create(&t[i], NULL, race_writer, &r[i]), 0);
    }
    for (int i = 0; i < RACE_HARVESTS; i++) {   /* each harvest after new stores */
        long before = race_rounds(r);
        harvest(f);
        while (race_rounds(r) == before)
            __builtin_ia32_pause();
    }
    __atomic_store_n(&race_over, 1, __ATOMIC_RELAXED);
    long rounds = 0;
    for (int i = 0; i < RACE_WRITERS; i++) {
        pthread_join(t[i], NULL);
        rounds += r[i].rounds;
    }
    size_t want[RACE_PAGES];
    for (size_t i = 0; i < RACE_PAGES; i++) {
        assert_int_equal(*(long *)(pg(f, RACE_FIRST + i) + 64), rounds);
        want[i] = RACE_FIRST + i;
    }
    harvest(f);
    clear(f);
    for (size_t i = 0; i < RACE_PAGES; i++)
        pg(f, RACE_FIRST + i)[0] = 7;
    expect_exactly(f, want, RACE_PAGES);
    f->b->disarm(pg(f, RACE_FIRST), RACE_PAGES * PG);
    for (size_t i = 0; i < RACE_PAGES; i++)
        pg(f, RACE_FIRST + i)[0] = 8;
    alarm(0);
}

/* Run fn in a fork child, whose barrier is told of the fork first (as the runtime's fork
 * handler does); returns its wait status.  The child's stderr goes to err if given. */
static int in_child(int (*fn)(struct fx *), struct fx *f, char *err, size_t errlen)
{
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (f)
            f->b->after_fork();
        dup2(p[1], STDERR_FILENO);
        close(p[0]);
        _exit(fn(f));
    }
    close(p[1]);
    size_t used = 0;
    ssize_t r;
    char sink[256];
    while ((r = read(p[0], err && used < errlen - 1 ? err + used : sink,
                     err && used < errlen - 1 ? errlen - 1 - used : sizeof sink)) > 0)
        if (err && used < errlen - 1)
            used += (size_t)r;
    if (err)
        err[used] = '\0';
    close(p[0]);
    int status;
    waitpid(pid, &status, 0);
    return status;
}

static char *wild;                    /* a PROT_NONE page of our own, outside the heap */
/* An address with nothing mapped, ever: below vm.mmap_min_addr (a page freed with munmap
 * may be handed to the next mmap, e.g. a thread record's, before the test stores there). */
static char *const unmapped = (char *)4096;
static void *volatile seen_addr;
static volatile int seen_code, seen_calls;
static sigjmp_buf recover;

static void program_handler(int sig, siginfo_t *si, void *ctx)
{
    (void)sig;
    (void)ctx;
    seen_addr = si->si_addr;
    seen_code = si->si_code;
    seen_calls++;
    siglongjmp(recover, 1);
}

static void install_program_handler(void)
{
    struct sigaction sa = {.sa_sigaction = program_handler, .sa_flags = SA_SIGINFO};
    sigaction(SIGSEGV, &sa, NULL);
}

/* Re-attach in the child so that the program's handler predates the barrier. */
static int reattach(struct fx *f)
{
    char why[512];
    f->b->detach();
    install_program_handler();
    if (f->b->attach(f->heap, HEAP_LEN, &f->dm, &f->set, why, sizeof why) != 0)
        return 1;
    f->b->arm(f->heap, USED * PG);
    harvest(f);
    clear(f);
    return 0;
}

static int child_wild_store(struct fx *f)
{
    (void)f;
    *(volatile char *)(wild + 123) = 1;
    return 0;
}

static int child_unmapped_store(struct fx *f)
{
    (void)f;
    *(volatile char *)(unmapped + 5) = 1;
    return 0;
}

static int child_raise(struct fx *f)
{
    (void)f;
    raise(SIGSEGV);
    return 0;
}

/* A program that recovers from its own faults: each reaches its handler with the true
 * si_addr, and barrier writes before and after keep being recorded, never reaching it. */
static int child_program_handler(struct fx *f)
{
    if (reattach(f))
        return 10;
    pg(f, 5)[0] = 1;                              /* barrier write: not the program's */
    if (seen_calls != 0)
        return 11;
    if (!sigsetjmp(recover, 1))
        *(volatile char *)(wild + 123) = 1;
    if (seen_calls != 1 || seen_addr != wild + 123 || seen_code != SEGV_ACCERR)
        return 12;
    if (!sigsetjmp(recover, 1))
        *(volatile char *)(unmapped + 5) = 1;
    if (seen_calls != 2 || seen_addr != unmapped + 5 || seen_code != SEGV_MAPERR)
        return 13;
    if (!sigsetjmp(recover, 1))
        raise(SIGSEGV);
    if (seen_calls != 3 || seen_code != SI_TKILL)
        return 14;
    pg(f, 6)[0] = 1;                              /* after the hand-backs */
    if (harvest(f) < 2 || !dirty_map_test(&f->dm, 5) || !dirty_map_test(&f->dm, 6))
        return 15;
    clear(f);
    uint64_t faults = f->b->faults();
    pg(f, 7)[0] = 1;                              /* the barrier is back in charge */
    if (seen_calls != 3 || harvest(f) != 1 || !dirty_map_test(&f->dm, 7))
        return 16;
    if ((f->b == &barrier_mprotect || f->b == &barrier_uffd) && f->b->faults() != faults + 1)
        return 17;
    return 0;
}

/* A program installing its handler after attach, through a sigaction() wrapper built on
 * faults_sigaction() as the runtime's would be: the barrier stays in charge. */
static int child_handler_after_attach(struct fx *f)
{
    struct sigaction sa = {.sa_sigaction = program_handler, .sa_flags = SA_SIGINFO}, old;
    if (!faults_sigaction(SIGSEGV, &sa, &old))
        sigaction(SIGSEGV, &sa, &old);
    if (old.sa_handler != SIG_DFL)
        return 10;
    pg(f, 5)[0] = 1;
    if (seen_calls != 0)
        return 11;
    if (!sigsetjmp(recover, 1))
        *(volatile char *)(wild + 9) = 1;
    if (seen_calls != 1 || seen_addr != wild + 9)
        return 12;
    struct sigaction now;
    if (!faults_sigaction(SIGSEGV, NULL, &now))
        sigaction(SIGSEGV, NULL, &now);
    return now.sa_sigaction == program_handler ? 0 : 13;
}

static void test_foreign_faults(void **state)
{
    struct fx *f = *state;
    start(f);
    wild = mmap(NULL, PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    int st = in_child(child_wild_store, f, NULL, 0);
    assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV);
    st = in_child(child_unmapped_store, f, NULL, 0);
    assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV);
    st = in_child(child_raise, f, NULL, 0);
    assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV);
    st = in_child(child_program_handler, f, NULL, 0);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    st = in_child(child_handler_after_attach, f, NULL, 0);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    munmap(wild, PG);
}

/* A child's harvests must not take the parent's written pages away from it. */
static int child_after_fork(struct fx *f)
{
    pg(f, 400)[0] = 1;
    if (harvest(f) < 1 || !dirty_map_test(&f->dm, 400))
        return 1;
    clear(f);
    pg(f, 401)[0] = 1;
    return harvest(f) >= 1 && dirty_map_test(&f->dm, 401) ? 0 : 2;
}

static void test_fork(void **state)
{
    struct fx *f = *state;
    start(f);
    pg(f, 410)[0] = 1;
    int st = in_child(child_after_fork, f, NULL, 0);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    expect_exactly(f, (size_t[]){410}, 1);
}

/* mprotect with no mappings left: gives up protecting, says so once, reports every page. */
static size_t max_map_count(void)
{
    size_t n = 0;
    FILE *fp = fopen("/proc/sys/vm/max_map_count", "r");
    if (fp) {
        if (fscanf(fp, "%zu", &n) != 1)
            n = 0;
        fclose(fp);
    }
    return n;
}

static int child_out_of_mappings(struct fx *f)
{
    size_t n = max_map_count() + 1024;      /* pages: one mapping per two of them */
    char *p = mmap(NULL, n * PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    size_t i = 0;
    while (i < n && mprotect(p + i * PG, PG, PROT_NONE) == 0)   /* a new mapping each */
        i += 2;
    if (i >= n || errno != ENOMEM)
        return 1;
    munmap(p + (i - 20) * PG, 20 * PG);                       /* a few mappings to spare */
    for (size_t k = 1; k < USED; k += 2)                      /* every other page: splits */
        f->b->arm(pg(f, k), PG);
    uint64_t faults = f->b->faults();
    for (size_t k = 0; k < USED; k++)
        pg(f, k)[1] = 3;                                      /* all writable now */
    if (f->b->faults() != faults)
        return 2;
    if (harvest(f) != USED || dirty_map_count(&f->dm, f->dm.npages) != USED)
        return 3;
    clear(f);
    return harvest(f) == USED ? 0 : 4;
}

static void test_out_of_mappings(void **state)
{
    struct fx *f = *state;
    char err[512];
    if (max_map_count() > 200000)
        skip();                             /* too many mappings to use up quickly */
    start(f);
    f->b->will_write(f->heap, USED * PG);                     /* arm page by page below */
    int st = in_child(child_out_of_mappings, f, err, sizeof err);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    assert_string_equal(err, "wbrt: mprotect barrier: out of mappings (vm.max_map_count); "
                             "every heap page now counts as dirty at each collection\n");
}

static void test_dirty_map(void **state)
{
    (void)state;
    struct dirty_map dm;
    assert_int_equal(dirty_map_init(&dm, 0x10000, 1000), 0);
    assert_int_equal(dirty_map_next(&dm, 0, 1000), 1000);
    dirty_map_set_range(&dm, 60, 70);          /* 60..129: across two word boundaries */
    dirty_map_set(&dm, 999);
    dirty_map_set_addr(&dm, (void *)(0x10000 + 500 * PG + 7));
    assert_int_equal(dirty_map_count(&dm, 1000), 72);
    assert_int_equal(dirty_map_count(&dm, 64), 4);
    assert_int_equal(dirty_map_next(&dm, 0, 1000), 60);
    assert_int_equal(dirty_map_next(&dm, 130, 1000), 500);
    assert_int_equal(dirty_map_next(&dm, 501, 999), 999);
    assert_int_equal(dirty_map_next(&dm, 501, 1000), 999);
    assert_false(dirty_map_test(&dm, 59));
    assert_true(dirty_map_test(&dm, 129));
    assert_false(dirty_map_test(&dm, 130));
    dirty_map_clear_range(&dm, 61, 68);
    assert_int_equal(dirty_map_count(&dm, 1000), 4);
    assert_true(dirty_map_test(&dm, 60) && dirty_map_test(&dm, 129));
    dirty_map_destroy(&dm);
}

/* A process that may not create a userfaultfd: unprivileged, the syscall refused unless
 * its flags hold one of `allowed`. */
static void deny_userfaultfd_unless(uint32_t allowed)
{
    struct sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_userfaultfd, 0, 3),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])),
        BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, allowed, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {sizeof filter / sizeof filter[0], filter};
    if (geteuid() == 0 && (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534)))
        _exit(20);
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog))
        _exit(21);
}

static void deny_userfaultfd(void)
{
    deny_userfaultfd_unless(0);
}

static int child_no_uffd(struct fx *f)
{
    char why[1024];
    (void)f;
    deny_userfaultfd();
    if (barrier_select("uffd-async", 1, why, sizeof why) != NULL)
        return 77;                   /* /dev/userfaultfd open to all: nothing to check */
    const char *want = "barrier uffd-async unavailable: vm.unprivileged_userfaultfd=";
    if (strncmp(why, want, strlen(want)) != 0 || !strstr(why, "run as root, or chmod /dev/userfaultfd, "
                                                             "or sysctl vm.unprivileged_userfaultfd=1"))
        return 2;
    return barrier_select("auto", 1, why, sizeof why) == &barrier_mprotect ? 0 : 3;
}

static void test_select(void **state)
{
    (void)state;
    char why[1024], err[2048];
    assert_null(barrier_select("bogus", 1, why, sizeof why));
    assert_string_equal(why, "WBRT_BARRIER=bogus is not one of auto|uffd-async|uffd|mprotect|softdirty|none|card|ssb|remset");
    assert_string_equal(barrier_names(), "auto|uffd-async|uffd|mprotect|softdirty|none|card|ssb|remset");
    for (const struct barrier_ops *const *b = barrier_all; *b; b++)
        assert_non_null(strstr(barrier_names(), (*b)->name));
    assert_ptr_equal(barrier_select("none", 1, why, sizeof why), &barrier_none);
    assert_int_equal(barrier_none.tracks, 0);

    int st = in_child(child_no_uffd, NULL, err, sizeof err);
    assert_true(WIFEXITED(st));
    if (WEXITSTATUS(st) == 77)
        return;
    assert_int_equal(WEXITSTATUS(st), 0);
    /* Exactly one line, naming what was skipped and what is used. */
    const char *want = "wbrt: barrier uffd-async unavailable (vm.unprivileged_userfaultfd=";
    assert_int_equal(strncmp(err, want, strlen(want)), 0);
    assert_non_null(strstr(err, "); using mprotect\n"));
    assert_ptr_equal(strchr(err, '\n'), err + strlen(err) - 1);
}

/* uffd (synchronous) only: its handler thread, its loops, kernel writes, its probe. */

#define UFFD_USER_MODE_ONLY_FLAG 1      /* UFFD_USER_MODE_ONLY, which older headers lack */

static int task_count(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/task");
    assert_non_null(d);
    for (struct dirent *e; (e = readdir(d));)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/* The system call the handler thread (named wbrt-uffd) waits in; -1 if there is none.
 * The kernel offers no event for "that thread now sleeps", so this reads its state until
 * it is in a system call: however long that takes on a busy machine (ctest's TIMEOUT is
 * the guard against a handler that never waits), never a deadline that fails the test. */
static long handler_syscall(void)
{
    for (;;) {
        DIR *d = opendir("/proc/self/task");
        long nr = -1;
        bool found = false;
        for (struct dirent *e; d && (e = readdir(d));) {
            char path[300], text[128] = "";
            snprintf(path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
            FILE *fp = fopen(path, "r");
            if (!fp)
                continue;
            found = fgets(text, sizeof text, fp) && strcmp(text, "wbrt-uffd\n") == 0;
            fclose(fp);
            if (!found)
                continue;
            snprintf(path, sizeof path, "/proc/self/task/%s/syscall", e->d_name);
            if ((fp = fopen(path, "r"))) {
                if (!fgets(text, sizeof text, fp) || sscanf(text, "%ld", &nr) != 1)
                    nr = -1;        /* "running": look again */
                fclose(fp);
            }
            break;
        }
        if (d)
            closedir(d);
        if (!found || nr >= 0)
            return nr;
        sched_yield(); /* let the handler run on to its wait */
    }
}

/* The generic test under one handler loop, which must be the one waiting. */
static void writes_under_loop(void **state, enum barrier_loop loop, long nr)
{
    ((struct fx *)*state)->set.loop = loop;
    test_writes_reported(state);
    assert_int_equal(handler_syscall(), nr);
}

static void test_uffd_poll_loop(void **state)
{
    writes_under_loop(state, BARRIER_LOOP_POLL, SYS_poll);
}

static void test_uffd_uring_loop(void **state)
{
    writes_under_loop(state, BARRIER_LOOP_URING, SYS_io_uring_enter);
}

static int teardown_loop(void **state)
{
    ((struct fx *)*state)->set.loop = BARRIER_LOOP_DEFAULT;
    return teardown(state);
}

/* read, pread and preadv into armed pages, across a page boundary and into never-touched
 * pages: each call succeeds (the handler resolves the kernel's faults), exactly the pages
 * written are reported, and reading an untouched page is no write. */
static void test_uffd_kernel_writes(void **state)
{
    struct fx *f = *state;
    char path[] = "/tmp/wbt-uffd-XXXXXX", data[256], back[256];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (char)(i * 7 + 1);
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    unlink(path);
    assert_int_equal(write(fd, data, sizeof data), sizeof data);
    start(f);
    f->b->arm(pg(f, USED), 4 * PG);                  /* never touched: WP_UNPOPULATED */
    uint64_t faults = f->b->faults();

    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    assert_int_equal(read(fd, pg(f, 501) - 10, 20), 20);                 /* pages 500, 501 */
    assert_int_equal(pread(fd, pg(f, 510) + 100, 50, 7), 50);
    struct iovec iov[2] = {{pg(f, 520) + 1, 10}, {pg(f, 530) + 2, 10}};
    assert_int_equal(preadv(fd, iov, 2, 0), 20);
    assert_int_equal(pread(fd, pg(f, USED + 1) + 3, 8, 0), 8);           /* untouched */
    pg(f, USED + 2)[5] = 9;                                             /* untouched, a store */
    memcpy(back, (char *)pg(f, USED + 3), 16);                          /* untouched, a load */

    assert_memory_equal(pg(f, 501) - 10, data, 20);
    assert_memory_equal(pg(f, 510) + 100, data + 7, 50);
    assert_memory_equal(pg(f, 520) + 1, data, 10);
    assert_memory_equal(pg(f, 530) + 2, data + 10, 10);
    assert_memory_equal(pg(f, USED + 1) + 3, data, 8);
    assert_true(f->b->faults() - faults >= 7);
    size_t want[] = {500, 501, 510, 520, 530, USED + 1, USED + 2};
    assert_int_equal(f->b->harvest(&f->dm, f->heap, (USED + 4) * PG), 7);
    assert_int_equal(dirty_map_count(&f->dm, f->dm.npages), 7);
    for (size_t i = 0; i < 7; i++)
        assert_true(dirty_map_test(&f->dm, want[i]));
    close(fd);
}

/* Detach with no fault pending returns and leaves no thread behind, under either loop;
 * the heap is writable afterwards. */
static void test_uffd_detach(void **state)
{
    struct fx *f = *state;
    const enum barrier_loop loops[] = {BARRIER_LOOP_POLL, BARRIER_LOOP_URING};
    for (int i = 0; i < 2; i++) {
        int before = task_count();
        f->set.loop = loops[i];
        start(f);
        assert_int_equal(task_count(), before + 1);
        pg(f, 3)[0] = 1;
        f->b->detach();
        assert_int_equal(task_count(), before);
        pg(f, 4)[0] = 1;
    }
}

/* A fork child that detaches leaves the parent's registration alone. */
static int child_detach(struct fx *f)
{
    f->b->detach();
    return 0;
}

static void test_uffd_child_detach(void **state)
{
    struct fx *f = *state;
    start(f);
    int st = in_child(child_detach, f, NULL, 0);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    uint64_t faults = f->b->faults();
    pg(f, 420)[0] = 1;
    assert_int_equal(f->b->faults(), faults + 1);
    expect_exactly(f, (size_t[]){420}, 1);
}

static void *store_one(void *p)
{
    *(volatile char *)p = 1;
    return NULL;
}

/* Verbose (WBRT_VERBOSE=1): detach says how many faults from how many threads, and which
 * loop handled them (the default). */
static int child_verbose(struct fx *f)
{
    char why[512];
    f->set = (struct barrier_settings){.verbose = 1};
    f->b->detach();
    if (f->b->attach(f->heap, HEAP_LEN, &f->dm, &f->set, why, sizeof why) != 0)
        return 10;
    f->b->arm(f->heap, USED * PG);
    pthread_t t[3];
    for (int i = 0; i < 3; i++)
        pthread_create(&t[i], NULL, store_one, pg(f, 600 + (size_t)i));
    for (int i = 0; i < 3; i++)
        pthread_join(t[i], NULL);
    f->b->detach();
    return 0;
}

static void test_uffd_verbose(void **state)
{
    struct fx *f = *state;
    char err[1024];
    start(f);
    int st = in_child(child_verbose, f, err, sizeof err);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    assert_string_equal(err, "wbrt: uffd barrier: write faults 3, faulting threads 3, handler loop poll\n");
}

/* Only userfaultfd(UFFD_USER_MODE_ONLY) allowed: uffd-async works with it, uffd cannot
 * (kernel writes would fail) and says so. */
static int child_user_mode_only(struct fx *f)
{
    char why[1024];
    (void)f;
    deny_userfaultfd_unless(UFFD_USER_MODE_ONLY_FLAG);
    prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);        /* /proc/self/pagemap ours again after setuid */
    if (access("/dev/userfaultfd", R_OK | W_OK) == 0)
        return 77;                  /* open to all: nothing to check */
    if (barrier_uffd_async.probe(why, sizeof why) != 0) {
        fputs(why, stderr);
        return 2;
    }
    if (barrier_uffd.probe(why, sizeof why) == 0)
        return 3;
    fputs(why, stderr);
    return 0;
}

static void test_uffd_user_mode_only(void **state)
{
    char err[1024];
    (void)state;
    int st = in_child(child_user_mode_only, NULL, err, sizeof err);
    assert_true(WIFEXITED(st));
    if (WEXITSTATUS(st) == 77)
        skip();
    if (WEXITSTATUS(st) != 0)
        fail_msg("child exit %d: %s", WEXITSTATUS(st), err);
    assert_non_null(strstr(err, "run as root, or chmod /dev/userfaultfd, or sysctl vm.unprivileged_userfaultfd=1 "
                                "(userfaultfd(UFFD_USER_MODE_ONLY): allowed, but it cannot resolve kernel "
                                "writes: a read(2) into a protected page would fail with EFAULT)"));
}

int main(void)
{
    const struct CMUnitTest common[] = {
        cmocka_unit_test(test_dirty_map),
        cmocka_unit_test(test_select),
    };
    int failed = cmocka_run_group_tests_name("barrier selection", common, NULL, NULL);
    /* Every kernel barrier that tracks pages; the software ones have their own tests. */
    for (const struct barrier_ops *const *bp = barrier_all; *bp; bp++) {
        const struct barrier_ops *b = *bp;
        char why[512];
        if (!b->tracks || b->remembered)
            continue;
        if (b->probe(why, sizeof why) != 0) {
            failed += wbt_unavailable(b->name, why) != WBT_SKIP;
            continue;
        }
        struct CMUnitTest tests[] = {
            cmocka_unit_test_prestate_setup_teardown(test_writes_reported, setup, teardown, (void *)b),
            cmocka_unit_test_prestate_setup_teardown(test_will_write, setup, teardown, (void *)b),
            cmocka_unit_test_prestate_setup_teardown(test_kernel_write, setup, teardown, (void *)b),
            cmocka_unit_test_prestate_setup_teardown(test_concurrent_first_writes, setup, teardown, (void *)b),
            cmocka_unit_test_prestate_setup_teardown(test_writes_racing_harvest, setup, teardown, (void *)b),
            cmocka_unit_test_prestate_setup_teardown(test_foreign_faults, setup, teardown, (void *)b),
            cmocka_unit_test_prestate_setup_teardown(test_fork, setup, teardown, (void *)b),
            cmocka_unit_test_prestate_setup_teardown(test_out_of_mappings, setup, teardown, (void *)b),
        };
        size_t n = sizeof tests / sizeof tests[0] - (b != &barrier_mprotect);
        failed += _cmocka_run_group_tests(b->name, tests, n, NULL, NULL);
    }
    char why[512];
    if (barrier_uffd.probe(why, sizeof why) == 0) {
        const void *b = &barrier_uffd;
        struct CMUnitTest uffd[] = {
            cmocka_unit_test_prestate_setup_teardown(test_uffd_poll_loop, setup, teardown_loop, (void *)b),
            cmocka_unit_test_prestate_setup_teardown(test_uffd_uring_loop, setup, teardown_loop, (void *)b),
            cmocka_unit_test_prestate_setup_teardown(test_uffd_kernel_writes, setup, teardown, (void *)b),
            cmocka_unit_test_prestate_setup_teardown(test_uffd_detach, setup, teardown_loop, (void *)b),
            cmocka_unit_test_prestate_setup_teardown(test_uffd_child_detach, setup, teardown, (void *)b),
            cmocka_unit_test_prestate_setup_teardown(test_uffd_verbose, setup, teardown, (void *)b),
            cmocka_unit_test(test_uffd_user_mode_only),
        };
        failed += _cmocka_run_group_tests("uffd only", uffd, sizeof uffd / sizeof uffd[0], NULL, NULL);
    } else {
        failed += wbt_unavailable("uffd", why) != WBT_SKIP;   /* its own group is lost too */
    }
    return failed ? 1 : 0;
}
