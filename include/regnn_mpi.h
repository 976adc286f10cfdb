/* SPDX-License-Identifier: MIT */
/*
 * regnn_mpi.h - libregnn on MPI: a regularization path whose runs are spread
 * over the ranks of a communicator, and a data-parallel regnn_fit, one call
 * each. Companion library libregnn_mpi (pkg-config regnn_mpi); libregnn itself
 * does not depend on MPI. Every rank of comm must make the same call with the
 * same arguments (the same data, models, options); the calls are collective.
 * The caller initializes MPI (MPI_Init, or MPI_Init_thread with at least
 * MPI_THREAD_FUNNELED when the path uses threads).
 */
#ifndef REGNN_MPI_H
#define REGNN_MPI_H

#include <mpi.h>

#include "regnn.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) && defined(REGNN_MPI_BUILDING)
#  define REGNN_MPI_API __attribute__((visibility("default")))
#else
#  define REGNN_MPI_API
#endif

/** regnn_regularization_path over the ranks of comm: rank k of n trains the
 *  runs r with r % n == k (runs numbered as regnn_path_get_runs orders them;
 *  popts' REGNN_PATH_SHARD_* are replaced, REGNN_PATH_THREADS applies per
 *  rank), then every rank receives every part and merges them, so that *out
 *  is on every rank and equal, bit for bit but for the seconds, to the path
 *  of one regnn_regularization_path call. The progress callback reports each
 *  rank's own runs. If any rank fails, every rank returns an error status
 *  (its own, or that of the lowest failing rank) and *out is NULL;
 *  regnn_mpi_errmsg says which rank failed and why. */
REGNN_MPI_API regnn_status regnn_mpi_regularization_path(MPI_Comm comm,
                                                         const regnn_model *template_model,
                                                         const regnn_optimizer *template_optimizer,
                                                         const regnn_dataset *train,
                                                         const regnn_dataset *val,
                                                         const regnn_fit_options *fit_opts,
                                                         const regnn_path_options *popts,
                                                         regnn_path **out);

/** regnn_fit, data-parallel over the ranks of comm: every rank holds the whole
 *  training and validation data and an identical model and optimizer (checked:
 *  REGNN_E_INVALID_ARG on every rank otherwise); rank k of n computes rows
 *  [b*k/n, b*(k+1)/n) of each global batch of b rows (REGNN_FIT_BATCH_SIZE is
 *  the global batch), and the gradients and metric sums are summed over the
 *  ranks in rank order before every step, so every rank takes the same step
 *  and ends with the same model, history and decisions (early stopping, and
 *  the epoch callback, which runs on every rank; training stops when any
 *  rank's callback asks). The loss is the mean over the global batch. With one
 *  rank the result is regnn_fit's bit for bit; with n ranks it is bit-identical
 *  to regnn_fit given REGNN_FIT_SHARD_INDEX/COUNT and an exchange that sums the
 *  n parts in rank order, and otherwise differs from the one-process fit by
 *  rounding only (docs/scaling.md). BatchNormalization is refused with more
 *  than one rank. A failure on any rank gives every rank an error status. */
REGNN_MPI_API regnn_status regnn_mpi_fit(MPI_Comm comm, regnn_model *m, regnn_optimizer *o,
                                         const regnn_dataset *train, const regnn_dataset *val,
                                         const regnn_fit_options *opts,
                                         regnn_history **history_out);

/** The message of this thread's last failed regnn_mpi_* call (naming the
 *  failing rank); "" if none. Never NULL. */
REGNN_MPI_API const char *regnn_mpi_errmsg(void);

#ifdef __cplusplus
}
#endif

#endif /* REGNN_MPI_H */
