"""Obviously-correct references for every fastgd kernel (plain NumPy and loops).

Nothing here is fast or clever on purpose: each function transcribes the
documented formula directly, in float64, so that the compiled kernels
(``comp_*`` in the tests) can be compared against it (``ref_*``).
"""

from __future__ import annotations

import math

import numpy as np

# --------------------------------------------------------------------------
# Losses and gradients
# --------------------------------------------------------------------------


def ref_pointwise(loss: str, r: float, delta: float = 1.0) -> tuple[float, float]:
    """Loss value and d(value)/dr of one residual, straight from the definitions."""
    r = float(r)
    if loss == "l2":
        return r * r, 2.0 * r
    if loss == "l1":
        sign = 1.0 if r > 0 else (-1.0 if r < 0 else 0.0)
        return abs(r), sign
    if loss == "huber":
        if abs(r) <= delta:
            return 0.5 * r * r, r
        sign = 1.0 if r > 0 else -1.0
        return delta * (abs(r) - 0.5 * delta), delta * sign
    raise ValueError(loss)


def ref_residuals(X: np.ndarray, y: np.ndarray, coef: np.ndarray, intercept: float) -> np.ndarray:
    """``r_i = sum_j X[i, j] * coef[j] + intercept - y[i]`` with an explicit loop."""
    X = np.asarray(X, dtype=np.float64)
    out = np.empty(X.shape[0])
    for i in range(X.shape[0]):
        acc = 0.0
        for j in range(X.shape[1]):
            acc += X[i, j] * float(coef[j])
        out[i] = acc + float(intercept) - float(y[i])
    return out


def ref_loss_and_grad(
    X: np.ndarray,
    y: np.ndarray,
    coef: np.ndarray,
    intercept: float,
    loss: str = "l2",
    delta: float = 1.0,
    rows: np.ndarray | None = None,
) -> tuple[float, np.ndarray, float]:
    """Mean loss, mean gradient w.r.t. coef and w.r.t. intercept, over ``rows`` (default all)."""
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if rows is not None:
        X, y = X[rows], y[rows]
    r = ref_residuals(X, y, coef, intercept)
    n = X.shape[0]
    total = 0.0
    grad = np.zeros(X.shape[1])
    grad_b = 0.0
    for i in range(n):
        value, slope = ref_pointwise(loss, r[i], delta)
        total += value
        grad += slope * X[i]
        grad_b += slope
    return total / n, grad / n, grad_b / n


def ref_predict(X: np.ndarray, coef: np.ndarray, intercept: float) -> np.ndarray:
    """``X @ coef + intercept`` by loops."""
    return ref_residuals(X, np.zeros(np.asarray(X).shape[0]), coef, intercept)


def ref_numeric_grad(
    f: "callable[[np.ndarray], float]",  # type: ignore[valid-type]
    params: np.ndarray,
    step: float = 1e-6,
) -> np.ndarray:
    """Central finite differences of ``f`` at ``params``."""
    params = np.asarray(params, dtype=np.float64)
    grad = np.empty_like(params)
    for k in range(params.size):
        h = step * max(1.0, math.fabs(params[k]))
        up, down = params.copy(), params.copy()
        up[k] += h
        down[k] -= h
        grad[k] = (f(up) - f(down)) / (2 * h)
    return grad
