/* SPDX-License-Identifier: MIT */
/* Helpers shared by the Check suites. */
#ifndef REGNN_TESTUTIL_H
#define REGNN_TESTUTIL_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "io/io.h" /* the top layer: every private declaration */
#include "regnn.h"

/* Assert a call returned REGNN_OK, printing the library's message if not. */
#define CK_OK(call)                                                                       \
    do {                                                                                  \
        regnn_status st_ = (call);                                                        \
        ck_assert_msg(st_ == REGNN_OK, "%s -> %d (%s): %s", #call, st_,                   \
                      regnn_strerror(st_), regnn_errmsg());                               \
    } while (0)

#define CK_STATUS(call, expect)                                                           \
    do {                                                                                  \
        regnn_status st_ = (call);                                                        \
        ck_assert_msg(st_ == (expect), "%s -> %d (%s), expected %d: %s", #call, st_,      \
                      regnn_strerror(st_), (int)(expect), regnn_errmsg());                \
    } while (0)

/* Run a suite; returns the number of failures (main returns non-zero on any). */
/* s's test case "long", tagged "long": tests that repeat code paths other tests
 * cover at more settings (thread counts, optimizers), minutes each under
 * valgrind, whose run excludes the tag (CK_EXCLUDE_TAGS=long; ASan runs them). */
static inline TCase *rg_tcase_long(Suite *s, double timeout)
{
    TCase *tl = tcase_create("long");
    tcase_set_tags(tl, "long");
    tcase_set_timeout(tl, timeout);
    suite_add_tcase(s, tl);
    return tl;
}

static inline int rg_run_suite(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed;
}

#define RG_TEST_MAIN(suite_fn)                                                            \
    int main(void) { return rg_run_suite(suite_fn()) == 0 ? EXIT_SUCCESS : EXIT_FAILURE; }

#endif
