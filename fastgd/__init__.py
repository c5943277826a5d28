"""fastgd: fast, exact gradient descent for regression, compiled with Numba.

The public API:

* data: :func:`make_regression`, :class:`Dataset`;
* losses: :func:`loss_and_grad`, :func:`loss_value`, :func:`predict`;
* kernels for your own ``@njit`` code: :mod:`fastgd.kernels`.
"""

from . import kernels
from .regression import loss_and_grad, loss_value, predict

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "kernels",
    "loss_and_grad",
    "loss_value",
    "predict",
]
