/* Perm space: heap images saved, loaded copy-on-write as perm space, shared by processes,
 * perm->young pointers, global collection, and every kind of bad image.  Each step runs in
 * a fresh process of this program (fork + exec, the role in WBT_PERM_ROLE), since an image
 * loads only into a heap that has allocated nothing yet.
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include "wbt.h"

#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

enum { PERM_ROOTS_TESTED = 64, NODES = 2000, CUT = 1500, BIG = 64 * 1024, BIG_SLOT = 40 * 1024, YOUNG = 64 };

struct node {
    struct node *next;
    void *young;
    uint64_t id;
    uint64_t pay[3];
};

/* Header fields the tests tamper with (runtime/perm_image.h). */
enum { OFF_VERSION = 8, OFF_MACHINE = 12, OFF_BUILD_ID = 32, OFF_BASE = 64 };

static char dir[64];

/* In a role process (no cmocka there): a failed check prints where and exits 1. */
#define CHECK(c)                                                                      \
    do {                                                                              \
        if (!(c)) {                                                                   \
            printf("FAIL %s:%d: %s (%s)\n", __FILE__, __LINE__, #c, wb_last_error()); \
            exit(1);                                                                  \
        }                                                                             \
    } while (0)

static uint64_t pay(uint64_t id, int k) { return id * 0x9e3779b97f4a7c15ull + (uint64_t)k + 1; }

static __attribute__((noinline)) int node_ok(const struct node *n, uint64_t id)
{
    return n && n->id == id && n->pay[0] == pay(id, 0) && n->pay[1] == pay(id, 1) &&
           n->pay[2] == pay(id, 2) && wb_base(n) == n;
}

/* Fails unless the list from root 0 holds nodes 0..upto-1 intact (and ends there if cut). */
static __attribute__((noinline)) void check_list(int upto, int ends)
{
    const struct node *n = wb_perm_root(0);
    for (int i = 0; i < upto; i++, n = n->next)
        CHECK(node_ok(n, (uint64_t)i));
    CHECK(!ends || n == NULL);
}

/* The saver: a list of NODES small objects (garbage in between) and a large object. */
static __attribute__((noinline)) void build(void)
{
    struct node *head = NULL;
    for (int i = NODES - 1; i >= 0; i--) {
        struct node *n = wb_malloc(sizeof *n);
        CHECK(n);
        n->id = (uint64_t)i;
        for (int k = 0; k < 3; k++)
            n->pay[k] = pay((uint64_t)i, k);
        WB_STORE(n, next, head);
        head = n;
        wbt_garbage(sizeof *n, (uint64_t)i);
    }
    void *big = wb_malloc(BIG);
    CHECK(big);
    wbt_fill(big, BIG_SLOT, 7);
    CHECK(wb_perm_set_root(0, head) == 0 && wb_perm_set_root(1, big) == 0);
}

static int role_save(const char *path)
{
    build();
    wbt_scrub_stack();
    wb_collect(WB_COLLECT_FULL);
    check_list(NODES, 1);       /* the image roots are roots here too */
    CHECK(wb_perm_save(path) == 0);
    check_list(NODES, 1);
    return 0;
}

/* perm->young: young objects reachable only from perm objects (every 10th node, and a
 * slot of the large object) survive young and full collections. */
static __attribute__((noinline)) void store_young(void)
{
    struct node *n = wb_perm_root(0);
    for (int i = 0; n; i++, n = n->next)
        if (i % 10 == 0) {
            void *y = wb_malloc(YOUNG);
            CHECK(y);
            wbt_fill(y, YOUNG, (uint64_t)i);
            WB_STORE(n, young, y);
        }
    char *big = wb_perm_root(1);
    void *y = wb_malloc(YOUNG);
    CHECK(y);
    wbt_fill(y, YOUNG, 99);
    wb_store(big, (void **)(big + BIG_SLOT), y);
}

static __attribute__((noinline)) void check_young(void)
{
    const struct node *n = wb_perm_root(0);
    for (int i = 0; n; i++, n = n->next)
        if (i % 10 == 0)
            CHECK(n->young && wb_base(n->young) == n->young && wbt_intact(n->young, YOUNG, (uint64_t)i));
    char *big = wb_perm_root(1);
    void *y = *(void **)(big + BIG_SLOT);
    CHECK(wb_base(y) == y && wbt_intact(y, YOUNG, 99));
}

static int role_young(void)
{
    check_list(NODES, 1);
    CHECK(wbt_intact(wb_perm_root(1), BIG_SLOT, 7));
    store_young();
    wbt_scrub_stack();
    for (int r = 0; r < 3; r++) {
        wbt_churn(YOUNG, 20000);
        wb_collect(WB_COLLECT_YOUNG);
        check_young();
    }
    wb_collect(WB_COLLECT_FULL);
    wbt_churn(YOUNG, 20000);
    wb_collect(WB_COLLECT_YOUNG);
    check_young();
    check_list(NODES, 1);
    return 0;
}

/* Cuts the list after CUT nodes and drops the large object; returns the dropped nodes
 * and the large object, hidden, in h (NODES - CUT + 1 entries). */
static __attribute__((noinline)) void cut(wbt_hidden *h)
{
    struct node *n = wb_perm_root(0);
    for (int i = 0; i < CUT - 1; i++)
        n = n->next;
    struct node *rest = n->next;
    WB_STORE(n, next, NULL);
    for (int i = 0; rest; i++, rest = rest->next)
        h[i] = wbt_hide(rest);
    h[NODES - CUT] = wbt_hide(wb_perm_root(1));
    wb_perm_set_root(1, NULL);
}

static __attribute__((noinline)) int count_live(const wbt_hidden *h, int n)
{
    int live = 0;
    for (int i = 0; i < n; i++)
        live += wb_base(wbt_reveal(h[i])) == wbt_reveal(h[i]);
    return live;
}

/* No new object lands on a freed perm object (perm pages are never reused). */
static __attribute__((noinline)) void check_not_reused(const wbt_hidden *h, int n)
{
    for (int i = 0; i < 20000; i++) {
        void *p = wb_malloc(sizeof(struct node));
        CHECK(p);
        for (int k = 0; k < n; k++)
            CHECK(p != wbt_reveal(h[k]));
    }
}

static int role_global(void)
{
    int dropped = NODES - CUT + 1;
    wbt_hidden *h = calloc((size_t)dropped, sizeof *h);   /* malloc memory is no root */
    CHECK(h);
    cut(h);
    wbt_scrub_stack();
    wb_collect(WB_COLLECT_FULL);
    wb_collect(WB_COLLECT_YOUNG);
    CHECK(count_live(h, dropped) == dropped);     /* only a global collection frees perm objects */
    wbt_scrub_stack();
    wb_collect(WB_COLLECT_GLOBAL);
    CHECK(count_live(h, dropped) == 0);
    check_list(CUT, 1);
    check_not_reused(h, dropped);
    wb_collect(WB_COLLECT_GLOBAL);
    check_list(CUT, 1);
    free(h);
    return 0;
}

/* Pagemap bit 61: a file page (still shared with the file), not a private copy. */
static int file_page(const void *p)
{
    uint64_t e = 0;
    int fd = open("/proc/self/pagemap", O_RDONLY);
    CHECK(fd >= 0 && pread(fd, &e, 8, (off_t)((uintptr_t)p / 4096 * 8)) == 8);
    close(fd);
    CHECK(e >> 63);             /* present */
    return (e >> 61) & 1;
}

static __attribute__((noinline)) const struct node *last_node(void)
{
    const struct node *n = wb_perm_root(0);
    while (n->next)
        n = n->next;
    return n;
}

/* Two processes with the image at once: each sees its own writes only.  sync is
 * "in,out" fds: the role writes a byte when it has written, and waits for one. */
static int role_share(const char *who)
{
    int in, out;
    alarm(60);      /* if the other one died, do not wait for it forever */
    CHECK(sscanf(getenv("WBT_PERM_SYNC"), "%d,%d", &in, &out) == 2);
    struct node *n = wb_perm_root(0);
    char go;
    CHECK(node_ok(n, 0));
    if (strcmp(who, "b") == 0)
        CHECK(read(in, &go, 1) == 1);           /* a has written by now */
    CHECK(n->pay[0] == pay(0, 0));              /* a's write is not visible here */
    n->pay[0] = who[0];
    WB_STORE(n, young, wb_malloc(YOUNG));
    wb_collect(WB_COLLECT_YOUNG);
    CHECK(write(out, "w", 1) == 1);
    if (strcmp(who, "a") == 0)
        CHECK(read(in, &go, 1) == 1);           /* b has written by now */
    CHECK(n->pay[0] == (uint64_t)who[0]);       /* and b's write is not visible here */
    CHECK(wb_base(n->young) == n->young);
    const struct node *far = last_node();      /* on the first page of the image, never written */
    CHECK(node_ok(far, NODES - 1) && file_page(far) && !file_page(n));
    return 0;
}

/* Loads with wb_perm_load after wb_init (or fails at wb_init with WBRT_IMAGE): prints the
 * outcome for the parent to check, and checks the heap is still usable after a refusal. */
/* An explicit free of a perm object (the large one): gone, and its pages never reused. */
static __attribute__((noinline)) void free_big(void)
{
    wbt_hidden big = wbt_hide(wb_perm_root(1));
    wb_perm_set_root(1, NULL);
    wb_free(wbt_reveal(big));
    CHECK(wb_base(wbt_reveal(big)) == NULL);
    for (int i = 0; i < 64; i++) {
        void *p = wb_malloc(BIG);
        CHECK(p && p != wbt_reveal(big));
    }
    wb_collect(WB_COLLECT_GLOBAL);
    check_list(NODES, 1);
}

static int role_load(const char *path, const char *how)
{
    if (strcmp(how, "taken") == 0) {
        /* Something else where the image's heap must go: read the base from the header. */
        uint64_t base;
        int fd = open(path, O_RDONLY);
        CHECK(fd >= 0 && pread(fd, &base, 8, OFF_BASE) == 8);
        close(fd);
        CHECK(mmap((void *)(uintptr_t)(base + 8 * 4096), 4096, PROT_READ,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0) != MAP_FAILED);
    }
    if (wb_init(NULL) != 0) {
        printf("init: errno %d: %s\n", errno, wb_last_error());
        return 3;
    }
    if (strcmp(how, "late") == 0)
        CHECK(wb_malloc(16));
    int rc = wb_perm_load(path);
    printf("load: %d errno %d: %s\n", rc, rc ? errno : 0, rc ? wb_last_error() : "");
    if (rc == 0) {
        check_list(NODES, 1);
        free_big();
    }
    void *p = wb_malloc(100);                   /* usable whatever happened */
    CHECK(p && wb_base(p) == p);
    return 0;
}

static int role_main(const char *role)
{
    const char *path = getenv("WBT_PERM_FILE");
    if (strcmp(role, "load") == 0)
        return role_load(path, getenv("WBT_PERM_HOW"));
    wbt_init();                 /* WBRT_IMAGE, if set, loads the image here */
    if (strcmp(role, "save") == 0)
        return role_save(path);
    if (strcmp(role, "young") == 0)
        return role_young();
    if (strcmp(role, "global") == 0)
        return role_global();
    return role_share(getenv("WBT_PERM_WHO"));
}

/* ---- the parent side ---- */

static void exec_role(void *role)
{
    setenv("WBT_PERM_ROLE", role, 1);
    execl("/proc/self/exe", program_invocation_name, (char *)NULL);
    _exit(127);
}

static void path_of(char *buf, size_t n, const char *name)
{
    snprintf(buf, n, "%s/%s", dir, name);
}

/* Runs role with env (NULL-terminated, at most 6); fails unless it exits with code. */
static void run(struct wbt_child *c, const char *role, int code, const char *const *env)
{
    wbt_fork(c, env, exec_role, (void *)role);
    if (!wbt_exited(c, code))
        fail_msg("role %s: status %#x, expected exit %d; output:\n%s", role, c->status, code, c->out);
}

static void save_image(const char *path)
{
    static struct wbt_child c;
    char file[200];
    snprintf(file, sizeof file, "WBT_PERM_FILE=%s", path);
    run(&c, "save", 0, (const char *const[]){file, NULL});
}

/* The file's bytes (malloc'd), *len its size. */
static char *slurp(const char *path, size_t *len)
{
    struct stat st;
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(fstat(fd, &st), 0);
    char *b = malloc((size_t)st.st_size + 1);
    assert_non_null(b);
    assert_int_equal(pread(fd, b, (size_t)st.st_size, 0), st.st_size);
    close(fd);
    *len = (size_t)st.st_size;
    return b;
}

static void spit(const char *path, const char *b, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, b, len), (ssize_t)len);
    close(fd);
}

static void assert_same_file(const char *path, const char *b, size_t len)
{
    size_t n;
    char *now = slurp(path, &n);
    assert_int_equal(n, len);
    assert_memory_equal(now, b, len);
    free(now);
}

/* Saves an image, runs role on it (WBRT_IMAGE), and checks the role's writes into perm
 * objects stayed private: the file is byte for byte what was saved. */
static void role_on_image(const char *role, const char *name)
{
    static struct wbt_child c;
    char path[128], image[160];
    path_of(path, sizeof path, name);
    save_image(path);
    size_t len;
    char *before = slurp(path, &len);
    snprintf(image, sizeof image, "WBRT_IMAGE=%s", path);
    run(&c, role, 0, (const char *const[]){image, NULL});
    assert_same_file(path, before, len);
    free(before);
}

static void test_gen_perm_young(void **state)
{
    (void)state;
    role_on_image("young", "young.img");
}

static void test_gen_perm_global(void **state)
{
    (void)state;
    role_on_image("global", "global.img");
}

struct sharer {
    struct wbt_child c;
    const char *env[5];
    char sync[32], image[160];
};

static void *share_child(void *arg)
{
    struct sharer *s = arg;
    wbt_fork(&s->c, s->env, exec_role, (void *)"share");
    return NULL;
}

static void test_gen_perm_two_processes(void **state)
{
    (void)state;
    static struct sharer s[2];
    char path[128];
    int a_to_b[2], b_to_a[2];
    path_of(path, sizeof path, "shared.img");
    save_image(path);
    size_t len;
    char *before = slurp(path, &len);
    assert_int_equal(pipe(a_to_b), 0);
    assert_int_equal(pipe(b_to_a), 0);
    for (int i = 0; i < 2; i++) {
        snprintf(s[i].image, sizeof s[i].image, "WBRT_IMAGE=%s", path);
        snprintf(s[i].sync, sizeof s[i].sync, "WBT_PERM_SYNC=%d,%d", i ? a_to_b[0] : b_to_a[0],
                 i ? b_to_a[1] : a_to_b[1]);
        s[i].env[0] = s[i].image;
        s[i].env[1] = s[i].sync;
        s[i].env[2] = i ? "WBT_PERM_WHO=b" : "WBT_PERM_WHO=a";
    }
    /* wbt_fork waits for its child: one thread per child so that both run at once. */
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&t[i], NULL, share_child, &s[i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < 2; i++) {
        if (!wbt_exited(&s[i].c, 0))
            fail_msg("sharer %c: status %#x; output:\n%s", 'a' + i, s[i].c.status, s[i].c.out);
    }
    for (int i = 0; i < 2; i++) {
        close(a_to_b[i]);
        close(b_to_a[i]);
    }
    assert_same_file(path, before, len);
    free(before);
}

/* A copy of the good image changed by edit, loaded both ways: each must fail with errno
 * err and a message naming the file and containing what; the file stays as it was. */
static void expect_refused(const char *name, const char *good, void (*edit)(char *b, size_t *len),
                           int err, const char *what)
{
    static struct wbt_child c;
    char path[128], file[160], image[160], want[64];
    size_t len;
    char *b = slurp(good, &len);
    path_of(path, sizeof path, name);
    if (edit) {
        edit(b, &len);
        spit(path, b, len);
    }
    snprintf(file, sizeof file, "WBT_PERM_FILE=%s", path);
    snprintf(image, sizeof image, "WBRT_IMAGE=%s", path);
    run(&c, "load", 0, (const char *const[]){file, "WBT_PERM_HOW=api", NULL});
    snprintf(want, sizeof want, "load: -1 errno %d: wb_perm_load: ", err);
    if (!strstr(c.out, want) || !strstr(c.out, path) || !strstr(c.out, what))
        fail_msg("%s: expected \"%s%s: ...%s\", got:\n%s", name, want, path, what, c.out);
    run(&c, "load", 3, (const char *const[]){file, image, "WBT_PERM_HOW=api", NULL});
    snprintf(want, sizeof want, "init: errno %d: wb_init: WBRT_IMAGE=", err);
    if (!strstr(c.out, want) || !strstr(c.out, path) || !strstr(c.out, what))
        fail_msg("%s at wb_init: expected \"%s%s: ...%s\", got:\n%s", name, want, path, what, c.out);
    if (edit)
        assert_same_file(path, b, len);
    free(b);
}

static void cut_tail(char *b, size_t *len) { (void)b; *len -= 4096; }
static void cut_header(char *b, size_t *len) { (void)b; *len = 100; }
static void flip_page_byte(char *b, size_t *len) { b[*len - 3000] ^= 0x40; }
static void bad_version(char *b, size_t *len) { (void)len; b[OFF_VERSION] = 99; }
static void bad_machine(char *b, size_t *len) { (void)len; b[OFF_MACHINE] = (char)183; /* aarch64 */ }
static void bad_build(char *b, size_t *len) { (void)len; b[OFF_BUILD_ID] ^= 1; }
static void bad_magic(char *b, size_t *len) { (void)len; b[0] = 'X'; }

static void test_gen_perm_bad_images(void **state)
{
    (void)state;
    char good[128];
    path_of(good, sizeof good, "good.img");
    save_image(good);
    expect_refused("truncated.img", good, cut_tail, EINVAL, "truncated");
    expect_refused("header.img", good, cut_header, EINVAL, "truncated");
    expect_refused("corrupt.img", good, flip_page_byte, EINVAL, "checksum");
    expect_refused("version.img", good, bad_version, EINVAL, "format version 99");
    expect_refused("arch.img", good, bad_machine, EINVAL, "another architecture");
    expect_refused("build.img", good, bad_build, EINVAL, "another build");
    expect_refused("magic.img", good, bad_magic, EINVAL, "not a wbrt heap image");
    expect_refused("missing.img", good, NULL, ENOENT, "cannot open");
    /* a directory opens for reading but is no image */
    char sub[128];
    path_of(sub, sizeof sub, "dir.img");
    assert_int_equal(mkdir(sub, 0755), 0);
    expect_refused("dir.img", good, NULL, EINVAL, "not a regular file");
    if (geteuid() != 0) {       /* root reads anything */
        char locked[128];
        path_of(locked, sizeof locked, "locked.img");
        size_t len;
        char *b = slurp(good, &len);
        spit(locked, b, len);
        free(b);
        assert_int_equal(chmod(locked, 0), 0);
        expect_refused("locked.img", good, NULL, EACCES, "cannot open");
    }
}

/* A good image the process cannot take: after an allocation, or with its range taken. */
static void test_gen_perm_refused(void **state)
{
    (void)state;
    static struct wbt_child c;
    char good[128], file[160];
    path_of(good, sizeof good, "good2.img");
    save_image(good);
    snprintf(file, sizeof file, "WBT_PERM_FILE=%s", good);
    run(&c, "load", 0, (const char *const[]){file, "WBT_PERM_HOW=api", NULL});
    if (!strstr(c.out, "load: 0 errno 0"))
        fail_msg("a good image: %s", c.out);
    run(&c, "load", 0, (const char *const[]){file, "WBT_PERM_HOW=late", NULL});
    if (!strstr(c.out, "load: -1 errno 16: wb_perm_load: ") || !strstr(c.out, "allocated already"))
        fail_msg("after an allocation: %s", c.out);
    run(&c, "load", 0, (const char *const[]){file, "WBT_PERM_HOW=taken", NULL});
    if (!strstr(c.out, "load: -1 errno 17: wb_perm_load: ") || !strstr(c.out, "is taken"))
        fail_msg("range taken: %s", c.out);
    /* Roots out of range. */
    errno = 0;
    assert_null(wb_perm_root(PERM_ROOTS_TESTED));
    assert_int_equal(errno, EINVAL);
    assert_int_equal(wb_perm_set_root(-1, NULL), -1);
    assert_int_equal(errno, EINVAL);
}

static int cleanup(void **state)
{
    (void)state;
    return wbt_remove_tree(dir);
}

int main(void)
{
    const char *role = getenv("WBT_PERM_ROLE");
    if (role)
        return role_main(role);
    wbt_init();     /* skips if the forced barrier is unavailable here */
    snprintf(dir, sizeof dir, "/tmp/wbt-perm-XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gen_perm_young),
        cmocka_unit_test(test_gen_perm_global),
        cmocka_unit_test(test_gen_perm_two_processes),
        cmocka_unit_test(test_gen_perm_bad_images),
        cmocka_unit_test(test_gen_perm_refused),
    };
    return cmocka_run_group_tests(tests, NULL, cleanup);
}
