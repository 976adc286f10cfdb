/* SPDX-License-Identifier: MIT */
/* The file checks shared by the readers: regular files only, sizes, full
 * reads and system error texts; saving through symbolic links (the link
 * stays, its target is replaced); path files written and read back; the
 * history CSV written atomically. */
#define _XOPEN_SOURCE 700 /* mkdtemp, mkfifo, realpath, symlink, setrlimit */
#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

START_TEST(test_open_regular)
{
    char dir[] = "/tmp/regnn-file-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[256], fifo[256];
    snprintf(path, sizeof path, "%s/f.txt", dir);
    snprintf(fifo, sizeof fifo, "%s/fifo", dir);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    fputs("hello", f);
    fclose(f);
    int fd = -2;
    size_t size = 1;
    CK_OK(rg_open_regular("t", path, &fd, &size));
    ck_assert_int_ge(fd, 0);
    ck_assert_uint_eq(size, 5);
    char buf[16];
    ck_assert_int_eq(rg_read_full(fd, buf, sizeof buf), 5); /* stops at the end */
    ck_assert_mem_eq(buf, "hello", 5);
    close(fd);
    /* A folder, a FIFO (without blocking) and a missing file are refused. */
    CK_STATUS(rg_open_regular("t", dir, &fd, &size), REGNN_E_IO);
    ck_assert_str_eq(regnn_errmsg(), "t: not a regular file");
    ck_assert_int_eq(fd, -1);
    ck_assert_int_eq(mkfifo(fifo, 0600), 0);
    CK_STATUS(rg_open_regular("t", fifo, &fd, &size), REGNN_E_IO);
    ck_assert_str_eq(regnn_errmsg(), "t: not a regular file");
    unlink(fifo);
    unlink(path);
    CK_STATUS(rg_open_regular("t", path, &fd, &size), REGNN_E_IO);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "t: cannot open: "));
    rmdir(dir);
    ck_assert_int_eq(rg_read_full(-1, buf, 4), -1); /* a read error */
}
END_TEST

START_TEST(test_errno_text)
{
    char buf[128];
    rg_errno_text(ENOENT, buf, sizeof buf);
    ck_assert_str_eq(buf, strerror(ENOENT));
    rg_errno_text(ENOENT, buf, 4); /* too small: a truncated or fallback text, terminated */
    ck_assert_uint_lt(strlen(buf), 4);
}
END_TEST

/* The names in dir other than . and .., joined by spaces, into buf. */
static void list_dir(const char *dir, char *buf, size_t cap)
{
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    buf[0] = '\0';
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        size_t n = strlen(buf);
        snprintf(buf + n, cap - n, "%s%s", n ? " " : "", e->d_name);
    }
    closedir(d);
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    ck_assert_int_eq(fclose(f), 0);
}

static int file_is(const char *path, const char *text)
{
    char buf[64] = {0};
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    return n == strlen(text) && memcmp(buf, text, n) == 0;
}

START_TEST(test_follow_link)
{
    char dir[] = "/tmp/regnn-link-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char file[256], link[256], link2[256], dangling[256], loop[256];
    snprintf(file, sizeof file, "%s/f", dir);
    snprintf(link, sizeof link, "%s/l", dir);
    snprintf(link2, sizeof link2, "%s/l2", dir);
    snprintf(dangling, sizeof dangling, "%s/d", dir);
    snprintf(loop, sizeof loop, "%s/loop", dir);
    write_text(file, "x");
    char *real = (char *)1;
    CK_OK(rg_follow_link("t", file, &real)); /* not a link */
    ck_assert_ptr_null(real);
    real = (char *)1;
    CK_OK(rg_follow_link("t", link, &real)); /* nothing there */
    ck_assert_ptr_null(real);
    ck_assert_int_eq(symlink("f", link), 0);
    ck_assert_int_eq(symlink("l", link2), 0); /* a chain of two links */
    char *want = realpath(file, NULL);
    CK_OK(rg_follow_link("t", link2, &real));
    ck_assert_str_eq(real, want);
    free(real);
    free(want);
    ck_assert_int_eq(symlink("nowhere/x", dangling), 0);
    CK_STATUS(rg_follow_link("t", dangling, &real), REGNN_E_IO);
    ck_assert_ptr_null(real);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "t: '"));
    ck_assert_ptr_nonnull(
        strstr(regnn_errmsg(), "' is a symbolic link whose target cannot be resolved: "));
    ck_assert_int_eq(symlink("loop", loop), 0);
    CK_STATUS(rg_follow_link("t", loop, &real), REGNN_E_IO);
    unlink(loop);
    unlink(dangling);
    unlink(link2);
    unlink(link);
    unlink(file);
    rmdir(dir);
}
END_TEST

static regnn_model *small_model(void)
{
    regnn_model *m = NULL;
    CK_OK(regnn_model_create(3, &m));
    CK_OK(regnn_model_add_dense(m, 4, REGNN_ACT_RELU, NULL));
    CK_OK(regnn_model_add_dense(m, 1, REGNN_ACT_LINEAR, NULL));
    CK_OK(regnn_model_init(m, REGNN_INIT_GLOROT_UNIFORM, 5));
    return m;
}

/* y = x0 - x1 + x2 / 2 on 40 rows. */
static regnn_dataset *small_data(void)
{
    float x[40 * 3], y[40];
    for (int i = 0; i < 40; i++) {
        x[i * 3] = (float)(i % 7) / 7;
        x[i * 3 + 1] = (float)(i % 5) / 5;
        x[i * 3 + 2] = (float)(i % 3) / 3;
        y[i] = x[i * 3] - x[i * 3 + 1] + x[i * 3 + 2] / 2;
    }
    regnn_dataset *ds = NULL;
    CK_OK(regnn_dataset_from_arrays(x, y, 40, 3, 1, REGNN_COPY, &ds));
    return ds;
}

static regnn_path *small_path(void)
{
    const double lambdas[] = {0, 1e-2};
    regnn_model *m = small_model();
    regnn_optimizer *o = NULL;
    regnn_fit_options *fo = NULL;
    regnn_path_options *po = NULL;
    regnn_dataset *ds = small_data();
    regnn_path *p = NULL;
    CK_OK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &o));
    CK_OK(regnn_fit_options_create(&fo));
    CK_OK(regnn_fit_options_set_int(fo, REGNN_FIT_EPOCHS, 2));
    CK_OK(regnn_fit_options_set_double(fo, REGNN_FIT_VALIDATION_SPLIT, 0.25));
    CK_OK(regnn_path_options_create(&po));
    CK_OK(regnn_path_options_set_lambdas(po, lambdas, 2));
    CK_OK(regnn_path_options_set_int(po, REGNN_PATH_THREADS, 1));
    CK_OK(regnn_regularization_path(m, o, ds, NULL, fo, po, &p));
    regnn_path_options_free(po);
    regnn_fit_options_free(fo);
    regnn_optimizer_free(o);
    regnn_dataset_free(ds);
    regnn_model_free(m);
    return p;
}

/* Every save function writes through a symbolic link: the link stays, the
 * file it leads to (in another folder) is replaced, and no temporary file is
 * left next to the link. */
START_TEST(test_save_through_link)
{
    char dir[] = "/tmp/regnn-link-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char a[256], b[256], link[256], target[256], names[512];
    snprintf(a, sizeof a, "%s/a", dir);
    snprintf(b, sizeof b, "%s/b", dir);
    snprintf(link, sizeof link, "%s/a/out", dir);
    snprintf(target, sizeof target, "%s/b/file", dir);
    ck_assert_int_eq(mkdir(a, 0700), 0);
    ck_assert_int_eq(mkdir(b, 0700), 0);
    ck_assert_int_eq(symlink("../b/file", link), 0);
    regnn_model *m = small_model(), *back = NULL;
    regnn_optimizer *o = NULL, *ob = NULL;
    CK_OK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &o));
    regnn_history *h = NULL;
    CK_OK(rg_history_create(2, &h));
    double row[RG_N_METRICS] = {0};
    CK_OK(rg_history_push(h, row));
    regnn_path *p = small_path(), *pb = NULL;
    for (int kind = 0; kind < 5; kind++) {
        write_text(target, "old");
        switch (kind) {
        case 0: CK_OK(regnn_model_save(m, link)); break;
        case 1: CK_OK(regnn_checkpoint_save(m, o, link)); break;
        case 2: CK_OK(regnn_model_export_onnx(m, link)); break;
        case 3: CK_OK(regnn_path_save(p, link)); break;
        default: CK_OK(regnn_history_write_csv(h, link)); break;
        }
        struct stat st;
        ck_assert_int_eq(lstat(link, &st), 0);
        ck_assert_msg(S_ISLNK(st.st_mode), "save %d replaced the link", kind);
        ck_assert_msg(!file_is(target, "old"), "save %d left the target", kind);
        list_dir(a, names, sizeof names);
        ck_assert_str_eq(names, "out");
        list_dir(b, names, sizeof names);
        ck_assert_str_eq(names, "file");
    }
    /* What went through the link reads back from the target. */
    CK_OK(regnn_path_save(p, link));
    CK_OK(regnn_path_load(target, &pb));
    ck_assert_uint_eq(regnn_path_lambda_count(pb), 2);
    CK_OK(regnn_model_save(m, link));
    CK_OK(regnn_model_load(target, &back));
    CK_OK(regnn_checkpoint_save(m, o, link));
    regnn_model_free(back);
    CK_OK(regnn_checkpoint_load(target, &back, &ob));
    /* A dangling link is refused, and nothing is created at its target. */
    unlink(target);
    CK_STATUS(regnn_model_save(m, link), REGNN_E_IO);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "regnn_model_save: '"));
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "a symbolic link whose target cannot be resolved"));
    ck_assert_int_eq(access(target, F_OK), -1);
    regnn_path_free(pb);
    regnn_path_free(p);
    regnn_history_free(h);
    regnn_optimizer_free(ob);
    regnn_optimizer_free(o);
    regnn_model_free(back);
    regnn_model_free(m);
    unlink(link);
    rmdir(a);
    rmdir(b);
    rmdir(dir);
}
END_TEST

/* regnn_path_save and regnn_path_load: a round trip, and a loader that reads
 * regular files only (a FIFO or /dev/zero fails at once) and names the file. */
START_TEST(test_path_file)
{
    char dir[] = "/tmp/regnn-pathfile-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[256], fifo[256], cut[256];
    snprintf(path, sizeof path, "%s/p.rgp", dir);
    snprintf(fifo, sizeof fifo, "%s/fifo", dir);
    snprintf(cut, sizeof cut, "%s/cut.rgp", dir);
    regnn_path *p = small_path(), *q = NULL;
    CK_OK(regnn_path_save(p, path));
    CK_OK(regnn_path_load(path, &q));
    size_t n1 = 0, n2 = 0;
    CK_OK(regnn_path_save_mem(p, NULL, 0, &n1));
    CK_OK(regnn_path_save_mem(q, NULL, 0, &n2));
    ck_assert_uint_eq(n1, n2);
    unsigned char *b1 = malloc(n1), *b2 = malloc(n2);
    CK_OK(regnn_path_save_mem(p, b1, n1, &n1));
    CK_OK(regnn_path_save_mem(q, b2, n2, &n2));
    ck_assert_mem_eq(b1, b2, n1);
    regnn_path_free(q);
    q = (regnn_path *)1;

    ck_assert_int_eq(mkfifo(fifo, 0600), 0);
    CK_STATUS(regnn_path_load(fifo, &q), REGNN_E_IO);
    ck_assert_ptr_null(q);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "/fifo': not a regular file"));
    CK_STATUS(regnn_path_load("/dev/zero", &q), REGNN_E_IO);
    ck_assert_str_eq(regnn_errmsg(), "regnn_path_load: '/dev/zero': not a regular file");
    FILE *f = fopen(cut, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(b1, 1, n1 / 2, f), n1 / 2);
    fclose(f);
    CK_STATUS(regnn_path_load(cut, &q), REGNN_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "regnn_path_load: '"));
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "/cut.rgp': "));
    unlink(cut);
    CK_STATUS(regnn_path_load(cut, &q), REGNN_E_IO);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), strerror(ENOENT)));
    CK_STATUS(regnn_path_load("", &q), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_path_load(NULL, &q), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_path_load(path, NULL), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_path_save(NULL, path), REGNN_E_INVALID_ARG);
    CK_STATUS(regnn_path_save(p, ""), REGNN_E_INVALID_ARG);
    /* A folder at the path is not replaced. */
    CK_STATUS(regnn_path_save(p, dir), REGNN_E_IO);
    free(b1);
    free(b2);
    regnn_path_free(p);
    unlink(fifo);
    unlink(path);
    rmdir(dir);
}
END_TEST

/* A history CSV whose write fails (here: a file size limit, as a full disk)
 * leaves the previous file whole and no temporary, with the system's reason. */
START_TEST(test_history_csv_atomic)
{
    char dir[] = "/tmp/regnn-hist-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[256], names[512];
    snprintf(path, sizeof path, "%s/h.csv", dir);
    write_text(path, "old");
    regnn_history *h = NULL;
    CK_OK(rg_history_create(4, &h));
    double row[RG_N_METRICS];
    for (int i = 0; i < RG_N_METRICS; i++)
        row[i] = 1.0 / 3 + i;
    for (int e = 0; e < 40; e++)
        CK_OK(rg_history_push(h, row));
    struct rlimit old, lim;
    ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
    lim = old;
    lim.rlim_cur = 256;
    void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
    regnn_status st = regnn_history_write_csv(h, path);
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, prev);
    ck_assert_int_eq(st, REGNN_E_IO);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), strerror(EFBIG)));
    ck_assert(file_is(path, "old"));
    list_dir(dir, names, sizeof names);
    ck_assert_str_eq(names, "h.csv");
    /* Without the limit: the whole text, 40 epochs and the header. */
    CK_OK(regnn_history_write_csv(h, path));
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    int lines = 0, c;
    while ((c = fgetc(f)) != EOF)
        lines += c == '\n';
    fclose(f);
    ck_assert_int_eq(lines, 41);
    regnn_history_free(h);
    unlink(path);
    rmdir(dir);
}
END_TEST

static Suite *file_suite(void)
{
    Suite *s = suite_create("file");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_open_regular);
    tcase_add_test(tc, test_errno_text);
    tcase_add_test(tc, test_follow_link);
    tcase_add_test(tc, test_save_through_link);
    tcase_add_test(tc, test_path_file);
    tcase_add_test(tc, test_history_csv_atomic);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    return s;
}

RG_TEST_MAIN(file_suite)
