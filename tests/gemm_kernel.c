/* SPDX-License-Identifier: MIT */
/* Prints the GEMM kernel this CPU runs ("avx512-fma", "avx2-fma", "neon-fma"
 * or "portable") and whether every product goes to the built-in kernels (1) or
 * large ones go to OpenBLAS (0: REGNN_OPENBLAS_LARGE=1 without AVX-512).
 * scripts/docs-numbers.py uses it to tell whether the numbers recorded in the
 * docs were made with the same arithmetic as this machine's. */
#include "kernels/kernels.h"

#include <stdio.h>

int main(void)
{
    printf("%s %d\n", rg_gemm_kernel_name(), rg_gemm_builtin_only());
    return 0;
}
