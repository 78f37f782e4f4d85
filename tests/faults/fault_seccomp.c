/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The filter of fault_seccomp.h, as classic BPF over struct seccomp_data. */
#include "fault_seccomp.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define RULES_MAX 8
#define LOAD(field) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, field))
#define RET(v) BPF_STMT(BPF_RET | BPF_K, (v))

int fault_deny(const struct fault_deny *rules, int n)
{
    /* Per rule at most: load nr, test nr, load arg, test arg, return = 5 instructions. */
    struct sock_filter f[4 + RULES_MAX * 5];
    unsigned k = 0;
    if (n > RULES_MAX) {
        errno = EINVAL;
        return -1;
    }
    /* Another architecture's numbers mean other calls: let them through. */
    f[k++] = (struct sock_filter)LOAD(arch);
    f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0);
    f[k++] = (struct sock_filter)RET(SECCOMP_RET_ALLOW);
    for (int i = 0; i < n; i++) {
        const struct fault_deny *r = &rules[i];
        bool by_request = r->request >= 0;
        f[k++] = (struct sock_filter)LOAD(nr);
        /* Not this call: skip the rest of the rule. */
        f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)r->nr, 0, by_request ? 3 : 1);
        if (by_request) {
            /* ioctl's request is an unsigned int in the kernel: the low word decides. */
            f[k++] = (struct sock_filter)LOAD(args[1]);
            f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)r->request, 0, 1);
        }
        f[k++] = (struct sock_filter)RET(SECCOMP_RET_ERRNO | ((unsigned)r->err & SECCOMP_RET_DATA));
    }
    f[k++] = (struct sock_filter)RET(SECCOMP_RET_ALLOW);
    struct sock_fprog prog = {(unsigned short)k, f};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        return -1;
    return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog) == 0 ? 0 : -1;
}
