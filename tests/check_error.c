/* SPDX-License-Identifier: MIT */
/* Status texts, the per-thread message, and C-locale number formatting. */
#define _POSIX_C_SOURCE 200809L /* setenv */
#include "testutil.h"

#include <locale.h>
#include <string.h>

START_TEST(test_strerror_distinct)
{
    for (int a = REGNN_OK; a <= REGNN_E_INTERNAL; a++) {
        const char *sa = regnn_strerror(a);
        ck_assert_ptr_nonnull(sa);
        ck_assert_uint_gt(strlen(sa), 3);
        ck_assert_str_ne(sa, regnn_strerror(-1));
        for (int b = a + 1; b <= REGNN_E_INTERNAL; b++)
            ck_assert_str_ne(sa, regnn_strerror(b));
    }
    ck_assert_str_eq(regnn_strerror(12345), "unknown status code");
    ck_assert_str_eq(regnn_strerror(REGNN_OK), "success");
}
END_TEST

START_TEST(test_message_and_nesting)
{
    ck_assert_int_eq(rg_error(REGNN_E_SHAPE, "inner %d", 7), REGNN_E_SHAPE);
    ck_assert_str_eq(regnn_errmsg(), "inner 7");
    /* A message may quote the previous one (formatting goes through a copy). */
    rg_error(REGNN_E_SHAPE, "outer: %s", regnn_errmsg());
    ck_assert_str_eq(regnn_errmsg(), "outer: inner 7");
    /* Successful calls leave the message alone. */
    regnn_model *m = NULL;
    CK_OK(regnn_model_create(2, &m));
    ck_assert_str_eq(regnn_errmsg(), "outer: inner 7");
    regnn_model_free(m);
    /* Long messages are cut, not overflowed. */
    char big[2000];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = 0;
    rg_error(REGNN_E_IO, "%s", big);
    ck_assert_uint_lt(strlen(regnn_errmsg()), 600);
}
END_TEST

START_TEST(test_format_double_c_locale)
{
    char buf[64];
    rg_format_double(buf, sizeof buf, 0.25);
    ck_assert_str_eq(buf, "0.25");
    rg_format_double(buf, sizeof buf, 0.0 / 0.0);
    ck_assert_str_eq(buf, "nan");
    /* Under a decimal-comma locale the library still writes '.'. CI generates
     * de_DE.UTF-8 and sets REGNN_REQUIRE_LOCALE so this cannot silently skip. */
    if (!setlocale(LC_NUMERIC, "de_DE.UTF-8")) {
        ck_assert_msg(getenv("REGNN_REQUIRE_LOCALE") == NULL, "de_DE.UTF-8 locale is not installed");
        return;
    }
    snprintf(buf, sizeof buf, "%.2f", 1.5);
    ck_assert_str_eq(buf, "1,50"); /* the locale is really active */
    rg_format_double(buf, sizeof buf, -1234.5);
    ck_assert_str_eq(buf, "-1234.5");
    rg_format_double(buf, sizeof buf, 1e-20);
    ck_assert_str_eq(buf, "1e-20");
    setlocale(LC_NUMERIC, "C");
}
END_TEST

START_TEST(test_version)
{
    ck_assert_uint_eq(regnn_version(), REGNN_VERSION_NUMBER);
    ck_assert_str_eq(regnn_version_string(), REGNN_VERSION_STRING);
    ck_assert_int_eq(regnn_abi_version(), REGNN_ABI_VERSION);
    char s[32];
    snprintf(s, sizeof s, "%d.%d.%d", REGNN_VERSION_MAJOR, REGNN_VERSION_MINOR, REGNN_VERSION_PATCH);
    ck_assert_str_eq(s, REGNN_VERSION_STRING);
    ck_assert_int_eq(REGNN_ABI_VERSION, REGNN_VERSION_MAJOR);
}
END_TEST

static Suite *error_suite(void)
{
    Suite *s = suite_create("error");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_strerror_distinct);
    tcase_add_test(tc, test_message_and_nesting);
    tcase_add_test(tc, test_format_double_c_locale);
    tcase_add_test(tc, test_version);
    suite_add_tcase(s, tc);
    return s;
}

RG_TEST_MAIN(error_suite)
