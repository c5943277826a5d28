"""The embedded cluster: a ``LocalCluster`` started for the user, with Numba's threads set.

A ``distributed`` Nanny limits OpenMP and BLAS threads in its workers but not
Numba's, so without care every worker process would start one Numba thread
per core.  :func:`local_cluster` sets ``NUMBA_NUM_THREADS`` in the workers'
environment so that workers x threads <= cores.  Before workers start, the
calling process compiles (or loads) the kernels once, so that the workers load
them from Numba's on-disk cache instead of compiling in every process.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from typing import Any

import numpy as np

from .. import kernels
from ..trainer import Trainer
from . import _kernels

__all__ = ["local_cluster", "usable_cpus", "warm_cache"]


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the OS has one)."""
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity is not None else (os.cpu_count() or 1)


def local_cluster(n_workers: int | None = None, numba_threads: int | None = None, **kwargs: Any) -> Any:
    """Start a ``LocalCluster`` of single-threaded worker processes and return a ``Client`` that owns it.

    Parameters
    ----------
    n_workers : int, optional
        Worker processes (default: the usable CPUs).
    numba_threads : int, optional
        ``NUMBA_NUM_THREADS`` in each worker (default: ``cpus // n_workers``,
        at least 1).
    **kwargs
        Passed on to ``distributed.LocalCluster``.

    Returns
    -------
    distributed.Client
        Closing it (``client.close()`` or ``with``) shuts the cluster down.
    """
    from distributed import Client

    cpus = usable_cpus()
    n_workers = cpus if n_workers is None else int(n_workers)
    if n_workers < 1:
        raise ValueError(f"n_workers must be >= 1, got {n_workers}")
    threads = max(1, cpus // n_workers) if numba_threads is None else int(numba_threads)
    warm_cache()
    env = {**kwargs.pop("env", {}), "NUMBA_NUM_THREADS": str(threads)}
    options = {"dashboard_address": ":0", "silence_logs": logging.ERROR, **kwargs}
    return Client(n_workers=n_workers, threads_per_worker=1, processes=True, env=env, **options)


@contextlib.contextmanager
def client_scope(client: Any, n_workers: int | None) -> Iterator[Any]:
    """Yield ``client``, or a :func:`local_cluster` closed on exit when ``client`` is None.

    The client is the current one inside the scope (``Client.as_current``), so ``distributed.wait``
    and other calls that look up the default client use it even when it is not the process default.
    """
    if client is not None:
        with client.as_current():
            yield client
        return
    own = local_cluster(n_workers)
    try:
        with own.as_current():
            yield own
    finally:
        own.close()


def warm_cache(dtype: Any = np.float64, loss: str = "l2", trainer_settings: dict[str, Any] | None = None) -> None:
    """Compile (or load) the worker and driver kernels in this process, so workers find them on disk.

    ``trainer_settings`` (keyword arguments of :class:`~fastgd.trainer.Trainer`)
    also warms the local-SGD training loop of that configuration.
    """
    dtype = np.dtype(dtype)
    X = np.zeros((4, 2), dtype=dtype)
    X.flags.writeable = False
    y = np.zeros(4, dtype=dtype)
    y.flags.writeable = False
    params = np.zeros(3, dtype=dtype)
    grads, losses = np.empty((1, 3), dtype=dtype), np.empty(1)
    loss_object = kernels.get_loss(loss)
    _kernels.chunk_grad_blocks(X, y, params, loss_object, dtype.type(1.0), np.empty(3, dtype), grads, losses)
    _kernels.chunk_loss_blocks(X, y, params, loss_object, dtype.type(1.0), losses)
    _kernels.combine_blocks(grads, losses, 4, np.empty(3, dtype))
    _kernels.mean_loss(losses, 4)
    if trainer_settings is not None:
        Trainer(X, y, **trainer_settings)
