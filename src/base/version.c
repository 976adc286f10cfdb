/* SPDX-License-Identifier: MIT */
#include "base.h"

unsigned regnn_version(void) { return REGNN_VERSION_NUMBER; }
const char *regnn_version_string(void) { return REGNN_VERSION_STRING; }
int regnn_abi_version(void) { return REGNN_ABI_VERSION; }
