"""Public Numba kernels: callable from Python and from your own ``@njit`` code.

Every function here is compiled under fastgd's Numba policy (:mod:`fastgd._jit`)
and assumes clean input; each docstring gives shapes, dtypes, which arguments
it overwrites and whether it runs in parallel.  The functions in the top-level
:mod:`fastgd` namespace validate and coerce their arguments and then call these.

* losses: :func:`l2`, :func:`l1`, :func:`huber` (scalar kernels), the registry
  :data:`LOSSES` of loss objects, :func:`pointwise`;
* gradients: :func:`full_loss_grad` (parallel, one pass), :func:`full_loss`
  (parallel), :func:`predict_into` (parallel), :func:`slice_loss_grad`,
  :func:`rows_loss_grad`, :func:`block_loss_grad` (serial, allocation-free);
* optimizers: ``*_update`` kernels over ``*State``/``*Hyper`` NamedTuples and
  :func:`apply_update`;
* schedules: :func:`learning_rate` (any built-in schedule from its
  ``params()`` tuple);
* training: :func:`run_steps` (the compiled epoch loop, its arguments bundled
  in the :class:`Problem`, :class:`UpdateRule`, :class:`LearningRate` and
  :class:`StepRange` NamedTuples) and :func:`permutation_into`;
* probe: :func:`stream_read`, one vectorised parallel read of ``X``: the
  memory floor every kernel that reads all of ``X`` is measured against.
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
from .optim import (
    AdagradHyper,
    AdagradState,
    AdamHyper,
    AdamState,
    AdamWHyper,
    RMSpropHyper,
    RMSpropState,
    SGDHyper,
    SGDState,
    adagrad_update,
    adam_update,
    adamw_update,
    apply_update,
    rmsprop_update,
    sgd_update,
)
from .probe import stream_read
from .schedules import learning_rate
from .training import LearningRate, Problem, StepRange, UpdateRule, n_batches, permutation_into, run_steps

__all__ = [
    "LOSSES",
    "ROW_BLOCK",
    "AdagradHyper",
    "AdagradState",
    "AdamHyper",
    "AdamState",
    "AdamWHyper",
    "HuberLoss",
    "L1Loss",
    "L2Loss",
    "LearningRate",
    "Problem",
    "RMSpropHyper",
    "RMSpropState",
    "SGDHyper",
    "SGDState",
    "StepRange",
    "UpdateRule",
    "adagrad_update",
    "adam_update",
    "adamw_update",
    "apply_update",
    "block_loss_grad",
    "full_loss",
    "full_loss_grad",
    "get_loss",
    "gradient_workspace",
    "huber",
    "l1",
    "l2",
    "learning_rate",
    "n_batches",
    "n_row_blocks",
    "permutation_into",
    "pointwise",
    "predict_into",
    "rmsprop_update",
    "rows_loss_grad",
    "run_steps",
    "sgd_update",
    "slice_loss_grad",
    "stream_read",
]
