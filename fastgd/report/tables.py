"""The report's tables, each a tidy DataFrame built from the points table and written as one CSV.

``timing.csv`` (:func:`timing_table`), ``winners.csv`` (:func:`winners_table`),
``time_to_target.csv``, ``sensitivity.csv``, ``profile.csv``, ``speedup.csv``
and ``points.csv`` (:func:`report_points`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from fastgd import METHODS
from fastgd.kernels import LOSSES
from fastgd.study.select import (
    CONFIG_KEYS,
    GROUP_KEYS,
    PROBLEM_KEYS,
    config_summary,
    performance_profile,
    present,
    run_summary,
    select_winners,
)

from .labels import BACKEND_ORDER, variant_labels

__all__ = [
    "NOISY_SPREAD",
    "REFERENCE_BACKEND",
    "TIMING_COLUMNS",
    "profile_table",
    "report_points",
    "sensitivity_table",
    "sort_rows",
    "speedup_table",
    "time_to_target_table",
    "timing_table",
    "winners_table",
]

REFERENCE_BACKEND = "fastgd"
NOISY_SPREAD = 0.25
CASE_KEYS: tuple[str, ...] = tuple(key for key in CONFIG_KEYS if key != "phase")
MATCH_KEYS: tuple[str, ...] = tuple(key for key in GROUP_KEYS if key not in ("phase", "backend"))
TIMING_COLUMNS: tuple[str, ...] = CASE_KEYS + tuple(
    "repetitions epoch_time_s epoch_time_min_s epoch_time_max_s spread samples_per_s gbytes_per_s bandwidth_fraction "
    "compile_s".split()
)
_SORT_KEYS = ("target", "kind", *PROBLEM_KEYS, "method", "backend", "optimizer", "batch_size", "threads", "peer")
_SORT_KEYS += ("lr", "schedule")
_RANKS = {
    column: {name: position for position, name in enumerate(order)}
    for column, order in (("loss", tuple(LOSSES)), ("method", METHODS), ("backend", BACKEND_ORDER))
}


def sort_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows in reading order: problem, then method and backend in their house order, then the rest."""
    if frame.empty:
        return frame.reset_index(drop=True)

    def rank(column: pd.Series) -> pd.Series:
        order = _RANKS.get(str(column.name))
        return column if order is None else column.map(lambda name: order.get(name, len(order)))

    keys = present(frame, _SORT_KEYS)
    return frame.sort_values(keys, key=rank, kind="stable", na_position="first").reset_index(drop=True)


def timing_table(points: pd.DataFrame, bandwidth_gbytes_per_s: float | None = None) -> pd.DataFrame:
    """One row per case of the timing phase (columns :data:`TIMING_COLUMNS`).

    A repetition's epoch time is the median of its epochs; the table gives the median over
    repetitions, their min and max, ``spread`` = (max - min) / median, samples/s and GB/s of ``X``
    read at the median, and that rate over the read probe's ``bandwidth_gbytes_per_s``.
    """
    timing = points[points["phase"] == "timing"]
    if timing.empty:
        return pd.DataFrame(columns=list(TIMING_COLUMNS))
    runs = run_summary(timing)
    grouped = runs.groupby(present(runs, CASE_KEYS), dropna=False, sort=False)
    table = grouped["epoch_time_s"].agg(
        repetitions="size", epoch_time_s="median", epoch_time_min_s="min", epoch_time_max_s="max"
    )
    table = table.assign(compile_s=grouped["compile_s"].median()).reset_index()
    table["spread"] = (table["epoch_time_max_s"] - table["epoch_time_min_s"]) / table["epoch_time_s"]
    table["samples_per_s"] = table["n_samples"] / table["epoch_time_s"]
    itemsize = table["dtype"].map(lambda name: np.dtype(str(name)).itemsize)
    table["gbytes_per_s"] = table["n_samples"] * table["n_features"] * itemsize / table["epoch_time_s"] / 1e9
    bandwidth = bandwidth_gbytes_per_s if bandwidth_gbytes_per_s else np.nan
    table["bandwidth_fraction"] = table["gbytes_per_s"] / bandwidth
    return sort_rows(table.reindex(columns=list(TIMING_COLUMNS)))


def winners_table(points: pd.DataFrame, targets: Sequence[float]) -> pd.DataFrame:
    """:func:`~fastgd.study.select.select_winners` at each target, stacked (a ``target`` column)."""
    table = pd.concat([select_winners(points, target) for target in targets], ignore_index=True)
    return sort_rows(table.drop(columns="phase"))


def time_to_target_table(winners: pd.DataFrame, targets: Sequence[float]) -> pd.DataFrame:
    """One row per tuning group: the tuned winner's median time to each target, side by side.

    Columns: the group keys, ``time_to_<target>`` (seconds, NaN when not reached) and ``lr_<target>``
    for each target, and ``best_suboptimality`` (what a "not reached" reached instead).
    """
    if winners.empty:
        return pd.DataFrame()
    keys = present(winners, GROUP_KEYS)
    frame = winners.assign(group=winners.groupby(keys, dropna=False, sort=False).ngroup())
    table = frame.drop_duplicates("group")[["group"] + keys].set_index("group")
    for target in targets:
        at = frame[frame["target"] == target].set_index("group")
        label = f"{target:.0e}"
        table[f"time_to_{label}"] = at["time_to_target_s"]
        table[f"lr_{label}"] = at["lr"]
    table["best_suboptimality"] = frame.groupby("group")["best_suboptimality"].min()
    return sort_rows(table.reset_index(drop=True))


def sensitivity_table(points: pd.DataFrame, target: float, winners: pd.DataFrame) -> pd.DataFrame:
    """Every configuration of the lr grid (tune phase): its final suboptimality and whether it won at ``target``."""
    tune = points[points["phase"] == "tune"]
    if tune.empty:
        return pd.DataFrame()
    configs = config_summary(run_summary(tune, [target]), target).drop(
        columns=["phase", "final_objective"], errors="ignore"
    )
    keys = present(configs, CASE_KEYS)
    chosen = winners.loc[(winners["target"] == target) & winners["lr"].notna(), keys].assign(winner=True)
    table = configs.merge(chosen, on=keys, how="left")
    table["winner"] = table["winner"].astype("boolean").fillna(False).astype(bool)
    return sort_rows(table)


def profile_table(winners: pd.DataFrame) -> pd.DataFrame:
    """Performance profiles of the winners' time to target, at each target.

    ``profile`` is ``"methods (fastgd)"`` (solvers: fastgd's methods; problems: dataset × loss) or
    ``"backends: <method>"`` (solvers: the backends that ran that method).
    """
    parts = []
    problem = present(winners, PROBLEM_KEYS)
    for target, at in winners.groupby("target", sort=True) if not winners.empty else []:
        frame = at.assign(
            method_label=variant_labels(at, ["method", "batch_size", "optimizer", "threads"]),
            backend_label=variant_labels(at, ["backend", "threads"]),
        )
        fastgd = frame[frame["backend"] == REFERENCE_BACKEND]
        if not fastgd.empty:
            profile = performance_profile(fastgd, "method_label", problem, "time_to_target_s")
            parts.append(profile.assign(profile=f"methods ({REFERENCE_BACKEND})", target=target))
        for label, method in frame.groupby("method_label", sort=False):
            if method["backend"].nunique() > 1:
                profile = performance_profile(method, "backend_label", problem, "time_to_target_s")
                parts.append(profile.assign(profile=f"backends: {label}", target=target))
    columns = ["profile", "target", "solver", "tau", "fraction", "n_problems"]
    return pd.concat(parts, ignore_index=True)[columns] if parts else pd.DataFrame(columns=columns)


def _against_peers(frame: pd.DataFrame, value: str, keys: list[str]) -> pd.DataFrame:
    reference = frame[frame["backend"] == REFERENCE_BACKEND]
    peers = frame[frame["backend"] != REFERENCE_BACKEND]
    extra = present(frame, ("reached", "best_suboptimality"))
    left = reference[keys + [value] + extra].rename(columns={value: "fastgd_s", "reached": "fastgd_reached"})
    right = peers[keys + ["backend", value] + extra].rename(columns={"backend": "peer", value: "peer_s"})
    right = right.rename(columns={name: f"peer_{name}" for name in extra})
    return left.drop(columns="best_suboptimality", errors="ignore").merge(right, on=keys, how="inner")


def speedup_table(timing: pd.DataFrame, winners: pd.DataFrame) -> pd.DataFrame:
    """Speed-up of fastgd over each peer = peer time / fastgd time (above 1: fastgd is faster).

    ``kind == "per_epoch"``: median epoch time of the timing phase, same dataset, loss, method,
    optimizer, batch size and threads.  ``kind == "time_to_target"``: the tuned winners' median time
    to ``target`` on each problem (equal accuracy); infinite when only fastgd reached it.
    """
    parts = []
    if not timing.empty:
        epochs = _against_peers(timing, "epoch_time_s", present(timing, MATCH_KEYS))
        parts.append(epochs.assign(kind="per_epoch", target=np.nan))
    if not winners.empty:
        reached = _against_peers(winners, "time_to_target_s", present(winners, MATCH_KEYS) + ["target"])
        parts.append(reached.assign(kind="time_to_target"))
    if not parts:
        return pd.DataFrame()
    table = pd.concat([part for part in parts if not part.empty] or parts, ignore_index=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        table["speedup"] = table["peer_s"] / table["fastgd_s"]
    if "peer_reached" in table:
        only_fastgd = table["fastgd_reached"].eq(True) & table["peer_reached"].eq(False)
        table.loc[only_fastgd, "speedup"] = np.inf
    keys = ["kind", "target"] + present(table, MATCH_KEYS)
    rest = ["peer", "fastgd_s", "peer_s", "speedup", "peer_best_suboptimality"]
    return sort_rows(table.reindex(columns=keys + rest))


def report_points(points: pd.DataFrame, winners: pd.DataFrame) -> pd.DataFrame:
    """The tune-phase points of the winners (at one target) and every timing-phase point."""
    tune = points[points["phase"] == "tune"]
    keys = present(winners, CONFIG_KEYS)
    chosen = tune.merge(winners.loc[winners["lr"].notna(), keys].drop_duplicates(), on=keys, how="inner")
    return pd.concat([chosen[list(points.columns)], points[points["phase"] == "timing"]], ignore_index=True)
