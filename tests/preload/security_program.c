/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A program of our own, built without wbrt, for the preload's security tests
 * (security_test.sh).  Its modes:
 *  secure   prints AT_SECURE and allocates (the build linked with the preload, made setgid);
 *  fds      allocates from three threads, then execs itself with `listfds`, LD_PRELOAD unset;
 *  listfds  prints every open descriptor above 2 and where it points;
 *  signals [pwr]  its own SIGSEGV (write to a read-only page of its own), SIGBUS (a page past
 *           the end of a file) and, with `pwr`, SIGPWR handlers between barrier faults and
 *           collections; then SIGBUS, SIGPWR and SIGUSR1 (sent to each of two allocating
 *           threads that collections stop): every handler must run exactly once per event,
 *           the writes made around them and the threads' lists stay intact.
 * The allocating threads always do a set number of rounds (5000 nodes each) before they are
 * stopped: what a run covers depends on steps done, never on how long it ran. */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <unistd.h>

#define ROUNDS 200
#define WORKERS 2
#define CHURN_ROUNDS 32 /* per worker, about 2.5 MB allocated: collections under WBRT_YOUNG_BYTES=1M */

static sem_t rounds_done[WORKERS]; /* one post per round a worker finished */

struct node { struct node *next; uint64_t value; };

static volatile int stop;

static void fail(const char *what)
{
    fprintf(stderr, "security_program: %s\n", what);
    exit(1);
}

/* Builds and drops lists; keeps every 8th node and checks the kept list at the end. */
static void *worker(void *arg)
{
    int id = (int)(uintptr_t)arg;
    uint64_t seed = (uint64_t)id + 1, kept_sum = 0, n_kept = 0;
    struct node *kept = NULL;
    do {
        struct node *list = NULL;
        for (int i = 0; i < 5000; i++) {
            struct node *n = malloc(sizeof *n);
            if (!n)
                fail("malloc");
            n->value = seed = seed * 6364136223846793005u + 1442695040888963407u;
            n->next = list;
            list = n;
        }
        for (struct node *n = list, *next; n; n = next) {
            next = n->next;
            if (n->value % 8 == 0) {
                n->next = kept, kept = n;
                kept_sum += n->value, n_kept++;
            } else if (n->value % 2) {
                free(n);
            }
        }
        sem_post(&rounds_done[id]);
    } while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE));
    for (struct node *n = kept; n; n = n->next)
        kept_sum -= n->value, n_kept--;
    if (kept_sum || n_kept)
        fail("a kept list was damaged");
    return NULL;
}

static void run_workers(pthread_t *t)
{
    for (int i = 0; i < WORKERS; i++)
        if (sem_init(&rounds_done[i], 0, 0) != 0 || pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)i) != 0)
            fail("pthread_create");
}

/* Once each worker has finished at least min_rounds rounds, stops and joins them. */
static void join_workers(pthread_t *t, int min_rounds)
{
    for (int i = 0; i < WORKERS; i++)
        for (int r = 0; r < min_rounds; r++)
            while (sem_wait(&rounds_done[i]) != 0)
                if (errno != EINTR)
                    fail("sem_wait");
    __atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
    for (int i = 0; i < WORKERS; i++)
        pthread_join(t[i], NULL);
}

static void list_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        fail("opendir /proc/self/fd");
    for (struct dirent *e; (e = readdir(d));) {
        int fd = atoi(e->d_name);
        if (e->d_name[0] == '.' || fd <= 2 || fd == dirfd(d))
            continue;
        char link[64], target[256] = "?";
        snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        ssize_t n = readlink(link, target, sizeof target - 1);
        target[n > 0 ? n : 0] = 0;
        printf("fd %d -> %s\n", fd, target);
    }
    closedir(d);
}

/* Collections while three threads allocate. */
static void churn(void)
{
    pthread_t t[WORKERS];
    run_workers(t);
    join_workers(t, CHURN_ROUNDS);
}

static volatile sig_atomic_t segv_runs, bus_runs, pwr_runs;
static int usr1_runs;
static sem_t usr1_ran; /* posted by the SIGUSR1 handler (sem_post is async-signal-safe) */
static char *volatile ro_page, *volatile past_eof;
static sigjmp_buf bus_jump;

static void on_segv(int sig, siginfo_t *si, void *uc)
{
    (void)sig, (void)uc;
    if ((uintptr_t)si->si_addr - (uintptr_t)ro_page >= 4096 || si->si_code != SEGV_ACCERR)
        _exit(3);   /* a barrier fault reached the program */
    segv_runs++;
    mprotect(ro_page, 4096, PROT_READ | PROT_WRITE);   /* the write is retried */
}

static void on_bus(int sig, siginfo_t *si, void *uc)
{
    (void)sig, (void)uc;
    if (si->si_addr != past_eof)
        _exit(4);
    bus_runs++;
    siglongjmp(bus_jump, 1);
}

/* The handler jumps back here. */
static __attribute__((noinline)) void take_sigbus(void)
{
    if (sigsetjmp(bus_jump, 1) == 0) {
        (void)*(volatile char *)past_eof;
        fail("no SIGBUS");
    }
}

static void on_usr1(int sig)
{
    (void)sig;
    __atomic_add_fetch(&usr1_runs, 1, __ATOMIC_RELAXED);
    sem_post(&usr1_ran);
}
static void on_pwr(int sig) { (void)sig; pwr_runs++; }

static void handle(int sig, void (*fn)(int, siginfo_t *, void *), void (*plain)(int))
{
    struct sigaction sa = {.sa_flags = fn ? SA_SIGINFO : 0};
    if (fn)
        sa.sa_sigaction = fn;
    else
        sa.sa_handler = plain;
    sigemptyset(&sa.sa_mask);
    if (sigaction(sig, &sa, NULL) != 0)
        fail("sigaction");
}

static int signals(int with_pwr)
{
    handle(SIGSEGV, on_segv, NULL);
    handle(SIGBUS, on_bus, NULL);
    handle(SIGUSR1, NULL, on_usr1);
    if (with_pwr)
        handle(SIGPWR, NULL, on_pwr);
    char *old = malloc(1 << 16);
    ro_page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    FILE *empty = tmpfile();
    if (!old || ro_page == MAP_FAILED || !empty)
        fail("setup");
    past_eof = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fileno(empty), 0);
    if (past_eof == MAP_FAILED)
        fail("mmap of an empty file");
    memset(old, 1, 1 << 16);
    /* Alone: the program's own faults, between barrier faults and collections. */
    for (int r = 0; r < ROUNDS; r++) {
        mprotect(ro_page, 4096, PROT_READ);
        ro_page[r] = (char)r;                      /* the program's own fault */
        old[(r * 4096 + r) % (1 << 16)] = (char)r; /* maybe a barrier fault */
        take_sigbus();
        if (with_pwr)
            raise(SIGPWR);
        for (int i = 0; i < 64; i++) {             /* collections now and then: lost */
            char *volatile lost = malloc(1024);    /* blocks (a freed one is reused at once) */
            lost[0] = 1;
        }
    }
    /* With two allocating threads that collections stop and that take barrier faults
     * meanwhile (none may reach our handler): signals to them and our own faults. */
    pthread_t t[WORKERS];
    if (sem_init(&usr1_ran, 0, 0) != 0)
        fail("sem_init");
    run_workers(t);
    for (int r = 0; r < ROUNDS; r++) {
        mprotect(ro_page, 4096, PROT_READ);
        ro_page[ROUNDS + r] = (char)r;             /* the program's own fault */
        take_sigbus();
        for (int i = 0; i < WORKERS; i++) {
            /* One SIGUSR1 at a time, so that none merges with a pending one. */
            pthread_kill(t[i], SIGUSR1);
            while (sem_wait(&usr1_ran) != 0)
                if (errno != EINTR)
                    fail("sem_wait");
        }
        if (with_pwr)
            raise(SIGPWR);
    }
    join_workers(t, 1);
    for (int r = 0; r < ROUNDS; r++)
        if (ro_page[r] != (char)r || ro_page[ROUNDS + r] != (char)r || old[(r * 4096 + r) % (1 << 16)] != (char)r)
            fail("a write done in or after a handler was lost");
    printf("%d rounds: SIGSEGV handled %d, SIGBUS %d, SIGUSR1 %d, SIGPWR %d\n", ROUNDS, (int)segv_runs,
           (int)bus_runs, usr1_runs, (int)pwr_runs);
    return !(segv_runs == 2 * ROUNDS && bus_runs == 2 * ROUNDS && usr1_runs == ROUNDS * WORKERS &&
             pwr_runs == (with_pwr ? 2 * ROUNDS : 0));
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    if (strcmp(mode, "secure") == 0) {
        printf("AT_SECURE=%lu\n", getauxval(AT_SECURE));
        churn();
        return 0;
    }
    if (strcmp(mode, "fds") == 0) {
        churn();
        unsetenv("LD_PRELOAD");
        execl("/proc/self/exe", argv[0], "listfds", (char *)NULL);
        fail("exec");
    }
    if (strcmp(mode, "listfds") == 0) {
        list_fds();
        return 0;
    }
    if (strcmp(mode, "signals") == 0)
        return signals(argc > 2 && strcmp(argv[2], "pwr") == 0);
    fprintf(stderr, "usage: security_program secure|fds|listfds|signals [pwr]\n");
    return 2;
}
