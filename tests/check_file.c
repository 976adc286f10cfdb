/* The file checks shared by the readers: regular files only, sizes, full
 * reads and system error texts. */
#define _POSIX_C_SOURCE 200809L /* mkdtemp, mkfifo */
#include "testutil.h"

#include <errno.h>
#include <string.h>
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

static Suite *file_suite(void)
{
    Suite *s = suite_create("file");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_open_regular);
    tcase_add_test(tc, test_errno_text);
    suite_add_tcase(s, tc);
    return s;
}

RG_TEST_MAIN(file_suite)
