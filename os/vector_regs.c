/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Zeroing the vector registers, with the instructions the CPU has (chosen at run time:
 * the library still runs on an x86-64 without AVX). */
#include "vector_regs.h"

enum { VEC_UNKNOWN, VEC_SSE, VEC_AVX, VEC_AVX512 };
static int level;

static int detect(void)
{
    /* (libgcc's answers include the kernel having enabled the state in XCR0.) */
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f"))
        return VEC_AVX512;
    return __builtin_cpu_supports("avx") ? VEC_AVX : VEC_SSE;
}

/* Not inlined: the callers' own vector values are caller-saved anyway, so the asm needs
 * no clobbers the compiler might not know (zmm16-31 without -mavx512f). */
__attribute__((noinline)) void os_clear_vector_registers(void)
{
    int l = __atomic_load_n(&level, __ATOMIC_RELAXED);
    if (l == VEC_UNKNOWN) {
        l = detect();
        __atomic_store_n(&level, l, __ATOMIC_RELAXED);
    }
    if (l == VEC_AVX512)
        __asm__ volatile("vpxord %zmm16, %zmm16, %zmm16\n\tvpxord %zmm17, %zmm17, %zmm17\n\t"
                         "vpxord %zmm18, %zmm18, %zmm18\n\tvpxord %zmm19, %zmm19, %zmm19\n\t"
                         "vpxord %zmm20, %zmm20, %zmm20\n\tvpxord %zmm21, %zmm21, %zmm21\n\t"
                         "vpxord %zmm22, %zmm22, %zmm22\n\tvpxord %zmm23, %zmm23, %zmm23\n\t"
                         "vpxord %zmm24, %zmm24, %zmm24\n\tvpxord %zmm25, %zmm25, %zmm25\n\t"
                         "vpxord %zmm26, %zmm26, %zmm26\n\tvpxord %zmm27, %zmm27, %zmm27\n\t"
                         "vpxord %zmm28, %zmm28, %zmm28\n\tvpxord %zmm29, %zmm29, %zmm29\n\t"
                         "vpxord %zmm30, %zmm30, %zmm30\n\tvpxord %zmm31, %zmm31, %zmm31");
    if (l >= VEC_AVX)
        __asm__ volatile("vzeroall"); /* all of ymm0-15 (zmm0-15) */
    else
        __asm__ volatile("pxor %xmm0, %xmm0\n\tpxor %xmm1, %xmm1\n\tpxor %xmm2, %xmm2\n\t"
                         "pxor %xmm3, %xmm3\n\tpxor %xmm4, %xmm4\n\tpxor %xmm5, %xmm5\n\t"
                         "pxor %xmm6, %xmm6\n\tpxor %xmm7, %xmm7\n\tpxor %xmm8, %xmm8\n\t"
                         "pxor %xmm9, %xmm9\n\tpxor %xmm10, %xmm10\n\tpxor %xmm11, %xmm11\n\t"
                         "pxor %xmm12, %xmm12\n\tpxor %xmm13, %xmm13\n\tpxor %xmm14, %xmm14\n\t"
                         "pxor %xmm15, %xmm15");
}
