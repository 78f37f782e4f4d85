/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fault injection by seccomp: make chosen system calls (or one ioctl request) fail with a
 * chosen errno in this process, for real, as a kernel without the feature would. */
#ifndef FAULT_SECCOMP_H
#define FAULT_SECCOMP_H

struct fault_deny {
    long nr;                    /* system call number (SYS_...) */
    long request;               /* for SYS_ioctl: the request to refuse; -1: every call */
    int err;                    /* errno the call fails with */
};

/* Installs a filter refusing each rule's call, for every thread of the process (TSYNC),
 * after PR_SET_NO_NEW_PRIVS.  Irreversible: call it in a child.  0, or -1 with errno. */
int fault_deny(const struct fault_deny *rules, int n);

#endif
