"""Draw the seed tutorial's two pictures from :mod:`.seeddata` (no computing here)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .seeddata import LOCAL_MINIMUM, GradientWalk, OutlierFits, seed_function
from .style import backend_style

__all__ = ["draw_gradient_walks", "draw_outlier_fits"]

CURVE_RANGE = (-0.6, 2.3)
LABELLED_ITERATES = 4
SLOPE_TOLERANCE = 1e-9


def _direction(slope: float) -> str:
    if slope < -SLOPE_TOLERANCE:
        return "slope < 0 → moves right"
    if slope > SLOPE_TOLERANCE:
        return "slope > 0 → moves left"
    return "slope = 0 → stays: converged"


def _draw_walk(axes: Axes, walk: GradientWalk) -> None:
    grid = np.linspace(*CURVE_RANGE, 400)
    axes.plot(grid, seed_function(grid), color="0.35", linewidth=1.6, zorder=1)
    values = seed_function(walk.iterates)
    count = len(walk.iterates)
    colors = [colormaps["plasma"](0.1 + 0.7 * k / max(1, count - 1)) for k in range(count)]
    arrow = {"arrowstyle": "-|>", "linewidth": 1.3, "shrinkA": 4, "shrinkB": 4}
    for k in range(count - 1):
        if abs(walk.iterates[k + 1] - walk.iterates[k]) > 1e-3:
            start, end = (walk.iterates[k], values[k]), (walk.iterates[k + 1], values[k + 1])
            axes.annotate("", xy=end, xytext=start, zorder=2, arrowprops={**arrow, "color": colors[k]})
    axes.scatter(walk.iterates, values, c=colors, s=36, zorder=3, edgecolors="white", linewidths=0.6)
    for k in range(min(LABELLED_ITERATES, count)):
        if k == 0 or abs(walk.iterates[k] - walk.iterates[k - 1]) >= 0.08:
            offset = (0, 8) if k % 2 == 0 else (0, -10)
            axes.annotate(
                f"w({k + 1})", (walk.iterates[k], values[k]), xytext=offset, textcoords="offset points",
                ha="center", va="bottom" if k % 2 == 0 else "top", fontsize=8, color=colors[k],
            )  # fmt: skip
    x0, slope = walk.iterates[0], float(walk.slopes[0])
    span = x0 + np.array([-1.0, 1.0]) * 0.3 / max(1.0, abs(slope) / 2.0)  # a short tangent, shorter where steep
    tangent = values[0] + slope * (span - x0)
    axes.plot(
        span, tangent, color="#D55E00", linestyle="--", linewidth=1.1, label=f"tangent at w(1): f′ = {slope:+.2f}"
    )
    axes.axvline(LOCAL_MINIMUM, color="0.6", linestyle=":", linewidth=1.0)
    axes.annotate("minimum x = 4/3", (LOCAL_MINIMUM, 0.02), xycoords=("data", "axes fraction"), fontsize=7, color="0.4")
    axes.set(title=f"start w(1) = {x0:.3g}: {_direction(slope)}", xlabel="weight w", ylabel="f(w) = w³ − 2w² + 2")
    axes.title.set_fontsize(10)
    axes.set_xlim(*CURVE_RANGE)
    axes.set_ylim(0.5, 3.2)
    axes.legend(loc="upper left", fontsize=8, frameon=False)
    axes.grid(True, alpha=0.3)
    axes.spines[["top", "right"]].set_visible(False)


def draw_gradient_walks(walks: Sequence[GradientWalk]) -> Figure:
    """One panel per start: the curve, the iterates w(1), w(2), ... with arrows, the tangent at w(1)."""
    if not walks:
        raise ValueError("draw_gradient_walks needs at least one walk")
    figure = Figure(figsize=(4.8 * len(walks), 4.4), layout="constrained")
    for axes, walk in zip(figure.subplots(1, len(walks), squeeze=False).flat, walks, strict=True):
        _draw_walk(axes, walk)
    figure.suptitle(
        f"Gradient descent walks downhill: w ← w − lr · f′(w), lr = {walks[0].lr:g}, "
        f"{len(walks[0].iterates) - 1} steps",
        fontsize=12,
    )
    figure.supxlabel("iterates computed with fastgd.SGD's update kernel", fontsize=7, color="0.45", x=0.99, ha="right")
    return figure


def draw_outlier_fits(fits: OutlierFits) -> Figure:
    """Scatter of the data (outliers marked) with the L1, L2 and true lines."""
    figure = Figure(figsize=(6.8, 4.8), layout="constrained")
    axes = figure.subplots()
    inliers = ~fits.is_outlier
    axes.scatter(fits.x[inliers], fits.y[inliers], s=22, color="0.45", label="data")
    axes.scatter(
        fits.x[fits.is_outlier],
        fits.y[fits.is_outlier],
        s=34,
        marker="x",
        color="#B2182B",
        label=f"outliers ({fits.is_outlier.mean():.0%})",
    )
    grid = np.linspace(fits.x.min(), fits.x.max(), 2)
    for (slope, intercept), name, color, style in (
        (fits.l2_line, "L2 fit (squared error)", "#0072B2", "-"),
        (fits.l1_line, "L1 fit (absolute error)", backend_style("fastgd").color, "-"),
        (fits.true_line, "true line", "black", ":"),
    ):
        axes.plot(
            grid,
            slope * grid + intercept,
            color=color,
            linestyle=style,
            linewidth=2.0,
            label=f"{name}: y = {slope:.2f} x {'+' if intercept >= 0 else '−'} {abs(intercept):.2f}",
        )
    axes.set_xlabel("x (feature)")
    axes.set_ylabel("y (target)")
    axes.set_title(
        "L1 against L2 on data with outliers: every point pulls the L1 line equally,\n"
        "while L2 squares large errors, so the outliers pull its line hard",
        fontsize=10,
    )
    axes.legend(fontsize=8, frameon=False, loc="upper left")
    axes.grid(True, alpha=0.3)
    axes.spines[["top", "right"]].set_visible(False)
    return figure
