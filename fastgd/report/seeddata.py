"""The numbers behind the seed tutorial's two pictures, computed at report time.

Both computations are tiny (a few dozen scalar steps; two fits on 60 points)
and run whenever a report is written, so the pictures need nothing from the
study's results.

(a) Gradient descent on ``f(x) = x**3 - 2*x**2 + 2`` (``f'(x) = 3x**2 - 4x``,
local minimum at ``x = 4/3``, local maximum at ``x = 0``): the iterates
``w(1) = start, w(k+1) = w(k) - lr * f'(w(k))`` from a few starting points.
They are computed with fastgd's own SGD update kernel (``fastgd.SGD``: plain
SGD with no momentum is exactly that rule).

(b) L1 against L2 on 1-D data with outliers: ``y = 1.5 x + 0.5`` plus Gaussian
noise (sd 0.4) for 60 points ``x ~ U(-3, 3)``; 20% of the points, those with
the largest ``x``, are pulled 6 units down (one-sided outliers, so the two
fits visibly differ).  Both lines are fitted with :func:`fastgd.fit`
(``loss="l1"`` and ``loss="l2"``, full-batch Adam).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

import fastgd

__all__ = [
    "LOCAL_MINIMUM",
    "GradientWalk",
    "OutlierFits",
    "gradient_walks",
    "outlier_fits",
    "seed_function",
    "seed_slope",
]

LOCAL_MINIMUM = 4.0 / 3.0
WALK_STARTS: tuple[float, ...] = (0.4, 2.0, LOCAL_MINIMUM)


def seed_function(x: np.ndarray | float) -> np.ndarray:
    """``f(x) = x**3 - 2*x**2 + 2``."""
    x = np.asarray(x, dtype=np.float64)
    return x**3 - 2.0 * x**2 + 2.0


def seed_slope(x: np.ndarray | float) -> np.ndarray:
    """``f'(x) = 3*x**2 - 4*x``."""
    x = np.asarray(x, dtype=np.float64)
    return 3.0 * x**2 - 4.0 * x


@dataclass
class GradientWalk:
    """The iterates ``w(1), w(2), ...`` of gradient descent from one start."""

    start: float
    lr: float
    iterates: np.ndarray
    slopes: np.ndarray


def gradient_walks(starts: Sequence[float] = WALK_STARTS, lr: float = 0.1, steps: int = 8) -> list[GradientWalk]:
    """Gradient-descent iterates on :func:`seed_function` from each start, by ``fastgd.SGD``'s update.

    Parameters
    ----------
    starts : sequence of float
        Starting points ``w(1)``; the default shows a negative slope (moves right),
        a positive slope (moves left) and the zero slope of the minimum (stays).
    lr : float
        Step size.
    steps : int
        Number of updates (``steps + 1`` iterates).

    Returns
    -------
    list of GradientWalk
    """
    walks = []
    for start in starts:
        optimizer, params = fastgd.SGD(lr=lr), np.array([start], dtype=np.float64)
        state, iterates = optimizer.init(1, np.float64), [float(start)]
        for step in range(1, steps + 1):
            optimizer.step(params, seed_slope(params), state, step)
            iterates.append(float(params[0]))
        walks.append(GradientWalk(float(start), lr, np.array(iterates), seed_slope(np.array(iterates))))
    return walks


@dataclass
class OutlierFits:
    """1-D data with outliers and the L1 and L2 lines fitted to it."""

    x: np.ndarray
    y: np.ndarray
    is_outlier: np.ndarray
    true_line: tuple[float, float]
    l1_line: tuple[float, float]
    l2_line: tuple[float, float]


def outlier_fits(n_samples: int = 60, outlier_fraction: float = 0.2, seed: int = 0) -> OutlierFits:
    """Fit L1 and L2 lines with :func:`fastgd.fit` to 1-D data with one-sided outliers."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-3.0, 3.0, n_samples)
    y = 1.5 * x + 0.5 + rng.normal(0.0, 0.4, n_samples)
    n_outliers = round(outlier_fraction * n_samples)
    is_outlier = np.zeros(n_samples, dtype=bool)
    is_outlier[np.argsort(x)[n_samples - n_outliers :]] = True
    y[is_outlier] -= 6.0
    lines = {}
    for loss in ("l1", "l2"):
        result = fastgd.fit(
            x[:, None], y, loss=loss, optimizer=fastgd.Adam(lr=0.05), batch_size=None, epochs=2000, seed=seed
        )
        lines[loss] = (float(np.asarray(result.coef)[0]), float(result.intercept))
    return OutlierFits(x, y, is_outlier, (1.5, 0.5), lines["l1"], lines["l2"])
