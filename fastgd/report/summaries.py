"""Summary tables of the report: epoch time and speed-ups, time to target, final losses, machine.

Conventions
-----------
* **Epoch time** of a run: the median over its repetitions of each
  repetition's median epoch time; ``epoch_time_min_s`` / ``epoch_time_max_s``
  are the fastest and slowest single epoch seen in any repetition (falling back
  to the spread of the repetition medians where those were not recorded).
* **Speed-up of fastgd against a peer** = peer epoch time / fastgd epoch time,
  for the same dataset, loss, method and thread count (> 1: fastgd is faster).
* **Relative suboptimality** = ``(loss - f*) / |f*|``.  When
  ``|f*| <= ABSOLUTE_FALLBACK_BELOW`` (a noise-free problem whose optimum is 0
  up to rounding) a relative gap means nothing and the absolute gap
  ``loss - f*`` is used instead.
* **Time to target**: the recorded training time ``time_s`` of the first
  recorded point (in recording order) whose relative suboptimality is <= the
  target; "not reached" (NaN in the tables) when no point gets there.  A run's
  figure is the median over its repetitions, and counts as reached only if
  every repetition reached it.  Times are those of the recorded points, not
  interpolated between them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .tables import (
    DATASET_COLUMNS,
    NOT_INSTALLED,
    OPTIONAL_PEER_VERSIONS,
    RUN_COLUMNS,
    Optimum,
)

__all__ = [
    "ABSOLUTE_FALLBACK_BELOW",
    "REFERENCE_BACKEND",
    "TARGETS",
    "epoch_time_summary",
    "final_loss_table",
    "first_reached",
    "machine_rows",
    "optima_table",
    "relative_suboptimality",
    "speedup_table",
    "target_column",
    "time_to_target",
    "time_to_target_table",
]

TARGETS: tuple[float, ...] = (1e-3, 1e-6)
ABSOLUTE_FALLBACK_BELOW = 1e-12
REFERENCE_BACKEND = "fastgd"
TIMING_RUN_KEYS: tuple[str, ...] = DATASET_COLUMNS + ("loss",) + RUN_COLUMNS
CONVERGENCE_RUN_KEYS: tuple[str, ...] = DATASET_COLUMNS + ("loss_name",) + RUN_COLUMNS
SPEEDUP_KEYS: tuple[str, ...] = DATASET_COLUMNS + ("loss", "method", "threads")
MACHINE_KEYS: tuple[str, ...] = (
    "cpu_model",
    "cores",
    "numba_threads_available",
    "bandwidth_gbytes_per_s",
    "platform",
    "python",
    "numpy",
    "numba",
    "pandas",
    "torch",
    "sklearn",
)


def relative_suboptimality(losses: Any, f_star: float) -> np.ndarray:
    """``(loss - f*) / |f*|``, or ``loss - f*`` when ``|f*| <= ABSOLUTE_FALLBACK_BELOW``.

    Parameters
    ----------
    losses : array_like
        Objective values.
    f_star : float
        The optimum.

    Returns
    -------
    ndarray of float64
    """
    gap = np.asarray(losses, dtype=np.float64) - float(f_star)
    scale = abs(float(f_star))
    return gap / scale if scale > ABSOLUTE_FALLBACK_BELOW else gap


def time_to_target(times: Any, losses: Any, f_star: float, target: float) -> float | None:
    """Time of the first recorded point whose relative suboptimality is <= ``target``.

    Parameters
    ----------
    times : array_like, shape (n_points,)
        Training time of each recorded point, in seconds, in recording order.
    losses : array_like, shape (n_points,)
        Objective value at each point (NaN or inf for a diverged run never count).
    f_star : float
        The optimum (see :func:`relative_suboptimality` for ``f* = 0``).
    target : float
        Relative suboptimality to reach, > 0 (for instance ``1e-3``).

    Returns
    -------
    float or None
        The time in seconds, or None when the target is not reached (or ``f*`` is
        not finite).
    """
    times_array = np.asarray(times, dtype=np.float64)
    losses_array = np.asarray(losses, dtype=np.float64)
    if times_array.shape != losses_array.shape or times_array.ndim != 1:
        raise ValueError(
            f"times and losses must be 1-D of equal length, got shapes {times_array.shape} and {losses_array.shape}"
        )
    position = first_reached(losses_array, f_star, target)
    return None if position is None else float(times_array[position])


def first_reached(losses: Any, f_star: float, target: float) -> int | None:
    """Position of the first loss whose relative suboptimality is <= ``target``, or None.

    See :func:`time_to_target` for the arguments.
    """
    if not target > 0:
        raise ValueError(f"target must be > 0, got {target!r}")
    if not np.isfinite(f_star):
        return None
    reached = np.flatnonzero(relative_suboptimality(losses, f_star) <= target)
    return int(reached[0]) if reached.size else None


def target_column(target: float, quantity: str = "time") -> str:
    """Column name of a target in :func:`time_to_target_table`: ``time_to_1e-03_s``, ``epochs_to_1e-03``."""
    return f"time_to_{target:.0e}_s" if quantity == "time" else f"epochs_to_{target:.0e}"


def epoch_time_summary(timing: pd.DataFrame) -> pd.DataFrame:
    """Epoch time per run (dataset, loss, method, backend, ...), median over repetitions.

    Parameters
    ----------
    timing : pandas.DataFrame
        The timing table (:func:`fastgd.report.tables.timing_table`).

    Returns
    -------
    pandas.DataFrame
        The run keys plus ``repetitions``, ``epoch_time_s`` (median),
        ``epoch_time_min_s``, ``epoch_time_max_s``, and the medians of
        ``samples_per_s``, ``gbytes_per_s``, ``bandwidth_fraction``, ``compile_s``.
    """
    keys = [key for key in TIMING_RUN_KEYS if key in timing.columns]
    grouped = timing.groupby(keys, dropna=False, sort=False)
    summary = grouped.agg(
        repetitions=("epoch_time_s", "size"),
        epoch_time_s=("epoch_time_s", "median"),
        epoch_time_min_s=("epoch_time_min_s", "min"),
        epoch_time_max_s=("epoch_time_max_s", "max"),
        spread_min_s=("epoch_time_s", "min"),
        spread_max_s=("epoch_time_s", "max"),
        samples_per_s=("samples_per_s", "median"),
        gbytes_per_s=("gbytes_per_s", "median"),
        bandwidth_fraction=("bandwidth_fraction", "median"),
        compile_s=("compile_s", "median"),
    ).reset_index()
    summary["epoch_time_min_s"] = summary["epoch_time_min_s"].fillna(summary.pop("spread_min_s"))
    summary["epoch_time_max_s"] = summary["epoch_time_max_s"].fillna(summary.pop("spread_max_s"))
    return summary


def speedup_table(summary: pd.DataFrame, reference: str = REFERENCE_BACKEND) -> pd.DataFrame:
    """Epoch time per backend side by side, and the speed-up of ``reference`` against each peer.

    Parameters
    ----------
    summary : pandas.DataFrame
        The output of :func:`epoch_time_summary`.
    reference : str
        The backend whose speed-up is reported (``"fastgd"``).

    Returns
    -------
    pandas.DataFrame
        One row per (dataset, loss, method, threads); a column ``<backend>`` with
        the median epoch time of each backend, then ``speedup_vs_<peer>`` for each
        peer (NaN where either side was not run).
    """
    keys = [key for key in SPEEDUP_KEYS if key in summary.columns]
    wide = summary.groupby(keys + ["backend"], dropna=False, sort=False)["epoch_time_s"].median().unstack("backend")
    wide.columns = [str(column) for column in wide.columns]
    wide = wide.reset_index()
    backends = [column for column in wide.columns if column not in keys]
    if reference in backends:
        for peer in backends:
            if peer != reference:
                wide[f"speedup_vs_{peer}"] = wide[peer] / wide[reference]
    return wide


def _f_star(group: pd.DataFrame) -> float:
    implied = (group["loss"] - group["suboptimality"]).to_numpy(dtype=np.float64)
    implied = implied[np.isfinite(implied)]
    return float(np.median(implied)) if implied.size else float("nan")


def time_to_target_table(convergence: pd.DataFrame, targets: Sequence[float] = TARGETS) -> pd.DataFrame:
    """Time and epochs to reach each relative-suboptimality target, per run.

    Parameters
    ----------
    convergence : pandas.DataFrame
        The convergence table (:func:`fastgd.report.tables.convergence_table`).
    targets : sequence of float
        Relative suboptimality targets.

    Returns
    -------
    pandas.DataFrame
        The run keys, ``optimum_kind``, then :func:`target_column` columns for the
        time (seconds) and the epoch of each target; NaN means "not reached".
    """
    rows = []
    for keys, run in convergence.groupby(list(CONVERGENCE_RUN_KEYS), dropna=False, sort=False):
        row: dict[str, Any] = dict(zip(CONVERGENCE_RUN_KEYS, keys, strict=True))
        row["optimum_kind"] = run["optimum_kind"].iloc[0]
        f_star = _f_star(run)
        for target in targets:
            times: list[float] = []
            epochs: list[float] = []
            for _, repetition in run.groupby("repetition", sort=True):
                position = first_reached(repetition["loss"], f_star, target)
                if position is None:
                    times, epochs = [], []
                    break
                times.append(float(repetition["time_s"].iloc[position]))
                epochs.append(float(repetition["epoch"].iloc[position]))
            row[target_column(target)] = float(np.median(times)) if times else np.nan
            row[target_column(target, "epochs")] = float(np.median(epochs)) if epochs else np.nan
        rows.append(row)
    columns = list(CONVERGENCE_RUN_KEYS) + ["optimum_kind"]
    for target in targets:
        columns += [target_column(target), target_column(target, "epochs")]
    return pd.DataFrame(rows, columns=columns)


def final_loss_table(convergence: pd.DataFrame, status: pd.DataFrame) -> pd.DataFrame:
    """The last recorded point of each run (its lowest repetition), with the run's status.

    Parameters
    ----------
    convergence : pandas.DataFrame
        The convergence table.
    status : pandas.DataFrame
        :func:`fastgd.report.tables.run_status_table` (``diverged``, ``stop_reason``).

    Returns
    -------
    pandas.DataFrame
        Run keys, ``epoch``, ``loss``, ``suboptimality``, ``relative_suboptimality``,
        ``coef_error``, ``optimum_kind``, ``diverged``, ``stop_reason``.
    """
    keys = list(CONVERGENCE_RUN_KEYS)
    rows = []
    for _, run in convergence.groupby(keys, dropna=False, sort=False):
        first_repetition = run[run["repetition"] == run["repetition"].min()]
        last = first_repetition.iloc[-1].copy()
        f_star = _f_star(run)
        last["relative_suboptimality"] = float(relative_suboptimality(last["loss"], f_star))
        rows.append(last)
    columns = keys + [
        "epoch",
        "loss",
        "suboptimality",
        "relative_suboptimality",
        "coef_error",
        "optimum_kind",
    ]
    finals = pd.DataFrame(rows, columns=columns).reset_index(drop=True)
    return finals.merge(status[keys + ["diverged", "stop_reason"]], on=keys, how="left")


def optima_table(optima: Mapping[tuple[Any, ...], Optimum]) -> pd.DataFrame:
    """One row per (dataset, loss): its parameters, ``f_star`` and ``optimum_kind``."""
    columns = list(DATASET_COLUMNS) + ["data_seed", "loss", "delta", "f_star", "optimum_kind"]
    rows = [list(key) + [optimum.f_star, optimum.kind] for key, optimum in optima.items()]
    return pd.DataFrame(rows, columns=columns)


def _display(key: str, value: Any) -> str:
    if value is None:
        return NOT_INSTALLED if key in OPTIONAL_PEER_VERSIONS else "unknown"
    return str(value)


def machine_rows(machines: Iterable[Mapping[str, Any] | None]) -> list[tuple[str, str]]:
    """(key, value) rows describing the machine(s) the results come from.

    Parameters
    ----------
    machines : iterable of dict or None
        Machine descriptions (study.json's and every record's); when they differ
        (a study resumed elsewhere) every distinct value is listed, joined by "; ".
        The keys of :data:`MACHINE_KEYS` come first, then any other key, sorted.

    Returns
    -------
    list of (str, str)
    """
    present = [machine for machine in machines if machine]
    rows = []
    extra_keys = sorted({key for machine in present for key in machine}.difference(MACHINE_KEYS))
    for key in MACHINE_KEYS + tuple(extra_keys):
        values: list[str] = []
        for machine in present:
            if key in machine:
                shown = _display(key, machine[key])
                if shown not in values:
                    values.append(shown)
        if values:
            rows.append((key, "; ".join(values)))
    return rows
