"""The memory floor: one vectorised, parallel read of every element of ``X``.

Every kernel that must look at each row of ``X`` once -- a full-batch gradient,
a loss evaluation, an epoch of any method -- can go no faster than reading
``X`` once.  :func:`stream_read` is that read and nothing else: the sum of all
elements, over the same fixed :data:`~fastgd.kernels.ROW_BLOCK`-row blocks as
the other parallel kernels, each block summed by one vectorised loop in ``X``'s
dtype.  The benchmark suite and the study's machine probe time it next to the
kernels, so every report states each kernel's time as a ratio to this floor
measured in the same run.  (One BLAS ``X @ coef`` is not a floor: its speed
depends on the BLAS kernel chosen for the CPU.)
"""

from __future__ import annotations

import numba

from .._jit import jit
from .gradients import ROW_BLOCK

__all__ = ["stream_read"]


@jit()
def _span_sum(values):  # type: ignore[no-untyped-def]
    """Sum of a contiguous 1-D span in its own dtype (vectorised under the fast-math policy)."""
    total = values.dtype.type(0)
    for k in range(values.shape[0]):
        total += values[k]
    return total


@jit(parallel=True)
def stream_read(X, block_sums):  # type: ignore[no-untyped-def]
    """Read every element of ``X`` once and return their sum: the streaming-read floor (parallel).

    Parameters
    ----------
    X : ndarray, shape (n, d), float32 or float64, C-contiguous
    block_sums : ndarray, shape (n_row_blocks(n),), float64
        **Overwritten** with one partial sum per block of
        :data:`~fastgd.kernels.ROW_BLOCK` rows (scratch).

    Returns
    -------
    float
        The sum of all elements (float64), partials added in block order.

    Notes
    -----
    Each block's rows are one contiguous span of memory, summed by one loop
    from its start (the loop index provably in range, so LLVM vectorises it
    with several accumulators).  The value only serves to keep the read from
    being optimised away; the time is the point.  Allocates nothing.
    """
    n_samples, n_features = X.shape
    flat = X.reshape(n_samples * n_features)
    n_blocks = block_sums.shape[0]
    for b in numba.prange(n_blocks):
        start = b * ROW_BLOCK
        stop = min(start + ROW_BLOCK, n_samples)
        block_sums[b] = _span_sum(flat[start * n_features : stop * n_features])
    total = 0.0
    for b in range(n_blocks):
        total += block_sums[b]
    return total
