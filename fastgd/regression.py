r"""Validated Python entry points to the loss and gradient kernels.

Conventions (mean reduction; the same as PyTorch's ``MSELoss``, ``L1Loss`` and
``HuberLoss``)::

    r = X @ coef + intercept - y
    l2    : mean(r**2)                 grad_coef = 2/n * X.T @ r
    l1    : mean(|r|)                  grad_coef = 1/n * X.T @ sign(r),  sign(0) = 0
    huber : mean(0.5 r**2 if |r| <= delta else delta * (|r| - 0.5 delta))
                                       grad_coef = 1/n * X.T @ clip(r, -delta, delta)

and ``grad_intercept`` is the mean of the same per-sample slopes.
"""

from __future__ import annotations

import warnings
from typing import Any, NamedTuple

import numpy as np

from ._validation import (
    as_float_matrix,
    as_float_vector,
    check_finite_scalar,
    check_positive_scalar,
    check_representable,
    raise_for_nonfinite,
)
from .kernels import full_loss, full_loss_grad, get_loss, gradient_workspace, n_row_blocks, predict_into

__all__ = ["loss_and_grad", "loss_value", "predict"]


class _Checked(NamedTuple):
    """The arguments of a loss call, validated and converted to the dtype of ``X``."""

    X: np.ndarray
    y: np.ndarray
    coef: np.ndarray
    intercept: Any
    loss: Any
    delta: Any


def _prepare(X: Any, y: Any, coef: Any, intercept: Any, loss: str, delta: Any) -> _Checked:
    loss_object = get_loss(loss)
    delta_value = check_positive_scalar(delta, "delta")
    X_checked = as_float_matrix(X, "X")
    n_samples, n_features = X_checked.shape
    dtype = X_checked.dtype
    if loss == "huber":
        check_representable(delta_value, "delta", dtype)
    intercept_value = check_finite_scalar(intercept, "intercept")
    check_representable(intercept_value, "intercept", dtype)
    return _Checked(
        X=X_checked,
        y=as_float_vector(y, n_samples, dtype, "y", "n_samples"),
        coef=as_float_vector(coef, n_features, dtype, "coef", "n_features"),
        intercept=dtype.type(intercept_value),
        loss=loss_object,
        delta=dtype.type(delta_value),
    )


def _check_result(value: float, X: np.ndarray, grad: np.ndarray | None = None) -> None:
    finite = np.isfinite(value) and (grad is None or bool(np.isfinite(grad).all()))
    if not finite:
        raise_for_nonfinite(X, "X")
        warnings.warn("loss or gradient overflowed to a non-finite value", RuntimeWarning, stacklevel=3)


def loss_and_grad(
    X: Any,
    y: Any,
    coef: Any,
    intercept: float = 0.0,
    *,
    loss: str = "l2",
    delta: float = 1.0,
) -> tuple[float, np.ndarray, float]:
    """Mean loss and its gradient for a linear model, in one pass over ``X``.

    Parameters
    ----------
    X : array_like, shape (n_samples, n_features)
        Design matrix.  float32 stays float32; integer and other real dtypes
        are converted to float64; non-contiguous input is copied once.
    y : array_like, shape (n_samples,)
        Targets (converted to the dtype of ``X``).
    coef : array_like, shape (n_features,)
        Coefficients (converted to the dtype of ``X``).
    intercept : float, default 0.0
    loss : {"l2", "l1", "huber"}, default "l2"
        See the module docstring for the definitions.
    delta : float, default 1.0
        Huber threshold (> 0); ignored by the other losses.

    Returns
    -------
    loss : float
        Mean loss (accumulated in float64).
    grad_coef : ndarray, shape (n_features,), dtype of ``X``
        Gradient with respect to ``coef``.
    grad_intercept : float
        Gradient with respect to ``intercept``.

    Raises
    ------
    ValueError
        On shape or dimensionality mismatch, empty data, NaN or infinity in
        ``X``, ``y``, ``coef`` or ``intercept``, an unknown ``loss``,
        ``delta <= 0``, a ``delta`` or ``intercept`` that rounds to 0 or
        infinity in the dtype of ``X``, or a ragged ``X``.
    TypeError
        If ``X``, ``y`` or ``coef`` is a masked array.

    Examples
    --------
    >>> import numpy as np, fastgd
    >>> X = np.array([[1.0, 2.0], [3.0, 4.0]])
    >>> value, grad, grad_b = fastgd.loss_and_grad(X, [1.0, 2.0], [0.0, 0.0])
    >>> value, grad.tolist(), grad_b
    (2.5, [-7.0, -10.0], -3.0)
    """
    c = _prepare(X, y, coef, intercept, loss, delta)
    n_samples, n_features = c.X.shape
    grad_out = np.empty(n_features + 1, dtype=c.X.dtype)
    workspace = gradient_workspace(n_samples, n_features, c.X.dtype)
    value = full_loss_grad(c.X, c.y, c.coef, c.intercept, c.loss, c.delta, grad_out, workspace)
    _check_result(value, c.X, grad_out)
    return float(value), grad_out[:n_features].copy(), float(grad_out[n_features])


def loss_value(
    X: Any,
    y: Any,
    coef: Any,
    intercept: float = 0.0,
    *,
    loss: str = "l2",
    delta: float = 1.0,
) -> float:
    """Mean loss of a linear model (one parallel pass over ``X``).

    Parameters and validation as in :func:`loss_and_grad`.

    Returns
    -------
    float
        The mean loss, accumulated in float64.
    """
    c = _prepare(X, y, coef, intercept, loss, delta)
    block_losses = np.empty(n_row_blocks(c.X.shape[0]), dtype=np.float64)
    value = full_loss(c.X, c.y, c.coef, c.intercept, c.loss, c.delta, block_losses)
    _check_result(value, c.X)
    return float(value)


def predict(X: Any, coef: Any, intercept: float = 0.0) -> np.ndarray:
    """Predictions ``X @ coef + intercept`` of a linear model.

    Parameters
    ----------
    X : array_like, shape (n_samples, n_features)
    coef : array_like, shape (n_features,)
    intercept : float, default 0.0

    Returns
    -------
    ndarray, shape (n_samples,), dtype of ``X`` (float32 or float64)
    """
    X_c = as_float_matrix(X, "X")
    coef_c = as_float_vector(coef, X_c.shape[1], X_c.dtype, "coef", "n_features")
    b = X_c.dtype.type(check_finite_scalar(intercept, "intercept"))
    out = np.empty(X_c.shape[0], dtype=X_c.dtype)
    predict_into(X_c, coef_c, b, out)
    return out
