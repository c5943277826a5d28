"""``Trainer``: one training run's validated data, parameters and compiled loop.

:func:`fastgd.fit` is a :class:`Trainer` plus recording, stopping rules and a
:class:`~fastgd.FitResult`.  The class is public for harnesses that time
epochs themselves (the benchmark suite and the study):

>>> import fastgd
>>> from fastgd.trainer import Trainer
>>> data = fastgd.make_regression(1_000, 4, seed=0)
>>> trainer = Trainer(data.X, data.y, optimizer=fastgd.Adam(lr=0.05), batch_size=32)
>>> status = trainer.run_epoch()          # one compiled call: shuffle, 32 batches, 32 updates
>>> trainer.epoch, trainer.step
(1, 32)

Construction validates every argument (``ValueError`` naming it), allocates
every buffer the loop needs, and compiles (or loads from the on-disk cache)
every kernel on a few rows; that time is :attr:`Trainer.compile_s`.
"""

from __future__ import annotations

import functools
import os
import time
from typing import Any, NamedTuple

import numba
import numpy as np

from ._rng import stream_key
from ._validation import as_float_matrix, as_float_vector, check_finite_scalar, check_int, check_positive_scalar
from .kernels import full_loss, get_loss, gradient_workspace, n_row_blocks
from .kernels._pipeline import PipelineWorkspace, pipeline_workspace, pipelined_steps
from .kernels.training import (
    STATUS_DIVERGED,
    STATUS_OK,
    LearningRate,
    Problem,
    StepRange,
    UpdateRule,
    n_batches,
    permutation_into,
    run_steps,
)
from .optim import OPTIMIZERS, SGD
from .schedules import resolve_schedule

__all__ = ["SHUFFLE_STREAM", "STATUS_DIVERGED", "STATUS_OK", "Trainer"]

#: Streams of the counter-based generator used for the epochs' permutations
#: (:mod:`fastgd._rng`); far from the streams that ``make_regression`` uses.
SHUFFLE_STREAM = 1 << 40


@functools.cache
def _usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the OS has one)."""
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity is not None else (os.cpu_count() or 1)


def _check_optimizer(optimizer: Any) -> Any:
    if optimizer is None:
        return SGD(lr=0.01)
    if not isinstance(optimizer, tuple(OPTIMIZERS.values())):
        names = ", ".join(f"fastgd.{cls.__name__}" for cls in OPTIMIZERS.values())
        raise ValueError(f"optimizer must be one of {names}, got {optimizer!r}")
    return optimizer


class _Buffers(NamedTuple):
    """The data as the kernels take it, and every scratch buffer, allocated once."""

    X: np.ndarray
    y: np.ndarray
    loss: Any
    delta: Any
    n_params: int
    batch_size: int  # 0 = full batch
    order: np.ndarray  # length 0 = identity order
    grad_out: np.ndarray
    workspace: tuple[np.ndarray, np.ndarray]
    block_losses: np.ndarray
    pipeline: PipelineWorkspace | None  # shuffled batches: rows gathered on a second thread


class Trainer:
    """A training run: data, parameters, optimizer state and the compiled epoch loop.

    Parameters
    ----------
    X, y, loss, optimizer, batch_size, shuffle, seed, fit_intercept, coef_init,
    intercept_init, lr_schedule, delta
        As in :func:`fastgd.fit`.
    epochs : int, default 10
        The run's planned number of epochs (read by per-epoch schedules).

    Attributes
    ----------
    params : ndarray, shape (n_features + 1,)
        ``[coef..., intercept]``, updated in place by every step.
    epoch, step : int
        Epochs completed and optimizer updates applied so far.
    train_time : float
        Seconds spent in the compiled loop and the shuffles.
    compile_s : float
        Seconds spent compiling (or loading) the kernels at construction.
    """

    def __init__(
        self,
        X: Any,
        y: Any,
        *,
        loss: str = "l2",
        optimizer: Any = None,
        batch_size: int | None = None,
        shuffle: bool = True,
        seed: int = 0,
        fit_intercept: bool = True,
        coef_init: Any = None,
        intercept_init: float = 0.0,
        lr_schedule: Any = None,
        epochs: int = 10,
        delta: float = 1.0,
    ) -> None:
        loss_object = get_loss(loss)
        delta_value = check_positive_scalar(delta, "delta")
        X_c = as_float_matrix(X, "X")
        n_samples, n_features = X_c.shape
        dtype = X_c.dtype
        y_c = as_float_vector(y, n_samples, dtype, "y", "n_samples")
        self.optimizer = _check_optimizer(optimizer)
        self.schedule = resolve_schedule(lr_schedule)
        self.epochs = check_int(epochs, "epochs", 1)
        self.seed = check_int(seed, "seed", 0)
        batch = 0 if batch_size is None else check_int(batch_size, "batch_size", 1, n_samples)
        for flag, name in ((shuffle, "shuffle"), (fit_intercept, "fit_intercept")):
            if not isinstance(flag, (bool, np.bool_)):
                raise ValueError(f"{name} must be a bool, got {flag!r}")
        params = np.zeros(n_features + 1, dtype=dtype)
        if coef_init is not None:
            params[:n_features] = as_float_vector(coef_init, n_features, dtype, "coef_init", "n_features")
        params[n_features] = check_finite_scalar(intercept_init, "intercept_init")

        shuffled = bool(shuffle) and batch != 0
        self.buffers = _Buffers(
            X=X_c, y=y_c, loss=loss_object, delta=dtype.type(delta_value),
            n_params=n_features + 1 if fit_intercept else n_features, batch_size=batch,
            order=np.arange(n_samples if shuffled else 0, dtype=np.int64), grad_out=np.empty(n_features + 1, dtype),
            workspace=gradient_workspace(n_samples if batch == 0 else 0, n_features, dtype),
            block_losses=np.empty(n_row_blocks(n_samples), np.float64),
            pipeline=pipeline_workspace(n_samples, n_features, dtype, batch) if shuffled else None,
        )  # fmt: skip
        self.n_samples, self.n_features = n_samples, n_features
        self.batches_per_epoch = n_batches(n_samples, batch)
        self.rows_per_batch = n_samples if batch == 0 else batch
        self.compile_s = self._warm_up(params)
        self._reset(params)

    def _reset(self, params: np.ndarray) -> None:
        self.params = params
        self.state = self.optimizer.init(self.buffers.n_params, params.dtype)
        self.hyper = self.optimizer.hyper(params.dtype)
        self.schedule_params = self.schedule.params()
        self.epoch = 0
        self.step = 0
        self.train_time = 0.0

    def _warm_up(self, params: np.ndarray) -> float:
        """Run one step on two rows so that every kernel is compiled or loaded from cache."""
        start = time.perf_counter()
        full, n_rows = self.buffers, min(self.n_samples, 2)
        order = full.order[:n_rows]  # length 0 (identity order) or the first rows of a valid order
        self.buffers = full._replace(
            X=full.X[:n_rows], y=full.y[:n_rows], order=order, batch_size=0 if full.batch_size == 0 else 1
        )
        try:
            self._reset(params.copy())
            self.shuffle_epoch()
            self.steps(0, 1)
            self.objective()
        finally:
            self.buffers = full
        return time.perf_counter() - start

    @property
    def coef(self) -> np.ndarray:
        """View of the current coefficients."""
        return self.params[: self.n_features]

    @property
    def intercept(self) -> float:
        """The current intercept."""
        return float(self.params[self.n_features])

    @property
    def n_params(self) -> int:
        """Number of trained parameters (``n_features``, plus 1 with an intercept)."""
        return self.buffers.n_params

    def lr_at_start(self) -> float:
        """The learning rate the run's first step uses."""
        return float(self.schedule.lr_at(self.optimizer.lr, 0, 0, self.epochs))

    def shuffle_epoch(self) -> None:
        """Draw the current epoch's row permutation from ``(seed, epoch)`` (if shuffling)."""
        order = self.buffers.order
        if order.shape[0]:
            start = time.perf_counter()
            permutation_into(order, stream_key(self.seed, SHUFFLE_STREAM + self.epoch))
            self.train_time += time.perf_counter() - start

    def steps(self, first_batch: int, max_batches: int) -> tuple[int, float, int]:
        """Run up to ``max_batches`` steps of the current epoch from batch ``first_batch``.

        Returns ``(steps_done, last_lr, status)``; see
        :func:`fastgd.kernels.run_steps`.  Does not advance :attr:`epoch`.
        Shuffled batches (per-sample SGD included) run through
        :func:`fastgd.kernels._pipeline.pipelined_steps`, which gathers rows on
        a second thread when there is one and gives bit-identical results.
        """
        b = self.buffers
        start = time.perf_counter()
        problem = Problem(b.X, b.y, b.loss, b.delta)
        rule = UpdateRule(self.state, self.hyper, b.n_params, self.n_features)
        rate = LearningRate(self.schedule_params, float(self.optimizer.lr), self.epochs)
        steps = StepRange(b.order, b.batch_size, self.epoch, int(first_batch), int(max_batches), self.step)
        if b.pipeline is not None:  # same arithmetic with one thread (the consumer alone) or two
            # The pipeline's threads spin while they wait for each other: never run both on one CPU.
            two_threads = numba.get_num_threads() >= 2 and _usable_cpus() >= 2
            done, lr, diverged = pipelined_steps(
                problem, self.params, rule, rate, steps, b.grad_out, b.pipeline, two_threads
            )
            status = STATUS_DIVERGED if diverged else STATUS_OK
        else:
            done, lr, status = run_steps(problem, self.params, rule, rate, steps, b.grad_out, b.workspace)
        self.train_time += time.perf_counter() - start
        self.step += done
        return int(done), float(lr), int(status)

    def run_epoch(self) -> int:
        """Shuffle and run one whole epoch in one compiled call; return the status.

        :data:`STATUS_OK`, or :data:`STATUS_DIVERGED` when a batch loss was not
        finite (the epoch stops there).
        """
        self.shuffle_epoch()
        _, _, status = self.steps(0, self.batches_per_epoch)
        self.epoch += 1
        return status

    def objective(self) -> float:
        """Full-data objective: mean loss + ``0.5 * weight_decay * ||coef||**2`` (one parallel pass)."""
        b = self.buffers
        coef = self.coef
        value = float(full_loss(b.X, b.y, coef, self.params[self.n_features], b.loss, b.delta, b.block_losses))
        weight_decay = float(getattr(self.optimizer, "weight_decay", 0.0))
        if weight_decay:
            coef64 = coef.astype(np.float64)
            value += 0.5 * weight_decay * float(coef64 @ coef64)
        return value
