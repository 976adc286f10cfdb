/* SPDX-License-Identifier: MIT */
/* The options table against the setters: every key declared in
 * include/regnn.h has an entry, each setter accepts the entry's edges and
 * refuses just outside them, fresh objects hold the entry's default, and the
 * settings fingerprint covers every option that changes results.
 * Run from the repository root (include/regnn.h). */
#include "testutil.h"

#include <float.h>
#include <math.h>
#include <regex.h>
#include <string.h>

typedef struct objects {
    regnn_fit_options *fit;
    regnn_path_options *path;
    regnn_model *model;
    regnn_optimizer *opt[7]; /* by REGNN_OPTIM_* */
} objects;

/* Each optimizer kind's option group (the test's own list). */
static const int optim_groups[][2] = {
    {REGNN_OPTIM_ADAM, REGNN_OPTION_ADAM},       {REGNN_OPTIM_SGD, REGNN_OPTION_SGD},
    {REGNN_OPTIM_RMSPROP, REGNN_OPTION_RMSPROP}, {REGNN_OPTIM_ADAGRAD, REGNN_OPTION_ADAGRAD},
    {REGNN_OPTIM_ADAMAX, REGNN_OPTION_ADAMAX},   {REGNN_OPTIM_NADAM, REGNN_OPTION_NADAM}};
#define N_OPTIM (sizeof optim_groups / sizeof optim_groups[0])

/* The optimizer of option group kind, or NULL when kind is not an optimizer's. */
static regnn_optimizer *optim_of(const objects *ob, int kind)
{
    for (size_t i = 0; i < N_OPTIM; i++)
        if (optim_groups[i][1] == kind)
            return ob->opt[optim_groups[i][0]];
    return NULL;
}

static void objects_make(objects *ob)
{
    CK_OK(regnn_fit_options_create(&ob->fit));
    CK_OK(regnn_path_options_create(&ob->path));
    CK_OK(regnn_model_create(2, &ob->model));
    CK_OK(regnn_model_add_dense(ob->model, 3, REGNN_ACT_RELU, NULL));
    CK_OK(regnn_model_add_dense(ob->model, 1, REGNN_ACT_LINEAR, NULL));
    CK_OK(regnn_model_init(ob->model, REGNN_INIT_GLOROT_UNIFORM, 1));
    memset(ob->opt, 0, sizeof ob->opt);
    for (size_t i = 0; i < N_OPTIM; i++)
        CK_OK(regnn_optimizer_create(optim_groups[i][0], &ob->opt[optim_groups[i][0]]));
}

static void objects_free(objects *ob)
{
    regnn_fit_options_free(ob->fit);
    regnn_path_options_free(ob->path);
    regnn_model_free(ob->model);
    for (size_t i = 0; i < N_OPTIM; i++)
        regnn_optimizer_free(ob->opt[optim_groups[i][0]]);
}

/* A valid parameter vector of each schedule, and its schedule kind. */
static int schedule_base(int kind, double p[5], size_t *n)
{
    static const struct {
        int option, schedule;
        size_t n;
        double p[5];
    } base[] = {
        {REGNN_OPTION_EXPONENTIAL_DECAY, REGNN_SCHEDULE_EXPONENTIAL, 4, {1e-3, 100, 0.9, 0}},
        {REGNN_OPTION_PIECEWISE_DECAY, REGNN_SCHEDULE_PIECEWISE, 3, {10, 1e-3, 1e-4}},
        {REGNN_OPTION_COSINE_DECAY, REGNN_SCHEDULE_COSINE, 5, {1e-3, 100, 0, 0, 0}},
        {REGNN_OPTION_INVERSE_TIME_DECAY, REGNN_SCHEDULE_INVERSE_TIME, 4, {1e-3, 100, 0.5, 0}},
        {REGNN_OPTION_POLYNOMIAL_DECAY, REGNN_SCHEDULE_POLYNOMIAL, 5, {1e-3, 100, 1e-4, 1, 0}},
        {REGNN_OPTION_COSINE_RESTARTS, REGNN_SCHEDULE_COSINE_RESTARTS, 5, {1e-3, 100, 2, 1, 0}},
    };
    for (size_t i = 0; i < sizeof base / sizeof base[0]; i++)
        if (base[i].option == kind) {
            *n = base[i].n;
            memcpy(p, base[i].p, *n * sizeof *p);
            return base[i].schedule;
        }
    ck_abort_msg("no schedule of option kind %d", kind);
    return -1;
}

/* The schedules' option kinds, in order. */
static const int schedule_options[] = {
    REGNN_OPTION_EXPONENTIAL_DECAY,  REGNN_OPTION_PIECEWISE_DECAY, REGNN_OPTION_COSINE_DECAY,
    REGNN_OPTION_INVERSE_TIME_DECAY, REGNN_OPTION_POLYNOMIAL_DECAY, REGNN_OPTION_COSINE_RESTARTS};
#define N_SCHEDULES (sizeof schedule_options / sizeof schedule_options[0])

static int is_schedule(int kind)
{
    return (kind >= REGNN_OPTION_EXPONENTIAL_DECAY && kind <= REGNN_OPTION_COSINE_DECAY) ||
           kind >= REGNN_OPTION_INVERSE_TIME_DECAY;
}

/* The base vector's value at key (a required parameter has no default). */
static double schedule_value(int kind, int key)
{
    double p[5];
    size_t n;
    schedule_base(kind, p, &n);
    return p[key];
}

/* Set key of kind to v through its own setter (ints through _set_int; a
 * schedule parameter in an otherwise valid vector). */
static regnn_status set(objects *ob, int kind, int key, int integer, double v)
{
    switch (kind) {
    case REGNN_OPTION_FIT:
        return integer ? regnn_fit_options_set_int(ob->fit, key, (int64_t)v)
                       : regnn_fit_options_set_double(ob->fit, key, v);
    case REGNN_OPTION_PATH: return regnn_path_options_set_int(ob->path, key, (int64_t)v);
    case REGNN_OPTION_LAYER: return regnn_layer_set_double(regnn_model_layer(ob->model, 0), key, v);
    case REGNN_OPTION_LOSS: return regnn_model_set_loss(ob->model, key, v);
    default: {
        if (optim_of(ob, kind))
            return regnn_optimizer_set_double(optim_of(ob, kind), key, v);
        double p[5];
        size_t n;
        const int sk = schedule_base(kind, p, &n);
        p[key] = v;
        return regnn_optimizer_set_schedule(ob->opt[REGNN_OPTIM_ADAM], sk, p, n);
    }
    }
}

static int int_setter(int kind, const regnn_bounds *b)
{
    return kind == REGNN_OPTION_PATH || (kind == REGNN_OPTION_FIT && (b->flags & REGNN_BOUNDS_INTEGER));
}

static double get(objects *ob, int kind, int key, int integer)
{
    double v = NAN;
    int64_t i = 0;
    switch (kind) {
    case REGNN_OPTION_FIT:
        if (integer) {
            CK_OK(regnn_fit_options_get_int(ob->fit, key, &i));
            return (double)i;
        }
        CK_OK(regnn_fit_options_get_double(ob->fit, key, &v));
        return v;
    case REGNN_OPTION_PATH: CK_OK(regnn_path_options_get_int(ob->path, key, &i)); return (double)i;
    case REGNN_OPTION_LAYER:
        CK_OK(regnn_layer_get_double(regnn_model_layer(ob->model, 0), key, &v));
        return v;
    default:
        if (!optim_of(ob, kind))
            return NAN;
        CK_OK(regnn_optimizer_get_double(optim_of(ob, kind), key, &v));
        return v;
    }
}

static void expect(objects *ob, int kind, int key, int integer, double v, regnn_status want)
{
    regnn_status st = set(ob, kind, key, integer, v);
    ck_assert_msg(st == want, "%s = %.17g: status %d, expected %d (%s)",
                  regnn_option_name(kind, key), v, st, want, regnn_errmsg());
    if (want != REGNN_OK)
        ck_assert_msg(strstr(regnn_errmsg(), regnn_option_name(kind, key)) ||
                          kind == REGNN_OPTION_LOSS,
                      "the message names the option: %s", regnn_errmsg());
    else if (kind == REGNN_OPTION_LOSS)
        CK_OK(regnn_model_set_loss(ob->model, REGNN_LOSS_MSE, 0)); /* back to the default */
}

/* One step beyond v, away from the range (through an int64 setter: 1). */
static double outside(double v, int via_int, double dir)
{
    return via_int ? v + dir : nextafter(v, dir * INFINITY);
}

static void check_edges(objects *ob, int kind, int key)
{
    regnn_bounds b = {sizeof b, 0, 0, 0, 0};
    CK_OK(regnn_option_bounds(kind, key, &b));
    const int integer = (b.flags & REGNN_BOUNDS_INTEGER) != 0;
    const int via_int = int_setter(kind, &b);
    const int bad = REGNN_E_INVALID_ARG;
    /* lower edge */
    if (b.flags & REGNN_BOUNDS_MIN_OPEN) {
        expect(ob, kind, key, via_int, b.min, bad);
        expect(ob, kind, key, via_int, outside(b.min, via_int, 1), REGNN_OK);
    } else {
        expect(ob, kind, key, via_int, b.min, REGNN_OK);
        expect(ob, kind, key, via_int, outside(b.min, via_int, -1), bad);
    }
    /* upper edge */
    if (isinf(b.max)) {
        ck_assert(b.flags & REGNN_BOUNDS_MAX_OPEN);
        if (via_int)
            ck_assert_int_eq(via_int ? (kind == REGNN_OPTION_PATH
                                            ? regnn_path_options_set_int(ob->path, key, INT64_MAX)
                                            : regnn_fit_options_set_int(ob->fit, key, INT64_MAX))
                                     : 0,
                             REGNN_OK);
        else {
            if (!(b.flags & REGNN_BOUNDS_COUPLED)) /* lr * wd <= 1 narrows DBL_MAX away */
                expect(ob, kind, key, 0, DBL_MAX, REGNN_OK);
            expect(ob, kind, key, 0, INFINITY, bad);
        }
    } else if (b.flags & REGNN_BOUNDS_MAX_OPEN) {
        expect(ob, kind, key, via_int, b.max, bad);
        expect(ob, kind, key, via_int, outside(b.max, via_int, -1), REGNN_OK);
    } else {
        expect(ob, kind, key, via_int, b.max, REGNN_OK);
        expect(ob, kind, key, via_int, outside(b.max, via_int, 1), bad);
    }
    if (!via_int) {
        expect(ob, kind, key, 0, NAN, bad);
        if (integer && b.max > b.min)
            expect(ob, kind, key, 0, b.min + 0.5, bad);
    }
    /* Back to the default: a layer takes one kernel constraint at a time. */
    if (kind == REGNN_OPTION_LAYER)
        expect(ob, kind, key, 0, b.default_value, REGNN_OK);
}

static int kind_of_prefix(const char *p)
{
    if (!strcmp(p, "FIT"))
        return REGNN_OPTION_FIT;
    if (!strcmp(p, "PATH"))
        return REGNN_OPTION_PATH;
    if (!strcmp(p, "LAYER"))
        return REGNN_OPTION_LAYER;
    if (!strcmp(p, "LOSS"))
        return REGNN_OPTION_LOSS;
    return REGNN_OPTION_ADAM; /* OPT */
}

/* Every REGNN_{FIT,PATH,LAYER,OPT,LOSS}_* key of include/regnn.h: an entry
 * whose name is the key's, and whose edges its setter keeps. */
START_TEST(test_every_key_has_an_entry_and_its_edges_hold)
{
    FILE *f = fopen("include/regnn.h", "r");
    ck_assert_ptr_nonnull(f);
    regex_t re;
    ck_assert_int_eq(regcomp(&re, "^ *REGNN_(FIT|PATH|LAYER|OPT|LOSS)_([A-Z0-9_]+) *= *([0-9]+)",
                             REG_EXTENDED),
                     0);
    objects ob;
    objects_make(&ob);
    char line[512];
    int keys = 0;
    while (fgets(line, sizeof line, f)) {
        regmatch_t m[4];
        if (regexec(&re, line, 4, m, 0) != 0)
            continue;
        char prefix[8] = {0}, name[80] = {0};
        memcpy(prefix, line + m[1].rm_so, (size_t)(m[1].rm_eo - m[1].rm_so));
        memcpy(name, line + m[0].rm_so + strspn(line, " "),
               (size_t)(m[2].rm_eo - m[0].rm_so) - strspn(line, " "));
        const int key = atoi(line + m[3].rm_so);
        const int kind = kind_of_prefix(prefix);
        int found = 0;
        for (size_t g = 0; kind == REGNN_OPTION_ADAM && g < N_OPTIM; g++) {
            const int group = optim_groups[g][1]; /* every optimizer the key applies to */
            if (!regnn_option_name(group, key))
                continue;
            ck_assert_str_eq(regnn_option_name(group, key), name);
            check_edges(&ob, group, key);
            found++;
        }
        if (kind != REGNN_OPTION_ADAM) {
            ck_assert_msg(regnn_option_name(kind, key) != NULL, "%s has no entry", name);
            ck_assert_str_eq(regnn_option_name(kind, key), name);
            check_edges(&ob, kind, key);
            found++;
        }
        ck_assert_msg(found > 0, "%s has no entry", name);
        keys++;
    }
    regfree(&re);
    fclose(f);
    ck_assert_int_ge(keys, 40);
    objects_free(&ob);
}
END_TEST

START_TEST(test_fresh_objects_hold_the_defaults)
{
    objects ob;
    objects_make(&ob);
    int kind, key, n = 0;
    for (size_t i = 0; rg_option_setting(i, &kind, &key); i++) {
        if (kind == REGNN_OPTION_LOSS || is_schedule(kind))
            continue; /* the caller's when it picks a loss or schedule: test below */
        regnn_bounds b = {sizeof b, 0, 0, 0, 0};
        CK_OK(regnn_option_bounds(kind, key, &b));
        ck_assert_msg(get(&ob, kind, key, int_setter(kind, &b)) == b.default_value,
                      "%s default", regnn_option_name(kind, key));
        n++;
    }
    ck_assert_int_ge(n, 38);
    objects_free(&ob);
}
END_TEST

/* An optional schedule parameter left out acts as its table default: the
 * same learning rate at every step as the vector that states it. */
START_TEST(test_schedule_defaults)
{
    regnn_optimizer *a = NULL, *b = NULL;
    CK_OK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &a));
    CK_OK(regnn_optimizer_create(REGNN_OPTIM_ADAM, &b));
    int checked = 0;
    for (size_t si = 0; si < N_SCHEDULES; si++) {
        const int kind = schedule_options[si];
        double p[5];
        size_t n;
        const int sk = schedule_base(kind, p, &n);
        for (int key = 0; (size_t)key < n && regnn_option_name(kind, key); key++) {
            regnn_bounds bd = {sizeof bd, 0, 0, 0, 0};
            CK_OK(regnn_option_bounds(kind, key, &bd));
            if (isnan(bd.default_value))
                continue; /* required */
            double full[5];
            memcpy(full, p, sizeof full);
            full[key] = bd.default_value; /* left out, or stated at its default */
            CK_OK(regnn_optimizer_set_schedule(a, sk, full, (size_t)key));
            CK_OK(regnn_optimizer_set_schedule(b, sk, full, (size_t)key + 1));
            for (uint64_t step = 0; step < 300; step += 7) {
                double la, lb;
                CK_OK(regnn_optimizer_learning_rate_at(a, step, &la));
                CK_OK(regnn_optimizer_learning_rate_at(b, step, &lb));
                ck_assert_msg(la == lb, "%s default, step %llu", regnn_option_name(kind, key),
                              (unsigned long long)step);
            }
            checked++;
        }
    }
    ck_assert_int_ge(checked, 10);
    regnn_optimizer_free(a);
    regnn_optimizer_free(b);
}
END_TEST

/* Each entry that changes results names a fingerprint entry, and changing
 * the option changes exactly that entry's hash (in a fit or a path); the
 * others change none. */
START_TEST(test_fingerprint_covers_every_option)
{
    objects ob;
    objects_make(&ob);
    const float x[8] = {1, 2, 3, 4, 5, 6, 7, 8}, y[4] = {1, 2, 3, 4};
    regnn_dataset *train = NULL;
    CK_OK(regnn_dataset_from_arrays(x, y, 4, 2, 1, REGNN_COPY, &train));
    int kind, key;
    for (size_t i = 0; rg_option_setting(i, &kind, &key); i++) {
        const char *setting = rg_option_setting(i, &kind, &key);
        regnn_bounds b = {sizeof b, 0, 0, 0, 0};
        CK_OK(regnn_option_bounds(kind, key, &b));
        ck_assert_int_eq(!!(b.flags & REGNN_BOUNDS_CHANGES_RESULTS), setting[0] != 0);
        size_t at = RG_SETTINGS_COUNT;
        for (size_t j = 0; j < RG_SETTINGS_COUNT; j++)
            if (!strcmp(regnn_settings_name(j), setting))
                at = j;
        ck_assert_msg(!setting[0] || at < RG_SETTINGS_COUNT, "%s: no fingerprint entry %s",
                      regnn_option_name(kind, key), setting);
        regnn_optimizer *o = optim_of(&ob, kind) ? optim_of(&ob, kind) : ob.opt[REGNN_OPTIM_ADAM];
        uint64_t before[2][RG_SETTINGS_COUNT], after[2][RG_SETTINGS_COUNT];
        const double def = isnan(b.default_value) ? schedule_value(kind, key) : b.default_value;
        if (kind == REGNN_OPTION_LOSS || is_schedule(kind)) /* the kind is an entry of its own */
            CK_OK(set(&ob, kind, key, 0, def));
        for (int mode = 0; mode < 2; mode++) {
            rg_fit_setup s = {ob.model, o, train, NULL, ob.fit, mode ? ob.path : NULL};
            rg_settings_fingerprint(&s, before[mode]);
        }
        /* another accepted value: the default moved inside the range */
        const int integer = (b.flags & REGNN_BOUNDS_INTEGER) != 0;
        double v = integer ? (def + 1 <= b.max ? def + 1 : def - 1)
                           : (def > 0 ? def / 2 : isinf(b.max) ? 1 : b.max / 2);
        if (kind == REGNN_OPTION_LOSS)
            v = key == REGNN_LOSS_HUBER ? 2.0 : 0.0;
        CK_OK(set(&ob, kind, key, int_setter(kind, &b), v));
        int changed = 0;
        for (int mode = 0; mode < 2; mode++) {
            rg_fit_setup s = {ob.model, o, train, NULL, ob.fit, mode ? ob.path : NULL};
            rg_settings_fingerprint(&s, after[mode]);
            for (size_t j = 0; j < RG_SETTINGS_COUNT; j++)
                if (before[mode][j] != after[mode][j]) {
                    ck_assert_msg(j == at, "%s changed fingerprint entry %s",
                                  regnn_option_name(kind, key), regnn_settings_name(j));
                    changed = 1;
                }
        }
        /* MSE, MAE and log-cosh take only 0; their kind, not param, changes results */
        if (setting[0] && !(kind == REGNN_OPTION_LOSS && key != REGNN_LOSS_HUBER))
            ck_assert_msg(changed, "%s does not change its fingerprint entry",
                          regnn_option_name(kind, key));
        CK_OK(set(&ob, kind, key, int_setter(kind, &b), def)); /* back */
        if (kind == REGNN_OPTION_LOSS)
            CK_OK(regnn_model_set_loss(ob.model, REGNN_LOSS_MSE, 0));
        if (is_schedule(kind))
            CK_OK(regnn_optimizer_set_schedule(ob.opt[REGNN_OPTIM_ADAM], REGNN_SCHEDULE_CONSTANT,
                                               NULL, 0));
    }
    regnn_dataset_free(train);
    objects_free(&ob);
}
END_TEST

/* Every schedule parameter (no enum keys: positions) against
 * regnn_optimizer_set_schedule. */
START_TEST(test_every_schedule_parameter_edges)
{
    objects ob;
    objects_make(&ob);
    int n = 0;
    for (size_t si = 0; si < N_SCHEDULES; si++)
        for (int key = 0; regnn_option_name(schedule_options[si], key); key++, n++)
            check_edges(&ob, schedule_options[si], key);
    ck_assert_int_eq(n, 25);
    objects_free(&ob);
}
END_TEST

START_TEST(test_bounds_query)
{
    regnn_bounds b = {sizeof b, 0, 0, 0, 0};
    CK_OK(regnn_option_bounds(REGNN_OPTION_FIT, REGNN_FIT_BATCH_SIZE, &b));
    ck_assert(b.min == 1 && b.max == 1048576 && b.default_value == 32);
    ck_assert_uint_eq(b.flags, REGNN_BOUNDS_INTEGER | REGNN_BOUNDS_CHANGES_RESULTS);
    ck_assert_uint_eq(b.size, sizeof b);
    CK_OK(regnn_option_bounds(REGNN_OPTION_PATH, REGNN_PATH_THREADS, &b));
    ck_assert(!(b.flags & REGNN_BOUNDS_CHANGES_RESULTS) && b.max == 256);
    /* a caller built against an older, shorter struct: nothing past its size is written */
    unsigned char buf[sizeof(regnn_bounds) + 8];
    memset(buf, 0xAB, sizeof buf);
    regnn_bounds *p = (regnn_bounds *)(void *)buf;
    p->size = offsetof(regnn_bounds, flags) + sizeof(unsigned);
    CK_OK(regnn_option_bounds(REGNN_OPTION_LAYER, REGNN_LAYER_DROPOUT, p));
    ck_assert(p->max == 1 && (p->flags & REGNN_BOUNDS_MAX_OPEN));
    for (size_t i = offsetof(regnn_bounds, flags) + sizeof(unsigned); i < sizeof buf; i++)
        ck_assert_uint_eq(buf[i], 0xAB);
    p->size = offsetof(regnn_bounds, flags);
    ck_assert_int_eq(regnn_option_bounds(REGNN_OPTION_LAYER, REGNN_LAYER_DROPOUT, p),
                     REGNN_E_INVALID_ARG);
    ck_assert_int_eq(regnn_option_bounds(REGNN_OPTION_FIT, REGNN_FIT_BATCH_SIZE, NULL),
                     REGNN_E_INVALID_ARG);
    ck_assert_int_eq(regnn_option_bounds(REGNN_OPTION_ADAM, REGNN_OPT_MOMENTUM, &b),
                     REGNN_E_UNSUPPORTED);
    ck_assert_int_eq(regnn_option_bounds(99, 1, &b), REGNN_E_UNSUPPORTED);
    ck_assert_ptr_null(regnn_option_name(REGNN_OPTION_FIT, 99));
    ck_assert_str_eq(regnn_option_name(REGNN_OPTION_SGD, REGNN_OPT_NESTEROV), "REGNN_OPT_NESTEROV");
}
END_TEST

static Suite *options_suite(void)
{
    Suite *s = suite_create("options");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_every_key_has_an_entry_and_its_edges_hold);
    tcase_add_test(tc, test_fresh_objects_hold_the_defaults);
    tcase_add_test(tc, test_schedule_defaults);
    tcase_add_test(tc, test_fingerprint_covers_every_option);
    tcase_add_test(tc, test_every_schedule_parameter_edges);
    tcase_add_test(tc, test_bounds_query);
    suite_add_tcase(s, tc);
    return s;
}

RG_TEST_MAIN(options_suite)
