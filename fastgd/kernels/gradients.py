r"""Fused loss-and-gradient kernels for linear regression.

Model and conventions (``n`` rows of ``X``, ``d`` features)::

    r_i  = X[i] @ coef + intercept - y[i]            (residual)
    loss = (1/n) * sum_i value(r_i)                  (mean reduction)
    grad_coef      = (1/n) * sum_i slope(r_i) * X[i]
    grad_intercept = (1/n) * sum_i slope(r_i)

where ``value, slope = pointwise(loss, r_i, delta)``: ``loss`` is a loss object
from :data:`fastgd.kernels.LOSSES` (e.g. ``LOSSES["l2"]``) or a user's own
``@njit`` function ``(r, delta) -> (value, slope)`` (see
:mod:`fastgd.kernels.losses`).
For L2 this is ``mean(r**2)`` with gradient ``2/n * X.T @ r``.

Every gradient kernel writes into a caller-provided ``grad_out`` of shape
``(d + 1,)``: ``grad_out[:d]`` is the gradient with respect to ``coef`` and
``grad_out[d]`` the one with respect to ``intercept``.  This is the layout the
optimizer kernels use (parameters ``[coef..., intercept]``).

All kernels assume clean input: ``X`` C-contiguous ``(n, d)``, ``y`` ``(n,)``
and ``coef`` ``(d,)`` of one float dtype (float32 or float64), ``intercept``
and ``delta`` scalars of that dtype.  The public functions in :mod:`fastgd`
validate and coerce before calling them.  Gradients are computed in the data's
dtype; loss values are accumulated in float64.

Determinism: :func:`full_loss_grad` splits the rows into fixed blocks of
:data:`ROW_BLOCK` rows, computes one partial sum per block (in parallel) and
adds the partials in block order.  The blocks do not depend on the number of
threads, so the result is bit-identical for any ``numba.get_num_threads()``.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np

from .._jit import jit
from ._prefetch import BLOCK_PREFETCH_BYTES, PREFETCH_BYTES, prefetch_rows, rows_ahead
from .losses import pointwise

__all__ = [
    "ROW_BLOCK",
    "block_loss_grad",
    "full_loss",
    "full_loss_grad",
    "gradient_workspace",
    "n_row_blocks",
    "predict_into",
    "rows_loss_grad",
    "slice_loss_grad",
]

#: Rows per block in the parallel reductions.  Fixed, so that results do not
#: depend on the thread count.
ROW_BLOCK = 2048


@jit()
def n_row_blocks(n_samples: int) -> int:
    """Number of :data:`ROW_BLOCK`-row blocks that cover ``n_samples`` rows."""
    return (n_samples + ROW_BLOCK - 1) // ROW_BLOCK


def gradient_workspace(n_samples: int, n_features: int, dtype: Any = np.float64) -> tuple[np.ndarray, np.ndarray]:
    """Allocate the scratch space :func:`full_loss_grad` needs.

    Parameters
    ----------
    n_samples, n_features : int
        Shape of ``X``.
    dtype : float32 or float64
        The data's dtype.

    Returns
    -------
    block_grads : ndarray, shape (n_blocks, n_features + 1), ``dtype``
        One partial gradient sum per row block.
    block_losses : ndarray, shape (n_blocks,), float64
        One partial loss sum per row block.
    """
    n_blocks = (n_samples + ROW_BLOCK - 1) // ROW_BLOCK
    return (np.empty((n_blocks, n_features + 1), dtype=dtype), np.empty(n_blocks, dtype=np.float64))


@jit(inline="always")
def _residual(X, y, coef, intercept, i):  # type: ignore[no-untyped-def]
    """``X[i] @ coef + intercept - y[i]`` in the data's dtype."""
    r = intercept - y[i]
    for j in range(X.shape[1]):
        r += X[i, j] * coef[j]
    return r


@jit(inline="always")
def _accumulate_row(X, y, coef, intercept, loss, delta, i, grad_out):  # type: ignore[no-untyped-def]
    """Add row ``i``'s gradient to ``grad_out``; return its loss value."""
    n_features = X.shape[1]
    value, slope = pointwise(loss, _residual(X, y, coef, intercept, i), delta)
    for j in range(n_features):
        grad_out[j] += slope * X[i, j]
    grad_out[n_features] += slope
    return value


@jit(inline="always")
def _dot(x, coef, start):  # type: ignore[no-untyped-def]
    """``start + x @ coef`` for one row ``x`` (one vectorised loop)."""
    total = start
    for j in range(x.shape[0]):
        total += x[j] * coef[j]
    return total


@jit(inline="always")
def _four_rows(X, y, coef, intercept, loss, delta, rows, grad_out):  # type: ignore[no-untyped-def]
    """Add the gradients of the four rows ``rows`` (a 4-tuple of indices) to ``grad_out[:d]``.

    Returns ``(sum of their loss values, sum of their slopes)``; the caller adds
    the slopes to the intercept's gradient.  For shuffled batches: the four
    residuals are independent, so the four randomly placed rows are fetched
    from memory concurrently; they are computed in one loop over the features
    (each element of ``coef`` loaded once for the four rows), and the four
    gradient contributions are added in one pass over ``grad_out``.
    """
    i0, i1, i2, i3 = rows
    x0, x1, x2, x3 = X[i0], X[i1], X[i2], X[i3]
    r0, r1, r2, r3 = intercept - y[i0], intercept - y[i1], intercept - y[i2], intercept - y[i3]
    for j in range(x0.shape[0]):
        c = coef[j]
        r0 += x0[j] * c
        r1 += x1[j] * c
        r2 += x2[j] * c
        r3 += x3[j] * c
    v0, s0 = pointwise(loss, r0, delta)
    v1, s1 = pointwise(loss, r1, delta)
    v2, s2 = pointwise(loss, r2, delta)
    v3, s3 = pointwise(loss, r3, delta)
    for j in range(x0.shape[0]):
        grad_out[j] += (s0 * x0[j] + s1 * x1[j]) + (s2 * x2[j] + s3 * x3[j])
    return (v0 + v1) + (v2 + v3), (s0 + s1) + (s2 + s3)


@jit(inline="always")
def _two_rows(X, y, coef, intercept, loss, delta, i, grad_out):  # type: ignore[no-untyped-def]
    """Add the gradients of rows ``i, i+1`` to ``grad_out[:d]``; return ``(sum of values, sum of slopes)``.

    The step of the full-pass kernel for wide rows: the two residuals in one
    loop, the two contributions in one pass over ``grad_out``.  Measured
    against four rows a step (:func:`_four_rows`) on 1,000,000 x 100 with the
    prefetch of each step's rows: 1.27-1.28x the read against 1.30-1.35x in
    float64, 1.17-1.22x against 1.22-1.27x in float32 (two runs).
    """
    x0, x1 = X[i], X[i + 1]
    r0, r1 = intercept - y[i], intercept - y[i + 1]
    for j in range(x0.shape[0]):
        c = coef[j]
        r0 += x0[j] * c
        r1 += x1[j] * c
    v0, s0 = pointwise(loss, r0, delta)
    v1, s1 = pointwise(loss, r1, delta)
    for j in range(x0.shape[0]):
        grad_out[j] += s0 * x0[j] + s1 * x1[j]
    return v0 + v1, s0 + s1


#: Rows of at most this many bytes (32 float64 or 64 float32 features) are
#: processed eight at a time: for short rows the per-row loop overhead, not
#: the memory, bounds a step of fewer rows (measured on 1,000,000 x 10).
NARROW_ROW_BYTES = 256


@jit(inline="always")
def _eight_residuals(X, y, coef, intercept, i):  # type: ignore[no-untyped-def]
    """The residuals of rows ``i .. i+7``, computed in one loop over the features.

    Eight independent accumulators in one loop: for short rows this beats
    eight separate dot products, each with its own loop set-up and horizontal
    reduction.
    """
    x0, x1, x2, x3 = X[i], X[i + 1], X[i + 2], X[i + 3]
    x4, x5, x6, x7 = X[i + 4], X[i + 5], X[i + 6], X[i + 7]
    r0, r1, r2, r3 = intercept - y[i], intercept - y[i + 1], intercept - y[i + 2], intercept - y[i + 3]
    r4, r5, r6, r7 = intercept - y[i + 4], intercept - y[i + 5], intercept - y[i + 6], intercept - y[i + 7]
    for j in range(x0.shape[0]):
        c = coef[j]
        r0 += x0[j] * c
        r1 += x1[j] * c
        r2 += x2[j] * c
        r3 += x3[j] * c
        r4 += x4[j] * c
        r5 += x5[j] * c
        r6 += x6[j] * c
        r7 += x7[j] * c
    return (r0, r1, r2, r3), (r4, r5, r6, r7)


@jit(inline="always")
def _eight_pointwise(X, y, coef, intercept, loss, delta, i):  # type: ignore[no-untyped-def]
    """Loss values and slopes of rows ``i .. i+7``: ``((v0, ..., v7), (s0, ..., s7))``."""
    (r0, r1, r2, r3), (r4, r5, r6, r7) = _eight_residuals(X, y, coef, intercept, i)
    v0, s0 = pointwise(loss, r0, delta)
    v1, s1 = pointwise(loss, r1, delta)
    v2, s2 = pointwise(loss, r2, delta)
    v3, s3 = pointwise(loss, r3, delta)
    v4, s4 = pointwise(loss, r4, delta)
    v5, s5 = pointwise(loss, r5, delta)
    v6, s6 = pointwise(loss, r6, delta)
    v7, s7 = pointwise(loss, r7, delta)
    return (v0, v1, v2, v3, v4, v5, v6, v7), (s0, s1, s2, s3, s4, s5, s6, s7)


@jit(inline="always")
def _sum_of_eight(v):  # type: ignore[no-untyped-def]
    """``((v0 + v1) + (v2 + v3)) + ((v4 + v5) + (v6 + v7))``: the pairwise order every eight-row step uses."""
    return ((v[0] + v[1]) + (v[2] + v[3])) + ((v[4] + v[5]) + (v[6] + v[7]))


@jit(inline="always")
def _eight_rows(X, y, coef, intercept, loss, delta, i, grad_out):  # type: ignore[no-untyped-def]
    """Add the gradients of rows ``i .. i+7`` to ``grad_out[:d]``; return ``(sum of values, sum of slopes)``."""
    values, slopes = _eight_pointwise(X, y, coef, intercept, loss, delta, i)
    s0, s1, s2, s3, s4, s5, s6, s7 = slopes
    x0, x1, x2, x3 = X[i], X[i + 1], X[i + 2], X[i + 3]
    x4, x5, x6, x7 = X[i + 4], X[i + 5], X[i + 6], X[i + 7]
    for j in range(x0.shape[0]):
        low = (s0 * x0[j] + s1 * x1[j]) + (s2 * x2[j] + s3 * x3[j])
        high = (s4 * x4[j] + s5 * x5[j]) + (s6 * x6[j] + s7 * x7[j])
        grad_out[j] += low + high
    return _sum_of_eight(values), _sum_of_eight(slopes)


@jit(inline="always")
def _zero(grad_out):  # type: ignore[no-untyped-def]
    for j in range(grad_out.shape[0]):
        grad_out[j] = 0


@jit(inline="always")
def _write_row(X, y, coef, intercept, loss, delta, i, grad_out):  # type: ignore[no-untyped-def]
    """Overwrite ``grad_out`` with row ``i``'s gradient; return its loss value.

    The first row of a batch starts the sum this way, which saves zeroing
    ``grad_out`` (a pass that costs as much as the row itself for SGD).
    """
    n_features = X.shape[1]
    value, slope = pointwise(loss, _residual(X, y, coef, intercept, i), delta)
    for j in range(n_features):
        grad_out[j] = slope * X[i, j]
    grad_out[n_features] = slope
    return value


@jit(inline="always")
def _scale_to_mean(grad_out, count):  # type: ignore[no-untyped-def]
    """Divide the sums in ``grad_out`` by ``count`` (nothing to do for one row)."""
    if count > 1:
        for j in range(grad_out.shape[0]):
            grad_out[j] /= count


@jit()
def block_loss_grad(X, y, coef, intercept, loss, delta, start, stop, grad_out):  # type: ignore[no-untyped-def]
    """Sum (not mean) of losses and gradients over the rows ``start:stop``.

    Each row of ``X`` is read once: its residual is computed and its gradient
    contribution accumulated while the row is in cache.

    Parameters
    ----------
    X, y, coef, intercept, loss, delta
        As in :func:`full_loss_grad`.
    start, stop : int
        Row range, ``0 <= start <= stop <= n``.
    grad_out : ndarray, shape (d + 1,)
        **Overwritten** with ``sum_i slope_i * [X[i], 1]``.

    Returns
    -------
    float
        ``sum_i value(r_i)`` in float64.
    """
    return _block_sums(X, y, coef, intercept, loss, delta, start, stop, grad_out)


@jit(inline="always")
def _block_sums(X, y, coef, intercept, loss, delta, start, stop, grad_out):  # type: ignore[no-untyped-def]
    """Body of :func:`block_loss_grad`, inlined where it is called serially.

    Two rows at a time (:func:`_two_rows`), or eight for narrow rows
    (:func:`_eight_rows`, rows of at most :data:`NARROW_ROW_BYTES`), the
    intercept's gradient summed in a register, and the rows
    :func:`~fastgd.kernels._prefetch.rows_ahead` ahead asked for at each step
    (the hardware prefetcher alone let the read stall during the gradient
    pass).  Fewer than four rows start the sum with the first row instead of
    zeroing ``grad_out`` (for batches of one, zeroing costs as much as the
    row).  (A ``prange`` body calls the non-inlined :func:`block_loss_grad`
    instead: with the loops in a separate function it compiles to faster code.)
    """
    n_features = X.shape[1]
    if stop - start < 4:
        if stop <= start:
            _zero(grad_out)
            return 0.0
        total = _write_row(X, y, coef, intercept, loss, delta, start, grad_out)
        for i in range(start + 1, stop):
            total += _accumulate_row(X, y, coef, intercept, loss, delta, i, grad_out)
        return total
    _zero(grad_out)
    total = 0.0
    slope_total = grad_out[n_features]  # zero, in the gradient's dtype
    i = start
    if n_features * X.itemsize <= NARROW_ROW_BYTES:
        ahead = rows_ahead(X, PREFETCH_BYTES)  # measured better than 1.6 KiB for 10 float64 features
        while i + 8 <= stop:
            prefetch_rows(X, i + ahead, i + ahead + 8)
            value, slope = _eight_rows(X, y, coef, intercept, loss, delta, i, grad_out)
            total += value
            slope_total += slope
            i += 8
    ahead = rows_ahead(X, BLOCK_PREFETCH_BYTES)
    while i + 2 <= stop:
        prefetch_rows(X, i + ahead, i + ahead + 2)
        value, slope = _two_rows(X, y, coef, intercept, loss, delta, i, grad_out)
        total += value
        slope_total += slope
        i += 2
    grad_out[n_features] = slope_total
    while i < stop:
        total += _accumulate_row(X, y, coef, intercept, loss, delta, i, grad_out)
        i += 1
    return total


@jit(parallel=True)
def full_loss_grad(X, y, coef, intercept, loss, delta, grad_out, workspace):  # type: ignore[no-untyped-def]
    """Full-batch mean loss and gradient in one pass over ``X`` (parallel).

    Parameters
    ----------
    X : ndarray, shape (n, d), float32 or float64, C-contiguous
    y : ndarray, shape (n,), same dtype
    coef : ndarray, shape (d,), same dtype
    intercept : scalar of the same dtype
    loss : loss object (``LOSSES[name]``) or ``@njit`` loss function
    delta : scalar of the same dtype (Huber threshold; ignored by others)
    grad_out : ndarray, shape (d + 1,), same dtype
        **Overwritten** with the mean gradient ``[grad_coef..., grad_intercept]``.
    workspace : tuple (block_grads, block_losses)
        From :func:`gradient_workspace`; **overwritten** (scratch).

    Returns
    -------
    float
        The mean loss, float64.

    Notes
    -----
    Parallel over fixed blocks of :data:`ROW_BLOCK` rows; the partial sums are
    added in block order, so the result does not depend on the thread count.
    Allocates nothing.
    """
    block_grads, block_losses = workspace
    n_samples = X.shape[0]
    n_blocks = block_losses.shape[0]
    for b in numba.prange(n_blocks):
        start = b * ROW_BLOCK
        stop = min(start + ROW_BLOCK, n_samples)
        block_losses[b] = block_loss_grad(X, y, coef, intercept, loss, delta, start, stop, block_grads[b])
    return _combine_blocks(block_grads, block_losses, n_samples, grad_out)


@jit()
def _combine_blocks(block_grads, block_losses, n_samples, grad_out):  # type: ignore[no-untyped-def]
    """Add the block partials in block order (float64) and divide by ``n``."""
    n_out = grad_out.shape[0]
    total = 0.0
    for j in range(n_out):
        acc = 0.0
        for b in range(block_grads.shape[0]):
            acc += block_grads[b, j]
        grad_out[j] = acc / n_samples
    for b in range(block_losses.shape[0]):
        total += block_losses[b]
    return total / n_samples


@jit(inline="always")
def slice_loss_grad(X, y, coef, intercept, loss, delta, start, stop, grad_out):  # type: ignore[no-untyped-def]
    """Mean loss and gradient over the contiguous rows ``start:stop`` (serial).

    For mini-batches taken in order.  ``grad_out`` (shape ``(d + 1,)``) is
    **overwritten** with the mean gradient; returns the mean loss (float64).
    Allocates nothing.  ``stop > start`` is assumed.

    One row at a time: for batches of a few dozen rows this measured faster
    than the multi-row steps of the full-batch kernel (which also need
    ``grad_out`` zeroed first).  Each row asks for the row
    :func:`~fastgd.kernels._prefetch.rows_ahead` rows further on, past the end
    of the batch too: the next batch's first rows then arrive while the
    optimizer updates, instead of the read stalling at every batch start.
    """
    ahead = rows_ahead(X, PREFETCH_BYTES)
    prefetch_rows(X, start + ahead, start + ahead + 1)
    total = _write_row(X, y, coef, intercept, loss, delta, start, grad_out)
    for i in range(start + 1, stop):
        prefetch_rows(X, i + ahead, i + ahead + 1)
        total += _accumulate_row(X, y, coef, intercept, loss, delta, i, grad_out)
    count = stop - start
    _scale_to_mean(grad_out, count)
    return total / count


@jit(inline="always")
def rows_loss_grad(X, y, coef, intercept, loss, delta, rows, grad_out):  # type: ignore[no-untyped-def]
    """Mean loss and gradient over the rows ``X[rows]`` (serial).

    For shuffled mini-batches: ``rows`` is an integer index array (for example
    a slice of a permutation); ``X`` is never copied.  ``grad_out`` (shape
    ``(d + 1,)``) is **overwritten** with the mean gradient; returns the mean
    loss (float64).  Allocates nothing.  ``len(rows) > 0`` is assumed.
    """
    count = rows.shape[0]
    n_features = X.shape[1]
    if count < 4:
        total = _write_row(X, y, coef, intercept, loss, delta, rows[0], grad_out)
        k = 1
    else:
        # Four rows at a time: their residuals are independent dot products, so
        # the four (randomly placed) rows are fetched from memory concurrently.
        _zero(grad_out)
        total = 0.0
        slope_total = grad_out[n_features]
        k = 0
        while k + 4 <= count:
            value, slope = _four_rows(
                X, y, coef, intercept, loss, delta, (rows[k], rows[k + 1], rows[k + 2], rows[k + 3]), grad_out
            )
            total += value
            slope_total += slope
            k += 4
        grad_out[n_features] = slope_total
    while k < count:
        total += _accumulate_row(X, y, coef, intercept, loss, delta, rows[k], grad_out)
        k += 1
    _scale_to_mean(grad_out, count)
    return total / count


@jit()
def _block_loss(X, y, coef, intercept, loss, delta, start, stop):  # type: ignore[no-untyped-def]
    """Sum of the loss values of rows ``start:stop``.

    Rows wider than :data:`NARROW_ROW_BYTES` one at a time, asking for the row
    :data:`~fastgd.kernels._prefetch.BLOCK_PREFETCH_BYTES` ahead at each one
    (on 1,000,000 x 100 float32: 1.14x the read, against 1.35x for four
    independent residuals at a time without a prefetch; float64 1.08-1.11x
    either way, one run).  Narrow rows eight at a time
    (:func:`_eight_pointwise`) with the gradient kernel's narrow-row prefetch:
    on 1,000,000 x 10, 1.14-1.22x the read in float64 and 1.9x in float32,
    against 1.75-1.82x and 2.1-2.3x for four separate residuals at a time
    without a prefetch (one run).
    """
    total = 0.0
    i = start
    if X.shape[1] * X.itemsize > NARROW_ROW_BYTES:
        ahead = rows_ahead(X, BLOCK_PREFETCH_BYTES)
        while i < stop:
            prefetch_rows(X, i + ahead, i + ahead + 1)
            value, _ = pointwise(loss, _dot(X[i], coef, intercept - y[i]), delta)
            total += value
            i += 1
        return total
    ahead = rows_ahead(X, PREFETCH_BYTES)
    while i + 8 <= stop:
        prefetch_rows(X, i + ahead, i + ahead + 8)
        values, _ = _eight_pointwise(X, y, coef, intercept, loss, delta, i)
        total += _sum_of_eight(values)
        i += 8
    while i < stop:
        value, _ = pointwise(loss, _residual(X, y, coef, intercept, i), delta)
        total += value
        i += 1
    return total


@jit(parallel=True)
def full_loss(X, y, coef, intercept, loss, delta, block_losses):  # type: ignore[no-untyped-def]
    """Mean loss over all rows in one pass (parallel, thread-count independent).

    ``block_losses`` is float64 scratch of shape ``(n_row_blocks(n),)``,
    **overwritten**.  Returns the mean loss (float64).
    """
    n_samples = X.shape[0]
    n_blocks = block_losses.shape[0]
    for b in numba.prange(n_blocks):
        start = b * ROW_BLOCK
        stop = min(start + ROW_BLOCK, n_samples)
        block_losses[b] = _block_loss(X, y, coef, intercept, loss, delta, start, stop)
    total = 0.0
    for b in range(n_blocks):
        total += block_losses[b]
    return total / n_samples


@jit()
def _predict_rows(X, coef, intercept, start, stop, out):  # type: ignore[no-untyped-def]
    n_features = X.shape[1]
    for i in range(start, stop):
        p = intercept
        for j in range(n_features):
            p += X[i, j] * coef[j]
        out[i] = p


@jit(parallel=True)
def predict_into(X, coef, intercept, out):  # type: ignore[no-untyped-def]
    """``out[:] = X @ coef + intercept`` (``out`` of shape (n,)) in one parallel pass; ``out`` is **overwritten**."""
    n_samples = X.shape[0]
    n_blocks = (n_samples + ROW_BLOCK - 1) // ROW_BLOCK
    for b in numba.prange(n_blocks):
        start = b * ROW_BLOCK
        _predict_rows(X, coef, intercept, start, min(start + ROW_BLOCK, n_samples), out)
