/* SPDX-License-Identifier: MIT */
/* Checks of float arrays that every layer uses on its inputs: finite values
 * and valid sample weights. */
#include "kernels.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

static int float_is_finite(float v)
{
    /* Bit test rather than isfinite(): stays correct under -ffinite-math-only. */
    uint32_t u;
    memcpy(&u, &v, sizeof u);
    return (u & 0x7f800000u) != 0x7f800000u;
}

size_t rg_first_non_finite(const float *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!float_is_finite(v[i]))
            return i;
    return n;
}

int rg_all_finite(const float *v, size_t n) { return rg_first_non_finite(v, n) == n; }

int rg_weights_check(const float *w, size_t n, size_t *bad)
{
    for (size_t i = 0; i < n; i++)
        if (!(w[i] >= 0.0f) || isinf(w[i])) {
            *bad = i;
            return 0;
        }
    return 1;
}
