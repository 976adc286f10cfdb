/* SPDX-License-Identifier: MIT */
/*
 * regnn.h - public interface of libregnn, a small C library that trains dense
 * neural networks for regression, with L2/L1 penalties, dropout, Adam/SGD and
 * early stopping.
 *
 * Everything declared in this file is the ABI; nothing else is. There are no
 * public structs: every object is an opaque handle created by a
 * regnn_*_create/_from_* call and released by the matching *_free (which
 * accepts NULL). Every fallible call returns a regnn_status; on failure the
 * call changes nothing the caller owns, sets *out parameters to NULL, and
 * leaves a message for this thread in regnn_errmsg().
 *
 * Types at the boundary: float for tensors (row-major, contiguous), double for
 * scalar hyperparameters and statistics, size_t for counts, uint64_t for
 * seeds, int for enum keys and flags.
 *
 * Threads: there is no mutable global state except the allocator hook
 * (regnn_set_allocator, set once before anything else) and the thread-local
 * error message. Calls that take a const handle may run concurrently on the
 * same handle; any other call needs exclusive use of the handles it is given.
 *
 * Full semantics, formulas and ownership rules: docs/api.md.
 */
#ifndef REGNN_H
#define REGNN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(REGNN_STATIC)
#  define REGNN_API
#elif defined(_WIN32)
#  if defined(REGNN_BUILDING)
#    define REGNN_API __declspec(dllexport)
#  else
#    define REGNN_API __declspec(dllimport)
#  endif
#elif defined(__GNUC__) && __GNUC__ >= 4
#  define REGNN_API __attribute__((visibility("default")))
#else
#  define REGNN_API
#endif

/* ------------------------------------------------------------------ */
/* Versions                                                             */
/* ------------------------------------------------------------------ */

#define REGNN_VERSION_MAJOR 1
#define REGNN_VERSION_MINOR 3
#define REGNN_VERSION_PATCH 0
#define REGNN_VERSION_NUMBER \
    (REGNN_VERSION_MAJOR * 10000 + REGNN_VERSION_MINOR * 100 + REGNN_VERSION_PATCH)
#define REGNN_VERSION_STRING "1.3.0"
/** ABI generation; equals the SONAME major (libregnn.so.1). */
#define REGNN_ABI_VERSION 1

/** Runtime REGNN_VERSION_NUMBER of the linked library. */
REGNN_API unsigned regnn_version(void);
/** Runtime REGNN_VERSION_STRING; static storage. */
REGNN_API const char *regnn_version_string(void);
/** Runtime REGNN_ABI_VERSION; a binding checks it against the value it was written for. */
REGNN_API int regnn_abi_version(void);

/* ------------------------------------------------------------------ */
/* Status codes and messages. Values are pinned; new codes are only     */
/* appended.                                                            */
/* ------------------------------------------------------------------ */

typedef int regnn_status;
enum {
    REGNN_OK = 0,
    REGNN_E_INVALID_ARG = 1, /* NULL pointer, zero/overflowing size, value out of range */
    REGNN_E_NOMEM = 2,       /* an allocation failed */
    REGNN_E_SHAPE = 3,       /* sizes of two objects or buffers do not agree */
    REGNN_E_STATE = 4,       /* call made in the wrong order (e.g. predict before init) */
    REGNN_E_IO = 5,          /* a file could not be opened, read or written */
    REGNN_E_FORMAT = 6,      /* malformed input (CSV, model file) */
    REGNN_E_VERSION = 7,     /* input written by a newer, incompatible version */
    REGNN_E_NUMERIC = 8,     /* NaN or Inf in inputs, or training diverged */
    REGNN_E_CANCELLED = 9,   /* stopped on the caller's request */
    REGNN_E_UNSUPPORTED = 10,/* unknown enum key or kind */
    REGNN_E_INTERNAL = 11    /* a bug in libregnn; please report it */
};

/** Short static description of a status code; never NULL. */
REGNN_API const char *regnn_strerror(regnn_status status);
/** Detailed message of the most recent failing call on this thread ("" if
 *  none). Successful calls leave it unchanged. Valid until the next regnn call
 *  on this thread. */
REGNN_API const char *regnn_errmsg(void);

/* ------------------------------------------------------------------ */
/* Math backend                                                         */
/* ------------------------------------------------------------------ */

/** "openblas" or "builtin": the GEMM this library was built with. */
REGNN_API const char *regnn_blas_name(void);
/** Threads the BLAS uses per GEMM (1 for the built-in GEMM). */
REGNN_API int regnn_blas_threads(void);
/** Set OpenBLAS's thread count (process-wide, like OPENBLAS_NUM_THREADS).
 *  libregnn never changes it on its own; 1 is fastest for layers of a few
 *  hundred units. n outside 1..4096: REGNN_E_INVALID_ARG (both builds); the
 *  built-in GEMM accepts only 1 (other valid n: REGNN_E_UNSUPPORTED). */
REGNN_API regnn_status regnn_set_blas_threads(int n);

/* ------------------------------------------------------------------ */
/* Allocator                                                            */
/* ------------------------------------------------------------------ */

typedef void *(*regnn_malloc_fn)(void *user, size_t size);
typedef void (*regnn_free_fn)(void *user, void *ptr);

/** Route every allocation of the library through malloc_fn/free_fn.
 *  Allowed once per process and only before any other allocation by the
 *  library; otherwise REGNN_E_STATE. Not thread-safe: call it at start-up. */
REGNN_API regnn_status regnn_set_allocator(regnn_malloc_fn malloc_fn, regnn_free_fn free_fn,
                                           void *user);

/* ------------------------------------------------------------------ */
/* Handles                                                              */
/* ------------------------------------------------------------------ */

typedef struct regnn_dataset regnn_dataset;         /* rows of features and targets */
typedef struct regnn_scaler regnn_scaler;           /* standardization statistics */
typedef struct regnn_model regnn_model;             /* a stack of dense layers + parameters */
typedef struct regnn_layer regnn_layer;             /* borrowed from its model */
typedef struct regnn_optimizer regnn_optimizer;     /* Adam / SGD and their state */
typedef struct regnn_fit_options regnn_fit_options; /* settings of regnn_fit */
typedef struct regnn_history regnn_history;         /* per-epoch metrics of one fit */

/* ------------------------------------------------------------------ */
/* Datasets                                                             */
/* ------------------------------------------------------------------ */

enum {
    REGNN_COPY = 0,  /* the dataset copies the arrays */
    REGNN_BORROW = 1 /* the dataset keeps the pointers: the arrays must stay alive and
                        unmodified until the dataset is freed (datasets derived from it
                        by select, split or transform are copies) */
};

/** Dataset of n_rows rows: x is n_rows x n_features, y is n_rows x n_targets,
 *  both row-major float. Values must be finite (REGNN_E_NUMERIC otherwise).
 *  Columns are named x0.. and y0.. . */
REGNN_API regnn_status regnn_dataset_from_arrays(const float *x, const float *y, size_t n_rows,
                                                 size_t n_features, size_t n_targets, int mode,
                                                 regnn_dataset **out);

/** Read a CSV file (RFC 4180 quoting; a regular file, REGNN_E_IO otherwise):
 *  comma separated, the first record a header of unique column names, every
 *  other non-empty record numbers in C locale syntax. Targets are chosen
 *  either by name (target_names, n_targets entries, target_cols NULL) or by
 *  0-based column index (target_cols, target_names NULL); every other column
 *  is a feature, in file order. Errors name the line and column. */
REGNN_API regnn_status regnn_dataset_from_csv(const char *path, const char *const *target_names,
                                              const size_t *target_cols, size_t n_targets,
                                              regnn_dataset **out);
/** Same as regnn_dataset_from_csv, reading len bytes of CSV text from memory. */
REGNN_API regnn_status regnn_dataset_parse_csv(const char *text, size_t len,
                                               const char *const *target_names,
                                               const size_t *target_cols, size_t n_targets,
                                               regnn_dataset **out);

REGNN_API void regnn_dataset_free(regnn_dataset *ds);
/** Counts; 0 for NULL. */
REGNN_API size_t regnn_dataset_rows(const regnn_dataset *ds);
REGNN_API size_t regnn_dataset_features(const regnn_dataset *ds);
REGNN_API size_t regnn_dataset_targets(const regnn_dataset *ds);
/** Column names, owned by the dataset; NULL if ds is NULL or index out of range. */
REGNN_API const char *regnn_dataset_feature_name(const regnn_dataset *ds, size_t index);
REGNN_API const char *regnn_dataset_target_name(const regnn_dataset *ds, size_t index);
/** Copy all features (len >= rows*features) or targets (len >= rows*targets). */
REGNN_API regnn_status regnn_dataset_get_features(const regnn_dataset *ds, float *buf, size_t len);
REGNN_API regnn_status regnn_dataset_get_targets(const regnn_dataset *ds, float *buf, size_t len);

/** New dataset holding the given rows of ds, in the given order (copies). */
REGNN_API regnn_status regnn_dataset_select(const regnn_dataset *ds, const size_t *rows,
                                            size_t n_rows, regnn_dataset **out);
/** Seeded shuffled split like sklearn's train_test_split(test_size, random_state):
 *  n_test = ceil(test_size * n), a seeded permutation p of the rows,
 *  test = rows p[0..n_test), train = rows p[n_test..n). 0 < test_size < 1 and
 *  both parts non-empty. The permutation is libregnn's own (same seed, same rows
 *  on every platform), not numpy's. Copies. */
REGNN_API regnn_status regnn_dataset_split_shuffled(const regnn_dataset *ds, double test_size,
                                                    uint64_t seed, regnn_dataset **train,
                                                    regnn_dataset **test);
/** Keras validation_split: split_at = floor(n * (1 - fraction)) computed in
 *  double, train = rows [0, split_at), validation = rows [split_at, n), no
 *  shuffling. 0 < fraction < 1 and both parts non-empty. Copies. */
REGNN_API regnn_status regnn_dataset_split_tail(const regnn_dataset *ds, double fraction,
                                                regnn_dataset **train, regnn_dataset **validation);

/** Sample weights, one per row (Keras sample_weight), copied: n must equal
 *  the row count, every weight finite and >= 0 (REGNN_E_INVALID_ARG naming
 *  the first bad one). w NULL with n 0 removes them. regnn_fit, and
 *  regnn_model_evaluate_loss, use them; select, split and transform carry
 *  them along. */
REGNN_API regnn_status regnn_dataset_set_weights(regnn_dataset *ds, const float *w, size_t n);
/** 1 if ds carries sample weights, else 0 (also for NULL). */
REGNN_API int regnn_dataset_has_weights(const regnn_dataset *ds);
/** Copy the weights (len >= rows); all 1 when ds has none. */
REGNN_API regnn_status regnn_dataset_get_weights(const regnn_dataset *ds, float *buf, size_t len);
/** Make the feature column called name the sample weights: it is removed
 *  from the features (so a CSV file can carry a weight column). At least one
 *  feature must remain; the values must be valid weights. */
REGNN_API regnn_status regnn_dataset_set_weight_column(regnn_dataset *ds, const char *name);

/* ------------------------------------------------------------------ */
/* Standardization                                                      */
/* ------------------------------------------------------------------ */

enum {
    REGNN_SCALE_NONE = 0,    /* mean 0, scale 1: values unchanged */
    REGNN_SCALE_ZSCORE = 1,  /* (v - mean) / std, std with divisor n (sklearn StandardScaler) */
    REGNN_SCALE_UNIT_NORM = 2 /* (v - mean) / (std * sqrt(n)): sklearn's diabetes scaling;
                                 each fitted column then has sum of squares 1 */
};
/* A column whose std is 0 gets scale 1 (it is only centred). */

enum {
    REGNN_STAT_FEATURE_MEAN = 1,  /* n_features doubles */
    REGNN_STAT_FEATURE_SCALE = 2, /* n_features doubles: the divisor */
    REGNN_STAT_TARGET_MEAN = 3,   /* n_targets doubles */
    REGNN_STAT_TARGET_SCALE = 4   /* n_targets doubles */
};

/** Fit statistics on ds: features scaled by feature_kind, targets by target_kind. */
REGNN_API regnn_status regnn_scaler_fit(const regnn_dataset *ds, int feature_kind, int target_kind,
                                        regnn_scaler **out);
REGNN_API void regnn_scaler_free(regnn_scaler *sc);
REGNN_API size_t regnn_scaler_features(const regnn_scaler *sc);
REGNN_API size_t regnn_scaler_targets(const regnn_scaler *sc);
/** Copy one statistic (REGNN_STAT_*) into buf; len must be at least its count. */
REGNN_API regnn_status regnn_scaler_get(const regnn_scaler *sc, int stat, double *buf, size_t len);
/** New dataset with features and targets standardized by sc (ds unchanged). */
REGNN_API regnn_status regnn_scaler_transform(const regnn_scaler *sc, const regnn_dataset *ds,
                                              regnn_dataset **out);
/** out = (in - mean) / scale for n_rows rows of features (in == out allowed). */
REGNN_API regnn_status regnn_scaler_transform_features(const regnn_scaler *sc, const float *in,
                                                       float *out, size_t n_rows);
/** out = in * scale + mean for n_rows rows of targets: maps predictions back
 *  to original units (in == out allowed). */
REGNN_API regnn_status regnn_scaler_inverse_targets(const regnn_scaler *sc, const float *in,
                                                    float *out, size_t n_rows);

/* ------------------------------------------------------------------ */
/* Models and layers                                                    */
/* ------------------------------------------------------------------ */

enum {
    REGNN_ACT_LINEAR = 0,
    REGNN_ACT_RELU = 1,
    REGNN_ACT_SIGMOID = 2,
    REGNN_ACT_TANH = 3,
    REGNN_ACT_ELU = 4,        /* z > 0 ? z : expm1(z) (alpha 1) */
    REGNN_ACT_SELU = 5,       /* 1.0507009873554805 * (z > 0 ? z : 1.6732632423543772 * expm1(z)) */
    REGNN_ACT_GELU = 6,       /* 0.5 * z * (1 + erf(z / sqrt(2))), the exact form (Keras' default) */
    REGNN_ACT_SWISH = 7,      /* z * sigmoid(z), also called silu */
    REGNN_ACT_LEAKY_RELU = 8, /* z > 0 ? z : 0.2 * z (Keras 3's negative_slope) */
    REGNN_ACT_SOFTPLUS = 9    /* log(1 + exp(z)) */
};

enum {
    REGNN_INIT_GLOROT_UNIFORM = 0, /* kernel U(-a, a), a = sqrt(6 / (fan_in + fan_out)); Keras default */
    REGNN_INIT_HE_UNIFORM = 1      /* kernel U(-a, a), a = sqrt(6 / fan_in) */
};                                 /* biases start at 0 with either scheme */

enum {
    REGNN_LAYER_L2 = 1,     /* double >= 0: adds L2 * sum(kernel^2) to the loss (bias not penalized) */
    REGNN_LAYER_L1 = 2,     /* double >= 0: adds L1 * sum(|kernel|) to the loss */
    REGNN_LAYER_DROPOUT = 3, /* double in [0, 1): inverted dropout on the layer's output, training only */
    REGNN_LAYER_BIAS_L2 = 4, /* double >= 0: adds BIAS_L2 * sum(bias^2) to the loss (Keras bias_regularizer) */
    REGNN_LAYER_BIAS_L1 = 5, /* double >= 0: adds BIAS_L1 * sum(|bias|) to the loss */
    /* Kernel constraints, applied to the kernel after each update (Keras kernel_constraint,
       axis=0: the norm of each unit's incoming weights); one kind per layer. */
    REGNN_LAYER_MAX_NORM = 6,  /* double >= 0; > 0: MaxNorm(max_value) or MinMaxNorm's max_value; 0: none */
    REGNN_LAYER_MIN_NORM = 7,  /* double >= 0, <= MAX_NORM: MinMaxNorm's min_value (default 0) */
    REGNN_LAYER_NORM_RATE = 8, /* double in [0, 1]: MinMaxNorm's rate (default 1) */
    REGNN_LAYER_NON_NEG = 9,   /* 0 or 1: NonNeg */
    REGNN_LAYER_UNIT_NORM = 10, /* 0 or 1: UnitNorm */
    /* Keras activity_regularizer: on the layer's output (after the activation, before dropout)
       of each training batch, summed over rows and units, not divided by the batch size */
    REGNN_LAYER_ACTIVITY_L2 = 11, /* double >= 0: adds ACTIVITY_L2 * sum(output^2) */
    REGNN_LAYER_ACTIVITY_L1 = 12  /* double >= 0: adds ACTIVITY_L1 * sum(|output|) */
};

/** Empty model taking n_inputs features. */
REGNN_API regnn_status regnn_model_create(size_t n_inputs, regnn_model **out);
REGNN_API void regnn_model_free(regnn_model *m);
/** Deep copy: topology, settings, parameters, RNG state (no training workspace). */
REGNN_API regnn_status regnn_model_copy(const regnn_model *m, regnn_model **out);
/** Append a dense layer: output = act(input * kernel + bias). Only before
 *  regnn_model_init (REGNN_E_STATE after). layer_out (may be NULL) receives a
 *  handle borrowed from the model, valid until the model is freed. */
REGNN_API regnn_status regnn_model_add_dense(regnn_model *m, size_t units, int activation,
                                             regnn_layer **layer_out);

/* Layer types (regnn_layer_type). */
enum {
    REGNN_LAYERTYPE_DENSE = 0,            /* regnn_model_add_dense */
    REGNN_LAYERTYPE_GAUSSIAN_NOISE = 1,   /* regnn_model_add_gaussian_noise */
    REGNN_LAYERTYPE_GAUSSIAN_DROPOUT = 2, /* regnn_model_add_gaussian_dropout */
    REGNN_LAYERTYPE_LAYER_NORMALIZATION = 3, /* regnn_model_add_layer_normalization */
    REGNN_LAYERTYPE_BATCH_NORMALIZATION = 4  /* regnn_model_add_batch_normalization */
};
/** Append a Keras GaussianNoise layer: in training (regnn_fit, regnn_train_batch)
 *  it adds independent N(0, stddev^2) noise to each of its inputs, drawn from the
 *  model's random stream; in inference it passes its input through. stddev in
 *  [0, 1] (as Keras). No parameters; its units are its inputs. Only before
 *  regnn_model_init (REGNN_E_STATE after). */
REGNN_API regnn_status regnn_model_add_gaussian_noise(regnn_model *m, double stddev,
                                                      regnn_layer **layer_out);
/** Append a Keras GaussianDropout layer: in training it multiplies each of its
 *  inputs by an independent N(1, rate / (1 - rate)) draw; in inference it passes
 *  its input through. rate in [0, 1). No parameters. Only before regnn_model_init. */
REGNN_API regnn_status regnn_model_add_gaussian_dropout(regnn_model *m, double rate,
                                                        regnn_layer **layer_out);
/** Append a Keras LayerNormalization layer (axis -1, center and scale): each row
 *  x of its input becomes gamma * (x - mean) / sqrt(var + epsilon) + beta, with the
 *  row's mean and biased variance; gamma (starts at 1) and beta (at 0) are trainable,
 *  one per unit (parameters: gamma then beta). epsilon finite and > 0 (Keras: 1e-3).
 *  Only before regnn_model_init. */
REGNN_API regnn_status regnn_model_add_layer_normalization(regnn_model *m, double epsilon,
                                                           regnn_layer **layer_out);
/** Append a Keras BatchNormalization layer (axis -1, center and scale): in training
 *  each unit is normalized with the batch's mean and biased variance (over all its
 *  rows, summed in row order), and after each step the moving statistics become
 *  moving * momentum + batch * (1 - momentum); in inference the moving ones are
 *  used: gamma * (x - moving_mean) / sqrt(moving_variance + epsilon) + beta.
 *  gamma (1) and beta (0) are trainable parameters; moving mean (0) and variance
 *  (1) are state. momentum in [0, 1] (Keras: 0.99), epsilon finite and > 0 (Keras:
 *  1e-3). In a data-parallel fit the statistics are the whole batch's, gathered
 *  through the exchange. Only before regnn_model_init. */
REGNN_API regnn_status regnn_model_add_batch_normalization(regnn_model *m, double momentum,
                                                           double epsilon,
                                                           regnn_layer **layer_out);
/** A BatchNormalization layer's momentum; 0 for other layers or NULL. */
REGNN_API double regnn_layer_momentum(const regnn_layer *l);
/** A BatchNormalization layer's moving mean and variance (units values each,
 *  len >= units; either buffer may be NULL). REGNN_E_UNSUPPORTED for another type. */
REGNN_API regnn_status regnn_layer_get_moving(const regnn_layer *l, float *mean, float *variance,
                                              size_t len);
/** REGNN_LAYERTYPE_* of the layer, or -1 for NULL. */
REGNN_API int regnn_layer_type(const regnn_layer *l);
/** The stddev of a GaussianNoise layer, the rate of a GaussianDropout layer, the
 *  epsilon of a LayerNormalization or BatchNormalization layer; 0 for a dense
 *  layer or NULL. */
REGNN_API double regnn_layer_noise(const regnn_layer *l);
REGNN_API size_t regnn_model_inputs(const regnn_model *m);
/** Units of the last layer; 0 if there is none. */
REGNN_API size_t regnn_model_outputs(const regnn_model *m);
REGNN_API size_t regnn_model_layer_count(const regnn_model *m);
/** Borrowed layer handle; NULL if out of range. */
REGNN_API regnn_layer *regnn_model_layer(regnn_model *m, size_t index);
/** Set a REGNN_LAYER_* value on every layer. */
REGNN_API regnn_status regnn_model_set_layers_double(regnn_model *m, int key, double value);
/** Initialize all parameters (and seed the model's RNG, used for shuffling and
 *  dropout) from seed; freezes the topology. May be called again to re-initialize. */
REGNN_API regnn_status regnn_model_init(regnn_model *m, int scheme, uint64_t seed);
/** Re-seed the model's RNG (shuffling, dropout) without touching parameters. */
REGNN_API regnn_status regnn_model_seed(regnn_model *m, uint64_t seed);
/** Threads that regnn_fit and regnn_train_batch use for this model: 1..256,
 *  or 0 for a count picked from the model's shapes, the batch and the CPUs the
 *  process may use (affinity mask, cgroup quota; docs/api.md);
 *  a count above those CPUs runs on that many; default 1. Training gives the same bits for
 *  every count (docs/api.md states the promise). The threads start at the
 *  next training call, sleep between calls and stop when the model is freed
 *  or the count changes. Copied by regnn_model_copy, not saved in files.
 *  REGNN_E_STATE from an epoch callback of a fit of this model. */
REGNN_API regnn_status regnn_model_set_threads(regnn_model *m, size_t n);
/** The thread setting (0 = automatic); 0 for NULL. */
REGNN_API size_t regnn_model_threads(const regnn_model *m);
/** Total number of parameters (0 before the first layer). */
REGNN_API size_t regnn_model_param_count(const regnn_model *m);
/** Flat parameters: for each layer in order, its kernel (inputs x units,
 *  row-major, as Keras stores it) then its bias (units). len >= param count. */
REGNN_API regnn_status regnn_model_get_params(const regnn_model *m, float *buf, size_t len);
/** Replace all parameters; values must be finite. Marks the model initialized. */
REGNN_API regnn_status regnn_model_set_params(regnn_model *m, const float *buf, size_t len);
/** Predict n_rows rows of x (n_rows x inputs) into y (len >= n_rows x outputs).
 *  Dropout is off. Safe to call concurrently on one model. */
REGNN_API regnn_status regnn_model_predict(const regnn_model *m, const float *x, size_t n_rows,
                                           float *y, size_t y_len);
/** Metrics over ds at the current parameters, dropout off: mse = mean over rows
 *  and targets of (prediction - target)^2, mae likewise with |.|, penalty =
 *  sum over layers of L2*sum(kernel^2) + L1*sum(|kernel|). Unweighted; with
 *  the MSE loss, the loss Keras reports is mse + penalty (other losses and
 *  sample weights: regnn_model_evaluate_loss). Any out pointer may be NULL.
 *  Concurrency-safe. */
REGNN_API regnn_status regnn_model_evaluate(const regnn_model *m, const regnn_dataset *ds,
                                            double *mse, double *mae, double *penalty);

/* Training loss of a model (Keras compile(loss=...)), per element d =
 * prediction - target; a row's loss is the mean over outputs. Exact formulas:
 * docs/api.md. */
enum {
    REGNN_LOSS_MSE = 0,     /* d^2 (default) */
    REGNN_LOSS_MAE = 1,     /* |d| */
    REGNN_LOSS_HUBER = 2,   /* 0.5 d^2 if |d| <= delta, else delta (|d| - 0.5 delta) */
    REGNN_LOSS_LOG_COSH = 3 /* log(cosh(d)) */
};
/** Set the loss regnn_fit and regnn_train_batch minimize. param is Huber's
 *  delta (finite, > 0; Keras' default is 1) and must be 0 for the other
 *  kinds. Saved with the model. Not while regnn_fit runs (REGNN_E_STATE). */
REGNN_API regnn_status regnn_model_set_loss(regnn_model *m, int kind, double param);
/** The loss kind (REGNN_LOSS_*) and its parameter (0 unless Huber). */
REGNN_API regnn_status regnn_model_get_loss(const regnn_model *m, int *kind, double *param);
/** Keras model.evaluate with sample weights: loss = sum_i w_i loss_i / rows
 *  (the model's loss, w_i = 1 when ds has no weights), mse and mae the
 *  weighted means sum_i w_i e_i / sum_i w_i (0 when the weights sum to 0),
 *  penalty as regnn_model_evaluate; Keras' reported loss is loss + penalty.
 *  Any out pointer may be NULL. Concurrency-safe. */
REGNN_API regnn_status regnn_model_evaluate_loss(const regnn_model *m, const regnn_dataset *ds,
                                                 double *loss, double *mse, double *mae,
                                                 double *penalty);

REGNN_API size_t regnn_layer_inputs(const regnn_layer *l);
REGNN_API size_t regnn_layer_units(const regnn_layer *l);
/** REGNN_ACT_* of the layer, or -1 for NULL. */
REGNN_API int regnn_layer_activation(const regnn_layer *l);
REGNN_API regnn_status regnn_layer_set_double(regnn_layer *l, int key, double value);
REGNN_API regnn_status regnn_layer_get_double(const regnn_layer *l, int key, double *value);
/** inputs*units + units (0 for a GaussianNoise or GaussianDropout layer, 2*units
 *  for a LayerNormalization or BatchNormalization layer: gamma then beta). */
REGNN_API size_t regnn_layer_param_count(const regnn_layer *l);
/** The layer's kernel (inputs x units, row-major) then bias (units). */
REGNN_API regnn_status regnn_layer_get_params(const regnn_layer *l, float *buf, size_t len);
REGNN_API regnn_status regnn_layer_set_params(regnn_layer *l, const float *buf, size_t len);

/* ------------------------------------------------------------------ */
/* Optimizers                                                           */
/* ------------------------------------------------------------------ */

enum {
    REGNN_OPTIM_ADAM = 1, /* Keras form; see docs/api.md */
    REGNN_OPTIM_SGD = 2,  /* with optional (Nesterov) momentum, Keras form */
    REGNN_OPTIM_RMSPROP = 3, /* Keras form with centered=False, momentum=0 */
    REGNN_OPTIM_ADAGRAD = 4, /* Keras form */
    REGNN_OPTIM_ADAMAX = 5,  /* Keras form */
    REGNN_OPTIM_NADAM = 6    /* Keras 3 form (momentum cache u_t = beta1 (1 - 0.5 * 0.96^t)) */
};

enum {
    REGNN_OPT_LEARNING_RATE = 1, /* double > 0, non-zero and finite in float32, lr * wd <= 1;
                                    default 1e-3 (Adam), 1e-2 (SGD) */
    REGNN_OPT_BETA1 = 2,         /* double in [0, 1); default 0.9 (Adam) */
    REGNN_OPT_BETA2 = 3,         /* double in [0, 1); default 0.999 (Adam) */
    REGNN_OPT_EPSILON = 4,       /* double > 0, non-zero and finite in float32; default 1e-7
                                    (Adam), added to sqrt(v) */
    REGNN_OPT_WEIGHT_DECAY = 5,  /* double in [0, 1/lr]; default 0: decoupled decay of every
                                    parameter, theta -= lr * wd * theta before the step */
    REGNN_OPT_MOMENTUM = 6,      /* double in [0, 1); default 0 (SGD) */
    REGNN_OPT_NESTEROV = 7,      /* double 0 or 1; default 0 (SGD) */
    REGNN_OPT_RHO = 8,           /* double in [0, 1); default 0.9 (RMSprop) */
    REGNN_OPT_INITIAL_ACCUMULATOR = 9 /* double, finite and >= 0; default 0.1 (Adagrad) */
};

enum {
    REGNN_STATE_M = 1,       /* Adam first moment */
    REGNN_STATE_V = 2,       /* Adam second moment */
    REGNN_STATE_VELOCITY = 3, /* SGD momentum buffer; RMSprop mean square */
    REGNN_STATE_ACCUMULATOR = 4, /* Adagrad sum of squares */
    REGNN_STATE_NORM = 5         /* Adamax infinity norm u (its m is REGNN_STATE_M) */
};

REGNN_API regnn_status regnn_optimizer_create(int kind, regnn_optimizer **out);
REGNN_API void regnn_optimizer_free(regnn_optimizer *o);
/** REGNN_OPTIM_* of the optimizer, or -1 for NULL. */
REGNN_API int regnn_optimizer_kind(const regnn_optimizer *o);
REGNN_API regnn_status regnn_optimizer_set_double(regnn_optimizer *o, int key, double value);
REGNN_API regnn_status regnn_optimizer_get_double(const regnn_optimizer *o, int key, double *value);
/** Steps taken since creation or the last reset. */
REGNN_API uint64_t regnn_optimizer_steps(const regnn_optimizer *o);
/** steps <= 2^53 (REGNN_E_INVALID_ARG otherwise); training stops at that count. */
REGNN_API regnn_status regnn_optimizer_set_steps(regnn_optimizer *o, uint64_t steps);
/** Number of parameters the state buffers cover: 0 until the first step binds
 *  the optimizer to a model (a later model must have the same count). */
REGNN_API size_t regnn_optimizer_state_size(const regnn_optimizer *o);
/** Copy a state buffer (REGNN_STATE_*) out / in; len must equal state_size.
 *  regnn_optimizer_set_state on an unbound optimizer binds it to len parameters. */
REGNN_API regnn_status regnn_optimizer_get_state(const regnn_optimizer *o, int which, float *buf,
                                                 size_t len);
REGNN_API regnn_status regnn_optimizer_set_state(regnn_optimizer *o, int which, const float *buf,
                                                 size_t len);
/** Zero the step count and every state buffer, and unbind from the model. */
REGNN_API regnn_status regnn_optimizer_reset(regnn_optimizer *o);

/* Learning-rate schedules, as tf.keras.optimizers.schedules (formulas in
 * docs/api.md). The schedule is evaluated at the optimizer's step count before
 * the update (0 for the first step); the parameters hold everything,
 * initial_learning_rate included, in the order of the Keras constructor. */
enum {
    REGNN_SCHEDULE_CONSTANT = 0,    /* no schedule: REGNN_OPT_LEARNING_RATE every step (default);
                                       no parameters */
    REGNN_SCHEDULE_EXPONENTIAL = 1, /* ExponentialDecay: {initial_learning_rate, decay_steps,
                                       decay_rate[, staircase]} */
    REGNN_SCHEDULE_PIECEWISE = 2,   /* PiecewiseConstantDecay: {boundaries[0..k), values[0..k]},
                                       2k + 1 parameters */
    REGNN_SCHEDULE_COSINE = 3,      /* CosineDecay: {initial_learning_rate, decay_steps[, alpha[,
                                       warmup_target[, warmup_steps]]]} */
    REGNN_SCHEDULE_INVERSE_TIME = 4, /* InverseTimeDecay: {initial_learning_rate, decay_steps,
                                        decay_rate[, staircase]} */
    REGNN_SCHEDULE_POLYNOMIAL = 5,  /* PolynomialDecay: {initial_learning_rate, decay_steps[,
                                       end_learning_rate[, power[, cycle]]]} */
    REGNN_SCHEDULE_COSINE_RESTARTS = 6 /* CosineDecayRestarts: {initial_learning_rate,
                                          first_decay_steps[, t_mul[, m_mul[, alpha]]]} */
};

/** Give o a learning-rate schedule (kind REGNN_SCHEDULE_*, n parameters,
 *  copied); REGNN_SCHEDULE_CONSTANT with n = 0 removes it. While a schedule is
 *  set, REGNN_OPT_LEARNING_RATE is kept but not used. Refused while regnn_fit
 *  runs (REGNN_E_STATE). Saved in checkpoints. */
REGNN_API regnn_status regnn_optimizer_set_schedule(regnn_optimizer *o, int kind,
                                                    const double *params, size_t n);
/** *kind and *n receive the schedule's kind and parameter count; params (may
 *  be NULL when len is 0) receives min(len, n) parameters. */
REGNN_API regnn_status regnn_optimizer_get_schedule(const regnn_optimizer *o, int *kind,
                                                    double *params, size_t len, size_t *n);
/** The learning rate the update after `step` steps uses (the schedule at
 *  step, or REGNN_OPT_LEARNING_RATE without one), in double. */
REGNN_API regnn_status regnn_optimizer_learning_rate_at(const regnn_optimizer *o, uint64_t step,
                                                        double *lr);

/* ------------------------------------------------------------------ */
/* Training                                                             */
/* ------------------------------------------------------------------ */

/** One optimizer step on one batch of n_rows rows (x: n_rows x inputs, y:
 *  n_rows x outputs). loss_out (may be NULL) receives the batch loss before
 *  the step: the model's loss (regnn_model_set_loss; MSE by default) +
 *  penalty, with dropout as trained. A non-finite loss, or an
 *  update that would leave any parameter or optimizer state NaN or Inf, gives
 *  REGNN_E_NUMERIC with no update made. */
REGNN_API regnn_status regnn_train_batch(regnn_model *m, regnn_optimizer *o, const float *x,
                                         const float *y, size_t n_rows, double *loss_out);

/** regnn_train_batch with sample weights w (n_rows values, finite, >= 0;
 *  NULL = all 1): the batch loss is sum_i w_i loss_i / n_rows + penalty. */
REGNN_API regnn_status regnn_train_batch_weighted(regnn_model *m, regnn_optimizer *o,
                                                  const float *x, const float *y, const float *w,
                                                  size_t n_rows, double *loss_out);

enum {
    /* integer options (regnn_fit_options_set_int) */
    REGNN_FIT_EPOCHS = 1,          /* >= 1; default 1 */
    REGNN_FIT_BATCH_SIZE = 2,      /* >= 1; default 32; the last partial batch is trained on */
    REGNN_FIT_SHUFFLE = 3,         /* 0/1; default 1: reshuffle training rows every epoch */
    REGNN_FIT_EARLY_STOPPING = 4,  /* 0/1; default 0 */
    REGNN_FIT_PATIENCE = 5,        /* >= 0; default 0 (Keras) */
    REGNN_FIT_RESTORE_BEST = 6,    /* 0/1; default 0: at the end, restore the best epoch's weights */
    REGNN_FIT_MONITOR = 7,         /* REGNN_MONITOR_*; default REGNN_MONITOR_VAL_LOSS */
    REGNN_FIT_EVAL_TRAIN = 8,      /* 0/1; default 0: also record train MSE at end-of-epoch weights */
    REGNN_FIT_SHARD_INDEX = 9,     /* 0..65535; default 0: this process's part of each batch */
    REGNN_FIT_SHARD_COUNT = 10,    /* 1..65536; default 1: processes sharing each batch (> 1
                                      needs regnn_fit_options_set_exchange) */
    /* double options (regnn_fit_options_set_double) */
    REGNN_FIT_VALIDATION_SPLIT = 100, /* [0, 1); default 0: Keras tail split of the training data */
    REGNN_FIT_MIN_DELTA = 101         /* >= 0; default 0: smaller improvements do not count */
};

/* ReduceLROnPlateau (keras.callbacks), per epoch on the REGNN_FIT_MONITOR
 * value; rule in docs/api.md. */
enum {
    REGNN_FIT_REDUCE_LR = 20,             /* 0/1; default 0 */
    REGNN_FIT_REDUCE_LR_PATIENCE = 21,    /* >= 0; default 10 */
    REGNN_FIT_REDUCE_LR_COOLDOWN = 22,    /* >= 0; default 0 */
    REGNN_FIT_REDUCE_LR_FACTOR = 120,     /* double in (0, 1); default 0.1 */
    REGNN_FIT_REDUCE_LR_MIN_DELTA = 121,  /* double >= 0; default 1e-4 */
    REGNN_FIT_REDUCE_LR_MIN_LR = 122      /* double >= 0; default 0 */
};

enum {
    REGNN_MONITOR_VAL_LOSS = 0,   /* validation loss + penalty (Keras "val_loss") */
    REGNN_MONITOR_VAL_MSE = 1,    /* validation mse */
    REGNN_MONITOR_TRAIN_LOSS = 2  /* training loss (running mean) */
};

/** Called after each epoch with the history so far (epoch is 0-based).
 *  Return 0 to go on, non-zero to stop training after this epoch. */
typedef int (*regnn_epoch_fn)(void *user, const regnn_history *history, size_t epoch);

REGNN_API regnn_status regnn_fit_options_create(regnn_fit_options **out);
REGNN_API void regnn_fit_options_free(regnn_fit_options *opts);
REGNN_API regnn_status regnn_fit_options_set_int(regnn_fit_options *opts, int key, int64_t value);
REGNN_API regnn_status regnn_fit_options_get_int(const regnn_fit_options *opts, int key,
                                                 int64_t *value);
REGNN_API regnn_status regnn_fit_options_set_double(regnn_fit_options *opts, int key, double value);
REGNN_API regnn_status regnn_fit_options_get_double(const regnn_fit_options *opts, int key,
                                                    double *value);
/** Epoch callback (NULL to clear); user is passed back unchanged. */
REGNN_API regnn_status regnn_fit_options_set_callback(regnn_fit_options *opts, regnn_epoch_fn fn,
                                                      void *user);

/** Sums a data-parallel fit's values over its processes, in place: grad (n
 *  floats; NULL when n is 0) and sums (n_sums doubles). Every process must
 *  receive the same bits, so that all take the same step and decisions.
 *  Return 0 on success, non-zero to fail the fit. */
typedef int (*regnn_exchange_fn)(void *user, float *grad, size_t n, double *sums, size_t n_sums);

/** Data-parallel training (NULL clears): with fn set, regnn_fit computes part
 *  of every global batch of nr rows (i, c: REGNN_FIT_SHARD_INDEX, _COUNT): shard
 *  i of the one-process step when the batch size has c shards (then the fit is
 *  the one-process fit bit for bit; docs/api.md), else rows [nr*i/c, nr*(i+1)/c);
 *  its data gradient and loss sums at the global batch's scale, which fn sums
 *  over the processes before the penalty and each optimizer step; it
 *  also sums the end-of-epoch metrics (each process evaluates its part of the
 *  validation rows) and the stop votes of the epoch callbacks, and agrees on
 *  failures before training starts. Every process must call regnn_fit with
 *  the same data, model, optimizer and options: before training they are
 *  compared (a hash per setting that changes results), and on a mismatch
 *  every process fails with REGNN_E_INVALID_ARG naming the first differing
 *  setting and the ranks (REGNN_FIT_SHARD_INDEX). Every process draws the
 *  whole batch's dropout masks and noise and uses its rows'; BatchNormalization
 *  layers gather their input and output gradient of the whole batch through fn
 *  (calls of n = the parameter count floats, n_sums 0). */
REGNN_API regnn_status regnn_fit_options_set_exchange(regnn_fit_options *opts,
                                                      regnn_exchange_fn fn, void *user);
/** For a process of a data-parallel fit that fails before it can call
 *  regnn_fit (e.g. its own argument checks): takes a failing process's part in
 *  the start of the fit through opts's exchange, so that the others' regnn_fit
 *  returns REGNN_E_STATE naming this rank (REGNN_FIT_SHARD_INDEX) with status
 *  (not REGNN_OK) and message (NULL: regnn_strerror's text) instead of waiting.
 *  REGNN_OK when told; REGNN_E_INVALID_ARG without an exchange or with status
 *  REGNN_OK; REGNN_E_IO when the exchange failed. */
REGNN_API regnn_status regnn_fit_exchange_failure(const regnn_fit_options *opts,
                                                  regnn_status status, const char *message);
/** A copy of opts (settings, callback and exchange). */
REGNN_API regnn_status regnn_fit_options_copy(const regnn_fit_options *opts,
                                              regnn_fit_options **out);

/** Train m with o on train for the configured epochs. Validation data: val
 *  if not NULL, else the REGNN_FIT_VALIDATION_SPLIT tail of train (not both).
 *  opts NULL means defaults. history_out (may be NULL) receives the history,
 *  also when early stopping or the callback ended training. On failure the
 *  model and optimizer are restored to their state before the call. */
REGNN_API regnn_status regnn_fit(regnn_model *m, regnn_optimizer *o, const regnn_dataset *train,
                                 const regnn_dataset *val, const regnn_fit_options *opts,
                                 regnn_history **history_out);

/* ------------------------------------------------------------------ */
/* History                                                              */
/* ------------------------------------------------------------------ */

enum {
    REGNN_METRIC_TRAIN_LOSS = 1,     /* running mean over the epoch's batches of (loss + penalty),
                                        weighted by batch rows: Keras "loss"; the loss is the
                                        model's (regnn_model_set_loss), sample-weighted */
    REGNN_METRIC_TRAIN_MSE = 2,      /* the same running mean of the batch data MSE (weighted
                                        by the sample weights when the data has them) */
    REGNN_METRIC_TRAIN_PENALTY = 3,  /* the same running mean of the penalty */
    REGNN_METRIC_TRAIN_MAE = 4,      /* the same running mean of the batch MAE */
    REGNN_METRIC_VAL_LOSS = 5,       /* validation loss + penalty at end-of-epoch weights */
    REGNN_METRIC_VAL_MSE = 6,
    REGNN_METRIC_VAL_MAE = 7,
    REGNN_METRIC_SECONDS = 8,        /* wall seconds of the epoch */
    REGNN_METRIC_TRAIN_EVAL_MSE = 9  /* train MSE at end-of-epoch weights (REGNN_FIT_EVAL_TRAIN) */
};
enum {
    REGNN_METRIC_LEARNING_RATE = 10  /* the learning rate of the epoch's last step */
};
/* Metrics that were not recorded (no validation data, EVAL_TRAIN off) read as NaN. */

enum {
    REGNN_STOP_COMPLETED = 0,      /* ran every epoch */
    REGNN_STOP_EARLY = 1,          /* early stopping fired */
    REGNN_STOP_CALLBACK = 2        /* the epoch callback asked to stop */
};

REGNN_API void regnn_history_free(regnn_history *h);
/** Epochs recorded; 0 for NULL. */
REGNN_API size_t regnn_history_epochs(const regnn_history *h);
/** Copy one metric for every epoch; len >= epochs. */
REGNN_API regnn_status regnn_history_get(const regnn_history *h, int metric, double *buf,
                                         size_t len);
/** 0-based epoch with the best monitored value (the one restored by
 *  REGNN_FIT_RESTORE_BEST). */
REGNN_API regnn_status regnn_history_best_epoch(const regnn_history *h, size_t *epoch);
/** REGNN_STOP_*, or -1 for NULL. */
REGNN_API int regnn_history_stop_reason(const regnn_history *h);
/** Write the history as CSV: header "epoch,loss,mse,penalty,mae,val_loss,val_mse,
 *  val_mae,seconds,train_eval_mse,learning_rate", one line per epoch (1-based),
 *  C-locale numbers, "nan" for metrics not recorded. */
REGNN_API regnn_status regnn_history_write_csv(const regnn_history *h, const char *path);

/* ------------------------------------------------------------------ */
/* Diagnosis: is a fit overfitting, underfitting or fine? The rule and  */
/* its thresholds: docs/diagnosis.md.                                   */
/* ------------------------------------------------------------------ */

enum {
    REGNN_VERDICT_INSUFFICIENT = 0, /* too few epochs, no validation metric, or NaN/Inf */
    REGNN_VERDICT_GOOD_FIT = 1,
    REGNN_VERDICT_OVERFITTING = 2,
    REGNN_VERDICT_UNDERFITTING = 3
};

enum {
    REGNN_REASON_NONE = 0,            /* good fit: no rule fired */
    REGNN_REASON_TOO_SHORT = 1,       /* fewer than 10 epochs */
    REGNN_REASON_NO_VALIDATION = 2,   /* the validation MSE was not recorded */
    REGNN_REASON_NOT_FINITE = 3,      /* a validation or training MSE is NaN or Inf */
    REGNN_REASON_VAL_ROSE = 4,        /* overfitting: val MSE rose >= 10 % above its minimum
                                         and the gap widened */
    REGNN_REASON_LARGE_GAP = 5,       /* overfitting: (val - train) / val >= 0.5, not closing */
    REGNN_REASON_HIGH_ERROR = 6,      /* underfitting: train MSE >= 0.8 x the reference MSE */
    REGNN_REASON_STILL_IMPROVING = 7  /* underfitting: val and train MSE still falling >= 5 %
                                         across the window, val MSE >= 0.05 x the reference */
};

/* Indices into the values of regnn_history_diagnose. Pinned; new ones are
 * only appended (REGNN_DIAG_COUNT grows). Epochs are 0-based. "train" is
 * REGNN_METRIC_TRAIN_EVAL_MSE when recorded, else REGNN_METRIC_TRAIN_MSE.
 * The window is the last max(5, floor(epochs / 5)) epochs. */
enum {
    REGNN_DIAG_EPOCHS = 0,             /* epochs recorded */
    REGNN_DIAG_BEST_EPOCH = 1,         /* epoch of the lowest val MSE (the first, on ties) */
    REGNN_DIAG_BEST_VAL_MSE = 2,
    REGNN_DIAG_TRAIN_MSE_AT_BEST = 3,
    REGNN_DIAG_FINAL_VAL_MSE = 4,      /* at the last epoch */
    REGNN_DIAG_FINAL_TRAIN_MSE = 5,
    REGNN_DIAG_FINAL_GAP = 6,          /* final val - final train */
    REGNN_DIAG_GAP_AT_BEST = 7,        /* val - train at the best epoch */
    REGNN_DIAG_WINDOW = 8,             /* epochs in the final window */
    REGNN_DIAG_WINDOW_VAL_MSE = 9,     /* mean val MSE over the window */
    REGNN_DIAG_WINDOW_TRAIN_MSE = 10,  /* mean train MSE over the window */
    REGNN_DIAG_RELATIVE_GAP = 11,      /* (window val - window train) / window val */
    REGNN_DIAG_VAL_RISE = 12,          /* (window val - best val) / best val */
    REGNN_DIAG_GAP_GROWTH = 13,        /* ((window val - window train) - gap at best) / best val */
    REGNN_DIAG_GAP_TREND = 14,         /* least-squares slope of val - train over the window, per epoch */
    REGNN_DIAG_VAL_TREND = 15,         /* slope of val MSE over the window, per epoch */
    REGNN_DIAG_TRAIN_TREND = 16,       /* slope of train MSE over the window, per epoch */
    REGNN_DIAG_REFERENCE_MSE = 17,     /* baseline_mse if given, else the largest first-epoch MSE
                                          (val, train, running batch train MSE) */
    REGNN_DIAG_TRAIN_LEVEL = 18,       /* window train / reference */
    REGNN_DIAG_TRAIN_METRIC = 19,      /* the REGNN_METRIC_* the train values come from */
    REGNN_DIAG_COUNT = 20
};

/** Diagnose a history by the rule of docs/diagnosis.md. baseline_mse is the
 *  error of predicting the mean (the MSE of the training targets' mean on the
 *  validation rows; 1 for z-scored targets) or NaN/0 if unknown, in which case
 *  the largest error of the first epoch stands in for it. verdict receives a
 *  REGNN_VERDICT_*, reason (may be NULL) the REGNN_REASON_* of the rule that
 *  decided. values (may be NULL when len is 0) receives min(len,
 *  REGNN_DIAG_COUNT) values indexed by REGNN_DIAG_*; values that cannot be
 *  computed are NaN. Never allocates, so it may be called from an epoch
 *  callback. A history that is too short or contains NaN is not an error: it
 *  gives REGNN_VERDICT_INSUFFICIENT. */
REGNN_API regnn_status regnn_history_diagnose(const regnn_history *h, double baseline_mse,
                                              int *verdict, int *reason, double *values,
                                              size_t len);
/** "insufficient", "good fit", "overfitting", "underfitting"; NULL if unknown. Static. */
REGNN_API const char *regnn_verdict_name(int verdict);

/* ------------------------------------------------------------------ */
/* Regularization path: every (lambda, seed) pair of a sweep, trained   */
/* in parallel, summarized per lambda, with the lambda to use.          */
/* ------------------------------------------------------------------ */

typedef struct regnn_path_options regnn_path_options; /* settings of a sweep */
typedef struct regnn_path regnn_path;                 /* results of a sweep */

enum {
    REGNN_PENALTY_L2 = 0,          /* lambda is REGNN_LAYER_L2 of the chosen layers (default) */
    REGNN_PENALTY_L1 = 1,          /* lambda is REGNN_LAYER_L1 of the chosen layers */
    REGNN_PENALTY_WEIGHT_DECAY = 2, /* lambda is the optimizer's REGNN_OPT_WEIGHT_DECAY */
    REGNN_PENALTY_DROPOUT = 3,     /* lambda is REGNN_LAYER_DROPOUT, in [0, 1), of the chosen
                                      layers (default: every layer but the output layer) */
    REGNN_PENALTY_MAX_NORM = 4,    /* lambda is REGNN_LAYER_MAX_NORM (MaxNorm; 0: none) */
    REGNN_PENALTY_ACTIVITY_L2 = 5, /* lambda is REGNN_LAYER_ACTIVITY_L2 */
    REGNN_PENALTY_BIAS_L2 = 6,     /* lambda is REGNN_LAYER_BIAS_L2 */
    REGNN_PENALTY_GAUSSIAN_NOISE = 7 /* lambda is the stddev of the chosen GaussianNoise layers
                                        (all of them by default), in [0, 1] */
};

enum {
    REGNN_PATH_SEEDS = 1,   /* 1..1048576; default 1: runs per lambda */
    REGNN_PATH_SEED = 2,    /* int >= 0; default 0: run s (0-based) uses seed SEED + s */
    REGNN_PATH_PENALTY = 3, /* REGNN_PENALTY_*; default REGNN_PENALTY_L2 */
    REGNN_PATH_THREADS = 4, /* 0..256; default 0: the usable CPUs / the model's threads; 1 = on the calling thread */
    REGNN_PATH_INIT = 5,    /* REGNN_INIT_*; default REGNN_INIT_GLOROT_UNIFORM */
    REGNN_PATH_FOLDS = 6,   /* 0..1048576; default 0; k >= 2: k-fold cross-validation on the
                               training data instead of validation data (0, 1: off) */
    REGNN_PATH_FOLD_SEED = 7, /* int >= 0; default 0: seed of the fold assignment */
    REGNN_PATH_SHARD_INDEX = 8, /* 0..1048575; default 0 */
    REGNN_PATH_SHARD_COUNT = 9, /* 1..1048576; default 1: train only the runs r (numbered as
                                   regnn_path_get_runs orders them) with r % COUNT == INDEX;
                                   not with REGNN_PATH_FOLDS */
    REGNN_PATH_EVAL_TRAIN = 10  /* 0/1; default 1: every run records the training MSE at
                                   end-of-epoch weights (REGNN_FIT_EVAL_TRAIN on) for the
                                   gap; 0: fit_opts' REGNN_FIT_EVAL_TRAIN as given, the gap
                                   from the epoch's running mean, no extra pass */
};

/* Values of one run (regnn_path_get_runs) and, summarized over the seeds of
 * each lambda, regnn_path_get. Pinned; new ones are only appended. */
enum {
    REGNN_RUN_BEST_VAL_MSE = 1,      /* lowest val MSE over the epochs */
    REGNN_RUN_BEST_EPOCH = 2,        /* its 0-based epoch */
    REGNN_RUN_TRAIN_MSE_AT_BEST = 3, /* train MSE (end-of-epoch weights) at that epoch */
    REGNN_RUN_FINAL_VAL_MSE = 4,     /* at the last epoch */
    REGNN_RUN_FINAL_TRAIN_MSE = 5,
    REGNN_RUN_FINAL_GAP = 6,         /* final val - final train */
    REGNN_RUN_EPOCHS = 7,            /* epochs run (fewer with early stopping) */
    REGNN_RUN_VERDICT = 8,           /* REGNN_VERDICT_* of regnn_history_diagnose (per run only) */
    REGNN_RUN_REASON = 9,            /* its REGNN_REASON_* (per run only) */
    REGNN_RUN_SECONDS = 10,          /* wall seconds of the fit's epochs */
    REGNN_RUN_DIVERGED = 11,         /* 1 if the fit diverged (REGNN_E_NUMERIC), else 0 */
    REGNN_RUN_TEST_MSE = 12          /* MSE of the trained run on the test data
                                        (regnn_path_options_set_test); NaN without it */
};
/* A diverged run has NaN for every other value, and no history. */

enum {
    REGNN_AGG_MEAN = 0,
    REGNN_AGG_SD = 1,  /* sample standard deviation (divisor seeds - 1); NaN for one seed */
    REGNN_AGG_SE = 2,  /* standard error of the mean, SD / sqrt(seeds) */
    REGNN_AGG_MIN = 3,
    REGNN_AGG_MAX = 4
};
/* A summary is NaN when any of the lambda's runs diverged. */

enum {
    REGNN_SELECT_MIN = 0, /* the lambda with the lowest mean */
    REGNN_SELECT_1SE = 1  /* the largest lambda whose mean is within one standard error of the
                             lowest mean (glmnet's lambda.1se) */
};

/** Called on the calling thread after each finished run, in completion
 *  order: done runs of total are finished; history is the run's (borrowed for
 *  the call; NULL if it diverged). Return 0 to go on, non-zero to cancel. */
typedef int (*regnn_path_progress_fn)(void *user, size_t done, size_t total, double lambda,
                                      uint64_t seed, const regnn_history *history);

REGNN_API regnn_status regnn_path_options_create(regnn_path_options **out);
REGNN_API void regnn_path_options_free(regnn_path_options *opts);
/** A copy of opts (lambdas, layers, settings, the borrowed test data and the
 *  progress callback). */
REGNN_API regnn_status regnn_path_options_copy(const regnn_path_options *opts,
                                               regnn_path_options **out);
/** The lambda values, in the order results are reported (copied). n >= 1;
 *  each value finite and >= 0. */
REGNN_API regnn_status regnn_path_options_set_lambdas(regnn_path_options *opts,
                                                      const double *lambdas, size_t n);
/** *n receives the count; buf (may be NULL) receives the values, len >= count. */
REGNN_API regnn_status regnn_path_options_get_lambdas(const regnn_path_options *opts, double *buf,
                                                      size_t len, size_t *n);
/** The 0-based layers lambda applies to (copied); NULL/0 = every layer (default).
 *  Not with REGNN_PENALTY_WEIGHT_DECAY; with REGNN_PENALTY_GAUSSIAN_NOISE the
 *  chosen layers are GaussianNoise layers; indices are checked against the model. */
REGNN_API regnn_status regnn_path_options_set_layers(regnn_path_options *opts,
                                                     const size_t *layers, size_t n);
REGNN_API regnn_status regnn_path_options_set_int(regnn_path_options *opts, int key,
                                                  int64_t value);
REGNN_API regnn_status regnn_path_options_get_int(const regnn_path_options *opts, int key,
                                                  int64_t *value);
/** Held-out test data (borrowed: it must stay alive while
 *  regnn_regularization_path runs with these options; NULL clears). Every run's
 *  final model is scored on it (REGNN_RUN_TEST_MSE), so a sweep needs no
 *  second training pass to report test error. */
REGNN_API regnn_status regnn_path_options_set_test(regnn_path_options *opts,
                                                   const regnn_dataset *test);
/** Progress callback (NULL to clear); user is passed back unchanged. */
REGNN_API regnn_status regnn_path_options_set_progress(regnn_path_options *opts,
                                                       regnn_path_progress_fn fn, void *user);

/** Train every (lambda, seed) pair: a copy of template_model (topology and
 *  layer settings) with lambda set as the penalty chooses, initialized with
 *  the run's seed (so every lambda starts from the same weights and shuffles
 *  alike for a given seed), trained by regnn_fit with a fresh optimizer of
 *  template_optimizer's kind, hyperparameters and schedule (NULL: Adam defaults) and
 *  fit_opts (NULL: defaults; REGNN_FIT_EVAL_TRAIN on unless REGNN_PATH_EVAL_TRAIN
 *  is 0). Validation
 *  data, required: val, or fit_opts' REGNN_FIT_VALIDATION_SPLIT. The
 *  template, optimizer and datasets are only read. Runs go to
 *  REGNN_PATH_THREADS threads, each run on one thread; results are identical
 *  for every thread count when the BLAS uses one thread
 *  (regnn_set_blas_threads(1)). fit_opts' epoch callback, if any, is called
 *  from the worker threads, concurrently when there are several. A diverged
 *  run is recorded (REGNN_RUN_DIVERGED), not an error; any other failure of
 *  a run fails the call. Cancelling from the progress callback returns
 *  REGNN_E_CANCELLED within about one epoch of the running fits. */
REGNN_API regnn_status regnn_regularization_path(const regnn_model *template_model,
                                                 const regnn_optimizer *template_optimizer,
                                                 const regnn_dataset *train,
                                                 const regnn_dataset *val,
                                                 const regnn_fit_options *fit_opts,
                                                 const regnn_path_options *popts,
                                                 regnn_path **out);
/** The settings fingerprint of a path call (same arguments as
 *  regnn_regularization_path; NULL optimizer or fit options: the defaults):
 *  one hash per setting that changes the runs' results, in the order of
 *  regnn_settings_name, into out (len >= *count; *count is set on every call;
 *  out NULL and len 0: only the count),
 *  so that the processes of a sharded sweep can check they agree. Equal
 *  settings give equal values on every machine with this library version. */
REGNN_API regnn_status regnn_path_settings_fingerprint(const regnn_model *template_model,
                                                       const regnn_optimizer *template_optimizer,
                                                       const regnn_dataset *train,
                                                       const regnn_dataset *val,
                                                       const regnn_fit_options *fit_opts,
                                                       const regnn_path_options *popts,
                                                       uint64_t *out, size_t len, size_t *count);
/** Name of fingerprint entry i ("optimizer.learning_rate"); NULL past the end. */
REGNN_API const char *regnn_settings_name(size_t i);
REGNN_API void regnn_path_free(regnn_path *p);
/** Counts; 0 for NULL. */
REGNN_API size_t regnn_path_lambda_count(const regnn_path *p);
REGNN_API size_t regnn_path_seed_count(const regnn_path *p);
/** The lambdas in the order given; len >= lambda count. */
REGNN_API regnn_status regnn_path_lambdas(const regnn_path *p, double *buf, size_t len);
/** The MSE of predicting the training targets' mean on the validation rows
 *  (the diagnosis' baseline); NaN for NULL. */
REGNN_API double regnn_path_baseline_mse(const regnn_path *p);
/** One summary (REGNN_AGG_*) of a REGNN_RUN_* value over the seeds, per
 *  lambda; len >= lambda count. With folds, cv.glmnet's summary over the
 *  folds of the per-fold means over the seeds (docs/api.md). */
REGNN_API regnn_status regnn_path_get(const regnn_path *p, int stat, int agg, double *buf,
                                      size_t len);
/** A REGNN_RUN_* value of every run, lambda-major: buf[lambda_index * seeds +
 *  seed_index]; len >= lambdas x seeds. With folds: buf[(lambda_index * folds +
 *  fold) * seeds + seed_index]; len >= lambdas x folds x seeds. */
REGNN_API regnn_status regnn_path_get_runs(const regnn_path *p, int stat, double *buf, size_t len);
/** Index of the lambda to use by rule (REGNN_SELECT_*), judged on the mean of
 *  stat (REGNN_RUN_BEST_VAL_MSE or REGNN_RUN_FINAL_VAL_MSE) over the seeds.
 *  Ties go to the lower index; lambdas with a diverged run are skipped
 *  (REGNN_E_NUMERIC if all have one). */
REGNN_API regnn_status regnn_path_best_index(const regnn_path *p, int stat, int rule,
                                             size_t *index);
/** The history of one run, owned by the path; NULL if out of range or diverged.
 *  With folds, seed_index is fold * seeds + seed index. */
REGNN_API const regnn_history *regnn_path_history(const regnn_path *p, size_t lambda_index,
                                                  size_t seed_index);
/** Folds of a cross-validated path (REGNN_PATH_FOLDS k >= 2); 1 without; 0 for NULL. */
REGNN_API size_t regnn_path_fold_count(const regnn_path *p);
/** The fold (0..k-1) of every training row; len >= training rows.
 *  REGNN_E_STATE for a path without folds. */
REGNN_API regnn_status regnn_path_folds(const regnn_path *p, size_t *buf, size_t len);
/** Train one model on all of train at lambda, as a path run with the path
 *  options' penalty, layers, init and REGNN_PATH_SEED (cv.glmnet's final fit):
 *  the fit options' validation split is ignored and no validation data is
 *  used. *model receives the trained model; *history (may be NULL) its
 *  history. Nothing is written on failure. */
REGNN_API regnn_status regnn_path_refit(const regnn_model *template_model,
                                        const regnn_optimizer *template_optimizer,
                                        const regnn_dataset *train,
                                        const regnn_fit_options *fit_opts,
                                        const regnn_path_options *popts, double lambda,
                                        regnn_model **model, regnn_history **history);

/** Encode p (every value, history and the shard it holds) into buf; size
 *  semantics as regnn_model_save_mem. Little-endian, versioned, CRC-32. */
REGNN_API regnn_status regnn_path_save_mem(const regnn_path *p, void *buf, size_t cap,
                                           size_t *size);
/** Decode a path encoded by regnn_path_save_mem. */
REGNN_API regnn_status regnn_path_load_mem(const void *buf, size_t len, regnn_path **out);
/** regnn_path_save_mem's encoding written to a file, atomically as
 *  regnn_model_save writes (a symbolic link is followed). Since 1.1. */
REGNN_API regnn_status regnn_path_save(const regnn_path *p, const char *path);
/** Read a file written by regnn_path_save (a regular file only). Since 1.1. */
REGNN_API regnn_status regnn_path_load(const char *path, regnn_path **out);
/** Merge the results of shards of one sweep (same lambdas, seeds, seed and
 *  data) that together hold every run exactly once, into a new, whole path
 *  equal to the path of one call without shards. */
REGNN_API regnn_status regnn_path_merge(const regnn_path *const *parts, size_t n,
                                        regnn_path **out);

/* ------------------------------------------------------------------ */
/* Warnings: a split or a lambda grid whose results cannot be trusted.  */
/* Rules and thresholds: docs/diagnosis.md. Since 1.2.                  */
/* ------------------------------------------------------------------ */

typedef struct regnn_warnings regnn_warnings; /* the warnings of one check */

/* Warning codes. Pinned; new ones are only appended. */
enum {
    REGNN_WARN_FEW_VALIDATION_ROWS = 1, /* fewer than 30 validation rows */
    REGNN_WARN_FEW_FOLD_ROWS = 2,       /* fewer than 30 rows in the smallest fold */
    REGNN_WARN_CONSTANT_VALIDATION = 3, /* a target's sd over the validation rows <= 1e-3 x
                                           its sd over the training data */
    REGNN_WARN_CONSTANT_TEST = 4,       /* the same over the test rows */
    REGNN_WARN_ROW_ORDER = 5,           /* a target trends with the row order (|z| > 4) */
    REGNN_WARN_CONSTANT_GRID = 6        /* every lambda's mean final training MSE >= 0.95 x
                                           the baseline: every model predicts about a constant */
};

/* Values of one warning (regnn_warnings_get), NaN where they do not apply.
 * Pinned; new ones are only appended (REGNN_WARNVAL_COUNT grows). */
enum {
    REGNN_WARNVAL_TARGET = 0,      /* 0-based target column the warning is about */
    REGNN_WARNVAL_ROWS = 1,        /* rows it is about (validation, fold, test or all rows) */
    REGNN_WARNVAL_VALUE = 2,       /* the statistic that crossed its threshold */
    REGNN_WARNVAL_THRESHOLD = 3,   /* that threshold */
    REGNN_WARNVAL_REFERENCE = 4,   /* what VALUE is measured against (training sd, baseline MSE) */
    REGNN_WARNVAL_CORRELATION = 5, /* ROW_ORDER: correlation of the target with the row number */
    REGNN_WARNVAL_TAIL_Z = 6,      /* ROW_ORDER: validation mean - training mean, in standard errors */
    REGNN_WARNVAL_LAMBDA = 7,      /* CONSTANT_GRID: the smallest lambda of the grid */
    REGNN_WARNVAL_COUNT = 8
};

/* Flags of regnn_split_diagnose. */
enum {
    REGNN_SPLIT_SHUFFLED = 1 /* the rows were shuffled before the split: no row-order check */
};

/** Check the split a fit or path with these arguments would validate on:
 *  the validation rows are val, or fit_opts' REGNN_FIT_VALIDATION_SPLIT tail of
 *  train, or with popts' REGNN_PATH_FOLDS k >= 2 the folds (fit_opts and popts
 *  may be NULL: defaults); test (may be NULL) is held-out test data. Checks
 *  few validation (or fold) rows, (nearly) constant validation or test
 *  targets and, unless flags has REGNN_SPLIT_SHUFFLED or folds are used, targets
 *  that trend with the row order. *out receives the warnings, possibly none;
 *  free it with regnn_warnings_free. The datasets are only read. Since 1.2. */
REGNN_API regnn_status regnn_split_diagnose(const regnn_dataset *train, const regnn_dataset *val,
                                            const regnn_dataset *test,
                                            const regnn_fit_options *fit_opts,
                                            const regnn_path_options *popts, int flags,
                                            regnn_warnings **out);
/** Check a whole path's lambda grid: REGNN_WARN_CONSTANT_GRID when every lambda's
 *  models predict about a constant. Since 1.2. */
REGNN_API regnn_status regnn_path_diagnose(const regnn_path *p, regnn_warnings **out);
/** Warnings held; 0 for NULL. Since 1.2. */
REGNN_API size_t regnn_warnings_count(const regnn_warnings *w);
/** Warning i: code (may be NULL) receives its REGNN_WARN_*, values (may be NULL
 *  when len is 0) min(len, REGNN_WARNVAL_COUNT) values indexed by
 *  REGNN_WARNVAL_*. Since 1.2. */
REGNN_API regnn_status regnn_warnings_get(const regnn_warnings *w, size_t i, int *code,
                                          double *values, size_t len);
/** Warning i in words, with its numbers (owned by w); NULL if out of range. Since 1.2. */
REGNN_API const char *regnn_warnings_message(const regnn_warnings *w, size_t i);
/** Since 1.2. */
REGNN_API void regnn_warnings_free(regnn_warnings *w);
/** "few_validation_rows", "few_fold_rows", "constant_validation", "constant_test",
 *  "row_order", "constant_grid"; NULL if unknown. Static. Since 1.2. */
REGNN_API const char *regnn_warning_name(int code);

/* ------------------------------------------------------------------ */
/* Persistence                                                          */
/* ------------------------------------------------------------------ */

/* Model files and checkpoints share one binary format (docs/format.md):
 * little-endian, versioned, tagged sections, CRC-32. A reader accepts any
 * 1.x file, skips optional sections it does not know, and refuses a newer
 * major version with REGNN_E_VERSION. Malformed input gives REGNN_E_FORMAT
 * with a message naming what is wrong. */
#define REGNN_FORMAT_VERSION_MAJOR 1
#define REGNN_FORMAT_VERSION_MINOR 1

/** Attach a copy of sc's statistics to m, saved with it (NULL detaches).
 *  sc must have regnn_model_inputs features and regnn_model_outputs targets
 *  (REGNN_E_SHAPE); its values must be finite with scales > 0. */
REGNN_API regnn_status regnn_model_attach_scaler(regnn_model *m, const regnn_scaler *sc);
/** A copy of the attached statistics; REGNN_E_STATE if none is attached. */
REGNN_API regnn_status regnn_model_get_scaler(const regnn_model *m, regnn_scaler **out);

/** Write m (topology, layer settings, attached statistics, loss, parameters,
 *  RNG state) to path atomically: a new file in the same folder (unnamed until
 *  complete where O_TMPFILE works), then a rename, so the previous file
 *  survives any failure. m must be initialized; an empty path is
 *  REGNN_E_INVALID_ARG. Stale "<path>.tmp-<hex>" files of earlier saves that
 *  died are removed after an hour (docs/api.md). */
REGNN_API regnn_status regnn_model_save(const regnn_model *m, const char *path);
/** Read a model file (or the model part of a checkpoint). */
REGNN_API regnn_status regnn_model_load(const char *path, regnn_model **out);
/** Encode m into buf. *size receives the bytes needed: with buf NULL the call
 *  only measures (REGNN_OK); with cap too small it fails with REGNN_E_SHAPE. */
REGNN_API regnn_status regnn_model_save_mem(const regnn_model *m, void *buf, size_t cap,
                                            size_t *size);
/** Decode len bytes of a model file (or checkpoint) from memory. */
REGNN_API regnn_status regnn_model_load_mem(const void *buf, size_t len, regnn_model **out);

/** Checkpoint: the model file plus o's kind, hyperparameters, learning-rate
 *  schedule, step count and state buffers, so that training resumes
 *  bit-identically. o must be unbound
 *  or bound to m's parameter count (REGNN_E_SHAPE). Saving is atomic. */
REGNN_API regnn_status regnn_checkpoint_save(const regnn_model *m, const regnn_optimizer *o,
                                             const char *path);
/** Read a checkpoint into a new model and a new optimizer (both NULL on
 *  failure). A model file without optimizer state gives REGNN_E_FORMAT. */
REGNN_API regnn_status regnn_checkpoint_load(const char *path, regnn_model **m_out,
                                             regnn_optimizer **o_out);
/** Memory variants; size semantics as regnn_model_save_mem. */
REGNN_API regnn_status regnn_checkpoint_save_mem(const regnn_model *m, const regnn_optimizer *o,
                                                 void *buf, size_t cap, size_t *size);
REGNN_API regnn_status regnn_checkpoint_load_mem(const void *buf, size_t len, regnn_model **m_out,
                                                 regnn_optimizer **o_out);

/* ------------------------------------------------------------------ */
/* Option bounds: the range and default of every enum-keyed setting     */
/* ------------------------------------------------------------------ */

/* The setter a key belongs to (regnn_option_bounds' kind). */
enum {
    REGNN_OPTION_FIT = 1,   /* REGNN_FIT_* of regnn_fit_options_set_int / _set_double */
    REGNN_OPTION_PATH = 2,  /* REGNN_PATH_* of regnn_path_options_set_int */
    REGNN_OPTION_LAYER = 3, /* REGNN_LAYER_* of regnn_layer_set_double */
    REGNN_OPTION_ADAM = 4,  /* REGNN_OPT_* of regnn_optimizer_set_double on an Adam optimizer */
    REGNN_OPTION_SGD = 5,   /* REGNN_OPT_* of regnn_optimizer_set_double on an SGD optimizer */
    REGNN_OPTION_LOSS = 6,  /* key REGNN_LOSS_*: the param of regnn_model_set_loss */
    /* regnn_optimizer_set_schedule's parameters; default_value NaN: no default (required,
       or for warmup_target: absent means no warm-up) */
    REGNN_OPTION_EXPONENTIAL_DECAY = 7, /* key i: parameter i of REGNN_SCHEDULE_EXPONENTIAL */
    REGNN_OPTION_PIECEWISE_DECAY = 8,   /* key 0: every boundary, key 1: every value */
    REGNN_OPTION_COSINE_DECAY = 9,      /* key i: parameter i of REGNN_SCHEDULE_COSINE */
    REGNN_OPTION_RMSPROP = 10, /* REGNN_OPT_* of regnn_optimizer_set_double on RMSprop */
    REGNN_OPTION_ADAGRAD = 11, /* ... on Adagrad */
    REGNN_OPTION_ADAMAX = 12,  /* ... on Adamax */
    REGNN_OPTION_NADAM = 13,   /* ... on Nadam */
    REGNN_OPTION_INVERSE_TIME_DECAY = 14, /* key i: parameter i of REGNN_SCHEDULE_INVERSE_TIME */
    REGNN_OPTION_POLYNOMIAL_DECAY = 15,   /* key i: parameter i of REGNN_SCHEDULE_POLYNOMIAL */
    REGNN_OPTION_COSINE_RESTARTS = 16     /* key i: parameter i of REGNN_SCHEDULE_COSINE_RESTARTS */
};

/* regnn_bounds.flags */
enum {
    REGNN_BOUNDS_MIN_OPEN = 1,        /* min itself is refused (value > min) */
    REGNN_BOUNDS_MAX_OPEN = 2,        /* max itself is refused (value < max); max may be +inf */
    REGNN_BOUNDS_INTEGER = 4,         /* only whole numbers (the _set_int setters, 0/1 flags) */
    REGNN_BOUNDS_CHANGES_RESULTS = 8, /* part of the settings fingerprint: it changes results */
    REGNN_BOUNDS_COUPLED = 16         /* another setting narrows the range further (docs/api.md) */
};

/** A setting's range and default. The caller sets size to sizeof(regnn_bounds);
 *  the library fills at most size bytes, so fields added later at the end leave
 *  older callers unaffected. */
typedef struct regnn_bounds {
    size_t size;
    double min, max;      /* closed unless a REGNN_BOUNDS_*_OPEN flag says otherwise */
    double default_value; /* what a fresh object holds */
    unsigned flags;       /* REGNN_BOUNDS_* */
} regnn_bounds;

/** Range and default of option key of kind (REGNN_OPTION_*): REGNN_E_UNSUPPORTED
 *  for an unknown kind or key (or a key of the other optimizer),
 *  REGNN_E_INVALID_ARG for NULL out or out->size < offsetof(regnn_bounds, flags)
 *  + sizeof(unsigned). */
REGNN_API regnn_status regnn_option_bounds(int kind, int key, regnn_bounds *out);
/** The key's name ("REGNN_FIT_EPOCHS"); NULL for an unknown kind or key. */
REGNN_API const char *regnn_option_name(int kind, int key);

/* ------------------------------------------------------------------ */
/* ONNX export                                                          */
/* ------------------------------------------------------------------ */

/** Write m as an ONNX model (IR version 7, opset 13) for inference elsewhere:
 *  input "input" float [N, inputs], output "output" float [N, outputs], per
 *  layer MatMul, Add and Relu/Sigmoid/Tanh (none for linear); dropout is left
 *  out. With an attached scaler the graph takes raw inputs (Sub mean, Div
 *  scale) and returns original units (Mul scale, Add mean). m must be
 *  initialized (REGNN_E_STATE); the file is written atomically like
 *  regnn_model_save. Layout and names: docs/api.md. */
REGNN_API regnn_status regnn_model_export_onnx(const regnn_model *m, const char *path);
/** The same ONNX bytes into buf; size semantics as regnn_model_save_mem. */
REGNN_API regnn_status regnn_model_export_onnx_mem(const regnn_model *m, void *buf, size_t cap,
                                                   size_t *size);

#ifdef __cplusplus
}
#endif

#endif /* REGNN_H */
