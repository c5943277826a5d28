"""Every call fastgd.distributed makes into fastgd's compiled kernels, in one place.

Workers compute, per chunk, the partial sums of each :data:`~fastgd.kernels.ROW_BLOCK`
-row block with the very kernels :func:`fastgd.fit` runs (the parallel
:func:`~fastgd.kernels.full_loss_grad` and :func:`~fastgd.kernels.full_loss`
write one partial per block into the workspace they are given; the mean they
return is discarded).  The driver adds the partials of all blocks in block
order, as :func:`~fastgd.kernels.full_loss_grad` does on one machine, and
applies the optimizer update with :func:`~fastgd.kernels.apply_update`.  With
chunks that are whole numbers of blocks, the blocks are the single-machine
blocks, so every sum, and therefore every update, is bit-identical.

If the kernels' signatures change, this is the only module to adapt.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import kernels
from .._jit import jit
from ..kernels.gradients import _combine_blocks  # the single-machine reduction itself: same loops, same order
from ..schedules import learning_rate

__all__ = ["apply_update", "chunk_grad_blocks", "chunk_loss_blocks", "combine_blocks", "mean_loss", "step_lr"]


def chunk_grad_blocks(
    X: np.ndarray, y: np.ndarray, params: np.ndarray, loss: Any, delta: Any, grad_out: np.ndarray,
    block_grads: np.ndarray, block_losses: np.ndarray,
) -> None:  # fmt: skip
    """Overwrite ``block_grads`` (``(n_blocks, d + 1)``) and ``block_losses`` with the chunk's block sums.

    ``params`` is ``[coef..., intercept]`` in the chunk's dtype; ``grad_out``
    (``(d + 1,)``) is scratch.
    """
    d = X.shape[1]
    kernels.full_loss_grad(X, y, params[:d], params[d], loss, delta, grad_out, (block_grads, block_losses))


def chunk_loss_blocks(
    X: np.ndarray, y: np.ndarray, params: np.ndarray, loss: Any, delta: Any, block_losses: np.ndarray
) -> None:
    """Overwrite ``block_losses`` with the chunk's per-block loss sums (the pass :func:`fastgd.fit` records)."""
    d = X.shape[1]
    kernels.full_loss(X, y, params[:d], params[d], loss, delta, block_losses)


def combine_blocks(block_grads: np.ndarray, block_losses: np.ndarray, n_samples: int, grad_out: np.ndarray) -> float:
    """Mean gradient into ``grad_out`` and mean loss from all blocks' partials, added in block order."""
    return float(_combine_blocks(block_grads, block_losses, n_samples, grad_out))


@jit()
def _sum_in_order(values):  # type: ignore[no-untyped-def]
    total = 0.0
    for b in range(values.shape[0]):
        total += values[b]
    return total


def mean_loss(block_losses: np.ndarray, n_samples: int) -> float:
    """Mean loss from all blocks' loss sums, added in block order (as :func:`~fastgd.kernels.full_loss`)."""
    return float(_sum_in_order(block_losses) / n_samples)


def step_lr(schedule_params: Any, base_lr: float, step: int, epoch: int, n_epochs: int) -> float:
    """The learning rate of 0-based ``step`` (the schedule kernel the training loop calls)."""
    return float(learning_rate(schedule_params, base_lr, step, epoch, n_epochs))


def apply_update(
    params: np.ndarray, grad: np.ndarray, state: Any, hyper: Any, step: int, lr: float, n_decay: int
) -> None:
    """One in-place optimizer update (``step`` is 1-based)."""
    kernels.apply_update(params, grad, state, hyper, step, lr, n_decay)
