/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The calling thread's vector registers, which a stop signal's frame saves on the thread's
 * stack (the kernel's XSAVE area), where a conservative scan reads them as words. */
#ifndef WBRT_OS_VECTOR_REGS_H
#define WBRT_OS_VECTOR_REGS_H

/* Overwrites every vector register the CPU has (xmm0-15; ymm/zmm0-15 and zmm16-31 where
 * AVX and AVX-512 are on) with values that are no address.  They are all caller-saved:
 * any function may call it. */
void os_forget_vector_registers(void);

#endif
