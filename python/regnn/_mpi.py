# SPDX-License-Identifier: MIT
"""Data-parallel training over MPI processes with mpi4py (regnn.mpi_fit).

The transport is the caller's mpi4py communicator; the library only asks, once per
step, for the sum over processes of its gradient and loss sums (the exchange of
regnn_fit_options_set_exchange), which this module computes in rank order.
"""
from ctypes import c_double, c_float, c_void_p, cast

from . import _buffers as B
from ._capi import EXCHANGE_FN, lib
from ._fit import _FIT_SHARD_COUNT, _FIT_SHARD_INDEX, _FitOptions
from ._library import OPTION_FIT, option_bounds
from ._errors import E_INVALID_ARG, Error


def _rank_order_sum(comm, buf, dtype):
    """Replace buf (a ctypes array view) by the sum over the ranks in rank order
    (rank 0 + rank 1 + ...): every rank gets the same bits, as libregnn_mpi's."""
    import numpy as np
    local = np.frombuffer(buf, dtype=dtype)
    everyone = np.empty((comm.Get_size(), local.size), dtype=dtype)
    comm.Allgather(local.copy(), everyone)
    acc = everyone[0].copy()
    for r in range(1, everyone.shape[0]):
        acc += everyone[r]  # one IEEE addition per element, in rank order
    local[:] = acc


def mpi_fit(comm, model, x=None, y=None, optimizer=None, **fit_kwargs):
    """Model.fit on every process of comm (an mpi4py communicator), data-parallel.

    Every process calls it with the same model (same topology and initial weights),
    optimizer and data, and the same fit arguments (Model.fit's); the library compares
    every setting that changes results before training and, if one differs, every
    process raises InvalidArgumentError naming it and the ranks. Each process
    computes its part of every global batch of batch_size rows, the parts are summed
    over the processes in rank order, and every process takes the same step, so all
    end with the same weights and History. When the batch size has one shard per
    process in one process (64-95 rows on 2 processes, 96-127 on 3, 128-512 on 4 for a
    small model; docs/api.md), the result is the one-process model.fit bit for bit.
    BatchNormalization uses the whole batch's statistics. Needs numpy; a failing process
    makes every process raise instead of hanging.
    """
    try:
        import numpy  # noqa: F401  (used by _rank_order_sum)
    except ImportError:
        raise ImportError("regnn.mpi_fit needs numpy (apt-get install python3-numpy)") from None
    rank, size = comm.Get_rank(), comm.Get_size()
    B.in_bounds(size, "mpi_fit: the communicator's processes",
                option_bounds(OPTION_FIT, _FIT_SHARD_COUNT))

    started = []  # the library has called the exchange: it takes care of failures

    def exchange(grad, n, sums, n_sums):
        started.append(True)
        if n:
            _rank_order_sum(comm, (c_float * n).from_address(_address(grad)), numpy.float32)
        if n_sums:
            _rank_order_sum(comm, (c_double * n_sums).from_address(_address(sums)),
                            numpy.float64)
        return 0

    try:
        return model.fit(x, y, optimizer, _shard=(rank, size, exchange), **fit_kwargs)
    except BaseException as e:
        if not started:  # failed before the library's fit: tell the others, who wait for us
            _tell_failure(rank, size, exchange, e)
        raise


def _tell_failure(rank, size, exchange, error):
    """The failing process's part of the fit's start (regnn_fit_exchange_failure):
    the other processes' fits fail naming this rank and the error."""
    code = error.code if isinstance(error, Error) and error.code else E_INVALID_ARG
    text = ("%s: %s" % (type(error).__name__, getattr(error, "message", error))).encode(
        "utf-8", "replace")

    def trampoline(user, grad, n, sums, n_sums):
        try:
            return 1 if exchange(grad, n, sums, n_sums) else 0
        except BaseException:  # the error being raised is the one to report
            return 1
    xfn = EXCHANGE_FN(trampoline)
    with _FitOptions() as opts:
        lib.regnn_fit_options_set_int(opts._h, _FIT_SHARD_INDEX, rank)
        lib.regnn_fit_options_set_int(opts._h, _FIT_SHARD_COUNT, size)
        lib.regnn_fit_options_set_exchange(opts._h, xfn, None)
        lib.regnn_fit_exchange_failure(opts._h, code, text)


def _address(ptr):
    return cast(ptr, c_void_p).value
