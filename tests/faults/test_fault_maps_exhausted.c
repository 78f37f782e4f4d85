/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fault injection: the process at vm.max_map_count, so that mprotect fails with ENOMEM.
 * In a child, after an old generation of 2048 page-sized objects is built, the test maps
 * pages of its own with alternating protections until only SPARE mappings are left (the
 * system setting is left alone), and proves the limit bites (splitting a mapping fails
 * with ENOMEM within SPARE splits).  The workload then writes every other old page each
 * round: a barrier that protects pages with mprotect needs a mapping per written page to
 * re-protect them, runs out, and must degrade (the mprotect barrier makes the heap
 * writable in one call and counts every page dirty from then on, saying so in one line)
 * without losing an object.  Runs under every barrier: the others must simply keep working
 * with the mappings exhausted (their side tables, mark stack and handler included). */
#include "fault_child.h"
#include "fault_workload.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define SPARE 256
#define PAGE 4096

static long read_long(const char *path)
{
    char buf[32] = "";
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    assert_true(read(fd, buf, sizeof buf - 1) > 0);
    close(fd);
    return strtol(buf, NULL, 10);
}

/* Lines of /proc/self/maps, read without stdio (it would malloc). */
static long map_count(void)
{
    char buf[65536];
    long lines = 0;
    ssize_t n;
    int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    while ((n = read(fd, buf, sizeof buf)) > 0)
        for (ssize_t i = 0; i < n; i++)
            lines += buf[i] == '\n';
    close(fd);
    return lines;
}

/* Maps PROT_NONE regions whose odd pages are made readable, one mapping per page, until
 * max - spare mappings exist.  Returns the pages mapped so. */
static long consume_maps(long max, long spare)
{
    long made = 0;
    for (int tries = 0; tries < 64; tries++) {
        long need = max - spare - map_count();
        if (need <= 0)
            return made;
        size_t pages = need < 3 ? 3 : need > 16383 ? 16383 : (size_t)need;
        char *p = mmap(NULL, pages * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        assert_true(p != MAP_FAILED);
        for (size_t i = 1; i < pages; i += 2)
            assert_int_equal(mprotect(p + i * PAGE, PAGE, PROT_READ), 0);
        made += (long)pages;
    }
    fail_msg("could not bring the mappings to %ld", max - spare);
    return made;
}

/* Proves the limit bites: splitting a fresh mapping page by page fails with ENOMEM before
 * 2 * spare + 8 splits.  The mapping is dropped again.  Returns the splits that worked. */
static long splits_until_enomem(long spare)
{
    size_t pages = (size_t)(4 * spare + 16);
    char *p = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    assert_true(p != MAP_FAILED);
    long splits = 0;
    size_t i;
    for (i = 1; i < pages; i += 2, splits++)
        if (mprotect(p + i * PAGE, PAGE, PROT_READ) != 0) {
            assert_int_equal(errno, ENOMEM);
            break;
        }
    assert_true(i < pages);
    munmap(p, pages * PAGE);
    return splits;
}

static void child(void *arg)
{
    (void)arg;
    wbt_init();
    fw_build(2048);
    fw_round(1);
    long max = read_long("/proc/sys/vm/max_map_count");
    long consumed = consume_maps(max, SPARE);
    long free_maps = max - map_count();
    long splits = splits_until_enomem(SPARE);
    for (unsigned r = 2; r <= 8; r++)
        fw_round(r);
    fw_finish();
    printf("figures: vm.max_map_count %ld, pages mapped to use it up %ld, mappings left %ld, "
           "splits before ENOMEM %ld\n", max, consumed, free_maps, splits);
    fw_report("figures: mappings exhausted");
}

static void test_mappings_exhausted(void **state)
{
    (void)state;
    struct wbt_child c;
    char line[512];
    const char *barrier = getenv("WBRT_BARRIER");
    /* Every written page armed again: with pages kept hot, which the cost policy chooses
     * from costs measured at run time (WBRT_ARM=hot always did), the writable islands
     * were too few to use up the mappings left, and the test failed on a busy machine. */
    assert_int_equal(setenv("WBRT_ARM", "always", 1), 0);
    fault_run(&c, NULL, child, NULL);
    int said = fault_lines(c.out, "wbrt:", line, sizeof line);
    if (barrier && strcmp(barrier, "mprotect") == 0) {
        /* It ran out (the workload needs ~1000 splits, SPARE are left) and said so once. */
        assert_int_equal(said, 1);
        assert_string_equal(line, "wbrt: mprotect barrier: out of mappings (vm.max_map_count); "
                                  "every heap page now counts as dirty at each collection");
    } else {
        /* No other barrier splits mappings: nothing to degrade, nothing to say. */
        assert_int_equal(said, 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mappings_exhausted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
