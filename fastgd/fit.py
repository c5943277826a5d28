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
  whose loss was finite.  A start that cannot train at all is not divergence:
  if the initial loss or gradient is not finite, or the gradient's square
  overflows the dtype (``X * 1e200``), :func:`fit` raises ``ValueError``
  before any step (check the scale of ``X`` and ``y``).
"""

from __future__ import annotations

import math
import warnings
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from ._validation import (
    as_float_matrix,
    check_finite_scalar,
    check_int,
    check_positive_scalar,
    check_representable,
    check_seed,
    raise_for_nonfinite,
)
from .kernels import full_loss_grad, gradient_workspace
from .trainer import STATUS_DIVERGED, Trainer

__all__ = ["DIVERGENCE_FACTOR", "DivergenceWarning", "FitResult", "fit", "fit_trainer"]

#: A loss above this multiple of the initial loss counts as divergence (as does a
#: non-finite loss).  Public: the study's peers are held to the same threshold.
DIVERGENCE_FACTOR = 1e10

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
        An integer in ``[0, 2**63)``; every seed gives its own permutations
        (a seed outside the range is rejected, never reduced).
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
        On invalid data or arguments, naming the argument; when a non-zero
        hyper-parameter (``delta``, ``lr``, ``eps``, ...) rounds to 0 or
        infinity in the data's dtype; when the initial loss or gradient is not
        finite (before any step).
    TypeError
        When ``X`` or ``y`` is a masked array.

    Examples
    --------
    >>> import fastgd
    >>> data = fastgd.make_regression(2_000, 5, noise=0.1, seed=1)
    >>> result = fastgd.fit(data.X, data.y, optimizer=fastgd.SGD(lr=0.2), epochs=50)
    >>> bool(abs(result.coef - data.coef).max() < 0.02)
    True
    """
    record_every, tol, n_iter_no_change = _check_stopping(record_every, tol, n_iter_no_change)
    seed = check_seed(seed, "seed")
    X = as_float_matrix(X, "X")  # a read-only view of float input; the Trainer takes it as it is
    if loss == "huber":
        check_representable(check_positive_scalar(delta, "delta"), "delta", X.dtype)
    check_representable(check_finite_scalar(intercept_init, "intercept_init"), "intercept_init", X.dtype)
    trainer = Trainer(
        X, y, loss=loss, optimizer=optimizer, batch_size=batch_size, shuffle=shuffle, seed=seed,
        fit_intercept=fit_intercept, coef_init=coef_init, intercept_init=intercept_init,
        lr_schedule=lr_schedule, epochs=epochs, delta=delta,
    )  # fmt: skip
    _check_start(trainer)
    return _train(trainer, _Recorder(trainer), record_every, tol, n_iter_no_change)


def _check_start(trainer: Trainer) -> None:
    """Raise ``ValueError`` before any step if the start point cannot be trained from.

    One pass over ``X`` (outside the timed region): the initial loss and
    gradient must be finite, and so must the squares of the gradient in the
    data's dtype, which the adaptive rules accumulate and which scale a plain
    step's effect on the predictions (``X * 1e200`` fails here, not as a
    divergence at step 1).
    """
    b = trainer.buffers
    dtype = trainer.params.dtype
    grad = np.empty(trainer.n_features + 1, dtype=dtype)
    workspace = gradient_workspace(trainer.n_samples, trainer.n_features, dtype)
    d = trainer.n_features
    value = float(full_loss_grad(b.X, b.y, trainer.params[:d], trainer.params[d], b.loss, b.delta, grad, workspace))
    largest = float(np.max(np.abs(grad)))
    if math.isfinite(value) and largest < math.sqrt(float(np.finfo(dtype).max)):
        return
    raise_for_nonfinite(b.X, "X")
    raise ValueError(
        f"cannot train from the start point: the initial loss or gradient is not finite, or the gradient's "
        f"square overflows {dtype} (loss {value:.3g}, largest gradient entry {largest:.3g}); check the scale of "
        "X, y and coef_init (standardise the features, e.g. with sklearn.preprocessing.StandardScaler)"
    )


def fit_trainer(
    trainer: Trainer, *, record_every: int | None = None, tol: float | None = None, n_iter_no_change: int = 5
) -> FitResult:
    """Run :func:`fit`'s recording, stopping and divergence rules on a constructed trainer.

    The hook for back ends whose data live elsewhere (:mod:`fastgd.distributed`):
    ``trainer`` is a :class:`~fastgd.trainer.Trainer`, or a subclass that
    overrides :meth:`~fastgd.trainer.Trainer.steps`,
    :meth:`~fastgd.trainer.Trainer.shuffle_epoch` and
    :meth:`~fastgd.trainer.Trainer.objective` and sets the attributes they
    read.  The other arguments are :func:`fit`'s.

    Returns
    -------
    FitResult
    """
    record_every, tol, n_iter_no_change = _check_stopping(record_every, tol, n_iter_no_change)
    return _train(trainer, _Recorder(trainer), record_every, tol, n_iter_no_change)


def _check_stopping(record_every: Any, tol: Any, n_iter_no_change: Any) -> tuple[int | None, float | None, int]:
    if record_every is not None:
        record_every = check_int(record_every, "record_every", 1)
    n_iter_no_change = check_int(n_iter_no_change, "n_iter_no_change", 1)
    if tol is not None and check_finite_scalar(tol, "tol") < 0:
        raise ValueError(f"tol must be >= 0 or None, got {tol}")
    return record_every, tol, n_iter_no_change


class _Recorder:
    """History rows and parameter snapshots, evaluated outside the timed region."""

    def __init__(self, trainer: Trainer) -> None:
        self.trainer = trainer
        self.rows: list[tuple[float, int, int, float, float, float]] = []
        self.path: list[np.ndarray] = []

    def record(self, lr: float) -> float:
        t = self.trainer
        value = t.objective()
        batches_done = t.step - t.epoch * t.batches_per_epoch  # steps into the current (unfinished) epoch
        samples_seen = t.epoch * t.n_samples + min(batches_done * t.rows_per_batch, t.n_samples)
        epoch = t.epoch + batches_done / t.batches_per_epoch
        self.rows.append((epoch, t.step, samples_seen, t.train_time, value, lr))
        self.path.append(t.params.copy())
        return value

    @property
    def last_step(self) -> int:
        return self.rows[-1][1]


def _train(
    trainer: Trainer, recorder: _Recorder, record_every: int | None, tol: float | None, n_iter_no_change: int
) -> FitResult:
    lr = trainer.lr_at_start()
    initial = recorder.record(lr)
    if not math.isfinite(initial):
        raise_for_nonfinite(trainer.buffers.X, "X")
        raise ValueError(f"the initial loss is not finite ({initial}); check the scale of X, y and coef_init")
    diverged_reason = ""
    converged = False
    best, stale = math.inf, 0
    while trainer.epoch < trainer.epochs and not diverged_reason and not converged:
        trainer.shuffle_epoch()
        batch, value = 0, math.nan
        while batch < trainer.batches_per_epoch and not diverged_reason:
            chunk = trainer.batches_per_epoch - batch
            if record_every is not None:
                chunk = min(chunk, record_every - trainer.step % record_every)
            done, lr, status = trainer.steps(batch, chunk)
            batch += done
            if status == STATUS_DIVERGED:
                diverged_reason = f"diverged: non-finite loss at step {trainer.step + 1} (epoch {trainer.epoch})"
            elif record_every is not None and trainer.step % record_every == 0 and batch < trainer.batches_per_epoch:
                value = recorder.record(lr)
                diverged_reason = _divergence(value, initial, trainer.step)
        trainer.epoch += 1
        if diverged_reason:
            break
        evaluated = True
        if record_every is None or trainer.step % record_every == 0:
            value = recorder.record(lr)
        elif tol is not None:
            value = trainer.objective()
        else:
            evaluated = False
        if evaluated:
            diverged_reason = _divergence(value, initial, trainer.step)
        if tol is not None and not diverged_reason:
            stale = stale + 1 if value > best - tol else 0
            best = min(best, value)
            converged = stale >= n_iter_no_change
    if not diverged_reason and recorder.last_step != trainer.step:
        value = recorder.record(lr)  # the end point, when it fell between records
        diverged_reason = _divergence(value, initial, trainer.step)
        converged = converged and not diverged_reason
    return _result(trainer, recorder, diverged_reason, converged)


def _divergence(value: float, initial: float, step: int) -> str:
    if not math.isfinite(value):
        return f"diverged: full-data loss became {value} at step {step}"
    if initial > 0 and value > DIVERGENCE_FACTOR * initial:
        return f"diverged: loss {value:.3g} exceeds {DIVERGENCE_FACTOR:g} x the initial {initial:.3g} at step {step}"
    return ""


def _result(trainer: Trainer, recorder: _Recorder, diverged_reason: str, converged: bool) -> FitResult:
    history = pd.DataFrame(recorder.rows, columns=list(HISTORY_COLUMNS))
    path = np.array(recorder.path)
    if diverged_reason:
        losses = history["loss"].to_numpy()
        sane = np.isfinite(losses) & (losses <= DIVERGENCE_FACTOR * losses[0])
        last_good = int(np.flatnonzero(sane)[-1])
        final = path[last_good]
        warnings.warn(
            f"training {diverged_reason}; returning the parameters of step {int(history['step'].iloc[last_good])}",
            DivergenceWarning,
            stacklevel=3,
        )
    else:
        final = trainer.params
    d = trainer.n_features
    return FitResult(
        coef=final[:d].copy(), intercept=float(final[d]), history=history, n_epochs=trainer.epoch,
        n_steps=trainer.step, converged=converged, diverged=bool(diverged_reason),
        stop_reason=diverged_reason or ("tol" if converged else "max_epochs"),
        compile_s=trainer.compile_s, coef_path=path,
    )  # fmt: skip
