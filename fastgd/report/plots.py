"""Draw the figure data of :mod:`.plotdata` (no computing here).

Figures are built on :class:`matplotlib.figure.Figure` directly, never through
``pyplot``: nothing global is touched and no display is needed.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

__all__ = ["draw_bars", "draw_lines", "figure_png_bytes"]

DPI = 110
PANEL_SIZE = (5.4, 3.9)
MAX_COLUMNS = 3


def figure_png_bytes(figure: Figure, dpi: int = DPI) -> bytes:
    """Render a figure to PNG bytes (Agg, no display needed)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, facecolor="white")
    return buffer.getvalue()


def _panel_grid(data: pd.DataFrame, title: str) -> tuple[Figure, list[tuple[Axes, str, pd.DataFrame]]]:
    """A figure with a subplot per ``panel`` of ``data`` (in order of appearance), and each panel's rows."""
    if data.empty:
        raise ValueError("nothing to draw")
    names = list(dict.fromkeys(data["panel"]))
    columns = min(len(names), MAX_COLUMNS)
    rows = math.ceil(len(names) / columns)
    figure = Figure(figsize=(PANEL_SIZE[0] * columns, PANEL_SIZE[1] * rows + 1.0), layout="constrained")
    axes = list(figure.subplots(rows, columns, squeeze=False).flat)
    for unused in axes[len(names) :]:
        unused.set_visible(False)
    figure.suptitle(title, fontsize=12)
    return figure, [(ax, str(name), data[data["panel"] == name]) for ax, name in zip(axes, names, strict=False)]


def _plain_ticks(axis: Any) -> None:
    """Log-axis ticks at 1, 2, 5 of each decade written plainly (``0.02``, ``3``), not ``2×10⁻²``."""
    axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    axis.set_minor_formatter(NullFormatter())


def _finish(axes: Axes, title: str) -> None:
    axes.set_title(title, fontsize=9)
    axes.grid(True, which="major", alpha=0.35)
    axes.grid(True, which="minor", alpha=0.1)
    axes.spines[["top", "right"]].set_visible(False)


def _marks(axes: Axes, panel: pd.DataFrame) -> None:
    for _, point in panel[panel["mark"].isin(["winner", "edge"])].iterrows():
        axes.plot(point["x"], point["y"], marker="*", markersize=13, color=point["color"], markeredgecolor="black")
        if point["mark"] == "edge":
            axes.annotate("grid edge", (point["x"], point["y"]), xytext=(4, 6), textcoords="offset points", fontsize=7)
    diverged = panel[panel["mark"] == "diverged"]
    if not diverged.empty:
        top = axes.get_ylim()[1]
        axes.scatter(diverged["x"], [top] * len(diverged), marker="x", c=list(diverged["color"]), clip_on=False)


def draw_lines(
    data: pd.DataFrame,
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    log_y: bool = True,
    steps: bool = False,
    hlines: Sequence[float] = (),
) -> Figure:
    """A panel per ``panel`` and a line per ``series`` of line data (:data:`.plotdata.LINE_COLUMNS`, not empty).

    Log x axis (and y unless ``log_y`` is false); ``steps`` draws step lines (performance profiles),
    ``hlines`` are dotted reference lines (the targets) drawn where inside the y range.
    """
    figure, grid = _panel_grid(data, title)
    legend: dict[str, Line2D] = {}
    for axes, name, panel in grid:
        for series, line in panel.groupby("series", sort=False):
            first = line.iloc[0]
            drawn = line[np.isfinite(line["y"].astype("float64"))]
            (handle,) = axes.plot(
                drawn["x"],
                drawn["y"],
                color=first["color"],
                linestyle=first["linestyle"],
                marker=first["marker"],
                markersize=4,
                markevery=max(1, len(drawn) // 8),
                drawstyle="steps-post" if steps else "default",
                label=str(series),
            )
            legend.setdefault(str(series), handle)
        axes.set_xscale("log")
        axes.set_yscale("log" if log_y else "linear")
        if steps:
            _plain_ticks(axes.xaxis)
        _marks(axes, panel)
        low, high = axes.get_ylim()
        for value in hlines:
            if low <= value <= high:
                axes.axhline(value, color="0.5", linestyle=(0, (1, 3)), linewidth=1.0)
                axes.annotate(f"{value:.0e}", (0.99, value), xycoords=("axes fraction", "data"), ha="right", fontsize=7)
        axes.set_xlabel(xlabel)
        axes.set_ylabel(ylabel)
        _finish(axes, name)
    handles = list(legend.values())
    figure.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 4), frameon=False, fontsize=8)
    return figure


def draw_bars(
    data: pd.DataFrame,
    *,
    title: str,
    ylabel: str,
    reference: float | None = None,
    annotate: bool = False,
) -> Figure:
    """Grouped bars on a log y axis: a panel per ``panel``, a group per ``category``, a bar per ``series``.

    ``data`` is bar data (:data:`.plotdata.BAR_COLUMNS`, not empty; ``lower``/``upper``, NaN for none,
    become error bars); ``reference`` a dashed line (1 for speed-ups) the bars start from; ``annotate``
    writes each bar's value above it (``"3.2×"``).
    """
    figure, grid = _panel_grid(data, title)
    legend: dict[str, Patch] = {}
    for axes, name, panel in grid:
        categories = list(dict.fromkeys(panel["category"]))
        within = panel.groupby("category", sort=False)
        rank, count = within.cumcount(), within["value"].transform("size")
        width = 0.8 / max(2, int(count.max()))
        offsets = panel["category"].map(categories.index) + width * (rank - (count - 1) / 2)
        base = reference if reference is not None else 0.0
        for offset, bar in zip(offsets, panel.to_dict("records"), strict=True):
            value = bar["value"]
            error = np.array([[value - bar["lower"]], [bar["upper"] - value]], dtype="float64")
            patch = axes.bar(
                offset, value - base, width * 0.92, bottom=base, color=bar["color"], hatch=bar["hatch"],
                edgecolor="white", yerr=None if np.isnan(error).any() else error.clip(min=0),
                error_kw={"elinewidth": 0.9, "capsize": 2, "ecolor": "0.25"},
            )  # fmt: skip
            legend.setdefault(str(bar["series"]), patch.patches[0])
            if annotate:
                axes.annotate(f"{value:.2g}×", (offset, value), xytext=(0, 2), textcoords="offset points", size=7)
        axes.set_xticks(range(len(categories)), categories, fontsize=8)
        axes.set_yscale("log")
        _plain_ticks(axes.yaxis)
        if reference is not None:
            axes.axhline(reference, color="black", linestyle="--", linewidth=1.0)
        axes.set_ylabel(ylabel)
        _finish(axes, name)
    handles, labels = list(legend.values()), list(legend)
    figure.legend(handles, labels, loc="outside lower center", ncols=min(len(legend), 5), frameon=False)
    return figure
