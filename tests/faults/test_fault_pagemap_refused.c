/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fault injection: PAGEMAP_SCAN unsupported.  A seccomp filter makes ioctl(PAGEMAP_SCAN)
 * fail with ENOTTY, which is what a kernel before 6.7 returns (its /proc/PID/pagemap has
 * no ioctl handler: vfs_ioctl answers -ENOTTY).
 *   at wb_init (auto): uffd-async must not be chosen; wb_init falls back to the next
 *         barrier with exactly one line on stderr naming PAGEMAP_SCAN and ENOTTY.
 *   after wb_init (uffd-async attached, then the ioctl starts failing): every harvest
 *         reports every page instead, with one line on stderr, and nothing is lost.
 * Both run the model-checked workload.
 *   a collector test (test_alloc, run from the same build directory) forced to uffd-async:
 *         skipped, naming PAGEMAP_SCAN, unless WBRT_TEST_BARRIERS lists uffd-async: then
 *         it fails, with the same reason (a broken barrier must not pass as a missing one).
 * Barrier-specific (uffd-async is the only user of
 * PAGEMAP_SCAN for its write barrier): runs once, not per barrier; skipped where
 * uffd-async is unavailable anyway. */
#include "fault_child.h"
#include "fault_seccomp.h"
#include "fault_workload.h"
#include "uapi_uffd.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Installs the filter and proves it bites: the ioctl itself must now fail with ENOTTY. */
static void refuse_pagemap_scan(void)
{
    const struct fault_deny rules[] = {{SYS_ioctl, (long)PAGEMAP_SCAN, ENOTTY}};
    if (fault_deny(rules, 1) != 0) {
        printf("SKIPPED: seccomp: %s\n", strerror(errno));
        exit(WBT_SKIP);
    }
    struct pm_scan_arg arg = {.size = sizeof arg};
    int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    errno = 0;
    assert_int_equal(ioctl(fd, PAGEMAP_SCAN, &arg), -1);
    assert_int_equal(errno, ENOTTY);
    close(fd);
}

static void workload(const char *test)
{
    fw_build(1024);
    for (unsigned r = 1; r <= 6; r++)
        fw_round(r);
    fw_finish();
    fw_report(test);
}

/* uffd-async works here without the filter, or the child skips. */
static void precondition(void *arg)
{
    (void)arg;
    wbt_init();
}

static void need_uffd_async(void)
{
    struct wbt_child c;
    fault_run(&c, (const char *const[]){"WBRT_BARRIER=uffd-async", NULL}, precondition, NULL);
}

static void at_init_child(void *arg)
{
    (void)arg;
    refuse_pagemap_scan();
    wbt_init();
    assert_string_not_equal(wb_barrier_name(), "uffd-async");
    printf("figures: PAGEMAP_SCAN refused at wb_init, using %s\n", wb_barrier_name());
    workload("figures: PAGEMAP_SCAN refused at wb_init");
}

static void test_refused_at_init(void **state)
{
    (void)state;
    struct wbt_child c;
    char line[1024], used[64];
    need_uffd_async();
    fault_run(&c, (const char *const[]){"WBRT_BARRIER=auto", "WBRT_VERIFY=1", NULL}, at_init_child, NULL);
    assert_int_equal(fault_lines(c.out, "wbrt:", line, sizeof line), 1);
    assert_int_equal(fault_lines(c.out, "", NULL, 0), 1 + fault_lines(c.out, "figures:", NULL, 0));
    const char *want = "wbrt: barrier uffd-async unavailable (PAGEMAP_SCAN on /proc/self/pagemap: "
                       "Inappropriate ioctl for device (ENOTTY)";
    assert_int_equal(strncmp(line, want, strlen(want)), 0);
    /* and it names the barrier used, the one the workload ran under */
    const char *using = strstr(line, "; using ");
    assert_non_null(using);
    assert_true(fault_lines(c.out, "figures: PAGEMAP_SCAN refused at wb_init, using ", used, sizeof used) == 1);
    assert_string_equal(using + strlen("; using "), used + strlen("figures: PAGEMAP_SCAN refused at wb_init, using "));
}

static void after_init_child(void *arg)
{
    (void)arg;
    wbt_init();
    assert_string_equal(wb_barrier_name(), "uffd-async");
    fw_build(1024);
    fw_round(1);                        /* one round with the ioctl working */
    refuse_pagemap_scan();
    for (unsigned r = 2; r <= 6; r++)
        fw_round(r);
    /* Every page of the heap in use counted as written by the last young collection: at
     * least the old objects (with the ioctl working, about half of them). */
    struct wb_stats s;
    wb_get_stats(&s);
    assert_true(s.dirty_pages_last >= 1024);
    printf("figures: dirty pages at the last young collection %llu\n", (unsigned long long)s.dirty_pages_last);
    fw_finish();
    fw_report("figures: PAGEMAP_SCAN refused after wb_init");
}

static void test_refused_after_init(void **state)
{
    (void)state;
    struct wbt_child c;
    char line[1024];
    need_uffd_async();
    fault_run(&c, (const char *const[]){"WBRT_BARRIER=uffd-async", "WBRT_VERIFY=1", NULL}, after_init_child, NULL);
    assert_int_equal(fault_lines(c.out, "wbrt:", line, sizeof line), 1);
    assert_string_equal(line, "wbrt: uffd-async: PAGEMAP_SCAN failed (Inappropriate ioctl for device "
                              "(ENOTTY)); this collection scans every page");
}

/* Execs test_alloc, the program beside this one, with PAGEMAP_SCAN refused. */
static void test_alloc_child(void *arg)
{
    char path[PATH_MAX], *slash;
    ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
    (void)arg;
    assert_true(n > 0);
    path[n] = '\0';
    slash = strrchr(path, '/');
    assert_non_null(slash);
    snprintf(slash + 1, sizeof path - (size_t)(slash + 1 - path), "test_alloc");
    refuse_pagemap_scan();
    execl(path, path, (char *)NULL);
    fprintf(stderr, "exec %s: %s\n", path, strerror(errno));
    _exit(127);
}

/* Runs test_alloc under uffd-async with PAGEMAP_SCAN refused and WBRT_TEST_BARRIERS=list;
 * fails unless it exited with code and printed one line starting with prefix, naming the
 * reason, and holding says (NULL: anything). */
static void check_test_alloc(const char *list, int code, const char *prefix, const char *says)
{
    struct wbt_child c;
    char line[1024];
    const char *env[] = {"WBRT_BARRIER=uffd-async", "WBRT_VERIFY=1", list, NULL};
    wbt_fork(&c, env, test_alloc_child, NULL);
    print_message("%s: %s", list, c.out);
    if (!wbt_exited(&c, code))
        fail_msg("%s: test_alloc's wait status %#x, not exit %d", list, c.status, code);
    assert_int_equal(fault_lines(c.out, prefix, line, sizeof line), 1);
    assert_non_null(strstr(line, "PAGEMAP_SCAN on /proc/self/pagemap: Inappropriate ioctl for device (ENOTTY)"));
    assert_true(says == NULL || strstr(line, says) != NULL);
}

static void test_refused_required(void **state)
{
    (void)state;
    need_uffd_async();
    check_test_alloc("WBRT_TEST_BARRIERS=uffd-async", 1, "FAILED: uffd-async: ",
                     "(WBRT_TEST_BARRIERS lists uffd-async: a failure, not a skip)");
    check_test_alloc("WBRT_TEST_BARRIERS=", WBT_SKIP, "SKIPPED: uffd-async: ", NULL);
    check_test_alloc("WBRT_TEST_BARRIERS=uffd,mprotect,none", WBT_SKIP, "SKIPPED: uffd-async: ", NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refused_at_init),
        cmocka_unit_test(test_refused_after_init),
        cmocka_unit_test(test_refused_required),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
