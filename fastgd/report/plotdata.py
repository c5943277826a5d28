"""The numbers behind each figure, as DataFrames built from the report's tables (drawing is in :mod:`.plots`).

* **lines** (:data:`LINE_COLUMNS`): ``panel``, ``series``, ``x``, ``y``, the series' ``color``,
  ``linestyle``, ``marker``; ``mark`` flags single points (``"winner"``, ``"edge"``: a winner at the
  edge of the lr grid, ``"diverged"``);
* **bars** (:data:`BAR_COLUMNS`): ``panel``, ``category`` (x tick), ``series`` (bar within a
  category), ``value``, ``lower``, ``upper``, ``color``, ``hatch``.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pandas as pd

from fastgd.study.select import PROBLEM_KEYS, present

from .labels import backend_style, format_number, method_style, problem_labels, style_of_label, variant_labels
from .tables import REFERENCE_BACKEND

__all__ = [
    "BAR_COLUMNS",
    "LINE_COLUMNS",
    "bars",
    "convergence_lines",
    "epoch_time_bars",
    "profile_lines",
    "rounds_lines",
    "sensitivity_lines",
    "speedup_bars",
]

LINE_COLUMNS = ("panel", "series", "x", "y", "color", "linestyle", "marker", "mark")
BAR_COLUMNS = ("panel", "category", "series", "value", "lower", "upper", "color", "hatch")
SUBOPTIMALITY_FLOOR = 1e-16
METHOD_PARTS = ["method", "batch_size", "optimizer"]


def _lines(frame: pd.DataFrame, linestyles: pd.Series | list[Any]) -> pd.DataFrame:
    """Line data coloured and marked by method, with the given line styles."""
    styles = [method_style(str(name)) for name in frame["method"]]
    return frame.assign(
        color=[style.color for style in styles],
        marker=[style.marker for style in styles],
        linestyle=pd.Series(list(linestyles), index=frame.index, dtype=object),
    )[list(LINE_COLUMNS)].reset_index(drop=True)


def convergence_lines(points: pd.DataFrame, x: str = "time_s") -> pd.DataFrame:
    """Suboptimality against training time (or ``x``: ``"epoch"``) of the tuned winners, median over repetitions.

    One panel per problem (dataset × loss), one series per method × backend; the start point (``x``
    0) is left out (log axes) and suboptimalities are floored at 1e-16.
    """
    tune = points[(points["phase"] == "tune") & np.isfinite(points["suboptimality"].astype("float64"))]
    if tune.empty:
        return pd.DataFrame(columns=list(LINE_COLUMNS))
    keys = present(tune, PROBLEM_KEYS + ("method", "optimizer", "batch_size", "backend", "threads", "step"))
    curves = tune.groupby(keys, dropna=False, sort=False)[[x, "suboptimality"]].median().reset_index()
    curves = curves[curves[x] > 0]
    frame = curves.assign(
        panel=problem_labels(curves),
        series=variant_labels(curves, METHOD_PARTS) + " · " + variant_labels(curves, ["backend", "threads"]),
        x=curves[x],
        y=curves["suboptimality"].clip(lower=SUBOPTIMALITY_FLOOR),
        mark="",
    )
    return _lines(frame, [backend_style(str(name)).linestyle for name in curves["backend"]])


def rounds_lines(points: pd.DataFrame) -> pd.DataFrame:
    """``fastgd.distributed`` against single-machine fastgd: suboptimality per epoch of the methods both ran.

    The distributed backend averages once per epoch (local SGD, ``sync="epoch"``; full batch: a round
    per step, one per epoch), so the x axis counts its synchronisation rounds too.
    """
    ran = points.loc[points["backend"] == "distributed", "method"].unique()
    both = points[points["method"].isin(ran) & points["backend"].isin([REFERENCE_BACKEND, "distributed"])]
    return convergence_lines(both, x="epoch") if len(ran) else pd.DataFrame(columns=list(LINE_COLUMNS))


def sensitivity_lines(sensitivity: pd.DataFrame) -> pd.DataFrame:
    """Final suboptimality against lr for fastgd's configurations: a line per method (and schedule).

    ``mark`` is ``"winner"`` at the tuned lr, ``"edge"`` when that lr is at the edge of the grid,
    ``"diverged"`` where a run diverged (``y`` is then NaN).
    """
    frame = sensitivity[sensitivity["backend"] == REFERENCE_BACKEND] if not sensitivity.empty else sensitivity
    if frame.empty:
        return pd.DataFrame(columns=list(LINE_COLUMNS))
    schedule = frame["schedule"].astype(str)
    series = variant_labels(frame, METHOD_PARTS + ["threads"])
    if schedule.nunique() > 1:
        series = series + " · " + schedule
    mark = np.select(
        [frame["diverged"], frame["winner"] & (frame["grid_edge"] != ""), frame["winner"]],
        ["diverged", "edge", "winner"],
        "",
    )
    y = frame["final_suboptimality"].where(~frame["diverged"]).clip(lower=SUBOPTIMALITY_FLOOR)
    lines = frame.assign(panel=problem_labels(frame), series=series, x=frame["lr"], y=y, mark=mark)
    dashes = dict(zip(sorted(schedule.unique()), itertools.cycle(["-", "--", ":", "-."])))
    return _lines(lines, schedule.map(dashes))


def profile_lines(profile: pd.DataFrame, target: float) -> pd.DataFrame:
    """The performance profiles at ``target``: a panel per profile, a step line per solver.

    Profiles where no solver solved any problem are left out; each line is carried on to 1.5 × the
    largest ratio so its last step shows.
    """
    at = profile[np.isclose(profile["target"], target)] if not profile.empty else profile
    at = at[at.groupby("profile")["fraction"].transform("max") > 0]
    if at.empty:
        return pd.DataFrame(columns=list(LINE_COLUMNS))
    last = at.sort_values("tau").groupby(["profile", "solver"], sort=False).tail(1)
    at = pd.concat([at, last.assign(tau=last["tau"].max() * 1.5)], ignore_index=True).sort_values("tau", kind="stable")
    styles = [style_of_label(str(solver)) for solver in at["solver"]]
    frame = at.assign(
        panel=at["profile"] + f" (time to {target:.0e})",
        series=at["solver"],
        x=at["tau"],
        y=at["fraction"],
        color=[style.color for style in styles],
        marker=[style.marker for style in styles],
        linestyle="-",
        mark="",
    )
    return frame[list(LINE_COLUMNS)].reset_index(drop=True)


def bars(frame: pd.DataFrame, panel: pd.Series, category: pd.Series, series: pd.Series) -> pd.DataFrame:
    """Bar data: ``frame``'s ``value``, ``lower``, ``upper`` with the given names, styled by ``series``."""
    styles = [style_of_label(str(name)) for name in series]
    return frame.assign(
        panel=panel,
        category=category,
        series=series,
        color=[style.color for style in styles],
        hatch=[style.hatch for style in styles],
    )[list(BAR_COLUMNS)].reset_index(drop=True)


def epoch_time_bars(timing: pd.DataFrame) -> pd.DataFrame:
    """Epoch time (median, min–max) of the timing phase: a panel per dataset × loss, a bar per backend."""
    if timing.empty:
        return pd.DataFrame(columns=list(BAR_COLUMNS))
    frame = timing.assign(
        value=timing["epoch_time_s"], lower=timing["epoch_time_min_s"], upper=timing["epoch_time_max_s"]
    )
    backend = variant_labels(timing, ["backend", "threads"])
    return bars(frame, problem_labels(timing), variant_labels(timing, METHOD_PARTS), backend)


def speedup_bars(speedup: pd.DataFrame, target: float) -> pd.DataFrame:
    """Speed-up of fastgd over each peer, per epoch and at equal accuracy (time to ``target``).

    Infinite speed-ups (only fastgd reached the target) are left out of the bars.
    """
    if speedup.empty:
        return pd.DataFrame(columns=list(BAR_COLUMNS))
    per_epoch = speedup["kind"] == "per_epoch"
    at_target = (speedup["kind"] == "time_to_target") & np.isclose(speedup["target"].astype("float64"), target)
    frame = speedup[(per_epoch | at_target) & np.isfinite(speedup["speedup"].astype("float64"))]
    if frame.empty:
        return pd.DataFrame(columns=list(BAR_COLUMNS))
    what = np.where(frame["kind"] == "per_epoch", "per epoch", f"time to {target:.0e}")
    named = zip(what, problem_labels(frame), strict=True)
    panel = pd.Series([f"{kind}: {title}" for kind, title in named], index=frame.index)
    category = variant_labels(frame, METHOD_PARTS)
    if frame["threads"].nunique() > 1:
        category = category + frame["threads"].map(lambda value: f" · {format_number(value)} thr")
    series = frame["peer"].map(lambda name: backend_style(str(name)).label)
    values = frame.assign(value=frame["speedup"], lower=np.nan, upper=np.nan)
    return bars(values, panel, category, series)
