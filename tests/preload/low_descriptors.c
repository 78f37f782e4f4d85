/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The descriptors a program sees are its own, as without the preload: wbrt's
 * (userfaultfd, pagemap, eventfd) sit above the soft RLIMIT_NOFILE (os_fd_aside).
 * Python's subprocess tests expect the lowest free descriptor to be 3, dup2 onto 3, 4, ...
 * to clobber nothing, and fstat on 0..sysconf(_SC_OPEN_MAX)-1 to find only theirs.
 *   1. at start and after collections no descriptor from 3 up to the limit is open but
 *      those inherited (after exec only close-on-exec ones can be wbrt's: exec closed the
 *      rest); where the limits leave wbrt no room above (soft = hard > 65536), from 3 to 511;
 *   2. dup2 onto every one of them, then old blocks written to hold young ones and
 *      collections: every byte intact (WBRT_VERIFY=1 checks the barrier missed nothing);
 *   3. the same in a forked child (the barrier re-opens its descriptors there), which then
 *      lowers its soft limit below a descriptor it keeps open, as Python's
 *      test_close_fds_when_max_fd_is_lowered does, and execs this program again under the
 *      preload: step 1 holds in the new image, above the lowered limit too;
 *   4. at last, with the soft limit raised to the hard one (ours are then
 *      below it): closefrom(3), close_range(3, ~0) and dup2 onto every number up to the
 *      limit, each followed by collections: every byte intact, and the program's own
 *      descriptors (one near the top of the limit) closed.  Before the preload spared
 *      ours, the userfaultfd went with them and the uffd barrier missed stores. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include "served.h"

#define LOW 64          /* the numbers dup2 takes here */
#define LOWERED 32      /* the exec'd child's soft limit, below INHERITED */
#define INHERITED 40
#define BLOCKS 64
#define SIZE 512

static unsigned char **block;          /* old by the time it holds young blocks */

static void collections(void)
{
    for (int i = 0; i < 100000; i++) {
        char *volatile garbage = malloc(1000);
        garbage[0] = 1;
    }
}

/* The descriptors a program may take for its own: below the soft limit, and the small
 * ones it may have inherited above a lowered one. */
static int visible(void)
{
    struct rlimit r;
    if (getrlimit(RLIMIT_NOFILE, &r) != 0)
        return LOW;
    int lim = r.rlim_cur == r.rlim_max && r.rlim_max > 65536 ? 512 : (int)r.rlim_cur;
    return lim < LOW ? LOW : lim;
}

/* 0 if no descriptor from 3 up to the visible limit is open; else names them. */
static int low_ones_free(const char *when)
{
    int bad = 0;
    for (int fd = 3, n = visible(); fd < n; fd++)
        if (fcntl(fd, F_GETFD) >= 0) {
            printf("FAIL: %s: descriptor %d is open (wbrt's?)\n", when, fd);
            bad = 1;
        }
    return bad;
}

/* Step 1 in a fresh image: close what was inherited (never close-on-exec), then only
 * wbrt could hold a small number. */
static int fresh_image(const char *who)
{
    for (int fd = 3, n = visible(); fd < n; fd++) {
        int flags = fcntl(fd, F_GETFD);
        if (flags >= 0 && !(flags & FD_CLOEXEC))
            close(fd);
    }
    char when[64];
    snprintf(when, sizeof when, "%s, at start", who);
    if (low_ones_free(when))
        return 1;
    int fd = open("/dev/null", O_RDONLY);
    if (fd != 3) {
        printf("FAIL: %s: the lowest free descriptor is %d, not 3\n", who, fd);
        return 1;
    }
    close(fd);
    collections();
    snprintf(when, sizeof when, "%s, after collections", who);
    return low_ones_free(when);
}

/* Old blocks made to hold young ones, then collections: 0 if every byte is intact. */
static int heap_intact(const char *who, unsigned char seed)
{
    for (int i = 0; i < BLOCKS; i++)    /* old blocks now hold young ones */
        memset(block[i] = malloc(SIZE), (unsigned char)(seed + i), SIZE);
    wbt_preload_collect(1);     /* a young one next: WBRT_VERIFY=1 checks the stores were seen */
    collections();
    for (int i = 0; i < BLOCKS; i++)
        for (int k = 0; k < SIZE; k++)
            if (block[i][k] != (unsigned char)(seed + i)) {
                printf("FAIL: %s: block %d byte %d is %#x\n", who, i, k, block[i][k]);
                return 1;
            }
    return 0;
}

/* Step 2: every small number taken by dup2, then the heap still works. */
static int dup2_everywhere(const char *who, unsigned char seed)
{
    int null = open("/dev/null", O_RDONLY);
    for (int fd = 3; fd < LOW; fd++)
        if (dup2(null, fd) != fd) {
            printf("FAIL: %s: dup2 onto %d: %s\n", who, fd, strerror(errno));
            return 1;
        }
    if (heap_intact(who, seed))
        return 1;
    for (int fd = 3; fd < LOW; fd++)
        close(fd);
    return 0;
}

/* Descriptors of the program's own at 5 and near the top of the limit: 0 if the call
 * closed both and the heap still works. */
static int closes_all(const char *who, void (*close_all)(void), int top, unsigned char seed)
{
    int null = open("/dev/null", O_RDONLY);
    if (dup2(null, 5) != 5 || dup2(null, top) != top) {
        printf("FAIL: %s: dup2 onto 5 and %d: %s\n", who, top, strerror(errno));
        return 1;
    }
    wbt_preload_collect(1);     /* the old blocks' pages armed before ours could go */
    close_all();
    if (fcntl(null, F_GETFD) >= 0 || fcntl(5, F_GETFD) >= 0 || fcntl(top, F_GETFD) >= 0) {
        printf("FAIL: %s: descriptors %d, 5 or %d of the program's left open\n", who, null, top);
        return 1;
    }
    return heap_intact(who, seed);
}

static void close_from_3(void)
{
    closefrom(3);
}

static void close_range_3(void)
{
    close_range(3, ~0U, 0);
}

/* Step 4: 0 if the program closing or taking every number leaves the
 * heap working. */
static int everything_closed(void)
{
    struct rlimit r;
    if (getrlimit(RLIMIT_NOFILE, &r) != 0 || (r.rlim_cur = r.rlim_max, setrlimit(RLIMIT_NOFILE, &r)) != 0) {
        printf("FAIL: raising the soft limit: %s\n", strerror(errno));
        return 1;
    }
    if (close_range(9, 8, 0) == 0 || errno != EINVAL) {     /* passed on to the kernel */
        printf("FAIL: close_range(9, 8, 0) did not fail with EINVAL\n");
        return 1;
    }
    int top = (int)r.rlim_max - 1;
    if (closes_all("closefrom(3)", close_from_3, top, 51) || closes_all("close_range(3, ~0)", close_range_3, top, 61))
        return 1;
    int null = open("/dev/null", O_RDONLY), taken = 0;
    wbt_preload_collect(1);
    for (int fd = 3; fd <= top; fd++)   /* all but wbrt's, which refuse with EBADF */
        taken += dup2(null, fd) == fd;
    if (taken < top - 2 - 8) {
        printf("FAIL: dup2 took %d of the numbers 3..%d\n", taken, top);
        return 1;
    }
    if (heap_intact("dup2 onto every number", 71))
        return 1;
    close_range(3, ~0U, 0);
    return 0;
}

int main(int argc, char **argv)
{
    int served = wbt_preload_served();
    if (served != 0)
        return served;
    if (argc > 1 && strcmp(argv[1], "exec-child") == 0)
        return fresh_image("exec'd child");
    block = calloc(BLOCKS, sizeof *block);
    if (fresh_image("program") || dup2_everywhere("program", 1))
        return 1;
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        if (dup2_everywhere("forked child", 101))
            _exit(1);
        struct rlimit r;
        int inherited = open("/dev/null", O_RDONLY);
        if (dup2(inherited, INHERITED) != INHERITED || getrlimit(RLIMIT_NOFILE, &r) != 0 ||
            r.rlim_cur <= LOWERED || (r.rlim_cur = LOWERED, setrlimit(RLIMIT_NOFILE, &r)) != 0) {
            printf("FAIL: forked child: descriptor %d kept, soft limit %d: %s\n", INHERITED, LOWERED,
                   strerror(errno));
            _exit(1);
        }
        execl("/proc/self/exe", argv[0], "exec-child", (char *)NULL);
        printf("FAIL: exec: %s\n", strerror(errno));
        _exit(1);
    }
    int status;
    if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        printf("FAIL: the child (fork, dup2, exec) failed\n");
        return 1;
    }
    int last = visible() - 1;
    if (everything_closed())
        return 1;
    printf("ok: descriptors 3..%d are the program's, in it, a forked child and an exec'd one;"
           " closefrom, close_range and dup2 onto every number spare wbrt's\n", last);
    return 0;
}
