/* wbt: the shared test helper (see wbt.h).
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include "wbt.h"

#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

/* Names the one test a wbt_respawn()ed process runs. */
#define WBT_CHILD_VAR "WBT_CHILD"

void wbt_init(void)
{
    const char *only = getenv(WBT_CHILD_VAR);
    const char *barrier = getenv("WBRT_BARRIER");

    if (only != NULL)
        cmocka_set_test_filter(only);
    wbt_required(NULL);   /* a mistyped WBRT_TEST_BARRIERS stops every test, not just a skip */
    if (wb_init(NULL) == 0)
        return;
    /* ENOTSUP: the forced backend is unavailable here (any other failure is a bug). */
    if (barrier != NULL && errno == ENOTSUP)
        exit(wbt_unavailable(barrier, wb_last_error()));
    fprintf(stderr, "wb_init failed: %s\n", wb_last_error());
    exit(1);
}

void wbt_fork(struct wbt_child *c, const char *const *env, void (*fn)(void *), void *arg)
{
    int fd[2];
    size_t len = 0;
    ssize_t r;
    pid_t pid;

    assert_int_equal(pipe(fd), 0);
    fflush(stdout);   /* or the child would print the parent's buffered output again */
    fflush(stderr);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* Expected crashes (bad free, wild store) should not write core files. */
        struct rlimit nocore = { 0, 0 };
        setrlimit(RLIMIT_CORE, &nocore);
        close(fd[0]);
        dup2(fd[1], STDOUT_FILENO);
        dup2(fd[1], STDERR_FILENO);
        close(fd[1]);
        setenv("CMOCKA_TEST_ABORT", "1", 1);
        for (; env != NULL && *env != NULL; env++)
            putenv((char *)*env);
        fn(arg);
        fflush(stdout);
        fflush(stderr);
        _exit(0);
    }
    close(fd[1]);
    while ((r = read(fd[0], c->out + len, sizeof c->out - 1 - len)) != 0) {
        if (r < 0 && errno == EINTR)
            continue;
        assert_true(r > 0);
        len += (size_t)r;
        if (len == sizeof c->out - 1) {   /* full: drain the rest so the child never blocks */
            char sink[4096];
            while (read(fd[0], sink, sizeof sink) > 0)
                ;
            break;
        }
    }
    c->out[len] = '\0';
    close(fd[0]);
    while (waitpid(pid, &c->status, 0) < 0)
        assert_int_equal(errno, EINTR);
}

int wbt_exited(const struct wbt_child *c, int code)
{
    return WIFEXITED(c->status) && WEXITSTATUS(c->status) == code;
}

int wbt_killed_by(const struct wbt_child *c, int sig)
{
    return WIFSIGNALED(c->status) && WTERMSIG(c->status) == sig;
}

static void exec_self(void *test)
{
    setenv(WBT_CHILD_VAR, test, 1);
    execl("/proc/self/exe", program_invocation_name, (char *)NULL);
    fprintf(stderr, "exec /proc/self/exe: %s\n", strerror(errno));
    _exit(127);
}

int wbt_respawn(const char *test, const char *const *env)
{
    const char *only = getenv(WBT_CHILD_VAR);
    struct wbt_child *c;
    char run_line[256];

    if (only != NULL && strcmp(only, test) == 0)
        return 0;
    c = malloc(sizeof *c);
    assert_non_null(c);
    wbt_fork(c, env, exec_self, (void *)test);
    if (!wbt_exited(c, 0)) {
        fprintf(stderr, "%s in a fresh process (status 0x%x):\n%s\n", test, c->status, c->out);
        free(c);
        fail_msg("%s failed in its fresh process", test);
    }
    /* The filter names the caller: called from a helper, the fresh process runs no test. */
    snprintf(run_line, sizeof run_line, "[ RUN      ] %s\n", test);
    if (strstr(c->out, run_line) == NULL) {
        free(c);
        fail_msg("no test named %s ran in the fresh process (WBT_FRESH_PROCESS outside a test?)", test);
    }
    free(c);
    return 1;
}

__attribute__((noinline)) void wbt_scrub_stack(void)
{
    char junk[16384];

    explicit_bzero(junk, sizeof junk);
    /* Caller-saved registers and the vector registers memcpy and friends use. */
    __asm__ volatile("xor %%eax, %%eax\n\txor %%ecx, %%ecx\n\txor %%edx, %%edx\n\t"
                     "xor %%esi, %%esi\n\txor %%edi, %%edi\n\txor %%r8d, %%r8d\n\t"
                     "xor %%r9d, %%r9d\n\txor %%r10d, %%r10d\n\txor %%r11d, %%r11d\n\t"
                     "pxor %%xmm0, %%xmm0\n\tpxor %%xmm1, %%xmm1\n\tpxor %%xmm2, %%xmm2\n\t"
                     "pxor %%xmm3, %%xmm3\n\tpxor %%xmm4, %%xmm4\n\tpxor %%xmm5, %%xmm5\n\t"
                     "pxor %%xmm6, %%xmm6\n\tpxor %%xmm7, %%xmm7\n\tpxor %%xmm8, %%xmm8\n\t"
                     "pxor %%xmm9, %%xmm9\n\tpxor %%xmm10, %%xmm10\n\tpxor %%xmm11, %%xmm11\n\t"
                     "pxor %%xmm12, %%xmm12\n\tpxor %%xmm13, %%xmm13\n\tpxor %%xmm14, %%xmm14\n\t"
                     "pxor %%xmm15, %%xmm15"
                     ::: "rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11",
                         "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7",
                         "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14",
                         "xmm15", "memory");
}

__attribute__((noinline)) wbt_hidden wbt_store_new(void *holder, void **slot, size_t n, uint64_t seed)
{
    void *p = wb_malloc(n);

    assert_non_null(p);
    wbt_fill(p, n, seed);
    if (holder != NULL)
        wb_store(holder, slot, p);
    else
        *slot = p;
    return wbt_hide(p);
}

__attribute__((noinline)) wbt_hidden wbt_garbage(size_t n, uint64_t seed)
{
    void *unused;

    return wbt_store_new(NULL, &unused, n, seed);
}

__attribute__((noinline)) void wbt_assert_live(wbt_hidden h, size_t n, uint64_t seed)
{
    void *p = wbt_reveal(h);

    assert_ptr_equal(wb_base(p), p);
    assert_true(wbt_intact(p, n, seed));
}

__attribute__((noinline)) void wbt_churn(size_t n, int count)
{
    for (int i = 0; i < count; i++) {
        void *p = wb_malloc(n);
        assert_non_null(p);
        memset(p, 0xee, n);
    }
}

void wbt_await_collections(int *collections, int n)
{
    int seen = __atomic_load_n(collections, __ATOMIC_ACQUIRE);

    while (__atomic_load_n(collections, __ATOMIC_ACQUIRE) < seen + n)
        sched_yield();
}

void wbt_assert_reclaimed(const wbt_hidden *h, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (wb_base(wbt_reveal(h[i])) != NULL)
            fail_msg("object %zu of %zu, at %p, survived the collection", i, n, wbt_reveal(h[i]));
}

/* Word i of the payload: xorshift of (seed, i), top bit set so that it is a
 * non-canonical address and can never keep a heap object alive. */
static uint64_t payload_word(uint64_t seed, size_t i)
{
    uint64_t x = seed * 0x9e3779b97f4a7c15u + i + 1;

    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x | (1ull << 63);
}

void wbt_fill(void *p, size_t n, uint64_t seed)
{
    unsigned char *b = p;

    for (size_t i = 0; i < n; i += 8) {
        uint64_t w = payload_word(seed, i / 8);
        memcpy(b + i, &w, n - i < 8 ? n - i : 8);
    }
}

int wbt_intact(const void *p, size_t n, uint64_t seed)
{
    const unsigned char *b = p;

    for (size_t i = 0; i < n; i += 8) {
        uint64_t w = payload_word(seed, i / 8);
        if (memcmp(b + i, &w, n - i < 8 ? n - i : 8) != 0)
            return 0;
    }
    return 1;
}

int wbt_remove_tree(const char *dir)
{
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void *collector_loop(void *arg)
{
    struct wbt_collector *c = arg;

    while (!__atomic_load_n(&c->stop, __ATOMIC_ACQUIRE)) {
        wb_collect(c->kind);
        __atomic_add_fetch(&c->count, 1, __ATOMIC_RELEASE);
        sched_yield();   /* lets the mutators at the heap lock between collections */
    }
    return NULL;
}

void wbt_collector_start(struct wbt_collector *c, int kind)
{
    c->kind = kind;
    c->stop = 0;
    c->count = 0;
    assert_int_equal(pthread_create(&c->thread, NULL, collector_loop, c), 0);
}

void wbt_collector_stop(struct wbt_collector *c)
{
    __atomic_store_n(&c->stop, 1, __ATOMIC_RELEASE);
    assert_int_equal(pthread_join(c->thread, NULL), 0);
}

/* The first field of /proc/self/task/<tid>/syscall: the call's number, or -1 ("running"). */
static long current_syscall(pid_t tid)
{
    char path[64], buf[64] = "";
    FILE *f;
    long nr = -1;

    snprintf(path, sizeof path, "/proc/self/task/%d/syscall", (int)tid);
    f = fopen(path, "r");
    assert_non_null(f);
    if (fgets(buf, sizeof buf, f) != NULL && sscanf(buf, "%ld", &nr) != 1)
        nr = -1;
    fclose(f);
    return nr;
}

void wbt_await_syscall(pid_t tid, const long *nrs)
{
    for (;;) {
        long nr = current_syscall(tid);
        for (const long *p = nrs; *p >= 0; p++)
            if (nr == *p)
                return;
        sched_yield();
    }
}

size_t wbt_status_kib(const char *name)
{
    char line[256];
    size_t n = strlen(name), kib = 0;
    int found = 0;
    FILE *f = fopen("/proc/self/status", "re");

    assert_non_null(f);
    while (!found && fgets(line, sizeof line, f))
        found = strncmp(line, name, n) == 0 && line[n] == ':' && sscanf(line + n + 1, "%zu kB", &kib) == 1;
    fclose(f);
    assert_true(found);
    return kib;
}
