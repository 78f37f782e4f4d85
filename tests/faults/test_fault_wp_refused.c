/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fault injection: UFFDIO_WRITEPROTECT refused.  Once the heap has a write-protected old
 * generation, a seccomp filter makes every ioctl(UFFDIO_WRITEPROTECT) fail with ENOMEM
 * (what the kernel answers when it cannot allocate a page table for the markers).  Then
 * neither arming nor un-protecting works any more:
 *   uffd-async: a page it failed to protect counts as written, and PAGEMAP_SCAN (which
 *         protects by itself) reports it: nothing to say, nothing lost;
 *   uffd: the handler cannot un-protect a faulting page, so the barrier unregisters the
 *         heap (waking the writer) and counts every page dirty from then on, in one line.
 * The model-checked workload must lose nothing.  Barrier-specific: only the uffd barriers
 * use the ioctl, and tests/CMakeLists.txt runs it under those two. */
#include "fault_child.h"
#include "fault_seccomp.h"
#include "fault_workload.h"
#include "uapi_uffd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>

static void refuse_writeprotect(void)
{
    const struct fault_deny rules[] = {{SYS_ioctl, (long)UFFDIO_WRITEPROTECT, ENOMEM}};
    if (fault_deny(rules, 1) != 0) {
        printf("SKIPPED: seccomp: %s\n", strerror(errno));
        exit(WBT_SKIP);
    }
}

static void child(void *arg)
{
    (void)arg;
    wbt_init();
    fw_build(1024);
    fw_round(1);                        /* the old generation is write-protected now */
    refuse_writeprotect();
    for (unsigned r = 2; r <= 6; r++)
        fw_round(r);
    fw_finish();
    fw_report("figures: UFFDIO_WRITEPROTECT refused");
}

static void test_writeprotect_refused(void **state)
{
    (void)state;
    struct wbt_child c;
    char line[512];
    const char *barrier = getenv("WBRT_BARRIER");
    if (!barrier || (strcmp(barrier, "uffd-async") != 0 && strcmp(barrier, "uffd") != 0))
        fail_msg("WBRT_BARRIER=%s: this test needs uffd-async or uffd, the barriers that "
                 "write-protect with UFFDIO_WRITEPROTECT", barrier ? barrier : "(unset)");
    fault_run(&c, NULL, child, NULL);
    int said = fault_lines(c.out, "wbrt:", line, sizeof line);
    if (strcmp(barrier, "uffd") == 0) {
        assert_int_equal(said, 1);
        assert_string_equal(line, "wbrt: uffd barrier: the fault handler failed (Cannot allocate memory "
                                  "(ENOMEM)); every heap page now counts as dirty at each collection");
    } else {
        assert_int_equal(said, 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_writeprotect_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
