"""The verdict at the top of REPORT.md: sentences computed from the report's tables, every figure from the run.

* per problem (dataset × loss): which of fastgd's methods reached the criterion
  target first, how much sooner than the next, and what the others reached;
* per peer: fastgd's speed-up at equal accuracy (time-to-target ratio of the
  tuned winners) and per epoch (timing phase): median, range, number of cases;
* where the tuned lr sits at an edge of the grid, and groups where every lr diverged;
* which results are noisy (spread across repetitions above :data:`.tables.NOISY_SPREAD`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .labels import (
    backend_style,
    format_number,
    format_seconds,
    format_speedup,
    not_reached,
    problem_labels,
    variant_labels,
)
from .tables import NOISY_SPREAD, REFERENCE_BACKEND

__all__ = ["MAX_LISTED", "verdict"]

MAX_LISTED = 8


def _listing(items: Sequence[str]) -> str:
    shown = list(items[:MAX_LISTED])
    if len(items) > MAX_LISTED:
        shown.append(f"and {len(items) - MAX_LISTED} more")
    return "; ".join(shown)


def _labelled(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(
        who=variant_labels(frame, ["method", "batch_size", "optimizer", "threads"]),
        backend_label=variant_labels(frame, ["backend", "threads"]),
        problem=problem_labels(frame),
    )


def _race(problem: str, rows: pd.DataFrame, target: str) -> str:
    """Who reached the target first on one problem, by how much, and what the rest reached."""
    rows = rows.sort_values("time_to_target_s", na_position="last")
    reached, missed = rows[rows["reached"]], rows[~rows["reached"]]
    misses = [
        f"{row.who} every lr diverged" if row.diverged else f"{row.who} {not_reached(row.best_suboptimality)}"
        for row in missed.itertuples()
    ]
    tail = f"; {_listing(misses)}" if misses else ""
    if reached.empty:
        return f"**{problem}**: no method reached {target}{tail}."
    first = reached.iloc[0]
    head = (
        f"**{problem}**: {first['who']} reached {target} first, in {format_seconds(first['time_to_target_s'])} "
        f"(lr {format_number(first['lr'])}, {first['schedule']})"
    )
    if len(reached) == 1:
        return f"{head}, the only method to reach it{tail}."
    second = reached.iloc[1]
    ratio = second["time_to_target_s"] / first["time_to_target_s"]
    others = [f"{row.who} {format_seconds(row.time_to_target_s)}" for row in reached.iloc[2:].itertuples()]
    middle = f"; then {_listing(others)}" if others else ""
    return (
        f"{head}, {format_speedup(ratio)} sooner than {second['who']} "
        f"({format_seconds(second['time_to_target_s'])}){middle}{tail}."
    )


def _ratios(values: pd.Series) -> str:
    finite = values[np.isfinite(values.astype("float64"))]
    if finite.empty:
        return ""
    if format_speedup(finite.min()) == format_speedup(finite.max()):
        return f"{format_speedup(finite.iloc[0])} ({len(finite)} case{'s' if len(finite) > 1 else ''})"
    return (
        f"{format_speedup(finite.median())} (median of {len(finite)} cases, "
        f"{format_speedup(finite.min())}–{format_speedup(finite.max())})"
    )


def _speedups(speedup: pd.DataFrame, target: float) -> list[str]:
    if speedup.empty:
        return ["No peer backend ran the cases fastgd ran, so there is no speed-up to state."]
    lines = []
    for peer, rows in speedup.groupby("peer", sort=False):
        accuracy = rows[(rows["kind"] == "time_to_target") & np.isclose(rows["target"].astype("float64"), target)]
        epochs = rows[rows["kind"] == "per_epoch"]
        parts = []
        equal = _ratios(accuracy["speedup"])
        if equal:
            parts.append(f"at equal accuracy (time to {target:.0e}) {equal}")
        only = int(np.isinf(accuracy["speedup"].astype("float64")).sum())
        if only:
            parts.append(f"in {only} case{'s' if only > 1 else ''} only fastgd reached {target:.0e}")
        per_epoch = _ratios(epochs["speedup"])
        if per_epoch:
            parts.append(f"per epoch {per_epoch}")
        if parts:
            lines.append(f"**fastgd vs {backend_style(str(peer)).label}**: speed-up {'; '.join(parts)}.")
    lines.append("A speed-up is the peer's time over fastgd's: above 1× fastgd is faster.")
    return lines


def _edges(winners: pd.DataFrame, target: str) -> str:
    edges = winners[winners["grid_edge"] != ""]
    failed = winners[winners["lr"].isna()]
    items = [
        f"{row.who} · {row.backend_label} on {row.problem} (lr {format_number(row.lr)}, {row.schedule}, "
        f"{row.grid_edge} edge)"
        for row in edges.itertuples()
    ]
    items += [f"{row.who} · {row.backend_label} on {row.problem}: every lr diverged" for row in failed.itertuples()]
    if not items:
        return f"The tuned lr is inside the grid for every method and backend (at {target})."
    return f"The lr grid is too narrow (at {target}): {_listing(items)}; widen the grid for these."


def _noise(winners: pd.DataFrame, timing: pd.DataFrame, target: str) -> str:
    noisy = winners[winners["spread"] > NOISY_SPREAD]
    items = [
        f"{row.who} · {row.backend_label} on {row.problem} "
        f"({'time to ' + target if row.spread_of == 'time_to_target' else 'final suboptimality'} "
        f"spread {row.spread:.0%})"
        for row in noisy.itertuples()
    ]
    if not timing.empty:
        slow = _labelled(timing[timing["spread"] > NOISY_SPREAD])
        items += [
            f"epoch time of {row.who} · {row.backend_label} (spread {row.spread:.0%})" for row in slow.itertuples()
        ]
    measured = winners["spread"].notna().any() or (not timing.empty and timing["spread"].notna().any())
    if items:
        return f"Noisy (spread across repetitions above {NOISY_SPREAD:.0%}): {_listing(items)}."
    if not measured:
        return "Noise not measured: each case ran once (set `repetitions` to 2 or more)."
    return f"No result is noisy: every spread across repetitions is at most {NOISY_SPREAD:.0%}."


def verdict(
    winners: pd.DataFrame,
    speedup: pd.DataFrame,
    timing: pd.DataFrame,
    criterion_target: float,
) -> list[str]:
    """The verdict as Markdown bullet texts (without the bullet), from the report's tables.

    Parameters
    ----------
    winners : pandas.DataFrame
        :func:`.tables.winners_table` (all targets).
    speedup : pandas.DataFrame
        :func:`.tables.speedup_table`.
    timing : pandas.DataFrame
        :func:`.tables.timing_table`.
    criterion_target : float
        The target the verdict is stated at (the study's ``criterion_target``).

    Returns
    -------
    list of str
    """
    target = f"{criterion_target:.0e}"
    at = winners[np.isclose(winners["target"], criterion_target)] if not winners.empty else winners
    if at.empty:
        lines = [f"No convergence run at {target}: the study holds no tune-phase points."]
    else:
        at = _labelled(at)
        fastgd = at[at["backend"] == REFERENCE_BACKEND]
        lines = [_race(str(problem), rows, target) for problem, rows in fastgd.groupby("problem", sort=False)]
    lines += _speedups(speedup, criterion_target)
    if not at.empty:
        lines += [_edges(at, target), _noise(at, timing, target)]
    return lines
