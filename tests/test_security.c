/* Files wbrt writes for the program (docs/testing.md, "Security and checkers"): a heap image is created 0600
 * whatever the umask, and a symlink planted at its name or at its temporary name is never
 * written through: the victim file stays intact, and where the save cannot go on the
 * error says so.
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include "wbt.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64], victim[128];

static void path_of(char *out, size_t len, const char *name)
{
    snprintf(out, len, "%s/%s", dir, name);
}

static void victim_intact(void)
{
    char buf[32] = "";
    FILE *f = fopen(victim, "r");
    assert_non_null(f);
    assert_non_null(fgets(buf, sizeof buf, f));
    fclose(f);
    assert_string_equal(buf, "precious\n");
}

/* A live object, so that the image is not empty. */
static void keep_something(void)
{
    char *p = wb_malloc(64);
    assert_non_null(p);
    strcpy(p, "saved");
    assert_int_equal(wb_perm_set_root(0, p), 0);
}

static void test_image_mode(void **state)
{
    (void)state;
    char img[128];
    struct stat st;
    path_of(img, sizeof img, "mode.img");
    keep_something();
    mode_t old = umask(0);
    int rc = wb_perm_save(img);
    umask(old);
    assert_int_equal(rc, 0);
    assert_int_equal(lstat(img, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0600);
}

/* rename() replaces the link itself: the image is at the name, the victim untouched. */
static void test_image_symlink_at_name(void **state)
{
    (void)state;
    char img[128];
    struct stat st;
    path_of(img, sizeof img, "link.img");
    assert_int_equal(symlink(victim, img), 0);
    keep_something();
    assert_int_equal(wb_perm_save(img), 0);
    victim_intact();
    assert_int_equal(lstat(img, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0600);
}

/* The temporary name (path.tmp.PID.N) is predictable: links planted at every N a save of
 * this process can use make it fail, naming the file it could not create. */
static void test_image_symlink_at_temporary_name(void **state)
{
    (void)state;
    char img[128], tmp[192];
    path_of(img, sizeof img, "tmp.img");
    for (int n = 0; n < 16; n++) {
        snprintf(tmp, sizeof tmp, "%s.tmp.%d.%d", img, (int)getpid(), n);
        assert_int_equal(symlink(victim, tmp), 0);
    }
    keep_something();
    errno = 0;
    assert_int_equal(wb_perm_save(img), -1);
    assert_int_equal(errno, EEXIST);
    if (!strstr(wb_last_error(), "cannot create"))
        fail_msg("the error does not say what failed: %s", wb_last_error());
    victim_intact();
    assert_int_equal(access(img, F_OK), -1);
}

static int cleanup(void **state)
{
    (void)state;
    return wbt_remove_tree(dir);
}

int main(void)
{
    wbt_init();
    snprintf(dir, sizeof dir, "/tmp/wbt-security-XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    path_of(victim, sizeof victim, "victim");
    FILE *f = fopen(victim, "w");
    if (!f || fputs("precious\n", f) < 0 || fclose(f) != 0) {
        perror(victim);
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_image_mode),
        cmocka_unit_test(test_image_symlink_at_name),
        cmocka_unit_test(test_image_symlink_at_temporary_name),
    };
    return cmocka_run_group_tests(tests, NULL, cleanup);
}
