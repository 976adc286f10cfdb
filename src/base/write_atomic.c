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

/* One atomic write: what goes where, its temporary name, and on failure the
 * step that failed and its errno. */
typedef struct atomic_job {
    const char *path;
    const uint8_t *data;
    size_t n;
    struct stat old; /* the file replaced, when have_old */
    int have_old;
    char *tmp; /* the temporary name, tcap bytes */
    size_t tcap;
    char *dir; /* the folder of path */
    rg_rng r;  /* draws the temporary names */
    const char *step;
    int err;
    int named; /* tmp names a file that a failure must remove */
} atomic_job;

enum { WRITE_DONE, WRITE_FALLBACK, WRITE_FAILED };

static int job_failed(atomic_job *j, int err)
{
    j->err = err;
    return WRITE_FAILED;
}

/* The folder of path into dir (room for strlen(path) + 1 bytes). */
static void folder_of(const char *path, char *dir)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        strcpy(dir, ".");
    else if (slash == path)
        strcpy(dir, "/");
    else {
        memcpy(dir, path, (size_t)(slash - path));
        dir[slash - path] = '\0';
    }
}

#ifdef O_TMPFILE
/* Gives the complete unnamed file fd its name: path at once when nothing is
 * there, else a temporary name renamed over path. WRITE_FALLBACK when it
 * cannot be named (no /proc). */
static int name_unnamed(atomic_job *j, int fd)
{
    if (!j->have_old) {
        /* Nothing to replace: the file appears under its name at once. */
        if (link_unnamed(fd, j->path) == 0)
            return WRITE_DONE;
        if (errno != EEXIST)
            return WRITE_FALLBACK;
    }
    int linked = 0;
    for (int attempt = 0; attempt < 64 && !linked; attempt++) {
        next_tmp_name(j->tmp, j->tcap, j->path, &j->r);
        linked = link_unnamed(fd, j->tmp) == 0;
        if (!linked && errno != EEXIST)
            break;
    }
    if (!linked)
        return WRITE_FALLBACK;
    j->named = 1;
    j->step = "replace";
    if (rename(j->tmp, j->path) != 0)
        return job_failed(j, errno);
    j->named = 0;
    return WRITE_DONE;
}

/* The data into an unnamed file in the folder (O_TMPFILE), then named.
 * WRITE_FALLBACK where the file system or kernel has no O_TMPFILE. */
static int write_unnamed(atomic_job *j)
{
    int fd = -1;
    if (TEST_TMPFILE_MODE == 1)
        errno = EOPNOTSUPP;
    else
        fd = open(j->dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0666);
    if (fd < 0) /* EISDIR/EINVAL: a kernel or file system without O_TMPFILE */
        return (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL) ? WRITE_FALLBACK
                                                                           : job_failed(j, errno);
    int res;
    const char *failed = fill_file(fd, &j->old, j->have_old, j->data, j->n);
    if (failed) {
        j->step = failed;
        res = job_failed(j, errno);
    } else {
        res = name_unnamed(j, fd);
    }
    close(fd);
    return res;
}
#endif

/* The data into a new "<path>.tmp-<hex>" file, closed and renamed over path. */
static int write_named(atomic_job *j)
{
    int fd = -1;
    for (int attempt = 0; attempt < 64; attempt++) {
        next_tmp_name(j->tmp, j->tcap, j->path, &j->r);
        fd = open(j->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0 || errno != EEXIST)
            break;
    }
    if (fd < 0)
        return job_failed(j, errno);
    j->named = 1;
    const char *failed = fill_file(fd, &j->old, j->have_old, j->data, j->n);
    if (failed) {
        j->step = failed;
        int err = errno;
        close(fd);
        return job_failed(j, err);
    }
    if (close(fd) != 0)
        return job_failed(j, errno);
    j->step = "replace";
    if (rename(j->tmp, j->path) != 0)
        return job_failed(j, errno);
    return WRITE_DONE;
}

/* Makes a new name in dir durable; best effort, as some file systems refuse it. */
static void sync_folder(const char *dir)
{
    int dfd = open(dir, O_RDONLY | O_CLOEXEC);
    if (dfd >= 0) {
        if (fsync(dfd) != 0) {
            /* ignored: the data itself is already on disk */
        }
        close(dfd);
    }
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
    atomic_job j;
    memset(&j, 0, sizeof j);
    /* A device, folder or FIFO at path is never replaced by a regular file. */
    j.have_old = stat(path, &j.old) == 0;
    if (j.have_old && !S_ISREG(j.old.st_mode))
        return rg_error(REGNN_E_IO, "%s: '%s' exists and is not a regular file", fn, path);
    j.tcap = strlen(path) + 32;
    /* One block: the temporary name, then the folder. */
    j.tmp = rg_malloc(2 * j.tcap);
    if (!j.tmp)
        return rg_error(REGNN_E_NOMEM, "%s: out of memory", fn);
    j.dir = j.tmp + j.tcap;
    j.path = path;
    j.data = data;
    j.n = n;
    j.step = "create a temporary file next to";
    folder_of(path, j.dir);
    const char *slash = strrchr(path, '/');
    remove_stale(j.dir, slash ? slash + 1 : path);
    /* Names only need to be unlikely to collide: O_EXCL or EEXIST catch the rest. */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    rg_rng_seed(&j.r, (uint64_t)ts.tv_nsec ^ (uint64_t)ts.tv_sec << 30 ^ (uint64_t)getpid() << 16 ^
                          (uint64_t)(uintptr_t)&j);
    int res = WRITE_FALLBACK;
#ifdef O_TMPFILE
    res = write_unnamed(&j);
#endif
    /* cppcheck-suppress knownConditionTrueFalse ; always true only without O_TMPFILE */
    if (res == WRITE_FALLBACK)
        res = write_named(&j);
    if (res == WRITE_DONE)
        sync_folder(j.dir);
    else if (j.named)
        unlink(j.tmp);
    rg_free(j.tmp);
    if (res == WRITE_DONE)
        return REGNN_OK;
    char why[128];
    rg_errno_text(j.err, why, sizeof why);
    return rg_error(REGNN_E_IO, "%s: cannot %s '%s': %s", fn, j.step, path, why);
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
