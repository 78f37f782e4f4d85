/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A multi-threaded program of our own, built without wbrt, for libwbrt-preload.so: lists
 * built, handed between threads, lost or freed; aligned and resized blocks; fork from a
 * multi-threaded process; kernel writes (read, pread, readv, fread, stat, waitpid, and
 * wide stdio's refills of a FILE opened early) into blocks that have had time to become old; a signal stack in a malloc'd block; a thread
 * with every signal blocked while others collect.  Prints checksums: its output must not
 * depend on the allocator. */
#include <errno.h>
#include <wchar.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <semaphore.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#define THREADS 4
#define NODES 40000

struct node { struct node *next; long value; char pad[24]; };

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct node *kept[THREADS];   /* every 16th node of each thread, handed over here */

static void fail(const char *what)
{
    fprintf(stderr, "mt_program: %s\n", what);
    exit(1);
}

static void *worker(void *arg)
{
    long id = (long)arg;
    struct node *mine = NULL;
    for (int round = 0; round < 8; round++) {
        struct node *list = NULL;
        for (long i = 0; i < NODES / 8; i++) {
            struct node *n = malloc(sizeof *n);
            if (!n)
                fail("malloc");
            n->value = id * 1000000 + round * 10000 + i;
            n->next = list;
            list = n;
        }
        /* keep some, free some by hand, lose the rest */
        for (struct node *n = list, *next; n; n = next) {
            next = n->next;
            if (n->value % 16 == 0) {
                n->next = mine;
                mine = n;
            } else if (n->value % 2) {
                free(n);
            }
        }
    }
    pthread_mutex_lock(&lock);
    kept[id] = mine;
    pthread_mutex_unlock(&lock);
    return NULL;
}

static void aligned_blocks(void)
{
    static const size_t aligns[] = {32, 64, 256, 2048, 4096, 8192, 65536, 1 << 20};
    for (size_t i = 0; i < sizeof aligns / sizeof aligns[0]; i++) {
        void *p;
        if (posix_memalign(&p, aligns[i], 100 + i * 1000) != 0 || (uintptr_t)p % aligns[i])
            fail("posix_memalign alignment");
        memset(p, 0xab, 100 + i * 1000);
        if (malloc_usable_size(p) < 100 + i * 1000)
            fail("malloc_usable_size");
        void *q = aligned_alloc(aligns[i], aligns[i] * 2);
        void *r = memalign(aligns[i], 24);
        if (!q || !r || (uintptr_t)q % aligns[i] || (uintptr_t)r % aligns[i])
            fail("aligned_alloc/memalign alignment");
        free(p), free(q), free(r);
    }
    void *v = valloc(10), *pv = pvalloc(10);
    if (!v || !pv || (uintptr_t)v % 4096 || (uintptr_t)pv % 4096 || malloc_usable_size(pv) < 4096)
        fail("valloc/pvalloc");
    free(v), free(pv);
    void *bad;
    if (posix_memalign(&bad, 24, 10) != EINVAL)
        fail("posix_memalign(24) must be EINVAL");
    volatile size_t huge = SIZE_MAX / 2; /* not a constant: gcc would refuse the call */
    errno = 0;
    if (reallocarray(NULL, huge, 3) != NULL || errno != ENOMEM)
        fail("reallocarray overflow must be ENOMEM");
    long *c = calloc(1000, sizeof *c);
    for (int i = 0; i < 1000; i++)
        if (c[i])
            fail("calloc not zeroed");
    for (int i = 0; i < 1000; i++)
        c[i] = i;
    for (size_t n = 2000; n < 400000; n *= 3) {
        c = realloc(c, n * sizeof *c);
        if (!c)
            fail("realloc");
        for (int i = 0; i < 1000; i++)
            if (c[i] != i)
                fail("realloc lost contents");
    }
    free(c);
    printf("aligned and resized blocks ok\n");
}

/* Blocks allocated now and written by the kernel after many collections. */
static char *read_buf, *pread_buf, *iov_buf, *fread_buf;
static struct stat *st;
static int *wait_status;

static void kernel_writes(void)
{
    char path[] = "/tmp/mt_program.XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        fail("mkstemp");
    char text[8192];
    for (size_t i = 0; i < sizeof text; i++)
        text[i] = (char)('a' + i % 26);
    if (write(fd, text, sizeof text) != (ssize_t)sizeof text)
        fail("write");
    if (pread(fd, pread_buf, 8192, 0) != 8192 || memcmp(pread_buf, text, 8192))
        fail("pread into the heap");
    lseek(fd, 0, SEEK_SET);
    if (read(fd, read_buf, 8192) != 8192 || memcmp(read_buf, text, 8192))
        fail("read into the heap");
    lseek(fd, 0, SEEK_SET);
    struct iovec iov[2] = {{iov_buf, 4096}, {iov_buf + 5000, 4096}};
    if (readv(fd, iov, 2) != 8192 || memcmp(iov_buf + 5000, text + 4096, 4096))
        fail("readv into the heap");
    if (fstat(fd, st) != 0 || st->st_size != 8192)
        fail("fstat into the heap");
    FILE *f = fopen(path, "r");
    if (!f || fread(fread_buf, 1, 8192, f) != 8192 || memcmp(fread_buf, text, 8192))
        fail("fread into the heap");
    fclose(f);
    close(fd);
    unlink(path);
    printf("kernel writes into the heap ok\n");
}

/* A FILE opened and first read before the collections, read to its end after them with
 * wide stdio (fgetws, fgetwc), which refills the FILE's now old buffer by internal reads. */
#define WIDE_LINES 2000
static FILE *wide_file;

static void wide_open(void)
{
    char path[] = "/tmp/mt_program_wide.XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        fail("mkstemp (wide)");
    for (int i = 0; i < WIDE_LINES; i++)
        dprintf(fd, "line %d of the wide file\n", i);
    lseek(fd, 0, SEEK_SET);
    unlink(path);
    FILE *w = fdopen(fd, "r");    /* never byte-oriented: the first read makes it wide */
    if (!w)
        fail("fdopen (wide)");
    if (fgetwc(w) != L'l')
        fail("fgetwc");
    wide_file = w;
}

static void wide_read(void)
{
    wchar_t line[64];
    int lines = 1;    /* the first, begun by wide_open */
    fgetws(line, 64, wide_file);
    while (fgetws(line, 64, wide_file))
        lines++;
    if (lines != WIDE_LINES || !feof(wide_file) || ferror(wide_file))
        fail("fgetws into an old FILE buffer");
    fclose(wide_file);
    printf("wide stdio reads into the heap ok\n");
}

/* The program's own SIGSEGV handler: a write into an old heap block (a barrier fault
 * under mprotect) must not reach it; a fault of the program's must, with its address. */
static sigjmp_buf segv_jump;
static volatile int step;
static int *volatile bad_address = (int *)64;
static void *volatile fault_addr;

static void on_segv(int sig, siginfo_t *si, void *uc)
{
    (void)sig, (void)uc;
    fault_addr = si->si_addr;
    siglongjmp(segv_jump, 1);
}

static void own_segv_handler(void)
{
    struct sigaction sa = {.sa_sigaction = on_segv, .sa_flags = SA_SIGINFO};
    sigaction(SIGSEGV, &sa, NULL);
    if (sigsetjmp(segv_jump, 1) == 0) {
        step = 1;
        memset(read_buf, 'x', 8192);          /* old by now: may be a barrier fault */
        step = 2;
        *bad_address = 1;                      /* the program's own fault */
        fail("no SIGSEGV");
    }
    if (step != 2 || fault_addr != (void *)(uintptr_t)64)
        fail("SIGSEGV handler: wrong fault delivered");
    signal(SIGSEGV, SIG_DFL);
    printf("the program's SIGSEGV handler got its own fault only\n");
}

/* A signal stack malloc'd before the workers' collections made it old (gdb does this):
 * the kernel must still be able to write signal frames there. */
static char *alt_stack;
enum { ALT_SIZE = 65536 };
static volatile int on_alt_stack;

static void on_urg(int sig)
{
    char here;
    (void)sig;
    on_alt_stack += &here >= alt_stack && &here < alt_stack + ALT_SIZE;
}

static void heap_signal_stack_install(void)
{
    alt_stack = malloc(ALT_SIZE);
    stack_t ss = {.ss_sp = alt_stack, .ss_size = ALT_SIZE};
    struct sigaction sa = {.sa_handler = on_urg, .sa_flags = SA_ONSTACK};
    if (!alt_stack || sigaltstack(&ss, NULL) != 0 || sigaction(SIGURG, &sa, NULL) != 0)
        fail("sigaltstack");
}

static void heap_signal_stack_use(void)
{
    for (int i = 0; i < 3; i++)
        raise(SIGURG); /* never a stop signal (WBRT_STOP_SIGNAL) */
    if (on_alt_stack != 3)
        fail("the handler did not run on the signal stack");
    printf("signal handler ran 3 times on a malloc'd signal stack\n");
}

/* A thread that blocks every signal and waits for a thread that allocates (and so
 * collects) must not hold the collections up. */
static sem_t go, done;

static void *masked_waiter(void *arg)
{
    sigset_t all;
    (void)arg;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    sem_post(&go);
    sem_wait(&done);
    return NULL;
}

static void collect_while_masked(void)
{
    pthread_t t;
    sem_init(&go, 0, 0);
    sem_init(&done, 0, 0);
    if (pthread_create(&t, NULL, masked_waiter, NULL) != 0)
        fail("pthread_create");
    sem_wait(&go);
    long sum = 0;
    for (int i = 0; i < 200000; i++) {
        long *p = malloc(128);
        *p = i;
        sum += *p;
    }
    sem_post(&done);
    pthread_join(t, NULL);
    printf("allocated while a thread blocked every signal, sum %ld\n", sum);
}

int main(void)
{
    heap_signal_stack_install();
    wide_open();
    read_buf = malloc(8192), pread_buf = malloc(8192), iov_buf = malloc(10000);
    fread_buf = malloc(8192), st = malloc(sizeof *st), wait_status = malloc(sizeof *wait_status);
    pthread_t t[THREADS];
    for (long i = 0; i < THREADS; i++)
        if (pthread_create(&t[i], NULL, worker, (void *)i) != 0)
            fail("pthread_create");
    /* fork while the workers run: the child allocates on its own heap */
    pid_t pid = fork();
    if (pid == 0) {
        long sum = 0;
        for (int i = 0; i < 100000; i++) {
            long *p = malloc(64);
            *p = i;
            sum += *p;
            if (i % 2)
                free(p);
        }
        _exit(sum == 4999950000L ? 0 : 1);
    }
    if (pid < 0 || waitpid(pid, wait_status, 0) != pid || !WIFEXITED(*wait_status) ||
        WEXITSTATUS(*wait_status))
        fail("forked child");
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    long count = 0, sum = 0;
    for (int i = 0; i < THREADS; i++)
        for (struct node *n = kept[i]; n; n = n->next)
            count++, sum += n->value;
    printf("kept %ld nodes, sum %ld\n", count, sum);
    aligned_blocks();
    kernel_writes();
    wide_read();
    own_segv_handler();
    heap_signal_stack_use();
    collect_while_masked();
    return 0;
}
