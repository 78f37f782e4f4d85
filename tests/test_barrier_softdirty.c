/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The softdirty barrier: pagemap decoding on constructed entries; the pagemap and
 * clear_refs files and the probe's reasons on this kernel; harvest's fallbacks (read or
 * clear failing, fork) on any kernel; and, where soft-dirty works, the backend end to end. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

#include "barrier.h"
#include "dirty_map.h"
#include "pagemap.h"
#include "wbt.h"

/* Backend internal (barrier/softdirty.c). */
void softdirty_test_mode(bool attach_unchecked, bool use_pread);

#define PG WB_PAGE_SIZE
#define SD PAGEMAP_SOFT_DIRTY
#define BASE ((uintptr_t)0x7f1234560000)
#define NO_SD "kernel built without CONFIG_MEM_SOFT_DIRTY (pagemap bit 55 stays clear after a write)"

/* ---- decoding ---- */

#define MAX_RUNS 600

struct runs {
    size_t n;
    uintptr_t start[MAX_RUNS], end[MAX_RUNS];
};

static void record(void *ctx, uintptr_t start, uintptr_t end)
{
    struct runs *r = ctx;
    assert_true(r->n < MAX_RUNS);
    r->start[r->n] = start;
    r->end[r->n] = end;
    r->n++;
}

/* The runs of entries[0..n) are exactly these page ranges [from, to). */
static void expect_runs(const uint64_t *entries, size_t n, const size_t (*want)[2], size_t nwant)
{
    static struct runs r;
    r.n = 0;
    pagemap_soft_dirty_runs(entries, n, BASE, record, &r);
    assert_int_equal(r.n, nwant);
    for (size_t i = 0; i < nwant; i++) {
        assert_int_equal(r.start[i], BASE + want[i][0] * PG);
        assert_int_equal(r.end[i], BASE + want[i][1] * PG);
    }
}

static void test_no_bit_55(void **state)
{
    (void)state;
    uint64_t e[130] = {SD};             /* n = 0 reads nothing */
    expect_runs(e, 0, NULL, 0);
    for (size_t i = 0; i < 130; i++)
        e[i] = ~SD;                     /* present, swapped, file, exclusive, uffd-wp, pfn */
    expect_runs(e, 130, NULL, 0);
    for (size_t i = 0; i < 130; i++)
        e[i] = (uint64_t)1 << 63 | (uint64_t)1 << 56 | (0x123456 + i);
    expect_runs(e, 130, NULL, 0);
}

static void test_all_bit_55(void **state)
{
    (void)state;
    uint64_t e[130];
    for (size_t i = 0; i < 130; i++)
        e[i] = SD | (i % 2 ? ~(uint64_t)0 : 0);
    expect_runs(e, 130, (const size_t[][2]){{0, 130}}, 1);
    expect_runs(e, 1, (const size_t[][2]){{0, 1}}, 1);
}

static void test_runs(void **state)
{
    (void)state;
    uint64_t e[256];
    for (size_t i = 0; i < 256; i++)
        e[i] = (uint64_t)1 << 63 | (uint64_t)1 << 56 | (uint64_t)1 << 57 | (i << 3);
    /* first page, a run across the 64-page word boundary, one across 128, one alone, last */
    const size_t set[] = {0, 62, 63, 64, 65, 127, 128, 200, 255};
    for (size_t i = 0; i < sizeof set / sizeof set[0]; i++)
        e[set[i]] |= SD;
    expect_runs(e, 256, (const size_t[][2]){{0, 1}, {62, 66}, {127, 129}, {200, 201}, {255, 256}}, 5);
    /* the same minus the first and last entries: runs end where the buffer does */
    expect_runs(e + 1, 254, (const size_t[][2]){{61, 65}, {126, 128}, {199, 200}}, 3);
}

/* Pseudo-random entries against runs found by comparing each entry with the previous. */
static void test_random_runs(void **state)
{
    (void)state;
    enum { N = 1000 };
    static uint64_t e[N];
    static size_t want[MAX_RUNS][2];
    uint64_t x = 0x9e3779b97f4a7c15ULL;
    size_t nwant = 0;
    bool prev = false;
    for (size_t i = 0; i < N; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        bool dirty = (x >> 60) < 7;     /* runs of a few pages, mostly */
        e[i] = (x & ~SD) | (dirty ? SD : 0);
        if (dirty && !prev)
            want[nwant][0] = i, nwant++;
        if (!dirty && prev)
            want[nwant - 1][1] = i;
        prev = dirty;
    }
    if (prev)
        want[nwant - 1][1] = N;
    assert_true(nwant > 100);
    expect_runs(e, N, (const size_t(*)[2])want, nwant);
}

/* ---- the kernel files and the probe ---- */

/* fn passes in a child whose output is exactly out. */
static void expect_child(void (*fn)(void *), void *arg, const char *out)
{
    struct wbt_child c;
    wbt_fork(&c, NULL, fn, arg);
    assert_true(wbt_exited(&c, 0));
    assert_string_equal(c.out, out);
}

static void test_pagemap_read(void **state)
{
    (void)state;
    enum { N = 300 };
    static uint64_t e[N];
    char *p = mmap(NULL, N * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(p != MAP_FAILED);
    madvise(p, N * PG, MADV_NOHUGEPAGE);
    for (size_t i = 0; i < N; i++)
        if (i % 3 == 0 || i == 1 || i == N - 1)
            p[i * PG] = 1;
    int fd = pagemap_open(true);
    assert_true(fd >= 0);
    assert_int_equal(pagemap_read(fd, (uintptr_t)p, e, N), 0);
    for (size_t i = 0; i < N; i++)
        assert_int_equal(e[i] >> 63, i % 3 == 0 || i == 1 || i == N - 1);
    assert_int_equal(pagemap_read(fd, (uintptr_t)p + 100 * PG, e, 7), 0);
    for (size_t i = 0; i < 7; i++)
        assert_int_equal(e[i] >> 63, (100 + i) % 3 == 0);
    /* Past the end of the address space the file ends: a short read. */
    errno = 0;
    assert_int_equal(pagemap_read(fd, (uintptr_t)1 << 62, e, 2), -1);
    assert_int_equal(errno, EIO);
    close(fd);
    munmap(p, N * PG);
}

/* What /proc/config.gz says of CONFIG_MEM_SOFT_DIRTY: 1 set, 0 not set, -1 unknown. */
static int config_gz_soft_dirty(void)
{
    char line[128];
    int verdict = -1;
    if (access("/proc/config.gz", R_OK) != 0)
        return -1;
    FILE *f = popen("zcat /proc/config.gz 2>/dev/null | grep -E '^(# )?CONFIG_MEM_SOFT_DIRTY[ =]'", "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (strcmp(line, "CONFIG_MEM_SOFT_DIRTY=y\n") == 0)
            verdict = 1;
        else if (strcmp(line, "# CONFIG_MEM_SOFT_DIRTY is not set\n") == 0)
            verdict = 0;
    pclose(f);
    return verdict;
}

/* The probe against the flow done by hand, and against the kernel's config. */
static void test_probe(void **state)
{
    (void)state;
    char why[512] = "", path[128], line[128];
    uint64_t e;
    volatile char *p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(p != MAP_FAILED);
    int pm = pagemap_open(true), cr = clear_refs_open();
    assert_true(pm >= 0 && cr >= 0);
    p[0] = 1;
    assert_int_equal(clear_refs_soft_dirty(cr), 0);
    assert_int_equal(pagemap_read(pm, (uintptr_t)p, &e, 1), 0);
    assert_true(e >> 63);
    assert_false(e & SD);
    p[0] = 2;
    assert_int_equal(pagemap_read(pm, (uintptr_t)p, &e, 1), 0);
    bool works = e & SD;
    close(pm);
    close(cr);
    munmap((void *)p, PG);

    int rc = barrier_softdirty.probe(why, sizeof why);
    printf("softdirty probe: %s\n", rc == 0 ? "available" : why);
    assert_int_equal(rc == 0, works);
    int config = config_gz_soft_dirty();
    if (config >= 0)
        assert_int_equal(config, works);
    if (works)
        return;                         /* the reason below is for kernels without it */
    assert_int_equal(strncmp(why, NO_SD, strlen(NO_SD)), 0);
    struct utsname u;
    assert_int_equal(uname(&u), 0);
    snprintf(path, sizeof path, "/boot/config-%s", u.release);
    FILE *f = fopen(path, "re");
    bool confirmed = false;
    while (f && fgets(line, sizeof line, f))
        confirmed |= strcmp(line, "# CONFIG_MEM_SOFT_DIRTY is not set\n") == 0;
    if (f)
        fclose(f);
    if (confirmed) {
        char want[512];
        snprintf(want, sizeof want, NO_SD "; %s confirms: # CONFIG_MEM_SOFT_DIRTY is not set", path);
        assert_string_equal(why, want);
    } else {
        assert_string_equal(why, NO_SD);
    }
}

static void probe_not_dumpable(void *arg)
{
    (void)arg;
    char why[512];
    if (geteuid() == 0)                 /* dropping root makes the process not dumpable */
        assert_int_equal(setresgid(65534, 65534, 65534) | setresuid(65534, 65534, 65534), 0);
    assert_int_equal(prctl(PR_SET_DUMPABLE, 0), 0);
    assert_int_equal(barrier_softdirty.probe(why, sizeof why), -1);
    printf("%s\n", why);
}

static void test_probe_not_dumpable(void **state)
{
    (void)state;
    expect_child(probe_not_dumpable, NULL, "open /proc/self/pagemap: Permission denied (EACCES) "
                                           "(this process is not dumpable, so /proc/self is root's)\n");
}

static void probe_without_proc(void *arg)
{
    (void)arg;
    char why[512];
    if (unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
        umount2("/proc", MNT_DETACH) != 0)
        _exit(WBT_SKIP);
    assert_int_equal(barrier_softdirty.probe(why, sizeof why), -1);
    printf("%s\n", why);
}

static void test_probe_without_proc(void **state)
{
    (void)state;
    struct wbt_child c;
    wbt_fork(&c, NULL, probe_without_proc, NULL);
    if (wbt_exited(&c, WBT_SKIP))
        skip();                         /* needs root (a mount namespace) */
    assert_true(wbt_exited(&c, 0));
    assert_string_equal(c.out, "open /proc/self/pagemap: No such file or directory (ENOENT) "
                               "(/proc is not mounted)\n");
}

/* ---- the backend ---- */

#define HEAP_LEN ((size_t)64 << 20)
#define USED 1024

struct fx {
    char *heap;
    struct dirty_map dm;
    bool pread;                         /* the pread path rather than PAGEMAP_SCAN */
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    f->pread = *state != NULL;
    f->heap = mmap(NULL, HEAP_LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    assert_true(f->heap != MAP_FAILED);
    madvise(f->heap, HEAP_LEN, MADV_NOHUGEPAGE);
    assert_int_equal(dirty_map_init(&f->dm, (uintptr_t)f->heap, HEAP_LEN / PG), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    barrier_softdirty.detach();
    softdirty_test_mode(false, false);
    dirty_map_destroy(&f->dm);
    munmap(f->heap, HEAP_LEN);
    free(f);
    return 0;
}

static size_t harvest_pages(struct fx *f, size_t npages)
{
    return barrier_softdirty.harvest(&f->dm, f->heap, npages * PG);
}

/* Like the runtime: attach, fill the used pages, arm them, first harvest. */
static void start(struct fx *f)
{
    char why[512];
    softdirty_test_mode(false, f->pread);
    assert_int_equal(barrier_softdirty.attach(f->heap, HEAP_LEN, &f->dm, NULL, why, sizeof why), 0);
    barrier_softdirty.will_write(f->heap, USED * PG);
    for (size_t i = 0; i < USED; i++)
        f->heap[i * PG] = 1;
    barrier_softdirty.arm(f->heap, USED * PG);
    harvest_pages(f, USED);
    dirty_map_clear_range(&f->dm, 0, f->dm.npages);
}

/* Harvest of the used pages reports exactly these pages and returns their number. */
static void expect_exactly(struct fx *f, const size_t *pages, size_t n)
{
    assert_int_equal(harvest_pages(f, USED), n);
    assert_int_equal(dirty_map_count(&f->dm, f->dm.npages), n);
    for (size_t i = 0; i < n; i++)
        assert_true(dirty_map_test(&f->dm, pages[i]));
    dirty_map_clear_range(&f->dm, 0, f->dm.npages);
}

/* Pages [0, n) and no others are in the map. */
static void expect_prefix(struct fx *f, size_t n)
{
    assert_int_equal(dirty_map_count(&f->dm, f->dm.npages), n);
    assert_int_equal(dirty_map_next(&f->dm, 0, f->dm.npages), 0);
    assert_int_equal(dirty_map_next(&f->dm, n - 1, f->dm.npages), n - 1);
    dirty_map_clear_range(&f->dm, 0, f->dm.npages);
}

/* Attach on any kernel (where the check fails, harvest then reads no bit). */
static void attach_unchecked(struct fx *f)
{
    char why[512];
    softdirty_test_mode(true, f->pread);
    assert_int_equal(barrier_softdirty.attach(f->heap, HEAP_LEN, &f->dm, NULL, why, sizeof why), 0);
}

static void deny(long nr, int only_fds_above_2)
{
    struct sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nr, 0, 3),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])),
        BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, only_fds_above_2 ? 2 : 0, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EIO),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {sizeof filter / sizeof filter[0], filter};
    assert_int_equal(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), 0);
    assert_int_equal(prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog), 0);
}

/* Reads fail: each harvest reports every page of the range and of the pages armed
 * beyond it, and one line goes to stderr, once. */
static void read_fails(void *arg)
{
    struct fx *f = arg;
    attach_unchecked(f);
    barrier_softdirty.arm(f->heap + 10 * PG, 10 * PG);
    deny(SYS_pread64, 0);
    deny(SYS_ioctl, 0);
    assert_int_equal(harvest_pages(f, 5), 20);
    expect_prefix(f, 20);
    assert_int_equal(harvest_pages(f, 5), 20);
    expect_prefix(f, 20);
}

static void test_read_fails(void **state)
{
    expect_child(read_fails, *state, "wbrt: softdirty: reading /proc/self/pagemap: Input/output error (EIO); "
                                     "collections scan every page while this fails\n");
}

static void clear_fails(void *arg)
{
    struct fx *f = arg;
    attach_unchecked(f);
    deny(SYS_write, 1);                 /* not stderr */
    assert_int_equal(harvest_pages(f, 5), 5);
    expect_prefix(f, 5);
    assert_int_equal(harvest_pages(f, 7), 7);
    expect_prefix(f, 7);
}

static void test_clear_fails(void **state)
{
    expect_child(clear_fails, *state, "wbrt: softdirty: writing \"4\" to /proc/self/clear_refs: Input/output "
                                      "error (EIO); collections scan every page while this fails\n");
}

/* How many of this process's fds are open on /proc/<pid>/<name>. */
static int fds_on(pid_t pid, const char *name)
{
    char link[320], target[PATH_MAX], want[64];
    int n = 0;
    snprintf(want, sizeof want, "/proc/%d/%s", (int)pid, name);
    /* every descriptor: wbrt keeps its own above the soft RLIMIT_NOFILE (os_fd_aside) */
    DIR *d = opendir("/proc/self/fd");
    assert_non_null(d);
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        snprintf(link, sizeof link, "/proc/self/fd/%s", e->d_name);
        ssize_t len = readlink(link, target, sizeof target - 1);
        if (len > 0) {
            target[len] = '\0';
            n += strcmp(target, want) == 0;
        }
    }
    closedir(d);
    return n;
}

/* In a fork child (told so, as the runtime's fork handler does): the first harvest reports
 * everything (silently) and opens the child's own files; the next one is exact. */
static void after_fork(void *arg)
{
    struct fx *f = arg;
    barrier_softdirty.after_fork();
    assert_int_equal(harvest_pages(f, 8), 8);
    expect_prefix(f, 8);
    assert_int_equal(fds_on(getpid(), "pagemap"), 1);
    assert_int_equal(fds_on(getpid(), "clear_refs"), 1);
    assert_int_equal(fds_on(getppid(), "pagemap"), 0);
    assert_int_equal(fds_on(getppid(), "clear_refs"), 0);
    assert_int_equal(harvest_pages(f, 8), 0);
    assert_int_equal(dirty_map_count(&f->dm, f->dm.npages), 0);
}

static void test_fork_reopens(void **state)
{
    struct fx *f = *state;
    attach_unchecked(f);
    barrier_softdirty.arm(f->heap, 8 * PG);
    assert_int_equal(fds_on(getpid(), "pagemap"), 1);
    assert_int_equal(fds_on(getpid(), "clear_refs"), 1);
    expect_child(after_fork, f, "");
    /* The parent's files still work: nothing written, nothing reported. */
    assert_int_equal(harvest_pages(f, 8), 0);
    assert_int_equal(fds_on(getpid(), "pagemap"), 1);
}

/* Attached, the probe answers without clearing (that would lose the heap's bits). */
static void test_probe_attached(void **state)
{
    struct fx *f = *state;
    char why[512];
    int rc = barrier_softdirty.probe(why, sizeof why);
    attach_unchecked(f);
    assert_int_equal(fds_on(getpid(), "pagemap"), 1);
    assert_int_equal(barrier_softdirty.probe(why, sizeof why), 0);
    assert_int_equal(fds_on(getpid(), "pagemap"), 1);
    barrier_softdirty.detach();
    assert_int_equal(fds_on(getpid(), "pagemap"), 0);
    assert_int_equal(barrier_softdirty.probe(why, sizeof why), rc);
}

/* ---- end to end, where soft-dirty works ---- */

static void test_writes_reported(void **state)
{
    struct fx *f = *state;
    int p[2];
    start(f);
    expect_exactly(f, NULL, 0);
    const size_t pages[] = {0, 5, 63, 64, 65, 500, USED - 1};
    for (size_t i = 0; i < sizeof pages / sizeof pages[0]; i++)
        f->heap[pages[i] * PG + 17] = 3;
    expect_exactly(f, pages, sizeof pages / sizeof pages[0]);
    expect_exactly(f, NULL, 0);
    /* A kernel write: read(2) into the heap. */
    assert_int_equal(pipe(p), 0);
    assert_int_equal(write(p[1], "kernel", 6), 6);
    assert_int_equal(read(p[0], f->heap + 100 * PG + 8, 6), 6);
    close(p[0]);
    close(p[1]);
    expect_exactly(f, (const size_t[]){100}, 1);
}

/* Pages armed beyond the harvested range are reported too: the clear is global. */
static void test_armed_beyond_range(void **state)
{
    struct fx *f = *state;
    start(f);
    barrier_softdirty.arm(f->heap + 2000 * PG, 10 * PG);
    f->heap[2005 * PG] = 1;
    f->heap[3 * PG] = 1;
    assert_int_equal(harvest_pages(f, 5), 2);
    assert_true(dirty_map_test(&f->dm, 3) && dirty_map_test(&f->dm, 2005));
    assert_int_equal(dirty_map_count(&f->dm, f->dm.npages), 2);
}

static void child_writes(void *arg)
{
    struct fx *f = arg;
    barrier_softdirty.after_fork();
    assert_int_equal(harvest_pages(f, USED), USED);     /* everything, once */
    dirty_map_clear_range(&f->dm, 0, f->dm.npages);
    f->heap[9 * PG] = 1;
    expect_exactly(f, (const size_t[]){9}, 1);
}

/* The child's clears are its own: the parent still sees what it wrote before the fork. */
static void test_fork_keeps_parent_bits(void **state)
{
    struct fx *f = *state;
    start(f);
    f->heap[7 * PG] = 1;
    expect_child(child_writes, f, "");
    expect_exactly(f, (const size_t[]){7}, 1);
}

static void test_probe_keeps_bits(void **state)
{
    struct fx *f = *state;
    char why[512];
    start(f);
    f->heap[3 * PG] = 1;
    assert_int_equal(barrier_softdirty.probe(why, sizeof why), 0);
    expect_exactly(f, (const size_t[]){3}, 1);
}

#define WITH_FX(t, pread) cmocka_unit_test_prestate_setup_teardown(t, setup, teardown, (void *)(pread))

int main(void)
{
    const struct CMUnitTest decoding[] = {
        cmocka_unit_test(test_no_bit_55),
        cmocka_unit_test(test_all_bit_55),
        cmocka_unit_test(test_runs),
        cmocka_unit_test(test_random_runs),
    };
    const struct CMUnitTest kernel[] = {
        cmocka_unit_test(test_pagemap_read),
        cmocka_unit_test(test_probe),
        cmocka_unit_test(test_probe_not_dumpable),
        cmocka_unit_test(test_probe_without_proc),
    };
    const struct CMUnitTest fallbacks[] = {
        WITH_FX(test_read_fails, 0),
        WITH_FX(test_clear_fails, 0),
        WITH_FX(test_fork_reopens, 0),
        WITH_FX(test_probe_attached, 0),
    };
    const struct CMUnitTest backend[] = {
        WITH_FX(test_writes_reported, 0),
        WITH_FX(test_writes_reported, 1),
        WITH_FX(test_armed_beyond_range, 0),
        WITH_FX(test_armed_beyond_range, 1),
        WITH_FX(test_fork_keeps_parent_bits, 0),
        WITH_FX(test_fork_keeps_parent_bits, 1),
        WITH_FX(test_probe_keeps_bits, 0),
    };
    char why[512];
    int failed = cmocka_run_group_tests_name("softdirty decoding", decoding, NULL, NULL);
    failed += cmocka_run_group_tests_name("softdirty kernel files", kernel, NULL, NULL);
    failed += cmocka_run_group_tests_name("softdirty fallbacks", fallbacks, NULL, NULL);
    if (barrier_softdirty.probe(why, sizeof why) != 0)
        failed += wbt_unavailable("softdirty", why) != WBT_SKIP;
    else
        failed += cmocka_run_group_tests_name("softdirty", backend, NULL, NULL);
    return failed ? 1 : 0;
}
