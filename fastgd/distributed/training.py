r"""``fastgd.distributed.fit``: :func:`fastgd.fit` with the data on a Dask cluster.

Two trainers plug into :func:`fastgd.fit.fit_trainer`, so recording,
``time_s``, stopping rules, divergence handling and the
:class:`~fastgd.FitResult` are :func:`fastgd.fit`'s own:

* :class:`FullBatchTrainer` (``batch_size=None``): every step, each worker's
  actor computes the per-block partial loss and gradient sums of its chunks
  with fastgd's fused kernel; the driver adds all blocks' partials in block
  order and applies the optimizer update.  Bit-identical to :func:`fastgd.fit`
  (float32 and float64, any number of workers) when chunks are whole row
  blocks, which :func:`fit` ensures.
* :class:`LocalSGDTrainer` (mini-batch, SGD, Adam, ...): local SGD with
  periodic averaging (Stich 2019).  Each worker runs fastgd's compiled loop on
  its own rows for ``sync`` steps, with its own optimizer state, shuffles and
  schedule; then the driver sets every worker's parameters to the average of
  the workers' parameters, weighted by their rows.  Only the parameters are
  averaged; the optimizer state stays on its worker (see :func:`fit`).
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from .. import kernels
from .._rng import stream_key
from .._validation import as_float_vector, check_finite_scalar, check_int, check_positive_scalar
from ..fit import FitResult, fit_trainer
from ..schedules import resolve_schedule
from ..trainer import STATUS_DIVERGED, STATUS_OK, Trainer, _check_optimizer
from . import _kernels
from ._group import ShardGroup, WorkerLostError
from .cluster import client_scope, warm_cache
from .data import as_dask_pair

__all__ = ["FullBatchTrainer", "LocalSGDTrainer", "fit"]

#: The history column :func:`fit` adds to :func:`fastgd.fit`'s: synchronisation rounds completed.
ROUND_COLUMN = "round"

#: Random streams of the workers' own shuffles (``stream_key(seed, LOCAL_SEED_STREAM + shard)``).
LOCAL_SEED_STREAM = 1 << 41


class _ClusterTrainer(Trainer):
    """What both trainers share: the shard group, parameters and the objective.

    Not constructed through :class:`~fastgd.trainer.Trainer`'s ``__init__``:
    the data are on the workers.  It sets the attributes :func:`fastgd.fit.fit_trainer`
    reads and overrides the methods it calls.
    """

    def __init__(self, group: ShardGroup, settings: dict[str, Any], dtype: np.dtype, n_samples: int, n_features: int):
        self.group = group
        self.optimizer = _check_optimizer(settings.get("optimizer"))
        self.schedule = resolve_schedule(settings.get("lr_schedule"))
        self.epochs = check_int(settings.get("epochs", 10), "epochs", 1)
        self.seed = check_int(settings.get("seed", 0), "seed", 0)
        self.n_samples, self.n_features = n_samples, n_features
        self.dtype = dtype
        fit_intercept = settings.get("fit_intercept", True)
        if not isinstance(fit_intercept, (bool, np.bool_)):
            raise ValueError(f"fit_intercept must be a bool, got {fit_intercept!r}")
        self.n_train = n_features + 1 if fit_intercept else n_features
        params = np.zeros(n_features + 1, dtype=dtype)
        if settings.get("coef_init") is not None:
            params[:n_features] = as_float_vector(settings["coef_init"], n_features, dtype, "coef_init", "n_features")
        params[n_features] = check_finite_scalar(settings.get("intercept_init", 0.0), "intercept_init")
        self.block_losses = np.empty(group.n_blocks, dtype=np.float64)
        self.params = params
        self.state = self.optimizer.init(self.n_train, dtype)
        self.hyper = self.optimizer.hyper(dtype)
        self.schedule_params = self.schedule.params()
        self.epoch = 0
        self.step = 0
        self.train_time = 0.0
        self.compile_s = max(group.warm_s, default=0.0)
        self.rounds = 0  # synchronisation rounds completed (gradient rounds, or averagings)
        self.rounds_at_step: dict[int, int] = {}  # step -> rounds, at every evaluation of the objective

    @property
    def n_params(self) -> int:
        """Number of trained parameters."""
        return self.n_train

    def objective(self) -> float:
        """Full-data objective at the current parameters: one loss pass on the workers (not timed)."""
        self.rounds_at_step[self.step] = self.rounds
        parts = self._call("loss_blocks", self.params)
        self.group.gather_blocks(parts, self.block_losses)
        value = _kernels.mean_loss(self.block_losses, self.n_samples)
        weight_decay = float(getattr(self.optimizer, "weight_decay", 0.0))
        if weight_decay:
            coef64 = self.coef.astype(np.float64)
            value += 0.5 * weight_decay * float(coef64 @ coef64)
        if not math.isfinite(value) and self.step == 0:
            bad = sorted({name for names in self.group.call("nonfinite") for name in names})
            if bad:
                raise ValueError(f"{' and '.join(bad)} contain{'s' if len(bad) == 1 else ''} NaN or infinity")
            raise ValueError(f"the initial loss is not finite ({value}); check the scale of X, y and coef_init")
        return value

    def _call(self, method: str, *args: Any) -> list[Any]:
        return self.group.call(method, *args)


class FullBatchTrainer(_ClusterTrainer):
    """Full-batch gradient descent: one synchronous round per step, exact partial sums in block order."""

    def __init__(self, group: ShardGroup, settings: dict[str, Any], dtype: np.dtype, n_samples: int, n_features: int):
        super().__init__(group, settings, dtype, n_samples, n_features)
        self.batches_per_epoch = 1
        self.rows_per_batch = n_samples
        self.block_grads = np.empty((group.n_blocks, n_features + 1), dtype=dtype)
        self.grad_out = np.empty(n_features + 1, dtype=dtype)
        self.max_recoveries = 3

    def shuffle_epoch(self) -> None:
        """Nothing to shuffle in full batch."""

    def _call(self, method: str, *args: Any) -> list[Any]:
        """Call every actor; on a lost worker, rebuild the shards and redo the (pure) call."""
        for attempt in range(self.max_recoveries + 1):
            try:
                return self.group.call(method, *args)
            except WorkerLostError:
                if attempt == self.max_recoveries:
                    raise
                self.group.rebuild()
        raise AssertionError("unreachable")

    def steps(self, first_batch: int, max_batches: int) -> tuple[int, float, int]:
        """One full-batch step (``first_batch`` is 0): gradient round, sum in block order, update."""
        start = time.perf_counter()
        lr = _kernels.step_lr(self.schedule_params, float(self.optimizer.lr), self.step, self.epoch, self.epochs)
        grads, losses = zip(*self._call("grad_blocks", self.params), strict=True)
        self.group.gather_blocks(list(grads), self.block_grads)
        self.group.gather_blocks(list(losses), self.block_losses)
        value = _kernels.combine_blocks(self.block_grads, self.block_losses, self.n_samples, self.grad_out)
        if not math.isfinite(value):
            self.train_time += time.perf_counter() - start
            return 0, lr, STATUS_DIVERGED
        n = self.n_train
        _kernels.apply_update(self.params[:n], self.grad_out[:n], self.state, self.hyper, self.step + 1, lr,
                              self.n_features)  # fmt: skip
        self.train_time += time.perf_counter() - start
        self.step += 1
        self.rounds += 1
        return 1, lr, STATUS_OK


class LocalSGDTrainer(_ClusterTrainer):
    """Local SGD: ``sync`` compiled steps per worker between averagings of the parameters."""

    def __init__(
        self, group: ShardGroup, settings: dict[str, Any], dtype: np.dtype, n_samples: int, n_features: int,
        batch_size: int, sync: Any,
    ):  # fmt: skip
        super().__init__(group, settings, dtype, n_samples, n_features)
        shard_rows = group.shard_rows
        batch_size = check_int(batch_size, "batch_size", 1, min(shard_rows))
        self.batches_per_epoch = int(kernels.n_batches(max(shard_rows), batch_size))
        self.rows_per_batch = batch_size * len(shard_rows)
        if sync == "epoch":
            self.sync = self.batches_per_epoch
        else:
            self.sync = check_int(sync, "sync", 1)
        self.weights = np.asarray(shard_rows, dtype=np.float64) / sum(shard_rows)
        worker_settings = {key: settings[key] for key in _TRAINER_KEYS if key in settings}
        worker_settings.update(batch_size=batch_size, epochs=self.epochs)
        worker_settings.pop("seed", None)
        seeds = [int(stream_key(self.seed, LOCAL_SEED_STREAM + i)) for i in range(len(shard_rows))]
        futures = [m.actor.start_local(worker_settings, s) for m, s in zip(group.members, seeds, strict=True)]
        try:
            compile_s = [f.result() for f in futures]
        except OSError as error:
            raise WorkerLostError(f"lost a worker while starting local SGD: {error}", group.addresses) from error
        self.compile_s = max(compile_s, default=0.0) + self.compile_s

    def shuffle_epoch(self) -> None:
        """Workers draw their own permutations (from their own seeds) when they start a local epoch."""

    def _call(self, method: str, *args: Any) -> list[Any]:
        try:
            return self.group.call(method, *args)
        except WorkerLostError as error:
            raise WorkerLostError(
                f"{error}; local SGD keeps optimizer state on the workers, so the fit cannot resume exactly: "
                "rerun it (the data are recomputed from their graph)", error.workers,
            ) from error  # fmt: skip

    def steps(self, first_batch: int, max_batches: int) -> tuple[int, float, int]:
        """Rounds of up to ``sync`` local steps each, the parameters averaged after every round.

        The last round is cut short at ``max_batches`` (a recorded point or the
        epoch's end), so every recorded parameter vector is an average.
        """
        done, lr = 0, math.nan
        start = time.perf_counter()
        while done < max_batches:
            h = min(self.sync - self.step % self.sync, max_batches - done)
            results = self._call("run_local", self.params, h)
            lr = float(results[0][1])
            if any(r[2] == STATUS_DIVERGED for r in results):
                self.train_time += time.perf_counter() - start
                return done, lr, STATUS_DIVERGED
            average = np.zeros(self.params.shape[0], dtype=np.float64)
            for weight, (params, *_rest) in zip(self.weights, results, strict=True):
                average += weight * params.astype(np.float64)
            self.params[: self.n_train] = average[: self.n_train].astype(self.dtype)
            self.rounds += 1
            self.step += h
            done += h
        self.train_time += time.perf_counter() - start
        return done, lr, STATUS_OK


_TRAINER_KEYS = (
    "loss", "optimizer", "shuffle", "fit_intercept", "intercept_init", "coef_init", "lr_schedule", "delta",
)  # fmt: skip


def fit(
    X: Any,
    y: Any,
    *,
    loss: str = "l2",
    optimizer: Any = None,
    batch_size: int | None = None,
    epochs: int = 10,
    sync: int | str = "epoch",
    client: Any = None,
    n_workers: int | None = None,
    shuffle: bool = True,
    seed: int = 0,
    fit_intercept: bool = True,
    coef_init: Any = None,
    intercept_init: float = 0.0,
    lr_schedule: Any = None,
    tol: float | None = None,
    n_iter_no_change: int = 5,
    record_every: int | None = None,
    delta: float = 1.0,
) -> FitResult:
    """Fit ``y ~ X @ coef + intercept`` by gradient descent with the data on a Dask cluster.

    Parameters
    ----------
    X : dask.array.Array, ndarray or memory map, shape (n_samples, n_features)
        Chunked by rows; chunks that are not whole multiples of
        :data:`fastgd.kernels.ROW_BLOCK` rows (the last excepted) are rechunked.
        A NumPy array is split into one chunk per worker; a memory map is read
        on the workers by path and row range (it never enters a task graph).
    y : dask.array.Array, ndarray or memory map, shape (n_samples,)
    loss, optimizer, batch_size, epochs, shuffle, seed, fit_intercept, coef_init, intercept_init, lr_schedule,
    tol, n_iter_no_change, record_every, delta
        As in :func:`fastgd.fit`.
    sync : int or "epoch", default "epoch"
        Mini-batch methods only: local steps per worker between averagings of
        the parameters (``"epoch"``: once per epoch).  Ignored for full batch.
        For many fits on the same in-memory data, pass the arrays of
        :func:`~fastgd.distributed.from_array` instead of NumPy arrays: the data
        are then shipped to the workers once, not on every call.
    client : distributed.Client, optional
        Cluster to run on.  None starts a :func:`~fastgd.distributed.local_cluster`
        (``n_workers`` processes) and closes it at the end.
    n_workers : int, optional
        Workers of the embedded cluster (default: the usable CPUs).

    Returns
    -------
    FitResult
        As :func:`fastgd.fit`'s.  Full batch: bit-identical to :func:`fastgd.fit`
        on the same data.  Local SGD: ``step`` counts the steps each worker took
        (every worker takes them in parallel), ``samples_seen`` the rows of all
        workers, ``epoch`` the epochs of the data as a whole (each worker's
        passes over its own rows), ``lr`` the first worker's; ``compile_s`` is
        the slowest worker's warm-up (cache load or compilation).  The history
        has :func:`fastgd.fit`'s columns, in its order, and one more,
        ``round``: the synchronisation rounds completed at that row (full
        batch: one per step, so it equals ``step``; local SGD: the averagings
        of the parameters, about ``step / sync``, plus the rounds cut short at
        a recorded point or an epoch's end).  Plot the loss against ``epoch``
        next to :func:`fastgd.fit`'s history to compare with single-machine
        mini-batch, or against ``round`` to see the communication.

    Raises
    ------
    ValueError
        On invalid data or arguments, naming the argument.
    WorkerLostError
        When a worker dies: full batch rebuilds the lost shards from the data's
        graph and redoes the step (the result is unchanged), up to 3 times;
        local SGD stops with this error, naming the worker and its rows.

    Notes
    -----
    Local SGD averages the **parameters** only.  Each worker keeps its own
    optimizer state (momentum, Adam's moments and step count) across rounds:
    it is the running statistic of that worker's own gradients; one round then
    ships only ``d + 1`` numbers each way; and for SGD with or without momentum
    at ``sync=1`` (all workers restart from the same average every step, and
    momentum is linear in the gradients) the method is exactly synchronous
    mini-batch SGD over the workers' batches together.
    """
    settings = dict(
        loss=loss, optimizer=optimizer, epochs=epochs, shuffle=shuffle, seed=seed, fit_intercept=fit_intercept,
        coef_init=coef_init, intercept_init=intercept_init, lr_schedule=lr_schedule, delta=delta,
    )  # fmt: skip
    kernels.get_loss(loss)
    delta = check_positive_scalar(delta, "delta")
    if sync != "epoch":
        check_int(sync, "sync", 1)
    with client_scope(client, n_workers) as active:
        n_active = len(active.scheduler_info(n_workers=-1)["workers"]) or 1
        X_d, y_d = as_dask_pair(X, y, n_active)
        dtype = np.dtype(X_d.dtype)
        n_samples, n_features = X_d.shape
        if batch_size is not None:
            check_int(batch_size, "batch_size", 1, n_samples)
        local = {key: settings[key] for key in _TRAINER_KEYS if key in settings}
        warm_cache(dtype, loss, None if batch_size is None else {**local, "batch_size": 1})
        group = ShardGroup(active, X_d, y_d, loss, delta)
        try:
            trainer: _ClusterTrainer
            if batch_size is None:
                trainer = FullBatchTrainer(group, settings, dtype, n_samples, n_features)
            else:
                trainer = LocalSGDTrainer(group, settings, dtype, n_samples, n_features, batch_size, sync)
            result = fit_trainer(trainer, record_every=record_every, tol=tol, n_iter_no_change=n_iter_no_change)
        finally:
            group.close()
    result.history[ROUND_COLUMN] = result.history["step"].map(trainer.rounds_at_step).astype(np.int64)
    return result
