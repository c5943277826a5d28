"""fastgd: fast, exact gradient descent for regression, compiled with Numba."""

from . import kernels

__version__ = "0.1.0"

__all__ = ["__version__", "kernels"]
