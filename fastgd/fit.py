r"""``fastgd.fit``: train a linear regression model with batch, SGD, mini-batch or Adam.

Python only runs between recorded points; every epoch (its shuffle, all its
batches and updates) runs inside the compiled loop
:func:`fastgd.kernels.training.run_steps`, which allocates nothing.

Conventions
-----------
* Parameters start at ``coef = 0`` (the seed tutorial's ``w = [0, ..., 0]``)
  unless ``coef_init`` is given, and ``intercept = intercept_init``.
* ``batch_size=None``: full-batch gradient descent, one update per epoch with
  the mean gradient over all rows.  ``batch_size=1``: SGD.  In between:
  mini-batch.  Batches are consecutive slices of the epoch's row order — the
  identity when ``shuffle=False``, else a permutation drawn from
  ``(seed, epoch)`` — and the last, smaller batch is kept and averaged over its
  own size (PyTorch's ``DataLoader(drop_last=False)``).
* The recorded ``loss`` is the full-data objective: the mean loss plus
  ``0.5 * weight_decay * ||coef||**2`` (the penalty whose gradient is the
  optimizer's weight-decay term; the intercept is never penalised).
* ``time_s`` counts training only: no loss evaluation and no JIT compilation
  (compilation happens in a warm-up on a few rows and is reported as
  ``compile_s``).
* Divergence (a non-finite batch or full-data loss, or a loss above ``1e10``
  times the initial one) stops training with ``diverged=True``, a
  :class:`DivergenceWarning`, and the parameters of the last recorded point
  whose loss was finite.
"""

from __future__ import annotations

import math
import operator
import time
import warnings
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from ._rng import stream_key
from ._validation import as_float_matrix, as_float_vector, check_finite_scalar, check_positive_scalar, raise_for_nonfinite
from .kernels import full_loss, get_loss, gradient_workspace, n_row_blocks
from .kernels.training import STATUS_DIVERGED, n_batches, permutation_into, run_steps
from .optim import OPTIMIZERS, SGD
from .schedules import resolve_schedule

__all__ = ["DivergenceWarning", "FitResult", "fit"]

#: A loss above this multiple of the initial loss counts as divergence.
DIVERGENCE_FACTOR = 1e10
#: Streams of the counter-based generator used for the epochs' permutations
#: (:mod:`fastgd._rng`); far from the streams that ``make_regression`` uses.
SHUFFLE_STREAM = 1 << 40

HISTORY_COLUMNS = ("epoch", "step", "samples_seen", "time_s", "loss", "lr")


class DivergenceWarning(RuntimeWarning):
    """Training diverged: the loss became non-finite or exploded."""


class FitResult(NamedTuple):
    """What :func:`fit` returns.

    Attributes
    ----------
    coef : ndarray, shape (n_features,)
        Fitted coefficients, in the data's dtype.
    intercept : float
        Fitted intercept.
    history : pandas.DataFrame
        One row per recorded point, columns ``epoch`` (epochs completed, may
        be fractional when recording every few steps), ``step``,
        ``samples_seen``, ``time_s`` (training time so far, excluding loss
        evaluation and JIT), ``loss`` (full-data objective), ``lr`` (the
        learning rate of the last step taken; at step 0 the first step's).
    n_epochs : int
        Epochs run (the one a divergence happened in included).
    n_steps : int
        Optimizer updates applied.
    converged : bool
        Stopped by the ``tol`` criterion.
    diverged : bool
        Stopped by divergence (see :class:`DivergenceWarning`).
    stop_reason : str
        ``"max_epochs"``, ``"tol"`` or ``"diverged: ..."``.
    compile_s : float
        Seconds of JIT compilation (or cache loading) spent in this call.
    coef_path : ndarray, shape (n_records, n_features + 1)
        ``[coef..., intercept]`` at each history row.
    """

    coef: np.ndarray
    intercept: float
    history: pd.DataFrame
    n_epochs: int
    n_steps: int
    converged: bool
    diverged: bool
    stop_reason: str
    compile_s: float
    coef_path: np.ndarray


def _check_int(value: Any, name: str, low: int, high: int | None = None) -> int:
    try:
        result = operator.index(value)
    except TypeError:
        raise ValueError(f"{name} must be an integer, got {value!r}") from None
    if result < low or (high is not None and result > high):
        bound = f">= {low}" if high is None else f"in [{low}, {high}]"
        raise ValueError(f"{name} must be {bound}, got {result}")
    return result


def _check_optimizer(optimizer: Any) -> Any:
    if optimizer is None:
        return SGD(lr=0.01)
    if not isinstance(optimizer, tuple(OPTIMIZERS.values())):
        raise ValueError(f"optimizer must be one of fastgd.{', fastgd.'.join(c.__name__ for c in OPTIMIZERS.values())}, got {optimizer!r}")
    return optimizer


class _Problem(NamedTuple):
    """Everything the compiled loop needs, checked and allocated once."""

    X: np.ndarray
    y: np.ndarray
    loss: Any
    delta: Any
    n_params: int
    batch_size: int  # 0 = full batch
    order: np.ndarray
    grad_out: np.ndarray
    workspace: tuple[np.ndarray, np.ndarray]
    block_losses: np.ndarray


class _Run:
    """The mutable bookkeeping of one call to :func:`fit`."""

    def __init__(self, problem: _Problem, optimizer: Any, schedule: Any, params: np.ndarray, epochs: int) -> None:
        self.problem = problem
        self.optimizer = optimizer
        self.schedule = schedule
        self.schedule_params = schedule.params()
        self.params = params
        self.state = optimizer.init(problem.n_params, params.dtype)
        self.hyper = optimizer.hyper(params.dtype)
        self.epochs = epochs
        self.n_features = problem.X.shape[1]
        self.rows: list[tuple[float, int, int, float, float, float]] = []
        self.path: list[np.ndarray] = []
        self.step = 0
        self.train_time = 0.0

    def objective(self) -> float:
        p = self.problem
        coef = self.params[: self.n_features]
        value = full_loss(p.X, p.y, coef, self.params[self.n_features], p.loss, p.delta, p.block_losses)
        weight_decay = float(getattr(self.optimizer, "weight_decay", 0.0))
        if weight_decay:
            value += 0.5 * weight_decay * float(np.dot(coef.astype(np.float64), coef.astype(np.float64)))
        return float(value)

    def record(self, epoch: float, samples_seen: int, lr: float) -> float:
        value = self.objective()
        self.rows.append((epoch, self.step, samples_seen, self.train_time, value, lr))
        self.path.append(self.params.copy())
        return value

    def steps(self, epoch: int, first_batch: int, max_batches: int) -> tuple[int, float, int]:
        p = self.problem
        start = time.perf_counter()
        done, lr, status = run_steps(
            p.X, p.y, self.params, p.n_params, p.loss, p.delta,
            self.state, self.hyper, self.n_features, self.schedule_params, float(self.optimizer.lr),
            p.order, p.batch_size, first_batch, max_batches,
            self.step, epoch, self.epochs, p.grad_out, p.workspace,
        )  # fmt: skip
        self.train_time += time.perf_counter() - start
        self.step += done
        return done, lr, status


def _warm_up(problem: _Problem, optimizer: Any, schedule: Any, params: np.ndarray, epochs: int) -> float:
    """Compile (or load from cache) every kernel the run uses, on a few rows; return seconds."""
    start = time.perf_counter()
    n_rows = min(problem.X.shape[0], 2)
    order = problem.order[:0] if problem.order.shape[0] == 0 else np.empty(n_rows, np.int64)
    batch = 0 if problem.batch_size == 0 else 1
    tiny = problem._replace(X=problem.X[:n_rows], y=problem.y[:n_rows], order=order, batch_size=batch)
    run = _Run(tiny, optimizer, schedule, params.copy(), epochs)
    if order.shape[0]:
        permutation_into(order, stream_key(0, SHUFFLE_STREAM))
    run.steps(0, 0, 1)
    run.objective()
    return time.perf_counter() - start


def fit(
    X: Any,
    y: Any,
    *,
    loss: str = "l2",
    optimizer: Any = None,
    batch_size: int | None = None,
    epochs: int = 10,
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
    """Fit ``y ~ X @ coef + intercept`` by gradient descent.

    Parameters
    ----------
    X : array_like, shape (n_samples, n_features)
        float32 trains in float32, float64 in float64; other real dtypes are
        converted to float64.  A memory map is used in place (not copied).
    y : array_like, shape (n_samples,)
    loss : {"l2", "l1", "huber"}, default "l2"
        Mean squared error, mean absolute error (subgradient, sign(0) = 0),
        Huber with threshold ``delta``.
    optimizer : SGD, Adam, AdamW, RMSprop or Adagrad, optional
        Default ``fastgd.SGD(lr=0.01)``.
    batch_size : int or None, default None
        None: full batch (one update per epoch); 1: SGD; else mini-batch.
    epochs : int, default 10
    shuffle : bool, default True
        Visit rows in a fresh permutation each epoch (drawn from ``(seed, epoch)``).
    seed : int, default 0
    fit_intercept : bool, default True
        If False the intercept stays at ``intercept_init``.
    coef_init : array_like, shape (n_features,), optional
        Starting coefficients (default zeros).
    intercept_init : float, default 0.0
    lr_schedule : InverseScaling, ExponentialDecay, CosineAnnealing or None
        None keeps the optimizer's ``lr`` constant.
    tol : float or None, default None
        scikit-learn's rule: stop when the epoch's loss has not improved on
        the best by at least ``tol`` for ``n_iter_no_change`` epochs in a row.
    n_iter_no_change : int, default 5
    record_every : int or None, default None
        None: record the start and the end of every epoch; k: the start,
        every k steps, and the end of training.
    delta : float, default 1.0
        Huber threshold.

    Returns
    -------
    FitResult

    Raises
    ------
    ValueError
        On invalid data or arguments, naming the argument.

    Examples
    --------
    >>> import fastgd
    >>> data = fastgd.make_regression(2_000, 5, noise=0.1, seed=1)
    >>> result = fastgd.fit(data.X, data.y, optimizer=fastgd.SGD(lr=0.2), epochs=50)
    >>> bool(abs(result.coef - data.coef).max() < 0.02)
    True
    """
    loss_object = get_loss(loss)
    delta_value = check_positive_scalar(delta, "delta")
    X_c = as_float_matrix(X, "X")
    n_samples, n_features = X_c.shape
    dtype = X_c.dtype
    y_c = as_float_vector(y, n_samples, dtype, "y", "n_samples")
    optimizer = _check_optimizer(optimizer)
    schedule = resolve_schedule(lr_schedule)
    epochs = _check_int(epochs, "epochs", 1)
    seed = _check_int(seed, "seed", 0)
    n_iter_no_change = _check_int(n_iter_no_change, "n_iter_no_change", 1)
    batch = 0 if batch_size is None else _check_int(batch_size, "batch_size", 1, n_samples)
    if record_every is not None:
        record_every = _check_int(record_every, "record_every", 1)
    if tol is not None and check_finite_scalar(tol, "tol") < 0:
        raise ValueError(f"tol must be >= 0 or None, got {tol}")
    for flag, name in ((shuffle, "shuffle"), (fit_intercept, "fit_intercept")):
        if not isinstance(flag, (bool, np.bool_)):
            raise ValueError(f"{name} must be a bool, got {flag!r}")

    params = np.zeros(n_features + 1, dtype=dtype)
    if coef_init is not None:
        params[:n_features] = as_float_vector(coef_init, n_features, dtype, "coef_init", "n_features")
    params[n_features] = check_finite_scalar(intercept_init, "intercept_init")

    shuffled = bool(shuffle) and batch != 0
    workspace = gradient_workspace(n_samples if batch == 0 else 0, n_features, dtype)
    problem = _Problem(
        X=X_c, y=y_c, loss=loss_object, delta=dtype.type(delta_value),
        n_params=n_features + 1 if fit_intercept else n_features, batch_size=batch,
        order=np.empty(n_samples if shuffled else 0, np.int64), grad_out=np.empty(n_features + 1, dtype),
        workspace=workspace, block_losses=np.empty(n_row_blocks(n_samples), np.float64),
    )  # fmt: skip
    compile_s = _warm_up(problem, optimizer, schedule, params, epochs)
    return _train(problem, optimizer, schedule, params, epochs, seed, record_every, tol, n_iter_no_change, compile_s)


def _train(
    problem: _Problem,
    optimizer: Any,
    schedule: Any,
    params: np.ndarray,
    epochs: int,
    seed: int,
    record_every: int | None,
    tol: float | None,
    n_iter_no_change: int,
    compile_s: float,
) -> FitResult:
    run = _Run(problem, optimizer, schedule, params, epochs)
    n_samples = problem.X.shape[0]
    batches_per_epoch = n_batches(n_samples, problem.batch_size)
    rows_per_batch = n_samples if problem.batch_size == 0 else problem.batch_size
    initial = run.record(0.0, 0, schedule.lr_at(optimizer.lr, 0, 0, epochs))
    if not math.isfinite(initial):
        raise_for_nonfinite(problem.X, "X")
        raise ValueError(f"the initial loss is not finite ({initial}); check the scale of X, y and coef_init")

    diverged_reason = ""
    converged = False
    best, stale = math.inf, 0
    epoch = 0
    while epoch < epochs and not diverged_reason and not converged:
        if problem.order.shape[0]:
            start = time.perf_counter()
            permutation_into(problem.order, stream_key(seed, SHUFFLE_STREAM + epoch))
            run.train_time += time.perf_counter() - start
        batch = 0
        value = math.nan
        while batch < batches_per_epoch:
            chunk = batches_per_epoch - batch if record_every is None else record_every - run.step % record_every
            done, lr, status = run.steps(epoch, batch, chunk)
            batch += done
            if status == STATUS_DIVERGED:
                diverged_reason = f"diverged: non-finite loss at step {run.step + 1} (epoch {epoch})"
                break
            if record_every is not None and run.step % record_every == 0:
                value = run.record(epoch + batch / batches_per_epoch, epoch * n_samples + min(batch * rows_per_batch, n_samples), lr)
                diverged_reason = _divergence(value, initial, run.step)
                if diverged_reason:
                    break
        epoch += 1
        if diverged_reason:
            break
        if record_every is None:
            value = run.record(float(epoch), epoch * n_samples, lr)
        elif tol is not None and run.rows[-1][1] != run.step:
            value = run.objective()
        diverged_reason = _divergence(value, initial, run.step) if (record_every is None or tol is not None) else ""
        if tol is not None and not diverged_reason:
            stale = stale + 1 if value > best - tol else 0
            best = min(best, value)
            converged = stale >= n_iter_no_change

    if not diverged_reason and run.rows[-1][1] != run.step:
        run.record(float(epoch), epoch * n_samples, lr)  # the end point, when it fell between records
    return _result(run, epoch, diverged_reason, converged, compile_s)


def _divergence(value: float, initial: float, step: int) -> str:
    if not math.isfinite(value):
        return f"diverged: full-data loss became {value} at step {step}"
    if initial > 0 and value > DIVERGENCE_FACTOR * initial:
        return f"diverged: loss {value:.3g} exceeds {DIVERGENCE_FACTOR:g} x the initial {initial:.3g} at step {step}"
    return ""


def _result(run: _Run, n_epochs: int, diverged_reason: str, converged: bool, compile_s: float) -> FitResult:
    history = pd.DataFrame(run.rows, columns=list(HISTORY_COLUMNS))
    path = np.array(run.path)
    if diverged_reason:
        finite = np.isfinite(history["loss"].to_numpy()) & (history["loss"].to_numpy() <= DIVERGENCE_FACTOR * history["loss"].iloc[0])
        last_good = int(np.flatnonzero(finite)[-1])
        final = path[last_good]
        warnings.warn(f"training {diverged_reason}; returning the parameters of step {int(history['step'].iloc[last_good])}", DivergenceWarning, stacklevel=3)
    else:
        final = run.params
    stop_reason = diverged_reason or ("tol" if converged else "max_epochs")
    d = run.n_features
    return FitResult(
        coef=final[:d].copy(), intercept=float(final[d]), history=history, n_epochs=n_epochs, n_steps=run.step,
        converged=converged, diverged=bool(diverged_reason), stop_reason=stop_reason, compile_s=compile_s, coef_path=path,
    )  # fmt: skip
