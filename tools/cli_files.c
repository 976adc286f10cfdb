/* SPDX-License-Identifier: MIT */
/* cli_files.c - the outputs of a command (see cli.h): checked against its
 * inputs and folders before any work, staged in unique temporary files next
 * to their targets, and renamed over them together at the end. */
#define _XOPEN_SOURCE 700 /* realpath, fchmod, fsync */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The signals that end a command (Ctrl-C, a batch system's time limit) are
 * caught from the first staged output to the end of the commit: a command
 * stopped meanwhile removes its temporary files and changes no output
 * (cli_outputs_commit), then dies of the signal as it would have. A handler,
 * not a blocked mask, because any thread (the BLAS's too) may receive it. */
static const int stop_sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
#define N_STOP_SIGS (sizeof stop_sigs / sizeof stop_sigs[0])
static struct sigaction stop_saved[N_STOP_SIGS];
static int stop_caught;
static volatile sig_atomic_t stop_sig;

static void on_stop(int sig) { stop_sig = sig; }

static void catch_stops(void)
{
    if (stop_caught)
        return;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < N_STOP_SIGS; i++)
        /* An ignored signal (nohup) stays ignored. */
        if (sigaction(stop_sigs[i], NULL, &stop_saved[i]) == 0 &&
            stop_saved[i].sa_handler != SIG_IGN)
            sigaction(stop_sigs[i], &sa, NULL);
    stop_caught = 1;
}

/* The previous actions back; a signal caught meanwhile is raised again. */
static void release_stops(void)
{
    if (!stop_caught)
        return;
    for (size_t i = 0; i < N_STOP_SIGS; i++)
        if (stop_saved[i].sa_handler != SIG_IGN)
            sigaction(stop_sigs[i], &stop_saved[i], NULL);
    stop_caught = 0;
    if (stop_sig)
        raise(stop_sig);
}

/* The folder of path into a new string ("." for a bare name). */
static char *folder_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return strdup(".");
    size_t n = slash == path ? 1 : (size_t)(slash - path);
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, path, n);
        d[n] = '\0';
    }
    return d;
}

/* Follow a symbolic link at o->path to the file it finally leads to (the file
 * that gets replaced; the link stays), and record what is there. */
static int resolve(cli_output *o)
{
    struct stat sb;
    o->exists = 0;
    if (lstat(o->path, &sb) == 0 && S_ISLNK(sb.st_mode)) {
        o->target = realpath(o->path, NULL);
        if (!o->target)
            return cli_fail(CLI_ERR, "cannot write %s: a symbolic link whose target cannot be "
                                     "resolved: %s", o->path, strerror(errno));
    } else {
        o->target = strdup(o->path);
        if (!o->target)
            return cli_fail(CLI_ERR, "out of memory");
    }
    if (stat(o->target, &sb) == 0) {
        o->exists = 1;
        o->dev = sb.st_dev;
        o->ino = sb.st_ino;
        o->mode = sb.st_mode;
    } else if (errno != ENOENT) {
        return cli_fail(CLI_ERR, "cannot write %s: %s", o->path, strerror(errno));
    }
    char *dir = folder_of(o->target);
    if (!dir)
        return cli_fail(CLI_ERR, "out of memory");
    int rc = CLI_OK;
    if (stat(dir, &sb) != 0)
        rc = cli_fail(CLI_ERR, "cannot write %s: folder %s: %s", o->path, dir, strerror(errno));
    else if (!S_ISDIR(sb.st_mode))
        rc = cli_fail(CLI_ERR, "cannot write %s: %s is not a folder", o->path, dir);
    else if (access(dir, W_OK | X_OK) != 0)
        rc = cli_fail(CLI_ERR, "cannot write %s: folder %s: %s", o->path, dir, strerror(errno));
    o->dir_dev = sb.st_dev;
    o->dir_ino = sb.st_ino;
    free(dir);
    return rc;
}

/* Whether a and b are one file: the same inode, or the same new name in the
 * same folder. */
static int same_output(const cli_output *a, const cli_output *b)
{
    if (a->exists || b->exists)
        return a->exists && b->exists && a->dev == b->dev && a->ino == b->ino;
    const char *na = strrchr(a->target, '/'), *nb = strrchr(b->target, '/');
    na = na ? na + 1 : a->target;
    nb = nb ? nb + 1 : b->target;
    return a->dir_dev == b->dir_dev && a->dir_ino == b->dir_ino && strcmp(na, nb) == 0;
}

int cli_outputs_check(const char *const *inputs, size_t n_inputs, cli_output *outs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!outs[i].path)
            continue;
        int rc = resolve(&outs[i]);
        if (rc != CLI_OK)
            return rc;
        if (outs[i].exists && !S_ISREG(outs[i].mode))
            return cli_fail(CLI_ERR, "cannot write %s: it exists and is not a regular file",
                            outs[i].path);
        for (size_t k = 0; k < n_inputs; k++) {
            struct stat sb;
            if (inputs[k] && outs[i].exists && stat(inputs[k], &sb) == 0 &&
                sb.st_dev == outs[i].dev && sb.st_ino == outs[i].ino)
                return cli_fail(CLI_USAGE, "%s %s is the input %s: refusing to overwrite an input",
                                outs[i].opt, outs[i].path, inputs[k]);
        }
        for (size_t k = 0; k < i; k++)
            if (outs[k].path && same_output(&outs[k], &outs[i]))
                return cli_fail(CLI_USAGE, "%s %s and %s %s are the same file", outs[k].opt,
                                outs[k].path, outs[i].opt, outs[i].path);
    }
    return CLI_OK;
}

int cli_stdout_check(const char *const *inputs, size_t n_inputs)
{
    struct stat out, in;
    if (fstat(STDOUT_FILENO, &out) != 0 || !S_ISREG(out.st_mode))
        return CLI_OK;
    for (size_t k = 0; k < n_inputs; k++)
        if (inputs[k] && stat(inputs[k], &in) == 0 && in.st_dev == out.st_dev &&
            in.st_ino == out.st_ino)
            return cli_fail(CLI_USAGE, "standard output is the input %s: refusing to write into "
                                       "an input", inputs[k]);
    return CLI_OK;
}

/* A unique name "<target>.tmp-<16 hex digits>" (the library's pattern, so a
 * save of the same file removes one left by a killed process once it is old). */
static void tmp_name(char *buf, size_t cap, const char *target, unsigned attempt)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t x = (uint64_t)ts.tv_nsec ^ (uint64_t)ts.tv_sec << 30 ^ (uint64_t)getpid() << 16 ^
                 (uint64_t)(uintptr_t)buf ^ (uint64_t)attempt << 48;
    /* splitmix64's finalizer spreads the bits */
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    x ^= x >> 31;
    snprintf(buf, cap, "%s.tmp-%016llx", target, (unsigned long long)x);
}

int cli_output_reserve(cli_output *o)
{
    catch_stops();
    size_t cap = strlen(o->target) + 32;
    o->tmp = malloc(cap);
    if (!o->tmp)
        return cli_fail(CLI_ERR, "out of memory");
    int fd = -1;
    for (unsigned attempt = 0; attempt < 64 && fd < 0; attempt++) {
        tmp_name(o->tmp, cap, o->target, attempt);
        fd = open(o->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno != EEXIST)
            break;
    }
    if (fd < 0) {
        int err = errno;
        free(o->tmp);
        o->tmp = NULL;
        return cli_fail(CLI_ERR, "cannot write %s: cannot create a temporary file: %s", o->path,
                        strerror(err));
    }
    if (o->exists && fchmod(fd, o->mode & 07777) != 0) {
        /* not fatal: the new file keeps the default mode */
    }
    o->fd = fd;
    return CLI_OK;
}

/* Fails o's staging: the message, the temporary removed. */
static int stage_failed(cli_output *o, int err)
{
    if (o->fd >= 0)
        close(o->fd);
    o->fd = -1;
    unlink(o->tmp);
    free(o->tmp);
    o->tmp = NULL;
    return cli_fail(CLI_ERR, "cannot write %s: %s", o->path, strerror(err));
}

int cli_output_stage(cli_output *o, const void *data, size_t n)
{
    int rc = cli_output_reserve(o);
    if (rc != CLI_OK)
        return rc;
    const unsigned char *p = data;
    while (n > 0) {
        ssize_t k = write(o->fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return stage_failed(o, errno);
        p += k;
        n -= (size_t)k;
    }
    return cli_output_sync(o);
}

int cli_output_sync(cli_output *o)
{
    if (o->fd < 0) {
        o->fd = open(o->tmp, O_WRONLY | O_CLOEXEC);
        if (o->fd < 0)
            return stage_failed(o, errno);
    }
    if (fsync(o->fd) != 0)
        return stage_failed(o, errno);
    int c = close(o->fd);
    o->fd = -1;
    if (c != 0)
        return stage_failed(o, errno);
    return CLI_OK;
}

int cli_output_written_by(cli_output *o, int rc)
{
    /* The writer may have replaced the file at o->tmp: sync it by its name. */
    if (o->fd >= 0)
        close(o->fd);
    o->fd = -1;
    if (rc == CLI_OK)
        return cli_output_sync(o);
    unlink(o->tmp);
    free(o->tmp);
    o->tmp = NULL;
    return rc;
}

int cli_outputs_commit(cli_output *outs, size_t n)
{
    /* A stop requested while staging: no output changes; the signal's own
     * action (usually the end of the process) follows the clean-up. */
    if (stop_sig) {
        cli_outputs_free(outs, n); /* raises the signal again */
        return cli_fail(CLI_ERR, "stopped by signal %d: no output written", (int)stop_sig);
    }
    for (size_t i = 0; i < n; i++) {
        if (!outs[i].tmp)
            continue;
        if (rename(outs[i].tmp, outs[i].target) != 0)
            return cli_fail(CLI_ERR, "cannot write %s: %s", outs[i].path, strerror(errno));
        free(outs[i].tmp);
        outs[i].tmp = NULL;
        /* The new name made durable; best effort, as some file systems refuse it. */
        char *dir = folder_of(outs[i].target);
        int dfd = dir ? open(dir, O_RDONLY | O_CLOEXEC) : -1;
        if (dfd >= 0) {
            if (fsync(dfd) != 0) {
                /* ignored: the data itself is already on disk */
            }
            close(dfd);
        }
        free(dir);
    }
    return CLI_OK;
}

void cli_outputs_free(cli_output *outs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (outs[i].fd >= 0)
            close(outs[i].fd);
        if (outs[i].tmp)
            unlink(outs[i].tmp);
        free(outs[i].tmp);
        free(outs[i].target);
        outs[i].fd = -1;
        outs[i].tmp = outs[i].target = NULL;
    }
    release_stops();
}
