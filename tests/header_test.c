/* SPDX-License-Identifier: MIT */
/* Compiled alone as C99, C11 and C++ with -Wall -Wextra -Wpedantic -Werror:
 * the public header must need nothing else and warn about nothing. */
#include "regnn.h"

#ifdef __cplusplus
extern "C++" {
static_assert(REGNN_ABI_VERSION == 1, "ABI version");
}
#endif

int header_test_uses_api(void);
int header_test_uses_api(void)
{
    regnn_model *m = 0;
    regnn_status st = regnn_model_create(3, &m);
    regnn_model_free(m);
    return st == REGNN_OK && regnn_abi_version() == REGNN_ABI_VERSION ? 0 : 1;
}
