/* The first signal frame on a signal stack, found as the x86-64 kernel places it
 * (arch/x86/kernel/signal.c, get_sigframe): entering the signal stack, the FPU state goes
 * at its top rounded down to 64 bytes, the frame right below it.  That frame's context
 * lies at the same distance below its FPU state as that of any other frame (the FPU
 * state is 64-byte aligned in each), and the FPU state's size is in its software bytes.
 * Every step is checked against what the kernel wrote in that frame.
 * Design: docs/design/os.md
 * SPDX-License-Identifier: GPL-2.0-or-later */
#include "signal_frame.h"
#include <signal.h>
#include <ucontext.h>

enum {
    RED_ZONE = 128,            /* below a function's stack pointer, its own to use */
    FXSAVE_SIZE = 512,         /* the FPU state without XSAVE */
    SW_BYTES_AT = 464,         /* struct _fpx_sw_bytes in the FXSAVE area, when XSAVE wrote it */
};

/* How much the kernel reserves for the FPU state at the top of a signal stack. */
static uintptr_t fpu_frame_size(const ucontext_t *u)
{
    const struct _fpx_sw_bytes *sw = (const void *)((const char *)u->uc_mcontext.fpregs + SW_BYTES_AT);
    return sw->magic1 == FP_XSTATE_MAGIC1 ? sw->extended_size : FXSAVE_SIZE;
}

uintptr_t os_signal_stack_entry(const void *uc, uintptr_t lo, uintptr_t hi, uintptr_t *sp)
{
    const ucontext_t *u = uc;
    uintptr_t alt = (uintptr_t)u->uc_stack.ss_sp, top = alt + u->uc_stack.ss_size, at = (uintptr_t)uc;
    if ((u->uc_stack.ss_flags & SS_DISABLE) || at < alt || at >= top || !u->uc_mcontext.fpregs)
        return 0;
    uintptr_t fpu = (top - fpu_frame_size(u)) & ~(uintptr_t)63;
    uintptr_t first = fpu - ((uintptr_t)u->uc_mcontext.fpregs - at);
    if (first < at || first > top - sizeof(ucontext_t))
        return top;
    const ucontext_t *f = (const ucontext_t *)first;
    uintptr_t was = (uintptr_t)f->uc_mcontext.gregs[REG_RSP];
    if ((uintptr_t)f->uc_mcontext.fpregs == fpu && f->uc_stack.ss_sp == u->uc_stack.ss_sp &&
        f->uc_stack.ss_size == u->uc_stack.ss_size && !(f->uc_stack.ss_flags & SS_ONSTACK) &&
        was > lo && was <= hi)
        *sp = was - RED_ZONE > lo ? was - RED_ZONE : lo;
    return top;
}
