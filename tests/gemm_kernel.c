/* Prints the GEMM kernel this CPU runs ("avx512-fma", "avx2-fma" or "portable")
 * and whether every product goes to it (1) or large ones go to the BLAS (0).
 * scripts/docs-numbers.py uses it to tell whether the numbers recorded in the
 * docs were made with the same arithmetic as this machine's. */
#include "internal.h"

#include <stdio.h>

int main(void)
{
    printf("%s %d\n", rg_gemm_kernel_name(), rg_gemm_kernel_wide());
    return 0;
}
