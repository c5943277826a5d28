r"""The certified optimum of a (dataset, loss): what suboptimality is measured against.

``l2``
    Exact least squares from **one pass** of the normal equations in float64: the Gram matrix of
    ``[X, 1]`` and ``[X, 1].T @ y`` accumulated over row chunks (float32 data converted chunk by
    chunk), solved with :func:`numpy.linalg.solve` (``lstsq`` if singular).  ``kind="normal_equations"``.
``l1``
    Exact least absolute deviations by HiGHS' interior-point LP solver with crossover
    (:func:`scipy.optimize.linprog`, ``method="highs-ipm"``), on the *dual* problem

    .. math::

        \max_a\; y^\top a \quad\text{s.t.}\quad [X, 1]^\top a = 0,\; |a_i| \le 1/n,

    which has only ``d + 1`` equality rows; the primal coefficients are their duals.  Strong
    duality certifies the answer: the mean absolute residual at those coefficients must equal the dual
    objective (a lower bound on every model's loss) to within :data:`L1_GAP_TOLERANCE`, else no
    optimum is claimed.  Done only when ``n_samples * (n_features + 1) <= size_limit`` (default 6
    million: 50,000 x 100 solves in about 6 s here).  ``kind="highs_lp"``.
``huber``
    None (no closed form).

Without a certified optimum (``kind=None``) the rows carry no suboptimality.

The returned ``loss`` is :func:`fastgd.loss_value` on the data as given, as every run's loss is.
"""

from __future__ import annotations

import importlib.util
from typing import NamedTuple

import numpy as np

__all__ = [
    "DEFAULT_LP_SIZE_LIMIT",
    "L1_GAP_TOLERANCE",
    "Optimum",
    "certified_optimum",
    "least_absolute_deviations",
    "least_squares",
]

#: Largest ``n_samples * (n_features + 1)`` solved exactly by the L1 linear program.
DEFAULT_LP_SIZE_LIMIT = 6_000_000
#: Largest relative primal-dual gap accepted as a certificate of the L1 optimum.
L1_GAP_TOLERANCE = 1e-7
_CHUNK_ROWS = 65_536


class Optimum(NamedTuple):
    """A certified optimum: ``loss`` (fastgd's definition), float64 ``coef``, ``intercept``, ``kind``.

    ``kind`` is ``"normal_equations"`` or ``"highs_lp"``; every field is ``None`` when there is none.
    """

    loss: float | None
    coef: np.ndarray | None
    intercept: float | None
    kind: str | None


NO_OPTIMUM = Optimum(None, None, None, None)


def least_squares(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """Exact least-squares ``(coef, intercept)`` from one float64 pass of the normal equations.

    Parameters
    ----------
    X : ndarray (n_samples, n_features), float32 or float64
    y : ndarray (n_samples,)

    Returns
    -------
    coef : ndarray (n_features,) float64
    intercept : float
    """
    n_samples, n_features = X.shape
    gram = np.zeros((n_features + 1, n_features + 1))
    moment = np.zeros(n_features + 1)
    for start in range(0, n_samples, _CHUNK_ROWS):
        block = np.asarray(X[start : start + _CHUNK_ROWS], dtype=np.float64)
        target = np.asarray(y[start : start + _CHUNK_ROWS], dtype=np.float64)
        column_sums = block.sum(axis=0)
        gram[:n_features, :n_features] += block.T @ block
        gram[:n_features, n_features] += column_sums
        moment[:n_features] += block.T @ target
        moment[n_features] += target.sum()
    gram[n_features, :n_features] = gram[:n_features, n_features]
    gram[n_features, n_features] = n_samples
    try:
        solution = np.linalg.solve(gram, moment)
    except np.linalg.LinAlgError:
        solution = np.linalg.lstsq(gram, moment, rcond=None)[0]
    return solution[:n_features], float(solution[n_features])


def least_absolute_deviations(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float, float] | None:
    """Exact least-absolute-deviations fit by the dual linear program (HiGHS).

    Returns
    -------
    (coef, intercept, dual_objective) or None
        ``dual_objective`` is the certified lower bound on the mean absolute
        residual of any linear model; ``None`` when HiGHS fails.
    """
    from scipy.optimize import linprog

    n_samples, n_features = X.shape
    constraints = np.empty((n_features + 1, n_samples))
    constraints[:n_features] = X.T
    constraints[n_features] = 1.0
    bound = 1.0 / n_samples
    result = linprog(
        c=-np.asarray(y, dtype=np.float64),
        A_eq=constraints,
        b_eq=np.zeros(n_features + 1),
        bounds=(-bound, bound),
        method="highs-ipm",
    )
    if result.status != 0 or result.eqlin is None:
        return None
    duals = np.asarray(result.eqlin.marginals, dtype=np.float64)
    dual_objective = -float(result.fun)
    # The primal solution is the dual of the equality rows up to HiGHS' sign
    # convention; keep the sign whose loss meets the dual bound.
    X64 = np.asarray(X, dtype=np.float64)
    fits = [(sign * duals[:n_features], float(sign * duals[n_features])) for sign in (1.0, -1.0)]
    value, coef, intercept = min((float(np.mean(np.abs(X64 @ c + b - y))), c, b) for c, b in fits)
    if value - dual_objective > L1_GAP_TOLERANCE * max(1.0, abs(dual_objective)):
        return None
    return coef, intercept, dual_objective


def certified_optimum(
    X: np.ndarray,
    y: np.ndarray,
    loss: str,
    *,
    delta: float = 1.0,
    size_limit: int = DEFAULT_LP_SIZE_LIMIT,
) -> Optimum:
    """The certified optimum of ``loss`` on ``(X, y)`` (see the module docstring).

    Parameters
    ----------
    X, y : ndarray
    loss : {"l2", "l1", "huber"}
    delta : float
        Huber threshold (used only to evaluate the loss).
    size_limit : int
        Largest ``n_samples * (n_features + 1)`` for the L1 linear program.

    Returns
    -------
    Optimum
        ``kind=None`` (and every field ``None``) for Huber, or an L1 problem above ``size_limit``.
    """
    from fastgd import loss_value

    if loss == "l2":
        coef, intercept = least_squares(X, y)
        kind = "normal_equations"
    elif loss == "l1":
        if X.shape[0] * (X.shape[1] + 1) > size_limit or importlib.util.find_spec("scipy") is None:
            return NO_OPTIMUM  # too large for the LP, or SciPy (the peers extra) is not installed
        solved = least_absolute_deviations(X, y)
        if solved is None:
            return NO_OPTIMUM
        coef, intercept, _ = solved
        kind = "highs_lp"
    elif loss == "huber":
        return NO_OPTIMUM
    else:
        raise ValueError(f"unknown loss {loss!r}")
    value = loss_value(X, y, coef, intercept, loss=loss, delta=delta)
    return Optimum(float(value), np.asarray(coef, dtype=np.float64), float(intercept), kind)
