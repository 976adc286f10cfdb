/* SPDX-License-Identifier: MIT */
/* Status texts and the thread-local detail message. */
#include "base.h"

#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char errbuf[512];

const char *regnn_strerror(regnn_status status)
{
    switch (status) {
    case REGNN_OK: return "success";
    case REGNN_E_INVALID_ARG: return "invalid argument";
    case REGNN_E_NOMEM: return "out of memory";
    case REGNN_E_SHAPE: return "shape mismatch";
    case REGNN_E_STATE: return "call made in the wrong state";
    case REGNN_E_IO: return "input/output error";
    case REGNN_E_FORMAT: return "malformed input";
    case REGNN_E_VERSION: return "unsupported format version";
    case REGNN_E_NUMERIC: return "non-finite number";
    case REGNN_E_CANCELLED: return "cancelled";
    case REGNN_E_UNSUPPORTED: return "unsupported key or kind";
    case REGNN_E_INTERNAL: return "internal error";
    default: return "unknown status code";
    }
}

const char *regnn_errmsg(void) { return errbuf; }

regnn_status rg_verror(regnn_status status, const char *fmt, va_list ap)
{
    /* Format into a temporary: callers may pass regnn_errmsg() as an argument
     * to prefix the message of a failing inner call. */
    char tmp[sizeof errbuf];
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    memcpy(errbuf, tmp, sizeof errbuf);
    return status;
}

regnn_status rg_error(regnn_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    rg_verror(status, fmt, ap);
    va_end(ap);
    return status;
}

void rg_format_double(char *buf, size_t cap, double v)
{
    if (v != v) {
        snprintf(buf, cap, "nan");
        return;
    }
    snprintf(buf, cap, "%.9g", v);
    /* The host may have set LC_NUMERIC; files we write always use '.'. */
    const char *dp = localeconv()->decimal_point;
    if (dp && dp[0] && !(dp[0] == '.' && dp[1] == 0)) {
        size_t dl = strlen(dp);
        char *p = strstr(buf, dp);
        if (p) {
            *p = '.';
            memmove(p + 1, p + dl, strlen(p + dl) + 1);
        }
    }
}
