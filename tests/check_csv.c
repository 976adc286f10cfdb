/* SPDX-License-Identifier: MIT */
/* CSV input: header and target selection, line endings and spacing, the
 * locale-independent number parser, every malformed-input path, files and
 * allocation failures. Run from the repository root (tests/data/...). */
#define _POSIX_C_SOURCE 200809L /* mkstemp, for temporary files */
#include "testutil.h"

#include <float.h>
#include <locale.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char marker;
#define NOT_SET ((regnn_dataset *)&marker)

static regnn_status parse(const char *text, const char *target, regnn_dataset **out)
{
    const char *names[1] = {target};
    return regnn_dataset_parse_csv(text, strlen(text), names, NULL, 1, out);
}

static regnn_dataset *parse_ok(const char *text, const char *target)
{
    regnn_dataset *ds = NULL;
    CK_OK(parse(text, target, &ds));
    return ds;
}

static float feature(const regnn_dataset *ds, size_t r, size_t j)
{
    const rg_rows v = rg_dataset_view(ds);
    return v.x[r * v.n_x + j];
}
static float target(const regnn_dataset *ds, size_t r, size_t k)
{
    const rg_rows v = rg_dataset_view(ds);
    return v.y[r * v.n_y + k];
}

/* Parse text expecting failure: status, *out NULL, and every fragment in the message. */
static void expect_error(const char *text, const char *tname, regnn_status status,
                         const char *frag1, const char *frag2)
{
    regnn_dataset *ds = NOT_SET;
    regnn_status st = parse(text, tname, &ds);
    ck_assert_msg(st == status, "status %d, expected %d for [%s]: %s", st, status, text,
                  regnn_errmsg());
    ck_assert_ptr_null(ds);
    ck_assert_msg(strstr(regnn_errmsg(), "regnn_dataset_parse_csv") != NULL, "%s", regnn_errmsg());
    if (frag1)
        ck_assert_msg(strstr(regnn_errmsg(), frag1) != NULL, "'%s' not in: %s", frag1,
                      regnn_errmsg());
    if (frag2)
        ck_assert_msg(strstr(regnn_errmsg(), frag2) != NULL, "'%s' not in: %s", frag2,
                      regnn_errmsg());
}

static float parse_number(const char *s)
{
    float v = -12345.0f;
    int code = rg_parse_float(s, strlen(s), &v);
    ck_assert_msg(code == RG_NUM_OK, "'%s' -> code %d", s, code);
    return v;
}

static int same_float(float a, float b) { return memcmp(&a, &b, sizeof a) == 0; }

/* ---- selection and layout ---------------------------------------------- */

START_TEST(test_target_by_name)
{
    regnn_dataset *ds = parse_ok("a,b,y,c\n1,2,3,4\n5,6,7,8\n", "y");
    ck_assert_uint_eq(regnn_dataset_rows(ds), 2);
    ck_assert_uint_eq(regnn_dataset_features(ds), 3);
    ck_assert_uint_eq(regnn_dataset_targets(ds), 1);
    ck_assert_str_eq(regnn_dataset_feature_name(ds, 0), "a");
    ck_assert_str_eq(regnn_dataset_feature_name(ds, 1), "b");
    ck_assert_str_eq(regnn_dataset_feature_name(ds, 2), "c");
    ck_assert_str_eq(regnn_dataset_target_name(ds, 0), "y");
    const float fx[6] = {1, 2, 4, 5, 6, 8}, fy[2] = {3, 7};
    for (size_t i = 0; i < 6; i++)
        ck_assert_float_eq(rg_dataset_view(ds).x[i], fx[i]);
    for (size_t i = 0; i < 2; i++)
        ck_assert_float_eq(rg_dataset_view(ds).y[i], fy[i]);
    regnn_dataset_free(ds);
}
END_TEST

START_TEST(test_targets_in_caller_order)
{
    const char *text = "a,b,c,d,e\n1,2,3,4,5\n10,20,30,40,50\n";
    /* By index: d then a. */
    const size_t cols[2] = {3, 0};
    regnn_dataset *ds = NULL;
    CK_OK(regnn_dataset_parse_csv(text, strlen(text), NULL, cols, 2, &ds));
    ck_assert_uint_eq(regnn_dataset_targets(ds), 2);
    ck_assert_str_eq(regnn_dataset_target_name(ds, 0), "d");
    ck_assert_str_eq(regnn_dataset_target_name(ds, 1), "a");
    ck_assert_uint_eq(regnn_dataset_features(ds), 3);
    ck_assert_str_eq(regnn_dataset_feature_name(ds, 0), "b");
    ck_assert_str_eq(regnn_dataset_feature_name(ds, 1), "c");
    ck_assert_str_eq(regnn_dataset_feature_name(ds, 2), "e");
    ck_assert_float_eq(target(ds, 1, 0), 40);
    ck_assert_float_eq(target(ds, 1, 1), 10);
    ck_assert_float_eq(feature(ds, 1, 2), 50);
    ck_assert_float_eq(feature(ds, 0, 0), 2);
    regnn_dataset_free(ds);

    /* By name: e then b. */
    const char *names[2] = {"e", "b"};
    CK_OK(regnn_dataset_parse_csv(text, strlen(text), names, NULL, 2, &ds));
    ck_assert_str_eq(regnn_dataset_target_name(ds, 0), "e");
    ck_assert_str_eq(regnn_dataset_target_name(ds, 1), "b");
    ck_assert_str_eq(regnn_dataset_feature_name(ds, 0), "a");
    ck_assert_str_eq(regnn_dataset_feature_name(ds, 1), "c");
    ck_assert_str_eq(regnn_dataset_feature_name(ds, 2), "d");
    ck_assert_float_eq(target(ds, 0, 0), 5);
    ck_assert_float_eq(target(ds, 0, 1), 2);
    ck_assert_float_eq(feature(ds, 1, 2), 40);
    regnn_dataset_free(ds);
}
END_TEST

START_TEST(test_layout_variants)
{
    const char *texts[] = {
        "a,b,y\n1,2,3\n4,5,6\n",
        "a,b,y\r\n1,2,3\r\n4,5,6\r\n",        /* CRLF */
        "a,b,y\n1,2,3\n4,5,6",                /* no final newline */
        "a,b,y\r1,2,3\r4,5,6\r",              /* old Mac CR */
        ("\xEF\xBB\xBF" "a,b,y\n1,2,3\n4,5,6\n"), /* UTF-8 BOM */
        "\n  \n a , \"b\" ,\t\"y\"\t\n\n1 , 2,3  \n \t\n4,\t5 ,6\n\n\n", /* blanks, spaces, quotes */
        "a,b,y\r\n\r\n1,2,3\r\n\r\n4,5,6",
        "a,b,y\n1,2,3\n4,5,6\n \t", /* spaces at the end */
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        regnn_dataset *ds = NULL;
        regnn_status st = parse(texts[i], "y", &ds);
        ck_assert_msg(st == REGNN_OK, "variant %zu: %s", i, regnn_errmsg());
        ck_assert_uint_eq(regnn_dataset_rows(ds), 2);
        ck_assert_str_eq(regnn_dataset_feature_name(ds, 0), "a");
        ck_assert_str_eq(regnn_dataset_feature_name(ds, 1), "b");
        ck_assert_float_eq(feature(ds, 0, 1), 2);
        ck_assert_float_eq(feature(ds, 1, 0), 4);
        ck_assert_float_eq(feature(ds, 1, 1), 5);
        ck_assert_float_eq(target(ds, 0, 0), 3);
        ck_assert_float_eq(target(ds, 1, 0), 6);
        regnn_dataset_free(ds);
    }
    /* len bounds the text: trailing bytes past it are not read. */
    const char *text = "a,y\n1,2\n3,4\n";
    const char *names[1] = {"y"};
    regnn_dataset *ds = NULL;
    CK_OK(regnn_dataset_parse_csv(text, 8, names, NULL, 1, &ds));
    ck_assert_uint_eq(regnn_dataset_rows(ds), 1);
    regnn_dataset_free(ds);
}
END_TEST

START_TEST(test_quoted_header_names)
{
    regnn_dataset *ds = parse_ok("\"x, one\",\"say \"\"hi\"\"\",\" y \"\n1,2,3\n", " y ");
    ck_assert_str_eq(regnn_dataset_feature_name(ds, 0), "x, one");
    ck_assert_str_eq(regnn_dataset_feature_name(ds, 1), "say \"hi\"");
    ck_assert_str_eq(regnn_dataset_target_name(ds, 0), " y ");
    ck_assert_float_eq(target(ds, 0, 0), 3);
    regnn_dataset_free(ds);
}
END_TEST

START_TEST(test_duplicate_header_names)
{
    /* Refused whether or not a duplicate is the target, and whichever way the
     * targets are chosen. */
    expect_error("a,a,y\n1,2,3\n", "y", REGNN_E_FORMAT, "line 1: columns 1 and 2",
                 "same name 'a'");
    expect_error("a,y,b,y\n1,2,3,4\n", "y", REGNN_E_FORMAT, "columns 2 and 4", "'y'");
    const char *text = "a,y,b,y\n1,2,3,4\n";
    const size_t cols[1] = {0};
    regnn_dataset *ds = NOT_SET;
    CK_STATUS(regnn_dataset_parse_csv(text, strlen(text), NULL, cols, 1, &ds), REGNN_E_FORMAT);
    ck_assert_ptr_null(ds);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "columns 2 and 4"));
    /* Quoting does not make a name different; surrounding spaces do when quoted. */
    expect_error("\n a ,b,\"a\"\n1,2,3\n", "b", REGNN_E_FORMAT, "line 2: columns 1 and 3", "'a'");
    ds = parse_ok("a,\" a\",y\n1,2,3\n", "y");
    ck_assert_str_eq(regnn_dataset_feature_name(ds, 1), " a");
    regnn_dataset_free(ds);
    /* Several duplicates: the pair whose second column comes first. */
    expect_error("b,a,c,a,b,y\n1,2,3,4,5,6\n", "y", REGNN_E_FORMAT, "columns 2 and 4", "'a'");
    expect_error("b,a,c,b,a,a,y\n1,2,3,4,5,6,7\n", "y", REGNN_E_FORMAT, "columns 1 and 4", "'b'");
    /* Names differ by case are different names. */
    ds = parse_ok("Y,y\n1,2\n", "y");
    ck_assert_str_eq(regnn_dataset_feature_name(ds, 0), "Y");
    regnn_dataset_free(ds);
}
END_TEST

START_TEST(test_quoted_fields)
{
    /* RFC 4180: quoted numbers, a quoted name with a comma and "", CRLF. */
    const char *text = "\"x, one\",\"say \"\"hi\"\"\",y\r\n\"1\",\"2.5\",\"-3e2\"\r\n"
                       " \"4\" ,5,  \" 6 \"\r\n";
    regnn_dataset *ds = parse_ok(text, "y");
    ck_assert_uint_eq(regnn_dataset_rows(ds), 2);
    ck_assert_str_eq(regnn_dataset_feature_name(ds, 0), "x, one");
    ck_assert_str_eq(regnn_dataset_feature_name(ds, 1), "say \"hi\"");
    ck_assert_float_eq(feature(ds, 0, 0), 1);
    ck_assert_float_eq(feature(ds, 0, 1), 2.5f);
    ck_assert_float_eq(target(ds, 0, 0), -300);
    ck_assert_float_eq(feature(ds, 1, 0), 4);
    ck_assert_float_eq(feature(ds, 1, 1), 5);
    ck_assert_float_eq(target(ds, 1, 0), 6);
    regnn_dataset_free(ds);
    /* A quoted name may span lines; later line numbers count them. */
    ds = parse_ok("\"two\r\nlines\",y\n1,2\n", "y");
    ck_assert_str_eq(regnn_dataset_feature_name(ds, 0), "two\r\nlines");
    ck_assert_float_eq(target(ds, 0, 0), 2);
    regnn_dataset_free(ds);
    expect_error("\"a\nb\",y\n1,2\n3,x\n", "y", REGNN_E_FORMAT, "line 4, column 2", "'x'");
    /* A quoted comma is part of the field: a number error, not a field count. */
    expect_error("a,y\n\"1,5\",2\n", "y", REGNN_E_FORMAT, "line 2, column 1 ('a')",
                 "expected a number, found '1,5'");
    expect_error("a,y\n\"1\"\"2\",2\n", "y", REGNN_E_FORMAT, "line 2, column 1",
                 "found '1\"\"2'");
    expect_error("a,y\n1,\"\"\n", "y", REGNN_E_FORMAT, "line 2, column 2 ('y')", "empty field");
    expect_error("a,y\n1,2\n\"1\n2\",3\n", "y", REGNN_E_FORMAT, "line 3, column 1",
                 "found '1\\n2'");
    expect_error("a,y\n1,2\n3,\"4\n5,6\n", "y", REGNN_E_FORMAT, "line 3, column 2",
                 "unterminated quote (opened at byte offset 10)");
    expect_error("a,y\n\"1\"x,2\n", "y", REGNN_E_FORMAT, "line 2, column 1",
                 "unexpected 'x' after a closing quote");
    expect_error("a,y\n1,2\"3\"\n", "y", REGNN_E_FORMAT, "line 2, column 2 ('y')",
                 "double quote inside an unquoted field");
    /* Field counts are checked before the values, quotes taken into account. */
    expect_error("a,y\n\"1,2\",\"x\",3\n", "y", REGNN_E_FORMAT, "line 2",
                 "expected 2 fields, found 3");
    expect_error("a,b,y\n\"1\",2\n", "y", REGNN_E_FORMAT, "line 2", "expected 3 fields, found 2");
    /* The header keeps a quote that does not start a name. */
    ds = parse_ok("a\"b,y\n1,2\n", "y");
    ck_assert_str_eq(regnn_dataset_feature_name(ds, 0), "a\"b");
    regnn_dataset_free(ds);
    expect_error("a,y\n1,2\n3,\"4\"\x1b\n", "y", REGNN_E_FORMAT, "line 3, column 2",
                 "unexpected '\\x1b' after a closing quote");
}
END_TEST

START_TEST(test_one_column_header)
{
    expect_error("a;b;y\n1;2;3\n", "y", REGNN_E_FORMAT, "line 1: the header has one column ('a;b;y')",
                 "seems to use ';' as the delimiter");
    expect_error("\na\tb\ty\n1\t2\t3\n", "y", REGNN_E_FORMAT, "line 2: the header has one column ('a\\tb\\ty')",
                 "use tab as the delimiter");
    expect_error("a|b;c|y\n1|2|3\n", "y", REGNN_E_FORMAT, "one column", "use '|' as");
    expect_error("y\n1\n", "y", REGNN_E_FORMAT, "the header has one column ('y')",
                 "a feature and a target column");
    /* The same whichever way the target is chosen. */
    const char *text = "a;y\n1;2\n";
    const size_t cols[1] = {0};
    regnn_dataset *ds = NOT_SET;
    CK_STATUS(regnn_dataset_parse_csv(text, strlen(text), NULL, cols, 1, &ds), REGNN_E_FORMAT);
    ck_assert_ptr_null(ds);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "seems to use ';'"));
}
END_TEST

/* Parse len bytes (the text may hold NUL bytes) expecting a format error. */
static void expect_binary_error(const char *text, size_t len, const char *frag1, const char *frag2)
{
    const char *names[1] = {"y"};
    regnn_dataset *ds = NOT_SET;
    CK_STATUS(regnn_dataset_parse_csv(text, len, names, NULL, 1, &ds), REGNN_E_FORMAT);
    ck_assert_ptr_null(ds);
    ck_assert_msg(strstr(regnn_errmsg(), frag1) != NULL, "'%s' not in: %s", frag1, regnn_errmsg());
    ck_assert_msg(strstr(regnn_errmsg(), frag2) != NULL, "'%s' not in: %s", frag2, regnn_errmsg());
}

START_TEST(test_binary_input)
{
    /* gzip-compressed data. */
    static const char gz[] = "\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\xcb\x48\xcd\xc9";
    expect_binary_error(gz, sizeof gz - 1, "line 1, byte offset 3: NUL byte '\\x00'",
                        "the input is not text");
    /* UTF-16 text. */
    static const char u16[] = "\xff\xfe" "a\0,\0y\0\n\0" "1\0,\0" "2\0\n\0";
    expect_binary_error(u16, sizeof u16 - 1, "byte offset 3: NUL byte", "UTF-16");
    /* A NUL in a data row: named with its place, not cut off at it. */
    static const char nul[] = "x,y\n1,2\n5\0,3\n";
    expect_binary_error(nul, sizeof nul - 1, "line 3, byte offset 9: NUL byte '\\x00'",
                        "not text");
    static const char nul_cr[] = "x,y\r\n1,2\r\r\n5,\0\n";
    expect_binary_error(nul_cr, sizeof nul_cr - 1, "line 4, byte offset 13: NUL byte", "not text");
    /* Control bytes in the header. */
    expect_binary_error("\x7f" "ELF\x02\x01,\n", 8, "line 1, byte offset 0: control byte '\\x7f'",
                        "not text");
    expect_binary_error("a,b\x1b[0m,y\n1,2,3\n", 16, "byte offset 3: control byte '\\x1b'",
                        "not text");
    /* ... also on a later line of a quoted name. */
    expect_binary_error("\"a\n\x02\",y\n1,2\n", 12, "line 2, byte offset 3: control byte '\\x02'",
                        "not text");
}
END_TEST

START_TEST(test_messages_escape_input)
{
    expect_error("x,y\n1\x1b[31m,2\n", "y", REGNN_E_FORMAT, "line 2, column 1 ('x')",
                 "found '1\\x1b[31m'");
    expect_error("x,y\n\"1\t2\",2\n", "y", REGNN_E_FORMAT, "line 2, column 1", "found '1\\t2'");
    expect_error("x,y\n1\\2,2\n", "y", REGNN_E_FORMAT, "line 2, column 1", "found '1\\\\2'");
    /* UTF-8 is shown as it is, other bytes above 0x7f in hex. */
    expect_error("x,Gr\xc3\xb6\xc3\x9f" "e\n1,\xff" "5\n", "x", REGNN_E_FORMAT,
                 "column 2 ('Gr\xc3\xb6\xc3\x9f" "e')", "found '\\xff5'");
    expect_error("x,y\n1,\xc3" "5\n", "x", REGNN_E_FORMAT, "found '\\xc35'", NULL);
    /* The quoted text is bounded, so the message keeps its end. */
    char text[700] = "x,";
    memset(text + 2, 'n', 300);
    strcpy(text + 302, "\n1,");
    memset(text + 305, '\x01', 300);
    strcpy(text + 605, "\n");
    expect_error(text, "x", REGNN_E_FORMAT, "('nnnnnnnnnn", "\\x01\\x01...'");
    ck_assert_uint_lt(strlen(regnn_errmsg()), 200);
    expect_error("x,y\n1,2\n", "y\n\x1b", REGNN_E_INVALID_ARG, "no column named 'y\\n\\x1b'",
                 NULL);
}
END_TEST

START_TEST(test_unknown_target)
{
    const char *text = "age,sex,bmi,Target\n1,2,3,4\n";
    expect_error(text, "target", REGNN_E_INVALID_ARG,
                 "no column named 'target' in the header (did you mean 'Target'?)",
                 "line 1 has 4 columns: 'age', 'sex', 'bmi', 'Target'");
    expect_error(text, " TARGET ", REGNN_E_INVALID_ARG, "did you mean 'Target'?", NULL);
    expect_error(text, "bmj", REGNN_E_INVALID_ARG, "did you mean 'bmi'?", NULL);
    expect_error(text, "Tagret", REGNN_E_INVALID_ARG, "did you mean 'Target'?", NULL);
    expect_error(text, "y", REGNN_E_INVALID_ARG, "no column named 'y' in the header;",
                 "4 columns: 'age',");
    expect_error(text, "bp", REGNN_E_INVALID_ARG, "no column named 'bp' in the header;", NULL);
    /* Many columns: the list is cut, the message still fits. */
    char big[4000] = "";
    size_t o = 0;
    for (int j = 0; j < 300; j++)
        o += (size_t)snprintf(big + o, sizeof big - o, "%scolumn_%d", j ? "," : "", j);
    o += (size_t)snprintf(big + o, sizeof big - o, "\n");
    for (int j = 0; j < 300; j++)
        o += (size_t)snprintf(big + o, sizeof big - o, "%s1", j ? "," : "");
    snprintf(big + o, sizeof big - o, "\n");
    expect_error(big, "colum_250", REGNN_E_INVALID_ARG, "did you mean 'column_250'?",
                 "300 columns: 'column_0', 'column_1', ");
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), ", ..."));
    ck_assert_uint_lt(strlen(regnn_errmsg()), 300);
    /* Names too long to compare are listed, not suggested. */
    char longname[200] = "x,";
    memset(longname + 2, 'q', 100);
    strcpy(longname + 102, "\n1,2\n");
    expect_error(longname, "qqq", REGNN_E_INVALID_ARG, "header;", "'qqqqq");
}
END_TEST

START_TEST(test_target_selection_errors)
{
    const char *text = "a,b,c\n1,2,3\n";
    size_t len = strlen(text);
    const char *n_b[1] = {"b"}, *n_bb[2] = {"b", "b"}, *n_null[1] = {NULL}, *n_zz[1] = {"zz"};
    const char *n_abc[3] = {"a", "b", "c"};
    const size_t c_1[1] = {1}, c_11[2] = {1, 1}, c_3[1] = {3}, c_all[3] = {2, 0, 1};
    struct {
        const char *const *names;
        const size_t *cols;
        size_t n;
        regnn_status st;
        const char *frag;
    } cases[] = {
        {n_b, c_1, 1, REGNN_E_INVALID_ARG, "exactly one"},
        {NULL, NULL, 1, REGNN_E_INVALID_ARG, "exactly one"},
        {n_b, NULL, 0, REGNN_E_INVALID_ARG, "n_targets"},
        {NULL, c_1, 0, REGNN_E_INVALID_ARG, "n_targets"},
        {n_zz, NULL, 1, REGNN_E_INVALID_ARG, "no column named 'zz'"},
        {n_null, NULL, 1, REGNN_E_INVALID_ARG, "target_names[0] is NULL"},
        {n_bb, NULL, 2, REGNN_E_INVALID_ARG, "twice"},
        {NULL, c_11, 2, REGNN_E_INVALID_ARG, "twice"},
        {NULL, c_3, 1, REGNN_E_INVALID_ARG, "target_cols[0] = 3"},
        {NULL, c_all, 3, REGNN_E_INVALID_ARG, "no feature column"},
        {n_abc, NULL, 3, REGNN_E_INVALID_ARG, "no feature column"},
        {NULL, c_all, SIZE_MAX, REGNN_E_INVALID_ARG, "no feature column"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        regnn_dataset *ds = NOT_SET;
        regnn_status st =
            regnn_dataset_parse_csv(text, len, cases[i].names, cases[i].cols, cases[i].n, &ds);
        ck_assert_msg(st == cases[i].st, "case %zu: %d: %s", i, st, regnn_errmsg());
        ck_assert_ptr_null(ds);
        ck_assert_msg(strstr(regnn_errmsg(), cases[i].frag) != NULL, "case %zu: %s", i,
                      regnn_errmsg());
    }
    regnn_dataset *ds = NOT_SET;
    CK_STATUS(regnn_dataset_parse_csv(NULL, 5, n_b, NULL, 1, &ds), REGNN_E_INVALID_ARG);
    ck_assert_ptr_null(ds);
    CK_STATUS(regnn_dataset_parse_csv(text, len, n_b, NULL, 1, NULL), REGNN_E_INVALID_ARG);
}
END_TEST

/* ---- malformed input ----------------------------------------------------- */

START_TEST(test_malformed_numbers)
{
    expect_error("a,bmi,y\n1,2,3\n4,abc,6\n", "y", REGNN_E_FORMAT, "line 3, column 2 ('bmi')",
                 "expected a number, found 'abc'");
    /* Blank lines count: the bad row is on line 5 of the text. */
    expect_error("a,y\n\n1,2\n\n1.5.2,3\n", "y", REGNN_E_FORMAT, "line 5, column 1 ('a')",
                 "'1.5.2'");
    expect_error("a,y\n1,2\n1,\n", "y", REGNN_E_FORMAT, "line 3, column 2 ('y')", "empty field");
    expect_error("a,y\n1,2\n  ,3\n", "y", REGNN_E_FORMAT, "line 3, column 1", "empty field");
    const char *bad[] = {"1e", "1e+", "e5", "--1", "+-1", "0x10", "1 2", ".", "-", "+", "1..2",
                         "1e5.5", "1,5x", "12a", "nan(1)", "infinit", "1d5", "1e--2"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[64];
        snprintf(text, sizeof text, "x,y\n1,2\n3,4\n%s,5\n", bad[i]);
        if (strchr(bad[i], ','))
            expect_error(text, "y", REGNN_E_FORMAT, "line 4", "expected 2 fields, found 3");
        else
            expect_error(text, "y", REGNN_E_FORMAT, "line 4, column 1 ('x')", bad[i]);
    }
    /* A long field is quoted only in part. */
    char text[400] = "x,y\n";
    memset(text + 4, '7', 300);
    strcpy(text + 304, "q,1\n");
    expect_error(text, "y", REGNN_E_FORMAT, "line 2, column 1", "...'");
}
END_TEST

START_TEST(test_non_finite_and_range)
{
    const char *nonfinite[] = {"nan", "NaN", "-nan", "inf", "+Inf", "-INF", "infinity", "-Infinity"};
    for (size_t i = 0; i < sizeof nonfinite / sizeof nonfinite[0]; i++) {
        char text[64];
        snprintf(text, sizeof text, "x,y\n1,2\n3,%s\n", nonfinite[i]);
        expect_error(text, "y", REGNN_E_NUMERIC, "line 3, column 2 ('y')", "not a finite number");
    }
    expect_error("x,y\n1e39,2\n", "y", REGNN_E_NUMERIC, "line 2, column 1", "out of the float range");
    expect_error("x,y\n1,-3.5e38\n", "y", REGNN_E_NUMERIC, "line 2, column 2", "'-3.5e38'");
    expect_error("x,y\n1,1e999999999999999999999\n", "y", REGNN_E_NUMERIC, "line 2", NULL);
    /* Underflow is not an error: it rounds to zero, as any float conversion does. */
    regnn_dataset *ds = parse_ok("x,y\n1e-50,-1e-999999999999\n", "y");
    ck_assert(same_float(feature(ds, 0, 0), 0.0f));
    ck_assert(same_float(target(ds, 0, 0), -0.0f));
    regnn_dataset_free(ds);
}
END_TEST

START_TEST(test_malformed_structure)
{
    expect_error("a,b,y\n1,2,3\n4,5\n", "y", REGNN_E_FORMAT, "line 3", "expected 3 fields, found 2");
    expect_error("a,b,y\n1,2,3\n\n4,5,6,7\n", "y", REGNN_E_FORMAT, "line 4",
                 "expected 3 fields, found 4");
    expect_error("a,b,y\r\n1,2,3,\r\n", "y", REGNN_E_FORMAT, "line 2", "found 4");
    expect_error("a,b,y\n", "y", REGNN_E_FORMAT, "no data rows", NULL);
    expect_error("a,b,y\n\n  \n", "y", REGNN_E_FORMAT, "no data rows", NULL);
    expect_error("", "y", REGNN_E_FORMAT, "no header", NULL);
    expect_error("\n \r\n\t\n", "y", REGNN_E_FORMAT, "no header", NULL);
    expect_error("\xEF\xBB\xBF", "y", REGNN_E_FORMAT, "no header", NULL);
    /* Header problems. */
    expect_error("a,,y\n1,2,3\n", "y", REGNN_E_FORMAT, "line 1, column 2", "empty column name");
    expect_error("\n\na,y,\n1,2,3\n", "y", REGNN_E_FORMAT, "line 3, column 3", "empty column name");
    expect_error("a,\"\",y\n1,2,3\n", "y", REGNN_E_FORMAT, "line 1, column 2", "empty column name");
    expect_error("a,\"y\n1,2\n", "y", REGNN_E_FORMAT, "line 1, column 2", "unterminated quote");
    expect_error("a,\"y\"z\n1,2\n", "y", REGNN_E_FORMAT, "line 1, column 2", "after a closing quote");
    /* The header has to be a header: a number there is just a column name. */
    regnn_dataset *ds = parse_ok("1,2\n3,4\n", "2");
    ck_assert_str_eq(regnn_dataset_feature_name(ds, 0), "1");
    regnn_dataset_free(ds);
}
END_TEST

/* ---- numbers ------------------------------------------------------------- */

START_TEST(test_number_syntax)
{
    ck_assert(same_float(parse_number("0.1"), 0.1f));
    ck_assert(same_float(parse_number("-3.25e-2"), -3.25e-2f));
    ck_assert(same_float(parse_number("1e-45"), 0x1p-149f)); /* the smallest subnormal */
    ck_assert(same_float(parse_number("123456789012345678901234"), 123456789012345678901234.0f));
    ck_assert(same_float(parse_number("+7"), 7.0f));
    ck_assert(same_float(parse_number(".5"), 0.5f));
    ck_assert(same_float(parse_number("5."), 5.0f));
    ck_assert(same_float(parse_number("-0"), -0.0f));
    ck_assert(same_float(parse_number("0000.000e99"), 0.0f));
    ck_assert(same_float(parse_number("1E3"), 1000.0f));
    ck_assert(same_float(parse_number("1e+3"), 1000.0f));
    ck_assert(same_float(parse_number("000123.4500"), 123.45f));
    ck_assert(same_float(parse_number("3.4028235e38"), FLT_MAX));
    ck_assert(same_float(parse_number("1.17549435e-38"), FLT_MIN));
    ck_assert(same_float(parse_number("16777217"), 16777216.0f)); /* tie to even */
    ck_assert(same_float(parse_number("16777219"), 16777220.0f)); /* tie to even */
    ck_assert(same_float(parse_number("0.000000000000000000000000000000000000000000001"),
                         0x1p-149f));
    /* Huge digit counts with compensating exponents. */
    char buf[1200];
    buf[0] = '0';
    buf[1] = '.';
    memset(buf + 2, '0', 999);
    strcpy(buf + 1001, "25e999");
    ck_assert(same_float(parse_number(buf), 0.25f));
    memset(buf, '0', 1000);
    strcpy(buf + 1000, "1234e-3");
    ck_assert(same_float(parse_number(buf), 1.234f));
    buf[0] = '4';
    memset(buf + 1, '0', 1000);
    strcpy(buf + 1001, "e-1000");
    ck_assert(same_float(parse_number(buf), 4.0f));

    float v = 1.0f;
    ck_assert_int_eq(rg_parse_float("", 0, &v), RG_NUM_EMPTY);
    ck_assert_int_eq(rg_parse_float(" 1", 2, &v), RG_NUM_SYNTAX); /* callers trim */
    ck_assert_int_eq(rg_parse_float("1,5", 3, &v), RG_NUM_SYNTAX);
    ck_assert_int_eq(rg_parse_float("nan", 3, &v), RG_NUM_NONFINITE);
    ck_assert_int_eq(rg_parse_float("-inf", 4, &v), RG_NUM_NONFINITE);
    ck_assert_int_eq(rg_parse_float("3.5e38", 6, &v), RG_NUM_RANGE);
    ck_assert_float_eq(v, 1.0f); /* untouched on failure */
    ck_assert_int_eq(rg_parse_float("1.59", 3, &v), RG_NUM_OK); /* n bounds the text */
    ck_assert_float_eq(v, 1.5f);
}
END_TEST

/* Exactly representable boundaries: the parser must round like IEEE
 * round-to-nearest-even even when the decimal is within 1e-30 of a tie. */
START_TEST(test_number_rounding_hard_cases)
{
    /* 1 + 2^-24 is the midpoint between 1 and the next float. */
    ck_assert(same_float(parse_number("1.000000059604644775390625"), 1.0f));
    ck_assert(same_float(parse_number("1.0000000596046447753906250000000001"), 1.00000012f));
    ck_assert(same_float(parse_number("1.0000000596046447753906249999999999"), 1.0f));
    /* (1 + 2^-23) + 2^-24: tie goes to the even neighbour above. */
    ck_assert(same_float(parse_number("1.000000178813934326171875"), 1.00000024f));
    /* 2^-150, half the smallest subnormal: ties to 0; a hair more rounds up. */
    const char *half_min =
        "7.00649232162408535461864791644958065640130970938257885878534141944895541342930300743319"
        "094181060791015625e-46";
    ck_assert(same_float(parse_number(half_min), 0.0f));
    char more[256];
    snprintf(more, sizeof more, "%.*s1e-46", (int)(strlen(half_min) - 4), half_min);
    ck_assert(same_float(parse_number(more), 0x1p-149f));
    /* FLT_MAX + half an ulp = 2^128 - 2^103 overflows (tie to even is 2^128). */
    float v;
    ck_assert_int_eq(rg_parse_float("340282356779733661637539395458142568448", 39, &v),
                     RG_NUM_RANGE);
    ck_assert(same_float(parse_number("340282356779733661637539395458142568447.9999"), FLT_MAX));
}
END_TEST

static uint64_t xorshift(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

START_TEST(test_number_round_trip)
{
    /* Any float printed with 9 significant digits reads back bit for bit. */
    uint64_t s = 0x9E3779B97F4A7C15ull;
    char buf[64];
    int tested = 0;
    for (int i = 0; i < 20000; i++) {
        uint32_t u = (uint32_t)xorshift(&s);
        float f;
        memcpy(&f, &u, sizeof f);
        if (!isfinite(f))
            continue;
        snprintf(buf, sizeof buf, "%.9g", (double)f);
        float g = parse_number(buf);
        ck_assert_msg(same_float(f, g), "%s -> %a, expected %a", buf, (double)g, (double)f);
        tested++;
    }
    ck_assert_int_gt(tested, 19000);
    /* Floats in the range of typical data, in positional notation too. */
    for (int i = 0; i < 10000; i++) {
        float f = (float)((double)(xorshift(&s) >> 11) * 0x1p-53 * 2000.0 - 1000.0);
        snprintf(buf, sizeof buf, "%.9g", (double)f);
        ck_assert(same_float(parse_number(buf), f));
        snprintf(buf, sizeof buf, "%.12f", (double)f);
        ck_assert(same_float(parse_number(buf), f));
    }
}
END_TEST

START_TEST(test_number_matches_strtof)
{
    /* The C library's strtof in the "C" locale is a correctly rounded
     * reference; compare on inputs that stress rounding: exact midpoints
     * between adjacent floats, nudged up and down, and long random digit strings. */
    ck_assert_ptr_nonnull(setlocale(LC_NUMERIC, "C"));
    uint64_t s = 12345;
    char buf[128];
    for (int i = 0; i < 5000; i++) {
        uint32_t u = (uint32_t)xorshift(&s) & 0x7f7fffffu; /* positive, below FLT_MAX */
        float lo, hi;
        uint32_t u2 = u + 1;
        memcpy(&lo, &u, sizeof lo);
        memcpy(&hi, &u2, sizeof hi);
        if (!isfinite(hi))
            continue;
        double mid = ((double)lo + (double)hi) / 2; /* exact */
        const char *fmts[] = {"%.60e", "%.17g", "%.25e", "%.8e"};
        for (size_t k = 0; k < 4; k++) {
            snprintf(buf, sizeof buf, fmts[k], mid);
            float want = strtof(buf, NULL), got = parse_number(buf);
            ck_assert_msg(same_float(want, got), "%s -> %a, strtof %a", buf, (double)got,
                          (double)want);
        }
        int nd = 1 + (int)(xorshift(&s) % 40), p = 0;
        if (xorshift(&s) & 1)
            buf[p++] = '-';
        for (int k = 0; k < nd; k++)
            buf[p++] = (char)('0' + xorshift(&s) % 10);
        snprintf(buf + p, sizeof buf - (size_t)p, "e%d", (int)(xorshift(&s) % 90) - 65);
        float want = strtof(buf, NULL), got;
        int code = rg_parse_float(buf, strlen(buf), &got);
        if (isinf(want)) {
            ck_assert_int_eq(code, RG_NUM_RANGE);
        } else {
            ck_assert_int_eq(code, RG_NUM_OK);
            ck_assert_msg(same_float(want, got), "%s -> %a, strtof %a", buf, (double)got,
                          (double)want);
        }
    }
}
END_TEST

START_TEST(test_numbers_through_csv)
{
    regnn_dataset *ds =
        parse_ok("p,q,y\n0.1,-3.25e-2,1e-45\n123456789012345678901234, +2.5E+1 ,-0.0\n", "y");
    ck_assert(same_float(feature(ds, 0, 0), 0.1f));
    ck_assert(same_float(feature(ds, 0, 1), -0.0325f));
    ck_assert(same_float(target(ds, 0, 0), 0x1p-149f));
    ck_assert(same_float(feature(ds, 1, 0), 1.23456789e23f));
    ck_assert(same_float(feature(ds, 1, 1), 25.0f));
    ck_assert(same_float(target(ds, 1, 0), -0.0f));
    regnn_dataset_free(ds);
}
END_TEST

START_TEST(test_decimal_comma_locale)
{
    const char *candidates[] = {"de_DE.UTF-8", "de_DE.utf8", "de_DE", "fr_FR.UTF-8",
                                "fr_FR.utf8",  "nl_NL.UTF-8", "ru_RU.UTF-8", "it_IT.UTF-8",
                                "es_ES.UTF-8", "pt_BR.UTF-8", "German_Germany.1252"};
    const char *found = NULL;
    for (size_t i = 0; i < sizeof candidates / sizeof candidates[0] && !found; i++) {
        if (setlocale(LC_NUMERIC, candidates[i]) && strcmp(localeconv()->decimal_point, ",") == 0)
            found = candidates[i];
    }
    if (!found) {
        setlocale(LC_NUMERIC, "C");
        fprintf(stderr, "check_csv: no decimal-comma locale installed; locale test skipped\n");
        return;
    }
    char probe[16];
    snprintf(probe, sizeof probe, "%.1f", 1.5);
    ck_assert_str_eq(probe, "1,5"); /* the locale really is in force */
    regnn_dataset *ds = parse_ok("a,y\n1.5,-2.25e1\n3,4\n", "y");
    ck_assert_float_eq(feature(ds, 0, 0), 1.5f);
    ck_assert_float_eq(target(ds, 0, 0), -22.5f);
    regnn_dataset_free(ds);
    /* Decimal commas are not numbers: they split fields. */
    expect_error("a,y\n1,5,2\n", "y", REGNN_E_FORMAT, "line 2", "expected 2 fields, found 3");
    /* Messages format doubles in C syntax as well. */
    regnn_dataset *tr = NULL, *va = NULL;
    CK_STATUS(regnn_dataset_split_tail(ds = parse_ok("a,y\n1,2\n3,4\n", "y"), 1.5, &tr, &va),
              REGNN_E_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "got 1.5"));
    regnn_dataset_free(ds);
    setlocale(LC_NUMERIC, "C");
}
END_TEST

/* ---- files ---------------------------------------------------------------- */

START_TEST(test_diabetes_file)
{
    const char *names[1] = {"y"};
    regnn_dataset *ds = NULL;
    CK_OK(regnn_dataset_from_csv("tests/data/diabetes.csv", names, NULL, 1, &ds));
    ck_assert_uint_eq(regnn_dataset_rows(ds), 442);
    ck_assert_uint_eq(regnn_dataset_features(ds), 10);
    ck_assert_uint_eq(regnn_dataset_targets(ds), 1);
    const char *expect[10] = {"age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"};
    for (size_t j = 0; j < 10; j++)
        ck_assert_str_eq(regnn_dataset_feature_name(ds, j), expect[j]);
    ck_assert_str_eq(regnn_dataset_target_name(ds, 0), "y");
    /* First row: 59,2,32.1,101.0,157,93.2,38.0,4.0,4.8598,87,151 */
    ck_assert_float_eq(feature(ds, 0, 0), 59.0f);
    ck_assert_float_eq(feature(ds, 0, 2), 32.1f);
    ck_assert_float_eq(feature(ds, 0, 8), 4.8598f);
    ck_assert_float_eq(target(ds, 0, 0), 151.0f);
    /* Last row: 36,1,19.6,71.0,250,133.2,97.0,3.0,4.5951,92,57 */
    ck_assert_float_eq(feature(ds, 441, 0), 36.0f);
    ck_assert_float_eq(feature(ds, 441, 8), 4.5951f);
    ck_assert_float_eq(target(ds, 441, 0), 57.0f);
    regnn_dataset_free(ds);

    const size_t cols[1] = {10};
    CK_OK(regnn_dataset_from_csv("tests/data/diabetes.csv", NULL, cols, 1, &ds));
    ck_assert_str_eq(regnn_dataset_target_name(ds, 0), "y");
    regnn_dataset_free(ds);
}
END_TEST

static void temp_path(char *path, size_t cap)
{
    const char *dir = getenv("TMPDIR");
    snprintf(path, cap, "%s/regnn_csv_XXXXXX", dir && dir[0] ? dir : "/tmp");
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
}

START_TEST(test_file_errors)
{
    const char *names[1] = {"y"};
    regnn_dataset *ds = NOT_SET;
    CK_STATUS(regnn_dataset_from_csv("tests/data/no_such_file.csv", names, NULL, 1, &ds),
              REGNN_E_IO);
    ck_assert_ptr_null(ds);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "no_such_file.csv"));
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "regnn_dataset_from_csv"));
    ds = NOT_SET;
    CK_STATUS(regnn_dataset_from_csv("tests/data", names, NULL, 1, &ds), REGNN_E_IO); /* a directory */
    ck_assert_ptr_null(ds);
    ds = NOT_SET;
    CK_STATUS(regnn_dataset_from_csv(NULL, names, NULL, 1, &ds), REGNN_E_INVALID_ARG);
    ck_assert_ptr_null(ds);
    CK_STATUS(regnn_dataset_from_csv("tests/data/diabetes.csv", names, NULL, 1, NULL),
              REGNN_E_INVALID_ARG);
    ds = NOT_SET;
    CK_STATUS(regnn_dataset_from_csv("tests/data/diabetes.csv", NULL, NULL, 1, &ds),
              REGNN_E_INVALID_ARG);
    ck_assert_ptr_null(ds);

    /* Parse errors in a file name the file and the line. */
    char path[512];
    temp_path(path, sizeof path);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    fputs("a,y\r\n1,2\r\n3,x\r\n", f);
    fclose(f);
    ds = NOT_SET;
    CK_STATUS(regnn_dataset_from_csv(path, names, NULL, 1, &ds), REGNN_E_FORMAT);
    ck_assert_ptr_null(ds);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), path));
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "line 3, column 2 ('y')"));
    /* An empty file has no header. */
    f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    fclose(f);
    CK_STATUS(regnn_dataset_from_csv(path, names, NULL, 1, &ds), REGNN_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "no header"));
    remove(path);
}
END_TEST

START_TEST(test_non_regular_files)
{
    const char *names[1] = {"y"};
    regnn_dataset *ds = NOT_SET;
    /* A FIFO without a writer: refused at once instead of blocking. */
    char dir[512];
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/regnn_fifo_XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char fifo[600];
    snprintf(fifo, sizeof fifo, "%s/data.csv", dir);
    ck_assert_int_eq(mkfifo(fifo, 0600), 0);
    CK_STATUS(regnn_dataset_from_csv(fifo, names, NULL, 1, &ds), REGNN_E_IO);
    ck_assert_ptr_null(ds);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "not a regular file"));
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "data.csv"));
    unlink(fifo);
    rmdir(dir);
    /* An endless device. */
    if (access("/dev/zero", R_OK) == 0) {
        ds = NOT_SET;
        CK_STATUS(regnn_dataset_from_csv("/dev/zero", names, NULL, 1, &ds), REGNN_E_IO);
        ck_assert_ptr_null(ds);
        ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "'/dev/zero': not a regular file"));
    }
    CK_STATUS(regnn_dataset_from_csv("tests/data", names, NULL, 1, &ds), REGNN_E_IO);
    ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "not a regular file"));
    /* A regular file whose size says 0 is still read to its end. */
    if (access("/proc/self/status", R_OK) == 0) {
        CK_STATUS(regnn_dataset_from_csv("/proc/self/status", names, NULL, 1, &ds),
                  REGNN_E_FORMAT);
        ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "one column ('Name:"));
    }
}
END_TEST

START_TEST(test_large_file)
{
    /* Larger than the first read buffer, so the reader has to grow it. */
    char path[512];
    temp_path(path, sizeof path);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    fputs("id,half,y\n", f);
    const size_t rows = 20000;
    for (size_t i = 0; i < rows; i++)
        fprintf(f, "%zu,%zu.5,%zu\n", i, i / 2, i % 7);
    fclose(f);
    const char *names[1] = {"y"};
    regnn_dataset *ds = NULL;
    CK_OK(regnn_dataset_from_csv(path, names, NULL, 1, &ds));
    remove(path);
    ck_assert_uint_eq(regnn_dataset_rows(ds), rows);
    for (size_t i = 0; i < rows; i += 997) {
        ck_assert_float_eq(feature(ds, i, 0), (float)i);
        ck_assert_float_eq(feature(ds, i, 1), (float)(i / 2) + 0.5f);
        ck_assert_float_eq(target(ds, i, 0), (float)(i % 7));
    }
    ck_assert_float_eq(feature(ds, rows - 1, 0), (float)(rows - 1));
    regnn_dataset_free(ds);
}
END_TEST

/* ---- allocation failures ---------------------------------------------------- */

static void check_alloc_failures(int from_file, const char *arg)
{
    const char *names[2] = {"y", "a"};
    for (int persistent = 0; persistent <= 1; persistent++) {
        long n;
        for (n = 1; n < 100; n++) {
            regnn_dataset *ds = NOT_SET;
            long live = regnn__test_alloc_live();
            regnn__test_alloc_fail_at(n, persistent);
            regnn_status st = from_file
                                  ? regnn_dataset_from_csv(arg, names, NULL, 2, &ds)
                                  : regnn_dataset_parse_csv(arg, strlen(arg), names, NULL, 2, &ds);
            long used = regnn__test_alloc_count();
            regnn__test_alloc_fail_at(0, 0);
            if (st == REGNN_OK) {
                ck_assert_int_lt(used, n);
                ck_assert_uint_eq(regnn_dataset_rows(ds), 2);
                ck_assert_str_eq(regnn_dataset_target_name(ds, 1), "a");
                regnn_dataset_free(ds);
                ck_assert_int_eq(regnn__test_alloc_live(), live);
                break;
            }
            ck_assert_msg(st == REGNN_E_NOMEM, "n %ld: status %d: %s", n, st, regnn_errmsg());
            ck_assert_ptr_null(ds);
            ck_assert_ptr_nonnull(strstr(regnn_errmsg(), "out of memory"));
            ck_assert_msg(regnn__test_alloc_live() == live, "n %ld: %ld blocks leaked", n,
                          regnn__test_alloc_live() - live);
        }
        ck_assert_int_gt(n, 3);
        ck_assert_int_lt(n, 100);
    }
}

static const char small_csv[] = "a,\"b\",y\n1,2,3\n4,5,6\n";

START_TEST(test_alloc_failure_parse) { check_alloc_failures(0, small_csv); }
END_TEST

START_TEST(test_alloc_failure_file)
{
    char path[512];
    temp_path(path, sizeof path);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    fputs(small_csv, f);
    fclose(f);
    check_alloc_failures(1, path);
    remove(path);
}
END_TEST

START_TEST(test_empty_path)
{
    regnn_dataset *ds = (regnn_dataset *)1;
    const char *y = "y";
    CK_STATUS(regnn_dataset_from_csv("", &y, NULL, 1, &ds), REGNN_E_INVALID_ARG);
    ck_assert_str_eq(regnn_errmsg(), "regnn_dataset_from_csv: path is empty");
    ck_assert_ptr_null(ds);
}
END_TEST

static Suite *csv_suite(void)
{
    Suite *s = suite_create("csv");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_target_by_name);
    tcase_add_test(tc, test_targets_in_caller_order);
    tcase_add_test(tc, test_layout_variants);
    tcase_add_test(tc, test_quoted_header_names);
    tcase_add_test(tc, test_duplicate_header_names);
    tcase_add_test(tc, test_quoted_fields);
    tcase_add_test(tc, test_one_column_header);
    tcase_add_test(tc, test_binary_input);
    tcase_add_test(tc, test_messages_escape_input);
    tcase_add_test(tc, test_unknown_target);
    tcase_add_test(tc, test_target_selection_errors);
    tcase_add_test(tc, test_malformed_numbers);
    tcase_add_test(tc, test_non_finite_and_range);
    tcase_add_test(tc, test_malformed_structure);
    tcase_add_test(tc, test_number_syntax);
    tcase_add_test(tc, test_number_rounding_hard_cases);
    tcase_add_test(tc, test_number_round_trip);
    tcase_add_test(tc, test_number_matches_strtof);
    tcase_add_test(tc, test_numbers_through_csv);
    tcase_add_test(tc, test_decimal_comma_locale);
    tcase_add_test(tc, test_diabetes_file);
    tcase_add_test(tc, test_file_errors);
    tcase_add_test(tc, test_non_regular_files);
    tcase_add_test(tc, test_large_file);
    tcase_add_test(tc, test_alloc_failure_parse);
    tcase_add_test(tc, test_alloc_failure_file);
    tcase_add_test(tc, test_empty_path);
    suite_add_tcase(s, tc);
    return s;
}

RG_TEST_MAIN(csv_suite)
