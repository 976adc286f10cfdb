/* SPDX-License-Identifier: MIT */
/* Atomic file writing: a reader sees the old file or the new one, never a
 * mix (model files, checkpoints, histories, path files, ONNX). */
/* open, fstat, fsync, linkat, O_CLOEXEC, strerror_r; O_TMPFILE and AT_EMPTY_PATH (Linux) */
#define _GNU_SOURCE
#include "base.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------ */
/* Atomic file writing                                                  */
/* ------------------------------------------------------------------ */

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t k = write(fd, p, n);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

/* Temporary names are "<path>.tmp-" and 16 lowercase hex digits. */
#define TMP_TAG ".tmp-"
#define TMP_HEX 16
/* A named temporary file untouched for this long belongs to a save that died. */
#define STALE_SECONDS (60 * 60)

#ifdef REGNN_TESTING
static _Thread_local int test_tmpfile_mode = 0;
static _Thread_local long test_stale_seconds = -1;
void regnn__test_io_tmpfile(int mode) { test_tmpfile_mode = mode; }
void regnn__test_io_stale_seconds(long seconds) { test_stale_seconds = seconds; }
#define TEST_TMPFILE_MODE test_tmpfile_mode
#define STALE_AGE (test_stale_seconds >= 0 ? (double)test_stale_seconds : (double)STALE_SECONDS)
#else
#define TEST_TMPFILE_MODE 0
#define STALE_AGE ((double)STALE_SECONDS)
#endif

/* Remove "<base>.tmp-<16 hex>" regular files of this user in dir that have
 * not been modified for STALE_AGE: what a save of the same path leaves when
 * the process dies at the wrong moment. Best effort; a live save whose file
 * disappears fails at its rename and leaves the target as it was. */
static void remove_stale(const char *dir, const char *base)
{
    const size_t blen = strlen(base);
    if (blen == 0)
        return;
    DIR *d = opendir(dir);
    if (!d)
        return;
    const int dfd = dirfd(d);
    const time_t now = time(NULL);
    const uid_t me = geteuid();
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        const char *nm = e->d_name;
        if (strncmp(nm, base, blen) != 0 || strncmp(nm + blen, TMP_TAG, strlen(TMP_TAG)) != 0)
            continue;
        const char *hex = nm + blen + strlen(TMP_TAG);
        if (strlen(hex) != TMP_HEX || strspn(hex, "0123456789abcdef") != TMP_HEX)
            continue;
        struct stat st;
        if (fstatat(dfd, nm, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode) ||
            st.st_uid != me || difftime(now, st.st_mtime) < STALE_AGE)
            continue;
        if (unlinkat(dfd, nm, 0) != 0) {
            /* ignored: someone else removed or renamed it meanwhile */
        }
    }
    closedir(d);
}

static void next_tmp_name(char *tmp, size_t cap, const char *path, rg_rng *r)
{
    snprintf(tmp, cap, "%s" TMP_TAG "%016llx", path, (unsigned long long)rg_rng_next(r));
}

#ifdef O_TMPFILE
/* Give the unnamed file fd the name to; errno set on failure. */
static int link_unnamed(int fd, const char *to)
{
    if (TEST_TMPFILE_MODE == 2) {
        errno = ENOENT;
        return -1;
    }
    char proc[40];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    if (linkat(AT_FDCWD, proc, AT_FDCWD, to, AT_SYMLINK_FOLLOW) == 0)
        return 0;
#  ifdef AT_EMPTY_PATH
    /* No /proc: linking by descriptor needs CAP_DAC_READ_SEARCH before Linux 6.10. */
    if (errno == ENOENT && linkat(fd, "", AT_FDCWD, to, AT_EMPTY_PATH) == 0)
        return 0;
#  endif
    return -1;
}
#endif

/* Fill a new file: the replaced file's permission bits, the data, fsync. NULL
 * on success, else the step that failed (errno set). */
static const char *fill_file(int fd, const struct stat *old, int have_old, const uint8_t *data,
                             size_t n)
{
    if (have_old && fchmod(fd, old->st_mode & 07777) != 0) {
        /* not fatal: the new file keeps the default mode */
    }
    if (write_all(fd, data, n) != 0)
        return "write";
    if (fsync(fd) != 0)
        return "flush";
    return NULL;
}

/* Write data to path so that a reader sees either the old or the new file,
 * never a mix. Where the folder's file system supports O_TMPFILE (Linux:
 * ext4, xfs, btrfs, tmpfs, ...), the data goes to an unnamed file that gets a
 * name only once complete and flushed: directly path when nothing is there,
 * else "<path>.tmp-<hex>" for the instant before the rename over path.
 * Elsewhere the data is written to that named file. Either way a crash can
 * leave a "<path>.tmp-<hex>" file only inside that window; the next save of
 * the same path removes such files once they are STALE_SECONDS old. */
static regnn_status write_atomic(const char *fn, const char *path, const uint8_t *data, size_t n)
{
    /* A device, folder or FIFO at path is never replaced by a regular file. */
    struct stat old;
    int have_old = stat(path, &old) == 0;
    if (have_old && !S_ISREG(old.st_mode))
        return rg_error(REGNN_E_IO, "%s: '%s' exists and is not a regular file", fn, path);
    const size_t plen = strlen(path), tcap = plen + 32;
    /* One block: the temporary name, then the folder. */
    char *tmp = rg_malloc(2 * tcap);
    if (!tmp)
        return rg_error(REGNN_E_NOMEM, "%s: out of memory", fn);
    char *dir = tmp + tcap;
    const char *slash = strrchr(path, '/');
    if (!slash)
        strcpy(dir, ".");
    else if (slash == path)
        strcpy(dir, "/");
    else {
        memcpy(dir, path, (size_t)(slash - path));
        dir[slash - path] = '\0';
    }
    remove_stale(dir, slash ? slash + 1 : path);

    char why[128];
    const char *step = "create a temporary file next to";
    int fd = -1, err = 0, named = 0;
    /* Names only need to be unlikely to collide: O_EXCL or EEXIST catch the rest. */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    rg_rng r;
    rg_rng_seed(&r, (uint64_t)ts.tv_nsec ^ (uint64_t)ts.tv_sec << 30 ^ (uint64_t)getpid() << 16 ^
                        (uint64_t)(uintptr_t)&fd);
#ifdef O_TMPFILE
    if (TEST_TMPFILE_MODE == 1)
        errno = EOPNOTSUPP;
    else
        fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0666);
    if (fd < 0 && errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL) {
        /* EISDIR/EINVAL: a kernel or file system without O_TMPFILE */
        err = errno;
        goto fail;
    }
    if (fd >= 0) {
        const char *failed = fill_file(fd, &old, have_old, data, n);
        if (failed) {
            step = failed;
            goto fail_errno;
        }
        int linked = 0;
        if (!have_old) {
            /* Nothing to replace: the file appears under its name at once. */
            linked = link_unnamed(fd, path) == 0;
            if (!linked && errno != EEXIST)
                goto named_fallback;
        }
        if (!linked) {
            for (int attempt = 0; attempt < 64 && !linked; attempt++) {
                next_tmp_name(tmp, tcap, path, &r);
                linked = link_unnamed(fd, tmp) == 0;
                if (!linked && errno != EEXIST)
                    break;
            }
            if (!linked)
                goto named_fallback;
            named = 1;
            step = "replace";
            if (rename(tmp, path) != 0)
                goto fail_errno;
            named = 0;
        }
        close(fd);
        fd = -1;
        goto sync_dir;
    named_fallback:
        /* Cannot give the unnamed file a name (no /proc): write a named one. */
        close(fd);
        fd = -1;
        step = "create a temporary file next to";
    }
#endif
    for (int attempt = 0; attempt < 64; attempt++) {
        next_tmp_name(tmp, tcap, path, &r);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0 || errno != EEXIST)
            break;
    }
    if (fd < 0) {
        err = errno;
        goto fail;
    }
    named = 1;
    const char *failed = fill_file(fd, &old, have_old, data, n);
    if (failed) {
        step = failed;
        goto fail_errno;
    }
    int c = close(fd);
    fd = -1;
    if (c != 0)
        goto fail_errno;
    step = "replace";
    if (rename(tmp, path) != 0)
        goto fail_errno;
#ifdef O_TMPFILE
sync_dir:;
#endif
    /* Make the new name durable; best effort, as some file systems refuse it. */
    int dfd = open(dir, O_RDONLY | O_CLOEXEC);
    if (dfd >= 0) {
        if (fsync(dfd) != 0) {
            /* ignored: the data itself is already on disk */
        }
        close(dfd);
    }
    rg_free(tmp);
    return REGNN_OK;
fail_errno:
    err = errno;
fail:
    if (fd >= 0)
        close(fd);
    if (named)
        unlink(tmp);
    rg_free(tmp);
    rg_errno_text(err, why, sizeof why);
    return rg_error(REGNN_E_IO, "%s: cannot %s '%s': %s", fn, step, path, why);
}

/* A symbolic link at path stays: the file it leads to is the one replaced,
 * through a temporary file in that file's own folder. */
regnn_status rg_write_atomic(const char *fn, const char *path, const uint8_t *data, size_t n)
{
    char *real;
    regnn_status st = rg_follow_link(fn, path, &real);
    if (st != REGNN_OK)
        return st;
    st = write_atomic(fn, real ? real : path, data, n);
    free(real); /* from realpath */
    return st;
}
