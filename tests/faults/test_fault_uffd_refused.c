/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fault injection: userfaultfd refused.  In a child, a seccomp filter makes the
 * userfaultfd(2) system call and the /dev/userfaultfd ioctl USERFAULTFD_IOC_NEW fail with
 * EPERM, as a sandbox (container profile, hardened sysctl) does.
 *   auto: wb_init falls back to mprotect with exactly one line on stderr naming each
 *         barrier skipped and why, and a collection workload keeps every live object
 *         intact and reclaims the garbage.
 *   forced: each kernel barrier forced by WBRT_BARRIER either works or makes wb_init fail
 *         with ENOTSUP and a message naming the variable, the barrier and the reason;
 *         uffd-async and uffd must fail so.
 * Barrier-specific (it is about the choice of barrier): runs once, not per barrier. */
#include "fault_child.h"
#include "fault_seccomp.h"
#include "fault_workload.h"
#include "uapi_uffd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Installs the filter and proves it bites: returns the refusals seen. */
static int refuse_userfaultfd(void)
{
    const struct fault_deny rules[] = {
        {SYS_userfaultfd, -1, EPERM},
        {SYS_ioctl, (long)USERFAULTFD_IOC_NEW, EPERM},
    };
    if (fault_deny(rules, 2) != 0) {
        printf("SKIPPED: seccomp: %s\n", strerror(errno));
        exit(WBT_SKIP);
    }
    int refused = 0;
    errno = 0;
    assert_int_equal(syscall(SYS_userfaultfd, O_CLOEXEC), -1);
    assert_int_equal(errno, EPERM);
    refused++;
    int dev = open("/dev/userfaultfd", O_RDWR | O_CLOEXEC);
    if (dev >= 0) {
        assert_int_equal(ioctl(dev, USERFAULTFD_IOC_NEW, O_CLOEXEC), -1);
        assert_int_equal(errno, EPERM);
        close(dev);
        refused++;
    }
    return refused;
}

static void auto_child(void *arg)
{
    (void)arg;
    int refused = refuse_userfaultfd();
    wbt_init();
    assert_string_equal(wb_barrier_name(), "mprotect");
    fw_build(1024);
    for (unsigned r = 1; r <= 6; r++)
        fw_round(r);
    fw_finish();
    printf("figures: refused calls verified %d\n", refused);
    fw_report("figures: uffd refused, auto");
}

static void test_auto_falls_back(void **state)
{
    (void)state;
    struct wbt_child c;
    char line[1024];
    fault_run(&c, (const char *const[]){"WBRT_BARRIER=auto", "WBRT_VERIFY=1", NULL}, auto_child, NULL);
    /* Exactly one line from wbrt, naming both uffd barriers, their reason, and mprotect. */
    assert_int_equal(fault_lines(c.out, "wbrt:", line, sizeof line), 1);
    assert_int_equal(fault_lines(c.out, "", NULL, 0), 1 + fault_lines(c.out, "figures:", NULL, 0));
    const char *want = "wbrt: barrier uffd-async unavailable (";
    assert_int_equal(strncmp(line, want, strlen(want)), 0);
    assert_non_null(strstr(line, "; barrier uffd unavailable ("));
    assert_true(strstr(line, "EPERM") || strstr(line, "vm.unprivileged_userfaultfd="));
    const char *end = "; using mprotect";
    assert_string_equal(line + strlen(line) - strlen(end), end);
}

static void forced_child(void *arg)
{
    const char *barrier = arg;
    char want[128];
    refuse_userfaultfd();
    if (wb_init(NULL) == 0) {
        assert_true(strcmp(barrier, "uffd-async") != 0 && strcmp(barrier, "uffd") != 0);
        printf("forced %s: works\n", barrier);
        return;
    }
    int err = errno;
    printf("forced %s: %s\n", barrier, wb_last_error());
    assert_int_equal(err, ENOTSUP);
    snprintf(want, sizeof want, "wb_init: WBRT_BARRIER=%s: barrier %s unavailable: ", barrier, barrier);
    assert_int_equal(strncmp(wb_last_error(), want, strlen(want)), 0);
    assert_true(strlen(wb_last_error()) > strlen(want) + 5);     /* a reason follows */
}

static void test_forced_fails_with_reason(void **state)
{
    (void)state;
    static const char *const kernel[] = {"uffd-async", "uffd", "mprotect", "softdirty", "none"};
    int failed = 0;
    for (size_t i = 0; i < sizeof kernel / sizeof kernel[0]; i++) {
        char env[64];
        struct wbt_child c;
        snprintf(env, sizeof env, "WBRT_BARRIER=%s", kernel[i]);
        fault_run(&c, (const char *const[]){env, "WBRT_VERIFY=1", NULL}, forced_child, (void *)kernel[i]);
        /* wb_init reports through errno and wb_last_error: it prints nothing itself. */
        assert_int_equal(fault_lines(c.out, "wbrt:", NULL, 0), 0);
        failed += strstr(c.out, ": works\n") == NULL;
    }
    print_message("figures: forced barriers refused with a named reason: %d of %zu\n", failed,
                  sizeof kernel / sizeof kernel[0]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_auto_falls_back),
        cmocka_unit_test(test_forced_fails_with_reason),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
