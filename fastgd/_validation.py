"""Input checking and coercion for the public Python API (the kernels assume clean input).

Rules, in the spirit of scikit-learn's ``check_array``:

* float32 and float64 arrays keep their dtype; every other real numeric dtype
  (integers, booleans, float16) is converted to float64; complex and object
  arrays are rejected;
* arrays that are not C-contiguous are copied once into C order;
* arrays are handed to kernels as **read-only views** (no copy), so a kernel
  compiles once per dtype whether the caller's array is writable, read-only or
  a read-only memory map;
* NaN and infinity in ``y``, ``coef`` and scalars are rejected up front; in
  ``X`` they are detected from the (non-finite) result of the kernel's single
  pass, so validation never costs an extra pass over ``X``.
"""

from __future__ import annotations

import math
import numbers
import operator
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = [
    "NON_NEGATIVE",
    "POSITIVE",
    "UNIT_HALF_OPEN",
    "as_float_matrix",
    "as_float_vector",
    "check_finite_scalar",
    "check_int",
    "check_real",
    "check_positive_scalar",
    "raise_for_nonfinite",
    "readonly",
]

_FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _float_dtype_for(array: np.ndarray, name: str) -> np.dtype:
    kind = array.dtype.kind
    if array.dtype in _FLOAT_DTYPES:
        return array.dtype
    if kind in "biuf":
        return np.dtype(np.float64)
    raise ValueError(f"{name} must be a real numeric array, got dtype {array.dtype}")


def readonly(array: np.ndarray) -> np.ndarray:
    """Return a read-only view of ``array`` (no copy)."""
    view = array.view(np.ndarray)
    view.flags.writeable = False
    return view


def as_float_matrix(X: Any, name: str = "X") -> np.ndarray:
    """Check and coerce a 2-D design matrix.

    Parameters
    ----------
    X : array_like, shape (n_samples, n_features)
    name : str
        Argument name used in error messages.

    Returns
    -------
    ndarray
        C-contiguous float32/float64 read-only view (copied only if the dtype
        or memory layout had to change).

    Raises
    ------
    ValueError
        If ``X`` is not 2-D, has no rows or no columns, or is not real-valued.
    """
    array = np.asarray(X)
    if array.ndim != 2:
        raise ValueError(
            f"{name} must be a 2-D array of shape (n_samples, n_features), got {array.ndim}-D with shape {array.shape}"
        )
    if array.shape[0] < 1:
        raise ValueError(f"{name} is empty: it has 0 samples (shape {array.shape})")
    if array.shape[1] < 1:
        raise ValueError(f"{name} has 0 features (shape {array.shape})")
    dtype = _float_dtype_for(array, name)
    return readonly(np.ascontiguousarray(array, dtype=dtype))


def as_float_vector(v: Any, length: int, dtype: np.dtype, name: str, what: str) -> np.ndarray:
    """Check and coerce a 1-D vector of a given length, converted to ``dtype``.

    Parameters
    ----------
    v : array_like, shape (length,)
    length : int
        Required length.
    dtype : numpy dtype
        Target float dtype (the dtype of ``X``).
    name : str
        Argument name used in error messages.
    what : str
        What ``length`` counts, for the message (e.g. ``"n_samples"``).

    Raises
    ------
    ValueError
        On wrong dimensionality, length, dtype kind, or any NaN/inf.
    """
    array = np.asarray(v)
    if array.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of length {what}={length}, got shape {array.shape}")
    if array.shape[0] != length:
        raise ValueError(f"{name} has length {array.shape[0]} but {what} is {length}")
    _float_dtype_for(array, name)
    array = np.ascontiguousarray(array, dtype=dtype)
    if not np.isfinite(array).all():
        raise ValueError(f"{name} contains NaN or infinity")
    return readonly(array)


def check_finite_scalar(value: Any, name: str) -> float:
    """Return ``value`` as a float, or raise ``ValueError`` naming ``name``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, np.floating, np.integer)):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    result = float(value)
    if not math.isfinite(result):
        raise ValueError(f"{name} must be finite, got {result}")
    return result


#: ``(predicate, description)`` pairs for :func:`check_real`.
POSITIVE = (lambda x: x > 0, "> 0")
NON_NEGATIVE = (lambda x: x >= 0, ">= 0")
UNIT_HALF_OPEN = (lambda x: 0 <= x < 1, "in [0, 1)")


def check_real(name: str, value: Any, ok: Callable[[float], bool], requirement: str) -> float:
    """``value`` as a finite float with ``ok(value)`` true, else ``ValueError`` naming ``name``.

    Booleans are rejected (``True`` is not a learning rate).
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    result = float(value)
    if not math.isfinite(result) or not ok(result):
        raise ValueError(f"{name} must be finite and {requirement}, got {result!r}")
    return result


def check_int(value: Any, name: str, low: int, high: int | None = None) -> int:
    """``value`` as an int in ``[low, high]``, or ``ValueError`` naming ``name``."""
    if isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    try:
        result = operator.index(value)
    except TypeError:
        raise ValueError(f"{name} must be an integer, got {value!r}") from None
    if result < low or (high is not None and result > high):
        bound = f">= {low}" if high is None else f"in [{low}, {high}]"
        raise ValueError(f"{name} must be {bound}, got {result}")
    return result


def check_positive_scalar(value: Any, name: str) -> float:
    """Return ``value`` as a float if finite and > 0, else raise ``ValueError``."""
    result = check_finite_scalar(value, name)
    if result <= 0:
        raise ValueError(f"{name} must be > 0, got {result}")
    return result


def raise_for_nonfinite(X: np.ndarray, name: str = "X") -> None:
    """Raise ``ValueError`` if ``X`` holds NaN or infinity.

    Called only after a kernel returned a non-finite result, so the extra pass
    over ``X`` is paid only on the error path.
    """
    if not np.isfinite(X).all():
        raise ValueError(f"{name} contains NaN or infinity")
