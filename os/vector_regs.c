/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Overwriting the vector registers, with the instructions the CPU has (chosen at run time:
 * the library still runs on an x86-64 without AVX).
 * All ones rather than zero where it matters: registers left in their initial state are
 * skipped by XSAVE, so a signal frame saving them would leave the older stack contents
 * there instead (and those may be stale addresses).  The upper halves of ymm/zmm0-15 are
 * zeroed all the same (vzeroall), so that legacy SSE code pays no transition penalty. */
#include "vector_regs.h"
#include <sys/platform/x86.h>

enum { VEC_UNKNOWN, VEC_SSE, VEC_AVX, VEC_AVX512 };
static int level;

static int detect(void)
{
    /* glibc's figures, as for popcnt (heap.c): "active" includes the kernel having enabled
     * the state in XCR0, and no cpuid instruction traps to a hypervisor here */
    if (CPU_FEATURE_ACTIVE(AVX512F))
        return VEC_AVX512;
    return CPU_FEATURE_ACTIVE(AVX) ? VEC_AVX : VEC_SSE;
}

/* Not inlined: the callers' own vector values are caller-saved anyway, so the asm needs
 * no clobbers the compiler might not know (zmm16-31 without -mavx512f). */
__attribute__((noinline)) void os_forget_vector_registers(void)
{
    int l = __atomic_load_n(&level, __ATOMIC_RELAXED);
    if (l == VEC_UNKNOWN) {
        l = detect();
        __atomic_store_n(&level, l, __ATOMIC_RELAXED);
    }
    if (l == VEC_AVX512)
        __asm__ volatile("vpternlogd $0xff, %zmm16, %zmm16, %zmm16\n\tvpternlogd $0xff, %zmm17, %zmm17, %zmm17\n\t"
                         "vpternlogd $0xff, %zmm18, %zmm18, %zmm18\n\tvpternlogd $0xff, %zmm19, %zmm19, %zmm19\n\t"
                         "vpternlogd $0xff, %zmm20, %zmm20, %zmm20\n\tvpternlogd $0xff, %zmm21, %zmm21, %zmm21\n\t"
                         "vpternlogd $0xff, %zmm22, %zmm22, %zmm22\n\tvpternlogd $0xff, %zmm23, %zmm23, %zmm23\n\t"
                         "vpternlogd $0xff, %zmm24, %zmm24, %zmm24\n\tvpternlogd $0xff, %zmm25, %zmm25, %zmm25\n\t"
                         "vpternlogd $0xff, %zmm26, %zmm26, %zmm26\n\tvpternlogd $0xff, %zmm27, %zmm27, %zmm27\n\t"
                         "vpternlogd $0xff, %zmm28, %zmm28, %zmm28\n\tvpternlogd $0xff, %zmm29, %zmm29, %zmm29\n\t"
                         "vpternlogd $0xff, %zmm30, %zmm30, %zmm30\n\tvpternlogd $0xff, %zmm31, %zmm31, %zmm31");
    if (l >= VEC_AVX)
        __asm__ volatile("vzeroall"); /* all of ymm/zmm0-15; the xmm halves get ones below */
    __asm__ volatile("pcmpeqd %xmm0, %xmm0\n\tpcmpeqd %xmm1, %xmm1\n\tpcmpeqd %xmm2, %xmm2\n\t"
                     "pcmpeqd %xmm3, %xmm3\n\tpcmpeqd %xmm4, %xmm4\n\tpcmpeqd %xmm5, %xmm5\n\t"
                     "pcmpeqd %xmm6, %xmm6\n\tpcmpeqd %xmm7, %xmm7\n\tpcmpeqd %xmm8, %xmm8\n\t"
                     "pcmpeqd %xmm9, %xmm9\n\tpcmpeqd %xmm10, %xmm10\n\tpcmpeqd %xmm11, %xmm11\n\t"
                     "pcmpeqd %xmm12, %xmm12\n\tpcmpeqd %xmm13, %xmm13\n\tpcmpeqd %xmm14, %xmm14\n\t"
                     "pcmpeqd %xmm15, %xmm15");
}
