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

import numpy as np

from .._jit import jit
from .._rng import counter_bits
from ..schedules import learning_rate
from .gradients import _residual, full_loss_grad, rows_loss_grad, slice_loss_grad
from .losses import pointwise
from .optim import apply_update, is_plain_sgd

__all__ = ["STATUS_DIVERGED", "STATUS_OK", "n_batches", "permutation_into", "run_steps"]

#: :func:`run_steps` finished the requested steps.
STATUS_OK = 0
#: :func:`run_steps` stopped at a non-finite batch loss.
STATUS_DIVERGED = 1


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
def run_steps(  # type: ignore[no-untyped-def]
    X, y, params, n_params, loss, delta,
    state, hyper, n_decay, schedule, base_lr,
    order, batch_size, first_batch, max_batches,
    step0, epoch, n_epochs, grad_out, workspace,
):
    """Run up to ``max_batches`` optimizer steps of one epoch, starting at batch ``first_batch``.

    Parameters
    ----------
    X, y : ndarray
        Data, ``(n, d)`` and ``(n,)``, one float dtype.
    params : ndarray, shape (d + 1,)
        ``[coef..., intercept]``, **updated in place**.
    n_params : int
        ``d + 1`` to train the intercept, ``d`` to keep it fixed.
    loss, delta
        Loss object (``LOSSES[name]``) and Huber threshold (data dtype).
    state, hyper, n_decay
        Optimizer state (**updated in place**), hyper-parameters, and the
        number of leading parameters weight decay applies to.
    schedule, base_lr
        Schedule parameters (see :mod:`fastgd.schedules`) and base rate.
    order : ndarray of int64
        The epoch's row order, or length 0 for the identity.
    batch_size : int
        Rows per batch, or 0 for full batch.
    first_batch, max_batches : int
        Batch index to start at and the most steps to take.
    step0 : int
        Steps taken before this call (steps are numbered from 1).
    epoch, n_epochs : int
        0-based epoch and the run's epochs (for the schedule).
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
    n_samples, n_features = X.shape
    stop_batch = min(n_batches(n_samples, batch_size), first_batch + max_batches)
    if batch_size == 1 and is_plain_sgd(hyper):
        return _plain_sgd_steps(
            X, y, params, n_params, loss, delta, schedule, base_lr, order, first_batch, stop_batch, step0, epoch,
            n_epochs,
        )  # fmt: skip
    coef = params[:n_features]
    train = params[:n_params]
    grad = grad_out[:n_params]
    lr = base_lr
    for k in range(first_batch, stop_batch):
        step = step0 + (k - first_batch) + 1
        lr = learning_rate(schedule, base_lr, step - 1, epoch, n_epochs)
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


@jit()
def _plain_sgd_steps(  # type: ignore[no-untyped-def]
    X, y, params, n_params, loss, delta, schedule, base_lr, order, first_batch, stop_batch, step0, epoch, n_epochs
):
    """Per-sample plain SGD with the gradient and the update fused in one pass over the row.

    The same arithmetic as the generic path (``g_j = slope * x_j`` then
    ``w_j -= lr * g_j``) without materialising the gradient vector: for one
    sample the gradient is only a scaled copy of the row, and writing it out
    and reading it back costs as much as the step itself.
    """
    lr = base_lr
    for k in range(first_batch, stop_batch):
        step = step0 + (k - first_batch) + 1
        lr = learning_rate(schedule, base_lr, step - 1, epoch, n_epochs)
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
