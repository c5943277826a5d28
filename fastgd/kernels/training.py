r"""The compiled training loop: one generic loop for every loss, optimizer and batch size.

:func:`run_steps` takes its loss, its optimizer and its learning-rate schedule
as arguments (typed objects resolved at compile time, so the loop is written
once and still inlines each kernel) and runs a whole stretch of optimizer steps
— typically a whole epoch — in one compiled call: selecting each batch,
computing the batch's mean loss and gradient in one pass over its rows, and
updating the parameters in place.  It allocates nothing.

Parameters are one vector ``params = [coef..., intercept]`` of the data's
dtype; the gradient kernels write ``grad_out`` in the same layout.

Batches (``batch_size = B``, ``n`` rows, ``ceil(n / B)`` batches per epoch)
are consecutive slices ``k*B : min((k+1)*B, n)`` of the epoch's row order: the
identity when ``order`` is empty, else ``order`` (a permutation from
:func:`permutation_into`).  The last, smaller batch is kept and averaged over
its own size (like PyTorch's ``DataLoader(drop_last=False)``).  ``B = 0``
means full batch: one step per epoch with the parallel, fixed-block kernel
:func:`~fastgd.kernels.full_loss_grad`.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from .._jit import jit
from .._rng import counter_bits
from .gradients import _residual, full_loss_grad, rows_loss_grad, slice_loss_grad
from .losses import pointwise
from .optim import apply_update, is_plain_sgd
from .schedules import learning_rate

__all__ = [
    "STATUS_DIVERGED",
    "STATUS_OK",
    "LearningRate",
    "Problem",
    "StepRange",
    "UpdateRule",
    "n_batches",
    "permutation_into",
    "run_steps",
]

#: :func:`run_steps` finished the requested steps.
STATUS_OK = 0
#: :func:`run_steps` stopped at a non-finite batch loss.
STATUS_DIVERGED = 1


# The training loop's arguments, bundled.  Numba types a NamedTuple by its class
# and its fields' types, so these cost nothing at run time and the on-disk cache
# still hits; integer fields are always int64 (Python ``int``) so that one
# compiled loop serves every call.


class Problem(NamedTuple):
    """The data and the loss a training loop minimises."""

    X: Any  #: ndarray (n, d), float32 or float64, C-contiguous
    y: Any  #: ndarray (n,), same dtype
    loss: Any  #: loss object (``LOSSES[name]``) or ``@njit`` loss function
    delta: Any  #: Huber threshold, a scalar of the data's dtype


class UpdateRule(NamedTuple):
    """The optimizer: its state (updated in place), hyper-parameters and which parameters it touches."""

    state: Any  #: ``*State`` NamedTuple, **updated in place**
    hyper: Any  #: ``*Hyper`` NamedTuple (its class chooses the rule)
    n_params: int  #: ``d + 1`` to train the intercept, ``d`` to keep it fixed
    n_decay: int  #: weight decay applies to ``params[:n_decay]``


class LearningRate(NamedTuple):
    """The learning-rate schedule of a run (see :mod:`fastgd.kernels.schedules`)."""

    schedule: Any  #: the schedule's ``params()`` tuple ``(kind, constant)``
    base_lr: float  #: the base rate
    n_epochs: int  #: the run's planned epochs (per-epoch schedules read it)


class StepRange(NamedTuple):
    """Which steps of which epoch to run, and how batches are cut."""

    order: Any  #: ndarray of int64: the epoch's row order, or length 0 for the identity
    batch_size: int  #: rows per batch, or 0 for full batch
    epoch: int  #: 0-based epoch
    first_batch: int  #: batch index to start at
    max_batches: int  #: the most steps to take
    step0: int  #: steps taken before this call (steps are numbered from 1)


@jit()
def n_batches(n_samples: int, batch_size: int) -> int:
    """Batches per epoch: ``ceil(n_samples / batch_size)``, or 1 for full batch (``batch_size == 0``)."""
    if batch_size == 0:
        return 1
    return (n_samples + batch_size - 1) // batch_size


@jit()
def permutation_into(order, key):  # type: ignore[no-untyped-def]
    """Overwrite ``order`` (int64, shape (n,)) with a permutation of ``0..n-1``.

    Fisher–Yates driven by the counter-based generator: swap ``i`` with
    ``counter_bits(key, i) mod (i + 1)`` for ``i = n-1 .. 1``, so the
    permutation is a pure function of ``key`` (see :mod:`fastgd._rng`; the
    modulo bias is below ``n / 2**64``).  Allocates nothing.
    """
    n = order.shape[0]
    for i in range(n):
        order[i] = i
    for i in range(n - 1, 0, -1):
        j = np.int64(counter_bits(key, np.uint64(i)) % np.uint64(i + 1))
        held = order[i]
        order[i] = order[j]
        order[j] = held


@jit()
def run_steps(problem, params, rule, rate, steps, grad_out, workspace):  # type: ignore[no-untyped-def]
    """Run up to ``steps.max_batches`` optimizer steps of one epoch, starting at batch ``steps.first_batch``.

    Parameters
    ----------
    problem : Problem
        ``(X, y, loss, delta)``: data ``(n, d)`` and ``(n,)`` of one float
        dtype, loss object and Huber threshold (data dtype).
    params : ndarray, shape (d + 1,)
        ``[coef..., intercept]``, **updated in place**.
    rule : UpdateRule
        ``(state, hyper, n_params, n_decay)``: optimizer state (**updated in
        place**), hyper-parameters, the number of leading parameters trained
        (``d + 1``, or ``d`` to keep the intercept fixed) and the number weight
        decay applies to.
    rate : LearningRate
        ``(schedule, base_lr, n_epochs)``: schedule parameters (see
        :mod:`fastgd.schedules`), base rate and the run's epochs.
    steps : StepRange
        ``(order, batch_size, epoch, first_batch, max_batches, step0)``: the
        epoch's row order (length 0 for the identity), rows per batch (0 for
        full batch), the 0-based epoch, the batch to start at, the most steps
        to take and the steps taken before this call (steps are numbered from 1).
    grad_out : ndarray, shape (d + 1,)
        Scratch for the gradient, **overwritten**.
    workspace : tuple
        Scratch from :func:`~fastgd.kernels.gradient_workspace` (full batch only).

    Returns
    -------
    steps_done : int
        Steps taken (an update was applied for each).
    last_lr : float
        Learning rate of the last step attempted.
    status : int
        :data:`STATUS_OK`, or :data:`STATUS_DIVERGED` if a batch loss was not
        finite (that step's update is not applied).
    """
    X, y, loss, delta = problem
    state, hyper, n_params, n_decay = rule
    order, batch_size, epoch, first_batch, max_batches, step0 = steps
    n_samples, n_features = X.shape
    stop_batch = min(n_batches(n_samples, batch_size), first_batch + max_batches)
    if batch_size == 1 and is_plain_sgd(hyper):
        return _plain_sgd_steps(problem, params, n_params, rate, steps, stop_batch)
    coef = params[:n_features]
    train = params[:n_params]
    grad = grad_out[:n_params]
    lr = rate.base_lr
    for k in range(first_batch, stop_batch):
        step = step0 + (k - first_batch) + 1
        lr = step_learning_rate(rate, step, epoch)
        intercept = params[n_features]
        if batch_size == 0:
            value = full_loss_grad(X, y, coef, intercept, loss, delta, grad_out, workspace)
        else:
            start = k * batch_size
            stop = min(start + batch_size, n_samples)
            if order.shape[0] == 0:
                value = slice_loss_grad(X, y, coef, intercept, loss, delta, start, stop, grad_out)
            else:
                value = rows_loss_grad(X, y, coef, intercept, loss, delta, order[start:stop], grad_out)
        if not np.isfinite(value):
            return k - first_batch, lr, STATUS_DIVERGED
        apply_update(train, grad, state, hyper, step, lr, n_decay)
    return stop_batch - first_batch, lr, STATUS_OK


@jit(inline="always")
def step_learning_rate(rate, step, epoch):  # type: ignore[no-untyped-def]
    """The rate of 1-based ``step`` (in 0-based ``epoch``) under ``rate`` (a :class:`LearningRate`)."""
    return learning_rate(rate.schedule, rate.base_lr, step - 1, epoch, rate.n_epochs)


@jit()
def _plain_sgd_steps(problem, params, n_params, rate, steps, stop_batch):  # type: ignore[no-untyped-def]
    """Per-sample plain SGD with the gradient and the update fused in one pass over the row.

    The same arithmetic as the generic path (``g_j = slope * x_j`` then
    ``w_j -= lr * g_j``) without materialising the gradient vector: for one
    sample the gradient is only a scaled copy of the row, and writing it out
    and reading it back costs as much as the step itself.
    """
    X, y, loss, delta = problem
    order, _, epoch, first_batch, _, step0 = steps
    lr = rate.base_lr
    for k in range(first_batch, stop_batch):
        step = step0 + (k - first_batch) + 1
        lr = step_learning_rate(rate, step, epoch)
        i = k if order.shape[0] == 0 else order[k]
        if not _plain_sgd_sample(X, y, params, n_params, loss, delta, i, lr):
            return k - first_batch, lr, STATUS_DIVERGED
    return stop_batch - first_batch, lr, STATUS_OK


@jit(inline="always")
def _plain_sgd_sample(X, y, params, n_params, loss, delta, i, lr):  # type: ignore[no-untyped-def]
    """One fused plain-SGD step on row ``i``; ``False`` (and no update) if its loss is not finite."""
    n_features = X.shape[1]
    value, slope = pointwise(loss, _residual(X, y, params[:n_features], params[n_features], i), delta)
    if not np.isfinite(value):
        return False
    lr_ = params.dtype.type(lr)
    for j in range(n_features):
        params[j] = params[j] - lr_ * (slope * X[i, j])
    if n_params > n_features:
        params[n_features] = params[n_features] - lr_ * slope
    return True
