"""The numbers behind each figure, computed from the tidy tables (drawing is in :mod:`.plots`).

Every function here returns plain dataclasses of NumPy arrays and strings, so
what a figure shows can be tested without drawing it.

Choices
-------
* Convergence curves show repetition 0 of each run (the losses of the
  repetitions are the same; only their times differ) and, when a method and
  backend were run at several thread counts, the run with the most threads.
* Curves use the relative suboptimality of :mod:`.summaries` (absolute when
  ``|f*|`` is 0 up to rounding); values <= :data:`SUBOPTIMALITY_FLOOR`
  (including the 0 of the best-seen point itself) are drawn at the floor so
  they stay on a log axis.  Epochs on the x axis are ``samples_seen / n_samples``.
* The scaling figure exists only for a sweep: at least :data:`MIN_SCALING_SIZES`
  distinct ``n_samples * n_features`` for one series (method, backend, loss,
  dtype, threads); its slope is the least-squares fit of log10 epoch time
  against log10 size.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .labels import (
    dataset_label,
    dataset_slug,
    is_missing,
    loss_label,
    optimum_kind_label,
)
from .style import BACKEND_ORDER, METHOD_ORDER, backend_style, method_style, ordered
from .summaries import (
    ABSOLUTE_FALLBACK_BELOW,
    REFERENCE_BACKEND,
    relative_suboptimality,
)
from .tables import DATASET_COLUMNS

__all__ = [
    "MIN_SCALING_SIZES",
    "SUBOPTIMALITY_FLOOR",
    "BarPanel",
    "ConvergenceCurve",
    "ConvergenceFigure",
    "ConvergencePanel",
    "ScalingPanel",
    "ScalingSeries",
    "bar_panels",
    "convergence_figures",
    "scaling_panels",
    "speedup_panels",
    "timing_panels",
]

SUBOPTIMALITY_FLOOR = 1e-12
MIN_SCALING_SIZES = 3
MAX_PANELS = 6
LOSS_ORDER: tuple[str, ...] = ("l2", "l1", "huber")


@dataclass
class ConvergenceCurve:
    """One run's curve: its method and backend, and the points to draw."""

    method: str
    backend: str
    time_s: np.ndarray
    epochs: np.ndarray
    suboptimality: np.ndarray


@dataclass
class ConvergencePanel:
    """The curves of one loss on one dataset."""

    loss_name: str
    title: str
    relative: bool
    optimum_label: str
    curves: list[ConvergenceCurve] = field(default_factory=list)


@dataclass
class ConvergenceFigure:
    """One dataset's convergence figure: a panel per loss."""

    dataset: str
    slug: str
    panels: list[ConvergencePanel] = field(default_factory=list)


@dataclass
class BarPanel:
    """A grouped bar chart: ``values[i, j]`` for category ``i`` and series ``j`` (NaN: not run)."""

    title: str
    categories: list[str]
    series: list[str]
    values: np.ndarray
    lower: np.ndarray | None = None
    upper: np.ndarray | None = None


@dataclass
class ScalingSeries:
    """Epoch time against problem size for one method and backend, with its fitted slope."""

    method: str
    backend: str
    label: str
    sizes: np.ndarray
    epoch_time_s: np.ndarray
    slope: float
    intercept: float


@dataclass
class ScalingPanel:
    """The scaling series of one loss."""

    title: str
    series: list[ScalingSeries] = field(default_factory=list)


def _dataset_groups(frame: pd.DataFrame) -> list[tuple[dict[str, Any], pd.DataFrame]]:
    keys = [column for column in DATASET_COLUMNS if column in frame.columns]
    return [
        (dict(zip(keys, values, strict=True)), group) for values, group in frame.groupby(keys, dropna=False, sort=False)
    ]


def _loss_order(names: Any) -> list[str]:
    return ordered(names, LOSS_ORDER)


def _most_threads(run: pd.DataFrame) -> pd.DataFrame:
    threads = pd.to_numeric(run["threads"], errors="coerce")
    most: pd.DataFrame = run[threads == threads.max()] if threads.notna().any() else run
    return most


def _curve(run: pd.DataFrame, method: str, backend: str, f_star: float) -> ConvergenceCurve:
    run = run[run["repetition"] == run["repetition"].min()]
    n_samples = pd.to_numeric(run["n_samples"], errors="coerce").to_numpy(dtype=float)
    epochs = run["samples_seen"].to_numpy(dtype=float) / n_samples
    epochs = np.where(np.isfinite(epochs), epochs, run["epoch"].to_numpy(dtype=float))
    gap = relative_suboptimality(run["loss"].to_numpy(dtype=float), f_star)
    shown = np.where(np.isnan(gap), np.nan, np.maximum(gap, SUBOPTIMALITY_FLOOR))
    return ConvergenceCurve(method, backend, run["time_s"].to_numpy(dtype=float), epochs, shown)


def convergence_figures(convergence: pd.DataFrame, max_figures: int = 4) -> list[ConvergenceFigure]:
    """One :class:`ConvergenceFigure` per dataset (the ``max_figures`` with most curves, then largest).

    Parameters
    ----------
    convergence : pandas.DataFrame
        The convergence table.
    max_figures : int
        At most this many datasets get a figure.

    Returns
    -------
    list of ConvergenceFigure
    """
    figures = []
    for values, dataset in _dataset_groups(convergence):
        figure = ConvergenceFigure(dataset=dataset_label(values), slug=dataset_slug(values))
        for loss_name in _loss_order(dataset["loss_name"].dropna().unique()):
            runs = dataset[dataset["loss_name"] == loss_name]
            f_star = float(np.nanmedian((runs["loss"] - runs["suboptimality"]).to_numpy(dtype=float)))
            panel = ConvergencePanel(
                loss_name=loss_name,
                title=loss_label(loss_name),
                relative=abs(f_star) > ABSOLUTE_FALLBACK_BELOW,
                optimum_label=optimum_kind_label(runs["optimum_kind"].iloc[0]),
            )
            for method in ordered(runs["method"].dropna().unique(), METHOD_ORDER):
                by_method = runs[runs["method"] == method]
                for backend in ordered(by_method["backend"].dropna().unique(), BACKEND_ORDER):
                    run = _most_threads(by_method[by_method["backend"] == backend])
                    panel.curves.append(_curve(run, method, backend, f_star))
            figure.panels.append(panel)
        size = float(values.get("n_samples") or 0) * float(values.get("n_features") or 0)
        figures.append((sum(len(panel.curves) for panel in figure.panels), size, figure))
    figures.sort(key=lambda item: (-item[0], -item[1]))
    return [figure for _, _, figure in figures[:max_figures]]


def bar_panels(
    frame: pd.DataFrame,
    *,
    panel_columns: Sequence[str],
    title_of: Callable[[dict[str, Any]], str],
    category_column: str,
    series_column: str,
    value_column: str,
    lower_column: str | None = None,
    upper_column: str | None = None,
    category_order: tuple[str, ...] = METHOD_ORDER,
    series_order: tuple[str, ...] = BACKEND_ORDER,
    max_panels: int = MAX_PANELS,
) -> list[BarPanel]:
    """Grouped-bar panels from a long table: one panel per distinct ``panel_columns`` value.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per (panel, category, series).
    panel_columns : sequence of str
        Columns whose distinct values make the panels (in order of appearance).
    title_of : callable
        Panel title from the dict of its ``panel_columns`` values.
    category_column, series_column : str
        Bar groups along x, and bars within a group.
    value_column : str
        Bar height; ``lower_column``/``upper_column`` optional error-bar ends.
    category_order, series_order : tuple of str
        Preferred orders (:func:`fastgd.report.style.ordered`).
    max_panels : int
        Panels beyond this many are left out.

    Returns
    -------
    list of BarPanel
    """
    panels = []
    groups = frame.groupby(list(panel_columns), dropna=False, sort=False) if panel_columns else [((), frame)]
    for keys, group in groups:
        keys = keys if isinstance(keys, tuple) else (keys,)
        categories = ordered(group[category_column].dropna().unique(), category_order)
        series = ordered(group[series_column].dropna().unique(), series_order)
        shape = (len(categories), len(series))
        arrays = {name: np.full(shape, np.nan) for name in ("value", "lower", "upper")}
        for _, row in group.iterrows():
            if is_missing(row[category_column]) or is_missing(row[series_column]):
                continue
            where = (categories.index(str(row[category_column])), series.index(str(row[series_column])))
            arrays["value"][where] = row[value_column]
            if lower_column and upper_column:
                arrays["lower"][where] = row[lower_column]
                arrays["upper"][where] = row[upper_column]
        if not categories or not series or np.isnan(arrays["value"]).all():
            continue
        with_errors = lower_column is not None and upper_column is not None
        panels.append(
            BarPanel(
                title=title_of(dict(zip(panel_columns, keys, strict=True))),
                categories=categories,
                series=series,
                values=arrays["value"],
                lower=arrays["lower"] if with_errors else None,
                upper=arrays["upper"] if with_errors else None,
            )
        )
    return panels[:max_panels]


def _dataset_loss_title(values: dict[str, Any]) -> str:
    dataset = dataset_label(values)
    loss = "" if is_missing(values.get("loss")) else loss_label(values["loss"])
    return " — ".join(part for part in (loss, dataset) if part) or "benchmarks"


def timing_panels(summary: pd.DataFrame) -> list[BarPanel]:
    """Epoch time per method (groups) and backend (bars) with min-max error bars, per dataset and loss.

    Parameters
    ----------
    summary : pandas.DataFrame
        :func:`fastgd.report.summaries.epoch_time_summary` (runs at several thread
        counts: the most threads is shown).

    Returns
    -------
    list of BarPanel
    """
    if summary.empty:
        return []
    keys = list(DATASET_COLUMNS) + ["loss", "method", "backend"]
    threads = pd.to_numeric(summary["threads"], errors="coerce")
    most = threads.groupby([summary[key] for key in keys], dropna=False).transform("max")
    return bar_panels(
        summary[(threads == most) | most.isna()],
        panel_columns=list(DATASET_COLUMNS) + ["loss"],
        title_of=_dataset_loss_title,
        category_column="method",
        series_column="backend",
        value_column="epoch_time_s",
        lower_column="epoch_time_min_s",
        upper_column="epoch_time_max_s",
    )


def speedup_panels(speedups: pd.DataFrame, reference: str = REFERENCE_BACKEND) -> list[BarPanel]:
    """Speed-up of ``reference`` against each peer (bars) per method (groups), per dataset and loss.

    Parameters
    ----------
    speedups : pandas.DataFrame
        :func:`fastgd.report.summaries.speedup_table`.
    reference : str
        The backend the speed-ups are of.

    Returns
    -------
    list of BarPanel
        Empty when no peer was run.
    """
    peer_columns = [column for column in speedups.columns if column.startswith("speedup_vs_")]
    if not peer_columns:
        return []
    keys = [column for column in speedups.columns if column in DATASET_COLUMNS or column in ("loss", "method")]
    long = speedups.melt(id_vars=keys, value_vars=peer_columns, var_name="peer", value_name="speedup")
    long["peer"] = long["peer"].str.removeprefix("speedup_vs_")
    long = long[np.isfinite(long["speedup"].to_numpy(dtype=float))]
    return bar_panels(
        long,
        panel_columns=[key for key in keys if key != "method"],
        title_of=_dataset_loss_title,
        category_column="method",
        series_column="peer",
        value_column="speedup",
    )


def scaling_panels(summary: pd.DataFrame) -> list[ScalingPanel]:
    """Epoch time against ``n_samples * n_features`` per loss, when the results hold a size sweep.

    Parameters
    ----------
    summary : pandas.DataFrame
        :func:`fastgd.report.summaries.epoch_time_summary`.

    Returns
    -------
    list of ScalingPanel
        Empty when no series has :data:`MIN_SCALING_SIZES` distinct sizes.
    """
    if summary.empty:
        return []
    frame = summary.assign(
        size=pd.to_numeric(summary["n_samples"], errors="coerce")
        * pd.to_numeric(summary["n_features"], errors="coerce")
    )
    frame = frame[np.isfinite(frame["size"].to_numpy(dtype=float))]
    series_keys = ["method", "backend", "dtype", "threads"]
    varying = [key for key in ("dtype", "threads") if frame[key].nunique(dropna=False) > 1]
    panels = []
    for loss_name in _loss_order(frame["loss"].dropna().unique()):
        by_loss = frame[frame["loss"] == loss_name]
        panel = ScalingPanel(title=loss_label(loss_name))
        for keys, group in by_loss.groupby(series_keys, dropna=False, sort=False):
            points = group.groupby("size")["epoch_time_s"].median()
            if points.size < MIN_SCALING_SIZES:
                continue
            sizes, times = points.index.to_numpy(dtype=float), points.to_numpy(dtype=float)
            slope, intercept = np.polyfit(np.log10(sizes), np.log10(times), 1)
            method, backend, dtype, threads = keys
            details = ", ".join(
                ([str(dtype)] if "dtype" in varying else []) + ([f"{threads} threads"] if "threads" in varying else [])
            )
            label = f"{method_style(method).label} · {backend_style(backend).label}"
            label += f" ({details})" if details else ""
            panel.series.append(
                ScalingSeries(str(method), str(backend), label, sizes, times, float(slope), float(intercept))
            )
        if panel.series:
            panels.append(panel)
    return panels
