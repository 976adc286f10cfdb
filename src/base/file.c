/* SPDX-License-Identifier: MIT */
/* Reading files: the checks every reader makes before it trusts a path, and
 * system error texts, in one place for the CSV reader and the model loader. */
#define _XOPEN_SOURCE 700 /* open, fstat, O_CLOEXEC, XSI strerror_r, realpath */
#include "base.h"

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

void rg_errno_text(int err, char *buf, size_t cap)
{
    if (strerror_r(err, buf, cap) != 0)
        snprintf(buf, cap, "error %d", err);
}

regnn_status rg_open_regular(const char *where, const char *path, int *fd_out, size_t *size)
{
    char why[128];
    *fd_out = -1;
    *size = 0;
    /* O_NONBLOCK: opening a FIFO must not wait for a writer; regular files ignore it. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        rg_errno_text(errno, why, sizeof why);
        return rg_error(REGNN_E_IO, "%s: cannot open: %s", where, why);
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        rg_errno_text(errno, why, sizeof why);
        close(fd);
        return rg_error(REGNN_E_IO, "%s: cannot stat: %s", where, why);
    }
    /* A FIFO would block and a device such as /dev/zero never ends. */
    if (!S_ISREG(sb.st_mode)) {
        close(fd);
        return rg_error(REGNN_E_IO, "%s: not a regular file", where);
    }
    if (sb.st_size < 0 || (uintmax_t)sb.st_size >= SIZE_MAX / 2) {
        close(fd);
        return rg_error(REGNN_E_IO, "%s: the file is too large", where);
    }
    *fd_out = fd;
    *size = (size_t)sb.st_size;
    return REGNN_OK;
}

long long rg_read_full(int fd, void *buf, size_t n)
{
    unsigned char *p = buf;
    size_t got = 0;
    while (got < n) {
        ssize_t k = read(fd, p + got, n - got);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (k == 0)
            break;
        got += (size_t)k;
    }
    return (long long)got;
}

regnn_status rg_follow_link(const char *fn, const char *path, char **real)
{
    *real = NULL;
    struct stat sb;
    if (lstat(path, &sb) != 0 || !S_ISLNK(sb.st_mode))
        return REGNN_OK;
    /* realpath resolves every link in the chain, so the temporary file goes
     * next to the file that is finally replaced and the link survives. */
    char *r = realpath(path, NULL);
    if (!r) {
        char why[128];
        rg_errno_text(errno, why, sizeof why);
        return rg_error(REGNN_E_IO, "%s: '%s' is a symbolic link whose target cannot be resolved: %s",
                        fn, path, why);
    }
    *real = r;
    return REGNN_OK;
}
