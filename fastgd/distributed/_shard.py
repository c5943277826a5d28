"""The worker side: one :class:`Shard` actor per worker holds that worker's chunks.

The actor is created once per fit on the worker that already holds the
chunks (a ``distributed`` Actor: method calls go straight to it, about 3 ms a
round trip for all workers, where a new task graph per step costs 55-190 ms).
Each call ships the parameters (``d + 1`` numbers) and returns partial sums;
``X`` is never copied per step.

Numba's threads: a ``distributed`` Nanny applies the ``env`` it was given
(``NUMBA_NUM_THREADS`` from :func:`~fastgd.distributed.local_cluster`) after
the worker process has started, and often after Numba was imported there (a
spawned process re-imports the parent's main module), so Numba's pool may
already be sized for every core.  Every method that runs a kernel therefore
first limits the calling thread (the actor's one thread) to the
``NUMBA_NUM_THREADS`` of the worker's environment with
:func:`numba.set_num_threads`; without it, two workers of two threads each on
two cores made a 10,000-row loss round 4x slower.
"""

from __future__ import annotations

import math
import os
import socket
import time
from typing import Any

import numba
import numpy as np

from .. import kernels
from .._validation import readonly
from ..trainer import STATUS_DIVERGED, STATUS_OK, Trainer
from . import _kernels

__all__ = ["Shard"]


def _limit_threads() -> int:
    """Limit this thread's Numba threads to the worker environment's ``NUMBA_NUM_THREADS``; return the count."""
    wanted = os.environ.get("NUMBA_NUM_THREADS", "")
    if wanted.isdigit() and int(wanted) >= 1:
        numba.set_num_threads(min(int(wanted), numba.config.NUMBA_NUM_THREADS))  # type: ignore[attr-defined]
    return int(numba.get_num_threads())


def _as_chunk(array: Any, dtype: np.dtype) -> np.ndarray:
    return readonly(np.ascontiguousarray(array, dtype=dtype))


class Shard:
    """One worker's rows: whole chunks of ``X``/``y``, in global order.

    Parameters
    ----------
    X_chunks, y_chunks : list of ndarray
        The worker's chunks (resolved from persisted futures: no copy).
    first_blocks : list of int
        Global index of each chunk's first row block.
    loss : str
        Loss name (``fastgd.kernels.LOSSES``).
    delta : float
        Huber threshold.
    """

    def __init__(self, X_chunks: list[Any], y_chunks: list[Any], first_blocks: list[int], loss: str, delta: float):
        dtype = np.dtype(X_chunks[0].dtype)
        self.X = [_as_chunk(X, dtype) for X in X_chunks]
        self.y = [_as_chunk(y, dtype) for y in y_chunks]
        self.first_blocks = list(first_blocks)
        self.dtype = dtype
        self.loss = kernels.get_loss(loss)
        self.delta = dtype.type(delta)
        n_features = self.X[0].shape[1]
        self.n_rows = sum(X.shape[0] for X in self.X)
        self.n_blocks = [int(kernels.n_row_blocks(X.shape[0])) for X in self.X]
        total = sum(self.n_blocks)
        self.block_grads = np.empty((total, n_features + 1), dtype=dtype)
        self.block_losses = np.empty(total, dtype=np.float64)
        self.grad_out = np.empty(n_features + 1, dtype=dtype)
        self.params = np.zeros(n_features + 1, dtype=dtype)
        self.trainer: Trainer | None = None
        self.batch = 0

    def identity(self) -> tuple[str, int, str]:
        """``(host, pid, worker address)``, for error messages."""
        from distributed import get_worker

        return socket.gethostname(), os.getpid(), get_worker().address

    def threads(self) -> int:
        """Numba threads the actor's kernels run with."""
        return _limit_threads()

    def ping(self, params: np.ndarray) -> np.ndarray:
        """Take the parameters and return them: a round with no work (the overhead benchmark)."""
        return self._load(params)

    def warm(self) -> float:
        """Compile (or load from the on-disk cache) the full-batch kernels on a few rows; return seconds."""
        _limit_threads()
        start = time.perf_counter()
        X, y = self.X[0][:2], self.y[0][:2]
        params = np.zeros_like(self.params)
        grads, losses = np.empty((1, X.shape[1] + 1), self.dtype), np.empty(1)
        _kernels.chunk_grad_blocks(X, y, params, self.loss, self.delta, np.empty_like(params), grads, losses)
        _kernels.chunk_loss_blocks(X, y, params, self.loss, self.delta, losses)
        return time.perf_counter() - start

    def _load(self, params: np.ndarray) -> np.ndarray:
        self.params[:] = params
        return self.params

    def grad_blocks(self, params: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per-block gradient and loss sums of every chunk at ``params`` (``(n_blocks, d + 1)``, ``(n_blocks,)``)."""
        _limit_threads()
        p = self._load(params)
        lo = 0
        for X, y, nb in zip(self.X, self.y, self.n_blocks, strict=True):
            hi = lo + nb
            _kernels.chunk_grad_blocks(
                X, y, p, self.loss, self.delta, self.grad_out, self.block_grads[lo:hi], self.block_losses[lo:hi]
            )
            lo = hi
        return self.block_grads, self.block_losses

    def loss_blocks(self, params: np.ndarray) -> np.ndarray:
        """Per-block loss sums of every chunk at ``params`` (``(n_blocks,)``, float64)."""
        _limit_threads()
        p = self._load(params)
        lo = 0
        for X, y, nb in zip(self.X, self.y, self.n_blocks, strict=True):
            _kernels.chunk_loss_blocks(X, y, p, self.loss, self.delta, self.block_losses[lo : lo + nb])
            lo += nb
        return self.block_losses

    def nonfinite(self) -> list[str]:
        """Which of ``"X"``, ``"y"`` hold NaN or infinity in this shard (called on the error path only)."""
        found = []
        for name, arrays in (("X", self.X), ("y", self.y)):
            if not all(bool(np.isfinite(a).all()) for a in arrays):
                found.append(name)
        return found

    # ------------------------------------------------------------------
    # Local SGD
    # ------------------------------------------------------------------

    def start_local(self, settings: dict[str, Any], seed: int) -> float:
        """Build the worker's own :class:`~fastgd.trainer.Trainer` on its rows; return its compile seconds.

        ``settings`` are :class:`~fastgd.trainer.Trainer` keyword arguments;
        the chunks are concatenated once when the worker holds more than one.
        """
        _limit_threads()
        X = self.X[0] if len(self.X) == 1 else np.concatenate(self.X)
        y = self.y[0] if len(self.y) == 1 else np.concatenate(self.y)
        self.trainer = Trainer(X, y, seed=seed, **settings)
        self.batch = 0
        return self.trainer.compile_s

    def run_local(self, params: np.ndarray, n_steps: int) -> tuple[np.ndarray, float, int, int]:
        """Start from ``params`` and take ``n_steps`` local steps, crossing local epochs as needed.

        Returns ``(params, last_lr, status, steps_done)``; the worker's
        optimizer state, epoch counter and position in its epoch persist
        between calls.
        """
        _limit_threads()
        t = self.trainer
        assert t is not None, "start_local must be called first"
        t.params[:] = params
        done_total, lr, status = 0, math.nan, STATUS_OK
        while done_total < n_steps:
            if self.batch == 0:
                t.shuffle_epoch()
            done, lr, status = t.steps(self.batch, min(n_steps - done_total, t.batches_per_epoch - self.batch))
            done_total += done
            self.batch += done
            if status == STATUS_DIVERGED:
                break
            if self.batch == t.batches_per_epoch:
                t.epoch = min(t.epoch + 1, t.epochs - 1)  # the schedule's epoch stays within the planned run
                self.batch = 0
        return t.params.copy(), lr, status, done_total
