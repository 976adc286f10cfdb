/* SPDX-License-Identifier: MIT */
/* Path results as files: regnn_path_save_mem's encoding written atomically,
 * and read back through the regular-file checks every loader makes. */
#define _POSIX_C_SOURCE 200809L /* close */
#include "path_impl.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

regnn_status regnn_path_save(const regnn_path *p, const char *path)
{
    if (!p || !path)
        return rg_error(REGNN_E_INVALID_ARG, "regnn_path_save: path results and path are required");
    if (!*path)
        return rg_error(REGNN_E_INVALID_ARG, "regnn_path_save: path is empty");
    size_t n = 0;
    regnn_status st = regnn_path_save_mem(p, NULL, 0, &n);
    if (st != REGNN_OK)
        return st;
    uint8_t *buf = rg_malloc(n);
    if (!buf)
        return rg_error(REGNN_E_NOMEM, "regnn_path_save: out of memory for %zu bytes", n);
    st = regnn_path_save_mem(p, buf, n, &n);
    if (st == REGNN_OK)
        st = rg_write_atomic("regnn_path_save", path, buf, n);
    rg_free(buf);
    return st;
}

regnn_status regnn_path_load(const char *path, regnn_path **out)
{
    if (!out)
        return rg_error(REGNN_E_INVALID_ARG, "regnn_path_load: out is NULL");
    *out = NULL;
    if (!path)
        return rg_error(REGNN_E_INVALID_ARG, "regnn_path_load: path is NULL");
    if (!*path)
        return rg_error(REGNN_E_INVALID_ARG, "regnn_path_load: path is empty");
    char where[320];
    snprintf(where, sizeof where, "regnn_path_load: '%s'", path);
    int fd;
    size_t size;
    regnn_status st = rg_open_regular(where, path, &fd, &size);
    if (st != REGNN_OK)
        return st;
    /* One byte more than the size read: a file that grew meanwhile is refused
     * rather than cut, and the buffer never exceeds the file's size + 1. */
    uint8_t *buf = rg_malloc(size + 1);
    if (!buf) {
        close(fd);
        return rg_error(REGNN_E_NOMEM, "%s: out of memory for %zu bytes", where, size + 1);
    }
    long long got = rg_read_full(fd, buf, size + 1);
    int err = errno;
    close(fd);
    if (got < 0) {
        char why[128];
        rg_errno_text(err, why, sizeof why);
        st = rg_error(REGNN_E_IO, "%s: cannot read: %s", where, why);
    } else if ((size_t)got != size) {
        st = rg_error(REGNN_E_IO, "%s: the file changed size while being read", where);
    } else {
        st = regnn_path_load_mem(buf, size, out);
        if (st != REGNN_OK) {
            /* Name the file in the decoder's message. */
            char msg[512];
            snprintf(msg, sizeof msg, "%s", regnn_errmsg());
            st = rg_error(st, "%s: %s", where, msg);
        }
    }
    rg_free(buf);
    return st;
}
