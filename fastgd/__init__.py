"""fastgd: fast, exact gradient descent for regression, compiled with Numba.

The public API:

* data: :func:`make_regression`, :class:`Dataset`;
* losses: :func:`loss_and_grad`, :func:`loss_value`, :func:`predict`;
* training: :func:`fit` (-> :class:`FitResult`), the seed's four methods by
  name with :func:`method`, the rows of a shuffled epoch with
  :func:`epoch_order`, the optimizers :class:`SGD`, :class:`Adam`,
  :class:`AdamW`, :class:`RMSprop`, :class:`Adagrad` and the schedules
  :class:`InverseScaling`, :class:`ExponentialDecay`, :class:`CosineAnnealing`;
* kernels for your own ``@njit`` code: :mod:`fastgd.kernels`.
"""

from . import kernels
from .data import Dataset, make_regression
from .fit import DIVERGENCE_FACTOR, DivergenceWarning, FitResult, fit
from .methods import METHODS, MethodSpec, method
from .optim import OPTIMIZERS, SGD, Adagrad, Adam, AdamW, Optimizer, RMSprop
from .regression import loss_and_grad, loss_value, predict
from .schedules import Constant, CosineAnnealing, ExponentialDecay, InverseScaling, Schedule
from .shuffle import epoch_order

__version__ = "0.1.0"

__all__ = [
    "DIVERGENCE_FACTOR",
    "METHODS",
    "OPTIMIZERS",
    "SGD",
    "Adagrad",
    "Adam",
    "AdamW",
    "Constant",
    "CosineAnnealing",
    "Dataset",
    "DivergenceWarning",
    "ExponentialDecay",
    "FitResult",
    "InverseScaling",
    "MethodSpec",
    "Optimizer",
    "RMSprop",
    "Schedule",
    "__version__",
    "epoch_order",
    "fit",
    "kernels",
    "loss_and_grad",
    "loss_value",
    "make_regression",
    "method",
    "predict",
]
