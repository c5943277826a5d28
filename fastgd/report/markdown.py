"""Compose ``REPORT.md``: the verdict (sentences computed from the tables), the rule, the tables, the figures."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from fastgd.study.select import CRITERION

from .labels import (
    backend_style,
    format_number,
    format_rate,
    format_seconds,
    format_speedup,
    is_missing,
    not_reached,
    problem_labels,
    variant_labels,
)
from .tables import NOISY_SPREAD, REFERENCE_BACKEND

__all__ = ["CONVENTION", "machine_table", "render_study_report", "speedup_markdown", "timing_markdown", "verdict"]

CONVENTION = """\
**What is timed.** `time_s` is the cumulative training time of a run: JIT compilation happens before timing
and is reported apart (`compile_s`), and evaluating the full-data loss at the recorded points is left out.
A repetition's epoch time is the median of its epochs; tables give the median over repetitions with the
fastest and slowest [min–max].  Relative suboptimality is `(loss − f*) / |f*|`, with `f*` certified once
per dataset and loss by the study (L2: normal equations in float64; L1: the least-absolute-deviations LP
solved by HiGHS); without a certified `f*` (`f_star_kind` "none") no target can be reached.  Time to target
is the training time of the first recorded point at or below the target.

**Peers.** Every backend runs the same grid and the same selection rule.  scikit-learn's `SGDRegressor` is
timed the way its users call it: `shuffle=True` with its own random generator, epoch by epoch.  The other
backends (fastgd, NumPy, PyTorch, distributed) read the rows in the epoch's permutation, and drawing that
permutation is inside the timed region.  Speed-up = peer time / fastgd time."""

MACHINE_KEYS: tuple[str, ...] = ("cpu_model", "cores", "llc_bytes", "bandwidth_gbytes_per_s", "platform", "python")
MACHINE_KEYS += ("fastgd", "numpy", "numba", "pandas", "sklearn", "torch")


def table_markdown(frame: pd.DataFrame) -> str:
    """A table of already formatted cells as Markdown (no index; cells are not re-parsed as numbers)."""
    return frame.to_markdown(index=False, disable_numparse=True) + "\n"


def machine_table(machine: Mapping[str, Any]) -> str:
    """The machine as a two-column Markdown table (known keys first, then any others)."""
    keys = [key for key in MACHINE_KEYS if key in machine] + sorted(set(machine) - set(MACHINE_KEYS))
    if not keys:
        return "No machine description was recorded.\n"
    values = [format_number(machine[key]) for key in keys]
    return table_markdown(pd.DataFrame({"": keys, "value": values}))


def _time_or_best(times: pd.Series, bests: pd.Series) -> list[str]:
    """Times to a target; a missed one as ``not reached (best x)``."""
    pairs = zip(times, bests, strict=True)
    return [not_reached(best) if is_missing(time) else format_seconds(time) for time, best in pairs]


def _time_to_target_markdown(table: pd.DataFrame, targets: Sequence[float]) -> str:
    if table.empty:
        return "No tune-phase point was recorded.\n"
    columns: dict[str, Any] = {
        "problem": list(problem_labels(table)),
        "method": list(variant_labels(table, ["method", "batch_size", "optimizer"])),
        "backend": list(variant_labels(table, ["backend", "threads"])),
    }
    for target in targets:
        label = f"{target:.0e}"
        columns[f"time to {label}"] = _time_or_best(table[f"time_to_{label}"], table["best_suboptimality"])
        columns[f"lr for {label}"] = table[f"lr_{label}"].map(format_number)
    return table_markdown(pd.DataFrame(columns))


def timing_markdown(timing: pd.DataFrame, first_columns: Mapping[str, Sequence[str]] | None = None) -> str:
    """The timing table (:data:`.tables.TIMING_COLUMNS`) in Markdown, after ``first_columns`` if given."""
    if timing.empty:
        return "No timing-phase point was recorded.\n"
    seconds = timing[["epoch_time_s", "epoch_time_min_s", "epoch_time_max_s"]].map(format_seconds)
    span = seconds.iloc[:, 0] + " [" + seconds.iloc[:, 1] + "–" + seconds.iloc[:, 2] + "]"
    frame = pd.DataFrame(
        {
            **(first_columns or {}),
            "problem": problem_labels(timing, with_dataset=True),
            "method": variant_labels(timing, ["method", "batch_size", "optimizer"]),
            "backend": variant_labels(timing, ["backend", "threads"]),
            "lr": timing["lr"].map(format_number),
            "epoch time [min–max]": span,
            "spread": timing["spread"].map(lambda value: "—" if is_missing(value) else f"{value:.0%}"),
            "samples/s": timing["samples_per_s"].map(format_rate),
            "GB/s": timing["gbytes_per_s"].map(format_number),
            "of read bandwidth": timing["bandwidth_fraction"].map(lambda v: "—" if is_missing(v) else f"{v:.1%}"),
            "compile": timing["compile_s"].map(format_seconds),
            "repetitions": timing["repetitions"].map(format_number),
        }
    )
    return table_markdown(frame)


def speedup_markdown(speedup: pd.DataFrame) -> str:
    """The speed-up table (:func:`.tables.speedup_table`) in Markdown, a missed target with its best value."""
    if speedup.empty:
        return "No peer backend ran the cases fastgd ran.\n"
    frame = pd.DataFrame(
        {
            "measure": [
                "per epoch" if kind == "per_epoch" else f"time to {target:.0e}"
                for kind, target in zip(speedup["kind"], speedup["target"], strict=True)
            ],
            "problem": list(problem_labels(speedup)),
            "method": list(variant_labels(speedup, ["method", "batch_size", "optimizer", "threads"])),
            "peer": list(variant_labels(speedup.rename(columns={"peer": "backend"}), ["backend"])),
            "fastgd": speedup["fastgd_s"].map(format_seconds),
            "peer time": _time_or_best(speedup["peer_s"], speedup["peer_best_suboptimality"]),
            "speed-up": speedup["speedup"].map(format_speedup),
        }
    )
    return table_markdown(frame)


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
    """The verdict as Markdown bullet texts (without the bullet), every figure from the report's tables.

    From :func:`.tables.winners_table` (all targets), :func:`.tables.speedup_table` and
    :func:`.tables.timing_table`, at the study's ``criterion_target``: per problem, which of fastgd's
    methods reached it first, how much sooner than the next, and what the others reached; per peer,
    fastgd's speed-up at equal accuracy and per epoch (median, range, number of cases); where the
    tuned lr sits at an edge of the grid or every lr diverged; which results are noisy (spread across
    repetitions above :data:`.tables.NOISY_SPREAD`).
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


def render_study_report(
    info: Mapping[str, Any],
    verdict: Sequence[str],
    tables: Mapping[str, pd.DataFrame],
    targets: Sequence[float],
    criterion_target: float,
    figures: Mapping[str, list[str]],
    figure_notes: Mapping[str, str],
) -> str:
    """The text of ``REPORT.md``.

    ``tables`` are the report's tables by CSV name, ``figures`` the file names drawn for each section
    (``"convergence"``, ``"profile"``, ...), ``figure_notes`` why a section has none.
    """

    def drawn(section: str, alt: str) -> str:
        if not figures.get(section):
            note = figure_notes.get(section)
            return f"No figure: {note}\n" if note else ""
        return "".join(f"![{alt}]({name})\n\n" for name in figures[section])

    study = info.get("study") or {}
    notes = [str(note) for note in info.get("notes") or []] + [f"{key}: {note}" for key, note in figure_notes.items()]
    elapsed = info.get("elapsed_s")
    parts = [
        f"# fastgd benchmark study: {study.get('name') or 'study'}\n",
        "## Verdict\n",
        "".join(f"- {line}\n" for line in verdict),
        "## How step sizes are chosen\n",
        f"{CRITERION}\n",
        f"Targets (relative suboptimality): {', '.join(f'{target:.0e}' for target in targets)}; the verdict is stated "
        f"at {criterion_target:.0e}.  A result is called noisy when its spread across repetitions, (max − min) / "
        f"median, is above {NOISY_SPREAD:.0%}.  A missed target is shown with the best suboptimality reached.\n",
        "## Time to target (tuned winners)\n",
        _time_to_target_markdown(tables["time_to_target.csv"], targets),
        drawn("convergence", "Convergence of the tuned winners"),
        "## Scaling out: fastgd.distributed against one machine\n" if figures.get("distributed") else "",
        "The distributed backend runs each method on a local Dask cluster (one single-threaded worker per "
        "thread): full batch adds the workers' partial gradients in a fixed order (the same result as one "
        "machine), the stochastic methods run local SGD and average the parameters once per epoch.\n"
        if figures.get("distributed")
        else "",
        drawn("distributed", "fastgd.distributed against one machine"),
        "## Performance profiles\n",
        "Share of the problems (dataset × loss) on which a solver reaches the target within τ times the best "
        "solver's time (Dolan–Moré); a solver that never reaches it stays below 1.\n",
        drawn("profile", "Performance profiles"),
        "## Step-size sensitivity\n",
        "Final suboptimality against lr (fastgd backend); a star marks the tuned lr, `grid edge` a tuned lr at the "
        "edge of the grid, a cross on the top edge a diverged run.\n",
        drawn("sensitivity", "Final suboptimality against lr"),
        "## Epoch time (timing phase)\n",
        timing_markdown(tables["timing.csv"]),
        drawn("epoch_time", "Epoch time"),
        "## Speed-up of fastgd over each peer\n",
        speedup_markdown(tables["speedup.csv"]),
        drawn("speedup", "Speed-up of fastgd"),
        "## Conventions\n",
        CONVENTION + "\n",
        "## Machine\n",
        machine_table(info.get("machine") or {}),
        "## Notes\n",
        "".join(f"- {note}\n" for note in notes) or "None.\n",
        "## Reproduce\n",
        f"```sh\n{info.get('command') or 'fastgd bench'}\n```\n",
        f"Started {info.get('started_at') or '—'}, finished {info.get('finished_at') or '—'}"
        + (f" ({format_seconds(elapsed)})." if not is_missing(elapsed) else ".")
        + "  Tables: `points.csv` (the tune-phase points of the winners at the criterion target and every "
        "timing-phase point), `timing.csv`, `winners.csv`, `time_to_target.csv`, `sensitivity.csv`, "
        "`profile.csv`, `speedup.csv`.\n",
    ]
    return "\n".join(part for part in parts if part)
