"""Public Numba kernels: callable from Python and from your own ``@njit`` code.

Every name here is a compiled Numba function that assumes clean input (see the
docstring of each for shapes, dtypes and which arguments it overwrites).  The
functions in the top-level :mod:`fastgd` namespace validate and coerce their
arguments and then call these.
"""

from .gradients import (
    ROW_BLOCK,
    block_loss_grad,
    full_loss,
    full_loss_grad,
    gradient_workspace,
    n_row_blocks,
    predict_into,
    rows_loss_grad,
    slice_loss_grad,
)
from .losses import LOSSES, HuberLoss, L1Loss, L2Loss, get_loss, huber, l1, l2, pointwise

__all__ = [
    "LOSSES",
    "HuberLoss",
    "L1Loss",
    "L2Loss",
    "ROW_BLOCK",
    "block_loss_grad",
    "full_loss",
    "full_loss_grad",
    "get_loss",
    "gradient_workspace",
    "huber",
    "l1",
    "l2",
    "n_row_blocks",
    "pointwise",
    "predict_into",
    "rows_loss_grad",
    "slice_loss_grad",
]
