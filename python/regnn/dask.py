# SPDX-License-Identifier: MIT
"""Regularization paths on a dask.distributed cluster: regnn.dask.regularization_path.

The runs of the sweep, cross-validated (folds=k) or not, are split into shards as the
library splits them (REGNN_PATH_SHARD_INDEX / _COUNT: shard i trains the runs r with
r % shards == i), one Dask task per shard; each task returns its shard's encoding
(regnn_path_save_mem), and the client merges them (regnn_path_load_mem,
regnn_path_merge) into the path one process computes, bit for bit (with one BLAS
thread per worker; regnn.set_blas_threads(1)).
The model, optimizer and datasets travel to the workers pickled (regnn's pickling:
the library's own encodings). Needs dask.distributed (apt-get install
python3-distributed); importing regnn does not import this module.

    from dask.distributed import Client, LocalCluster
    import regnn, regnn.dask
    with LocalCluster(n_workers=2, threads_per_worker=1) as cluster, Client(cluster) as client:
        path = regnn.dask.regularization_path(client, model, train, [0, 1e-4, 1e-3],
                                              validation_split=0.2, seeds=4, epochs=50)
"""

from . import _path
from ._model import Model
from ._errors import InvalidArgumentError

__all__ = ["regularization_path"]


def _run_shard(model, train, lambdas, index, count, kwargs):
    """One shard's encoding (runs on a worker)."""
    from . import set_blas_threads
    set_blas_threads(1)  # the same bits as one process, whatever the worker's BLAS default
    return _path.path_shard(model, train, lambdas, index, count, **kwargs)


def regularization_path(client, model, train, lambdas, *, shards=None, threads=1, **kwargs):
    """regnn.regularization_path(model, train, lambdas, **kwargs) on the workers of client
    (a dask.distributed Client), as `shards` tasks (default: one per worker, at most one
    per run); returns the same RegularizationPath one process computes.

    threads: worker threads of each shard's call (default 1: one task per worker thread).
    Every argument of regnn.regularization_path is accepted but progress (the runs end in
    other processes); a cross-validated path (folds=k) is split over its (lambda, fold,
    seed) runs and merged with its folds.
    """
    if kwargs.get("progress") is not None:
        raise TypeError("regnn.dask.regularization_path takes no progress callback: the runs "
                        "end in other processes")
    if not isinstance(model, Model):
        raise TypeError("model must be a regnn.Model, not %s" % type(model).__name__)
    lambdas = list(lambdas)
    runs = len(lambdas) * int(kwargs.get("seeds", 1)) * max(int(kwargs.get("folds", 0)), 1)
    if shards is None:
        shards = max(1, min(len(client.scheduler_info()["workers"]), runs))
    if not isinstance(shards, int) or isinstance(shards, bool) or not 1 <= shards <= max(runs, 1):
        raise InvalidArgumentError("shards must be between 1 and the runs (%d), got %r"
                                   % (runs, shards))
    kwargs["threads"] = threads
    # Scattered once, shared by every task (pickled through the library's encodings).
    m, t = client.scatter([model, train], broadcast=True)
    futures = [client.submit(_run_shard, m, t, lambdas, i, shards, kwargs, pure=False)
               for i in range(shards)]
    parts = client.gather(futures)
    return _path.merge_path_shards(parts, kwargs.get("seed", 0))
