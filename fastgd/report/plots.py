"""Draw the report's study figures from the data of :mod:`.plotdata` (no computing here).

Figures are built on :class:`matplotlib.figure.Figure` directly, never through
``pyplot``: nothing global is touched, no display is needed (PNG output goes
through the Agg canvas) and figures are freed when dropped.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from .labels import format_seconds
from .plotdata import BarPanel, ConvergenceFigure, ConvergencePanel, ScalingPanel
from .style import backend_style, method_style
from .summaries import TARGETS

__all__ = [
    "draw_bar_panels",
    "draw_convergence",
    "draw_scaling",
    "figure_png_bytes",
]

DPI = 110
PANEL_WIDTH = 5.4
PANEL_HEIGHT = 3.9


def figure_png_bytes(figure: Figure, dpi: int = DPI) -> bytes:
    """Render a figure to PNG bytes (Agg, no display needed)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, facecolor="white")
    return buffer.getvalue()


def _grid(n_panels: int, max_columns: int) -> tuple[int, int]:
    columns = max(1, min(n_panels, max_columns))
    return math.ceil(n_panels / columns), columns


def _style_axes(axes: Axes) -> None:
    axes.grid(True, which="major", alpha=0.35)
    axes.grid(True, which="minor", alpha=0.12)
    axes.spines[["top", "right"]].set_visible(False)


def _method_backend_legend(figure: Figure, methods: Sequence[str], backends: Sequence[str]) -> None:
    handles = [
        Line2D([], [], color=method_style(m).color, marker=method_style(m).marker, label=method_style(m).label)
        for m in methods
    ]
    handles += [
        Line2D(
            [],
            [],
            color="0.3",
            linestyle=backend_style(b).linestyle,  # type: ignore[arg-type]
            label=f"backend: {backend_style(b).label}",
        )
        for b in backends
    ]
    figure.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 4), frameon=False)


def _draw_targets(axes: Axes) -> None:
    """Dotted lines at the time-to-target thresholds that fall inside the curves' range."""
    low, high = axes.get_ylim()
    for target in TARGETS:
        if not low <= target <= high:
            continue
        axes.axhline(target, color="0.55", linestyle=(0, (1, 3)), linewidth=1.0, zorder=0)
        axes.annotate(
            f"target {target:.0e}",
            xy=(1.0, target),
            xycoords=("axes fraction", "data"),
            xytext=(-4, 3),
            textcoords="offset points",
            ha="right",
            va="bottom",
            fontsize=7,
            color="0.4",
        )


def _draw_convergence_panel(axes: Axes, panel: ConvergencePanel, against: str) -> None:
    for curve in panel.curves:
        method, backend = method_style(curve.method), backend_style(curve.backend)
        x = curve.time_s if against == "time" else curve.epochs
        keep = np.isfinite(x) & np.isfinite(curve.suboptimality) & ((x > 0) if against == "time" else True)
        if not keep.any():
            continue
        axes.plot(
            x[keep],
            curve.suboptimality[keep],
            color=method.color,
            linestyle=backend.linestyle,
            marker=method.marker,
            markevery=max(1, int(keep.sum()) // 8),
            markersize=4,
            linewidth=1.6 if curve.backend == "fastgd" else 1.2,
            alpha=1.0 if curve.backend == "fastgd" else 0.8,
        )
    axes.set_yscale("log")
    if panel.relative:
        low, high = axes.get_ylim()
        axes.set_ylim(min(low, TARGETS[0] / 3), high)  # the first target always shows
        _draw_targets(axes)
        axes.set_ylabel("relative suboptimality (loss − f*) / |f*|")
    else:
        axes.set_ylabel("suboptimality loss − f* (f* ≈ 0)")
    if against == "time":
        axes.set_xscale("log")
        axes.set_xlabel("training time (s, log scale)")
    else:
        axes.set_xlabel("epochs (passes over the data)")
    _style_axes(axes)


def draw_convergence(data: ConvergenceFigure) -> Figure:
    """Suboptimality against training time (top row) and epochs (bottom row), a column per loss.

    Colour and marker: method; line style: backend (fastgd solid, peers dashed/dotted).
    """
    columns = max(1, len(data.panels))
    figure = Figure(figsize=(PANEL_WIDTH * columns, 2 * PANEL_HEIGHT + 0.9), layout="constrained")
    grid = figure.subplots(2, columns, squeeze=False)
    for column, panel in enumerate(data.panels):
        _draw_convergence_panel(grid[0, column], panel, "time")
        _draw_convergence_panel(grid[1, column], panel, "epochs")
        grid[0, column].set_title(f"{panel.title}\nf*: {panel.optimum_label}", fontsize=10)
        grid[1, column].set_title(f"{panel.title}: per epoch", fontsize=10)
    methods = list(dict.fromkeys(curve.method for panel in data.panels for curve in panel.curves))
    backends = list(dict.fromkeys(curve.backend for panel in data.panels for curve in panel.curves))
    _method_backend_legend(figure, methods, backends)
    figure.suptitle(f"Convergence of the gradient-descent methods — {data.dataset}", fontsize=12)
    return figure


def _log_ticks(axes: Axes, tick_format: Callable[[float, Any], str]) -> None:
    """Label 1, 2, 5 of each decade when the axis spans under two decades, else each decade."""
    low, high = axes.get_ylim()
    subs = (1.0, 2.0, 5.0) if np.log10(high / low) < 2 else (1.0,)
    axes.yaxis.set_major_locator(LogLocator(base=10, subs=subs))
    axes.yaxis.set_major_formatter(FuncFormatter(tick_format))
    axes.yaxis.set_minor_formatter(NullFormatter())


def _log_limits(panel: BarPanel, reference_line: float | None) -> tuple[float, float]:
    """Y limits that hold every bar, error bar and the reference line, spanning at least a decade."""
    values = [panel.values] + [bound for bound in (panel.lower, panel.upper) if bound is not None]
    finite = np.concatenate([array[np.isfinite(array) & (array > 0)] for array in values])
    if reference_line is not None:
        finite = np.append(finite, reference_line)
    low, high = finite.min() / 1.3, finite.max() * 1.4
    if high / low < 10.0:
        middle = np.sqrt(low * high)
        low, high = middle / np.sqrt(10.0), middle * np.sqrt(10.0)
    return float(low), float(high)


def _bar_slots(values: np.ndarray) -> tuple[np.ndarray, float]:
    """Bar positions (only the bars present, packed and centred in their category) and the bar width."""
    present = np.isfinite(values)
    width = 0.8 / max(2, int(present.sum(axis=1).max()))
    positions = np.full(values.shape, np.nan)
    for category, row in enumerate(present):
        slots = np.flatnonzero(row)
        positions[category, slots] = category + width * (np.arange(slots.size) - (slots.size - 1) / 2)
    return positions, width


def _draw_bar_panel(axes: Axes, panel: BarPanel, baseline: float | None, annotate: bool) -> None:
    positions, width = _bar_slots(panel.values)
    for index, series in enumerate(panel.series):
        style = backend_style(series)
        present = np.isfinite(panel.values[:, index])
        heights, where = panel.values[present, index], positions[present, index]
        errors = None
        if panel.lower is not None and panel.upper is not None:
            low = np.clip(heights - panel.lower[present, index], 0, None)
            high = np.clip(panel.upper[present, index] - heights, 0, None)
            errors = np.nan_to_num(np.vstack([low, high]))
        bottom = baseline if baseline is not None else 0.0
        axes.bar(
            where,
            heights - bottom,
            width * 0.92,
            bottom=bottom,
            color=style.color,
            hatch=style.hatch,
            edgecolor="white",
            linewidth=0.6,
            label=style.label,
            yerr=errors,
            error_kw={"elinewidth": 0.9, "capsize": 2, "ecolor": "0.25"},
        )
        if annotate:
            for x, height in zip(where, heights, strict=True):
                above = height >= bottom
                axes.annotate(
                    f"{height:.2g}×",
                    (x, height),
                    xytext=(0, 2 if above else -2),
                    textcoords="offset points",
                    ha="center",
                    va="bottom" if above else "top",
                    fontsize=7,
                )
    axes.set_xticks(np.arange(len(panel.categories)), [method_style(c).label for c in panel.categories])
    axes.set_xlim(-0.6, len(panel.categories) - 0.4)
    axes.set_yscale("log")
    axes.set_title(panel.title, fontsize=10)
    _style_axes(axes)


def draw_bar_panels(
    panels: Sequence[BarPanel],
    *,
    title: str,
    ylabel: str,
    reference_line: float | None = None,
    annotate: bool = False,
    tick_format: Callable[[float, Any], str] = lambda value, _: format_seconds(value),
) -> Figure:
    """Grouped bars on log y, one panel per :class:`BarPanel`, bars coloured and hatched by backend.

    Parameters
    ----------
    panels : sequence of BarPanel
        What to draw (at least one).
    title : str
        Figure title.
    ylabel : str
        Y-axis label, with its unit.
    reference_line : float, optional
        Draw a horizontal reference line at this value (``1.0`` for speed-ups) and start
        the bars from it, so bars above it go up and bars below it go down.
    annotate : bool
        Write each bar's value above it (as ``"3.2×"``).
    tick_format : callable
        Y tick label of a value (default: seconds with a unit, ``"10 ms"``).

    Returns
    -------
    matplotlib.figure.Figure
    """
    if not panels:
        raise ValueError("draw_bar_panels needs at least one panel")
    rows, columns = _grid(len(panels), 2)
    figure = Figure(figsize=(PANEL_WIDTH * columns, PANEL_HEIGHT * rows + 0.8), layout="constrained")
    grid = figure.subplots(rows, columns, squeeze=False)
    for axes, panel in zip(grid.flat, panels, strict=False):
        _draw_bar_panel(axes, panel, reference_line, annotate)
        axes.set_ylabel(ylabel)
        axes.set_ylim(*_log_limits(panel, reference_line))
        _log_ticks(axes, tick_format)
        if reference_line is not None:
            axes.axhline(reference_line, color="black", linestyle="--", linewidth=1.0, zorder=3)
            axes.annotate(
                f"{reference_line:g}× (same speed)",
                xy=(0.0, reference_line),
                xycoords=("axes fraction", "data"),
                xytext=(3, 3),
                textcoords="offset points",
                fontsize=7,
            )
    for axes in list(grid.flat)[len(panels) :]:
        axes.set_visible(False)
    series = list(dict.fromkeys(name for panel in panels for name in panel.series))
    handles = [
        Patch(
            facecolor=backend_style(name).color,
            hatch=backend_style(name).hatch,
            edgecolor="white",
            label=backend_style(name).label,
        )
        for name in series
    ]
    figure.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 2 * columns + 1), frameon=False)
    figure.suptitle(title, fontsize=12)
    return figure


def draw_scaling(panels: Sequence[ScalingPanel]) -> Figure:
    """Epoch time against ``n_samples × n_features`` on log-log axes, fitted slope in the legend."""
    if not panels:
        raise ValueError("draw_scaling needs at least one panel")
    rows, columns = _grid(len(panels), 3)
    figure = Figure(figsize=(PANEL_WIDTH * 1.25 * columns, PANEL_HEIGHT * 1.2 * rows + 0.6), layout="constrained")
    grid = figure.subplots(rows, columns, squeeze=False)
    for axes, panel in zip(grid.flat, panels, strict=False):
        for series in panel.series:
            method, backend = method_style(series.method), backend_style(series.backend)
            axes.plot(
                series.sizes,
                series.epoch_time_s,
                linestyle="none",
                marker=method.marker,
                color=method.color,
                markersize=5,
            )
            fitted = 10 ** (series.intercept + series.slope * np.log10(series.sizes))
            axes.plot(
                series.sizes,
                fitted,
                color=method.color,
                linestyle=backend.linestyle,
                linewidth=1.2,
                label=f"{series.label}: slope {series.slope:.2f}",
            )
        axes.set_xscale("log")
        axes.set_yscale("log")
        axes.xaxis.set_minor_formatter(NullFormatter())
        axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _: format_seconds(value)))
        axes.yaxis.set_minor_formatter(NullFormatter())
        axes.set_xlabel("n_samples × n_features (log scale)")
        axes.set_ylabel("epoch time (s, log scale)")
        axes.set_title(f"{panel.title}\n(slope 1 = time proportional to data size)", fontsize=10)
        axes.legend(fontsize=7, frameon=False)
        _style_axes(axes)
    for axes in list(grid.flat)[len(panels) :]:
        axes.set_visible(False)
    figure.suptitle("Scaling: epoch time against problem size", fontsize=12)
    return figure
