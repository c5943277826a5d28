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
  pass, so validation never costs an extra pass over ``X``;
* masked arrays (:mod:`numpy.ma`) are rejected: fastgd would otherwise train on
  the fill values under the mask;
* pandas objects are converted column by column: nullable extension dtypes
  (``Int64``, ``Float64``, ``boolean``) become float when they hold no missing
  value, and a column that cannot be converted is named in the error;
* seeds are integers in ``[0, 2**63)`` (:func:`check_seed`) so that no two
  seeds ever give the same random numbers, and hyper-parameters must survive
  rounding to the data's dtype (:func:`check_representable`).
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
    "SEED_LIMIT",
    "UNIT_HALF_OPEN",
    "as_array",
    "as_float_matrix",
    "as_float_vector",
    "check_finite_scalar",
    "check_int",
    "check_positive_scalar",
    "check_real",
    "check_representable",
    "check_seed",
    "raise_for_nonfinite",
    "readonly",
]

_FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))

#: Seeds are integers in ``[0, SEED_LIMIT)``: they fit in a signed 64-bit
#: integer, and every one of them gives its own random numbers.
SEED_LIMIT = 2**63


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


def _frame_to_array(frame: Any, name: str) -> np.ndarray:
    """A pandas DataFrame or Series as a NumPy array, checked column by column.

    Nullable extension dtypes (``Int64``, ``Float64``, ``boolean``, ...) are
    converted to their NumPy dtype when the column holds no missing value;
    a column with a missing value or a non-numeric dtype raises
    ``ValueError`` naming the column and its dtype.
    """
    columns = list(frame.items()) if hasattr(frame, "columns") else [(getattr(frame, "name", None), frame)]
    dtypes = []
    for label, column in columns:
        dtype = column.dtype
        numpy_dtype = dtype if isinstance(dtype, np.dtype) else getattr(dtype, "numpy_dtype", None)
        where = f"{name} column {label!r}" if hasattr(frame, "columns") else f"{name} (a pandas Series)"
        if not isinstance(numpy_dtype, np.dtype) or numpy_dtype.kind not in "biuf":
            raise ValueError(f"{where} has dtype {dtype}, which is not a real numeric dtype")
        if not isinstance(dtype, np.dtype) and bool(column.isna().any()):
            raise ValueError(f"{where} (dtype {dtype}) has missing values (pd.NA); drop or fill them first")
        dtypes.append(numpy_dtype)
    target = np.result_type(*dtypes) if dtypes else np.dtype(np.float64)
    return np.asarray(frame.to_numpy(dtype=target))


def as_array(value: Any, name: str) -> np.ndarray:
    """``np.asarray(value)``, with errors that name the argument.

    Masked arrays are rejected (``TypeError``): the masked cells hold fill
    values that would be trained on.  pandas objects are converted column by
    column (see :func:`_frame_to_array`).  A ragged nested list (rows of
    different lengths) raises ``ValueError`` naming ``name``.
    """
    if isinstance(value, np.ma.MaskedArray):
        raise TypeError(
            f"{name} is a masked array (numpy.ma), which fastgd does not support: the masked cells would be "
            f"trained on; remove the masked rows or fill them (e.g. {name}.filled(value)) first"
        )
    if type(value).__module__.startswith("pandas") and hasattr(value, "dtypes") and hasattr(value, "to_numpy"):
        return _frame_to_array(value, name)
    try:
        return np.asarray(value)
    except (ValueError, TypeError) as error:
        raise ValueError(
            f"{name} cannot be converted to a rectangular numeric array (ragged rows of different lengths?): {error}"
        ) from None


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
        If ``X`` is not 2-D, has no rows or no columns, is ragged, or is not
        real-valued.
    TypeError
        If ``X`` is a masked array.
    """
    array = as_array(X, name)
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
    TypeError
        If ``v`` is a masked array.
    """
    array = as_array(v, name)
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


def check_seed(seed: Any, name: str = "seed") -> int:
    """``seed`` as an int in ``[0, 2**63)``, else ``ValueError`` naming ``name``.

    Every seed in the range gives its own random numbers; a seed outside it is
    rejected rather than silently reduced (``2**64`` would otherwise act as
    ``0``).  Booleans and floats are rejected.

    Parameters
    ----------
    seed : int
        The seed to check (a NumPy integer is accepted).
    name : str, default "seed"
        Argument name used in error messages (e.g. ``"random_state"``).

    Returns
    -------
    int
    """
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, numbers.Integral):
        raise ValueError(f"{name} must be an integer in [0, 2**63), got {seed!r}")
    value = int(seed)
    if not 0 <= value < SEED_LIMIT:
        raise ValueError(f"{name} must be an integer in [0, 2**63), got {value}")
    return value


def check_representable(value: float, name: str, dtype: Any, *, below_one: bool = False) -> None:
    """Raise ``ValueError`` if a non-zero ``value`` does not survive rounding to ``dtype``.

    A hyper-parameter that rounds to 0 or to infinity in the data's dtype
    (``delta=1e-50`` or ``eps=1e-50`` in float32) would silently change the
    computation; with ``below_one`` a value below 1 must also stay below 1
    (``beta2 = 1 - 1e-10`` rounds to 1 in float32).

    Parameters
    ----------
    value : float
        The (already validated, finite) value.
    name : str
        Argument name used in the message.
    dtype : numpy dtype
        The dtype the value is cast to (the data's).
    below_one : bool, default False
        Also require ``dtype(value) < 1``.
    """
    dt = np.dtype(dtype)
    with np.errstate(over="ignore", under="ignore"):
        rounded = dt.type(value)
    if value != 0 and (rounded == 0 or not np.isfinite(rounded)):
        raise ValueError(
            f"{name}={value!r} is not representable in {dt} (it rounds to {rounded}); "
            f"use a value within the range of {dt} or float64 data"
        )
    if below_one and value < 1 and rounded >= 1:
        raise ValueError(f"{name}={value!r} rounds to 1 in {dt}; use a value further from 1 or float64 data")


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
