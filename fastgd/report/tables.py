"""Tidy tables from the study's results records: ``timing``, ``convergence`` and the optima.

One row per measurement, parameters as columns, machine information alongside
(the layout of ``timing.csv`` and ``convergence.csv``; see :data:`TIMING_COLUMNS`
and :data:`CONVERGENCE_COLUMNS`).  The records follow the contract of
:mod:`fastgd.study.records` (one JSON object per finished case).

Conventions of the tables
-------------------------
* ``batch_size`` of full-batch gradient descent (``null`` in the record) is
  written as ``n_samples``: one batch is the whole data set.
* A version of an optional peer that is ``null`` in the record is written as
  ``"not installed"``.
* ``convergence.csv`` names the loss *function* ``loss_name`` and the loss
  *value* ``loss`` (``timing.csv`` has no loss value, so its ``loss`` column is
  the loss function, as in the record's case).

The optimum ``f*`` of a (dataset, loss)
---------------------------------------
* **certified**: the record's ``optimum`` when it has both a ``loss`` and a
  ``kind`` (``"normal_equations"``: exact least squares in float64;
  ``"highs_lp"``: exact least absolute deviations by the HiGHS LP solver); if
  several records of the group carry one, the lowest is used (they agree up to
  rounding);
* otherwise **best seen** (``optimum_kind = "best_seen"``): the lowest finite
  loss recorded by any run (any method, backend, repetition) of that dataset and
  loss, and ``coef*`` the coefficients of the lowest-loss point that has
  recorded coefficients.

``suboptimality = loss - f*`` (in loss units; it is not clipped, so a run that
beats a certified optimum by more than rounding would show up as negative).
``coef_error = ||coef - coef*|| / ||coef*||`` over the coefficients only (the
intercept is excluded); when ``||coef*|| = 0`` the absolute error
``||coef - coef*||`` is reported instead.  Coefficients are recorded for
repetition 0 only (``coef_path``, aligned with its convergence rows); the other
repetitions rerun the same seeded computation, so a point of theirs with the
same ``(epoch, step)`` and the same loss (relative tolerance
``REPEAT_LOSS_RTOL = 1e-6``) has repetition 0's coefficients.  ``coef_error``
is NaN exactly where no coefficients are known: the record omits
``coef_path`` (large ``n_features``), ``coef*`` is unknown, or a repetition's
point does not match repetition 0's.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "CONVERGENCE_COLUMNS",
    "DATASET_COLUMNS",
    "MACHINE_COLUMNS",
    "RUN_COLUMNS",
    "TIMING_COLUMNS",
    "Optimum",
    "convergence_table",
    "optimum_key",
    "run_status_table",
    "select_optima",
    "tidy_frame",
    "timing_table",
]

Record = Mapping[str, Any]

DATASET_COLUMNS: tuple[str, ...] = (
    "n_samples",
    "n_features",
    "dtype",
    "noise",
    "outliers",
    "correlation",
)
RUN_COLUMNS: tuple[str, ...] = ("method", "backend", "optimizer", "lr", "batch_size", "threads")
MACHINE_COLUMNS: tuple[str, ...] = (
    "cpu_model",
    "cores",
    "python",
    "numpy",
    "numba",
    "pandas",
    "torch",
    "sklearn",
)
TIMING_MEASURE_COLUMNS: tuple[str, ...] = (
    "repetition",
    "epoch_time_s",
    "epoch_time_min_s",
    "epoch_time_max_s",
    "samples_per_s",
    "gbytes_per_s",
    "bandwidth_fraction",
    "compile_s",
)
TIMING_COLUMNS: tuple[str, ...] = DATASET_COLUMNS + ("loss",) + RUN_COLUMNS + TIMING_MEASURE_COLUMNS + MACHINE_COLUMNS
CONVERGENCE_POINT_COLUMNS: tuple[str, ...] = (
    "repetition",
    "epoch",
    "step",
    "samples_seen",
    "time_s",
    "loss",
)
CONVERGENCE_COLUMNS: tuple[str, ...] = (
    DATASET_COLUMNS
    + ("loss_name",)
    + RUN_COLUMNS
    + CONVERGENCE_POINT_COLUMNS
    + ("suboptimality", "coef_error", "optimum_kind")
)
OPTIONAL_PEER_VERSIONS: tuple[str, ...] = ("torch", "sklearn")
NOT_INSTALLED = "not installed"
REPEAT_LOSS_RTOL = 1e-6
BEST_SEEN = "best_seen"


@dataclass(frozen=True)
class Optimum:
    """The reference optimum of one (dataset, loss).

    Attributes
    ----------
    f_star : float
        The optimal (or best seen) objective value; NaN if every run diverged.
    kind : str
        ``"normal_equations"``, ``"highs_lp"`` or ``"best_seen"``.
    coef : ndarray or None
        The optimal coefficients (intercept excluded), when known.
    """

    f_star: float
    kind: str
    coef: np.ndarray | None

    @property
    def certified(self) -> bool:
        """Whether ``f_star`` is a certified optimum rather than the best loss seen."""
        return self.kind != BEST_SEEN


def optimum_key(case: Mapping[str, Any]) -> tuple[Any, ...]:
    """Key of the (dataset, loss) a case belongs to: runs with equal keys share one ``f*``.

    The key holds the dataset's parameters (including ``data_seed``), the loss and,
    for the Huber loss only, its ``delta``.
    """
    loss = case.get("loss")
    delta = case.get("delta") if loss == "huber" else None
    return tuple(case.get(column) for column in DATASET_COLUMNS) + (
        case.get("data_seed"),
        loss,
        delta,
    )


def _batch_size(case: Mapping[str, Any]) -> Any:
    batch_size = case.get("batch_size")
    return case.get("n_samples") if batch_size is None else batch_size


def _run_values(case: Mapping[str, Any]) -> dict[str, Any]:
    values = {column: case.get(column) for column in RUN_COLUMNS}
    values["batch_size"] = _batch_size(case)
    return values


def _machine_values(machine: Mapping[str, Any] | None) -> dict[str, Any]:
    machine = machine or {}
    values = {column: machine.get(column) for column in MACHINE_COLUMNS}
    for column in OPTIONAL_PEER_VERSIONS:
        if values[column] is None:
            values[column] = NOT_INSTALLED
    return values


def tidy_frame(rows: list[dict[str, Any]], columns: Sequence[str]) -> pd.DataFrame:
    """A DataFrame of ``rows`` with ``columns``; object columns whose every value is numeric become numeric."""
    frame = pd.DataFrame(rows, columns=list(columns))
    for column in frame.columns:
        if frame[column].dtype == object:
            converted = pd.to_numeric(frame[column], errors="coerce")
            if converted.notna().sum() == frame[column].notna().sum() and len(frame):
                frame[column] = converted
    return frame


def timing_table(records: Sequence[Record]) -> pd.DataFrame:
    """One row per (case, repetition) with the columns :data:`TIMING_COLUMNS`.

    Parameters
    ----------
    records : sequence of dict
        Results records (see :func:`fastgd.study.records.load_records`).

    Returns
    -------
    pandas.DataFrame
    """
    rows: list[dict[str, Any]] = []
    for record in records:
        case = record["case"]
        fixed = {column: case.get(column) for column in DATASET_COLUMNS}
        fixed["loss"] = case.get("loss")
        fixed.update(_run_values(case))
        fixed.update(_machine_values(record.get("machine")))
        for entry in record.get("timing", []):
            row = dict(fixed)
            row.update({column: entry.get(column) for column in TIMING_MEASURE_COLUMNS})
            rows.append(row)
    return tidy_frame(rows, TIMING_COLUMNS)


def _points(record: Record) -> pd.DataFrame:
    points = pd.DataFrame(record.get("convergence", []), columns=list(CONVERGENCE_POINT_COLUMNS))
    return points.astype({"loss": float, "time_s": float})


def _repetition_zero_coefs(record: Record, points: pd.DataFrame) -> tuple[np.ndarray, np.ndarray] | None:
    """Row positions of repetition 0 and their coefficients, or None without a usable ``coef_path``."""
    coef_path = record.get("coef_path")
    if not coef_path:
        return None
    positions = np.flatnonzero(points["repetition"].to_numpy() == 0)
    path = np.asarray(coef_path, dtype=np.float64)
    if path.ndim != 2 or path.shape[0] != positions.size or path.shape[1] < 2:
        return None
    return positions, path[:, :-1]


def _coefs_for_rows(record: Record, points: pd.DataFrame) -> tuple[np.ndarray, np.ndarray] | None:
    """Row positions with known coefficients and those coefficients (module docstring).

    Repetition 0's rows take the ``coef_path``; a row of another repetition takes
    the coefficients of repetition 0's row with the same ``(epoch, step)`` when
    their losses agree to :data:`REPEAT_LOSS_RTOL` (the repetitions rerun the same
    seeded computation; a row that does not match stays without coefficients).
    """
    base = _repetition_zero_coefs(record, points)
    if base is None:
        return None
    positions, coefs = base
    epochs, steps = points["epoch"].to_numpy(), points["step"].to_numpy()
    losses, repetitions = points["loss"].to_numpy(dtype=np.float64), points["repetition"].to_numpy()
    index_of = {(epochs[row], steps[row]): i for i, row in enumerate(positions)}
    matched_rows: list[int] = []
    matched_coefs: list[int] = []
    for row in map(int, np.flatnonzero(repetitions != 0)):
        i = index_of.get((epochs[row], steps[row]))
        if i is not None and np.isclose(losses[row], losses[positions[i]], rtol=REPEAT_LOSS_RTOL, atol=0.0):
            matched_rows.append(row)
            matched_coefs.append(i)
    return np.concatenate([positions, matched_rows]).astype(int), np.vstack([coefs, coefs[matched_coefs]])


def _best_seen(records: Sequence[Record]) -> Optimum:
    best_loss = math.inf
    best_coef_loss = math.inf
    best_coef: np.ndarray | None = None
    for record in records:
        points = _points(record)
        losses = points["loss"].to_numpy()
        finite = losses[np.isfinite(losses)]
        if finite.size:
            best_loss = min(best_loss, float(finite.min()))
        coefs = _repetition_zero_coefs(record, points)
        if coefs is not None:
            positions, coef_rows = coefs
            coef_losses = np.where(np.isfinite(losses[positions]), losses[positions], np.inf)
            if coef_losses.size and coef_losses.min() < best_coef_loss:
                best_coef_loss = float(coef_losses.min())
                best_coef = coef_rows[int(np.argmin(coef_losses))].copy()
    f_star = best_loss if math.isfinite(best_loss) else math.nan
    return Optimum(f_star=f_star, kind=BEST_SEEN, coef=best_coef)


def _is_certified(optimum: Mapping[str, Any] | None) -> bool:
    return bool(optimum) and optimum.get("loss") is not None and optimum.get("kind") is not None  # type: ignore[union-attr]


def select_optima(records: Sequence[Record]) -> dict[tuple[Any, ...], Optimum]:
    """The optimum ``f*`` (and ``coef*``) of every (dataset, loss) in the records.

    Parameters
    ----------
    records : sequence of dict
        Results records.

    Returns
    -------
    dict
        :func:`optimum_key` -> :class:`Optimum`; certified when a record carries a
        certified optimum, else the best loss seen across all runs (module docstring).
    """
    groups: dict[tuple[Any, ...], list[Record]] = defaultdict(list)
    for record in records:
        groups[optimum_key(record["case"])].append(record)
    optima: dict[tuple[Any, ...], Optimum] = {}
    for key, group in groups.items():
        certified = [record["optimum"] for record in group if _is_certified(record.get("optimum"))]
        if not certified:
            optima[key] = _best_seen(group)
            continue
        best = min(certified, key=lambda optimum: float(optimum["loss"]))
        coef = best.get("coef")
        optima[key] = Optimum(
            f_star=float(best["loss"]),
            kind=str(best["kind"]),
            coef=None if coef is None else np.asarray(coef, dtype=np.float64),
        )
    return optima


def _coef_errors(coefs: np.ndarray, coef_star: np.ndarray) -> np.ndarray:
    scale = float(np.linalg.norm(coef_star))
    errors = np.asarray(np.linalg.norm(coefs - coef_star, axis=1), dtype=np.float64)
    return errors / scale if scale > 0.0 else errors


def convergence_table(
    records: Sequence[Record],
    optima: Mapping[tuple[Any, ...], Optimum] | None = None,
) -> pd.DataFrame:
    """One row per recorded point with the columns :data:`CONVERGENCE_COLUMNS`.

    Parameters
    ----------
    records : sequence of dict
        Results records.
    optima : mapping, optional
        The output of :func:`select_optima` (computed from ``records`` if omitted).

    Returns
    -------
    pandas.DataFrame
        ``suboptimality`` and ``coef_error`` are computed as the module docstring says.
    """
    if optima is None:
        optima = select_optima(records)
    frames: list[pd.DataFrame] = []
    for record in records:
        case = record["case"]
        optimum = optima[optimum_key(case)]
        points = _points(record)
        coef_error = np.full(len(points), np.nan)
        coefs = _coefs_for_rows(record, points)
        if coefs is not None and optimum.coef is not None and optimum.coef.shape[0] == coefs[1].shape[1]:
            coef_error[coefs[0]] = _coef_errors(coefs[1], optimum.coef)
        points["suboptimality"] = points["loss"] - optimum.f_star
        points["coef_error"] = coef_error
        points["optimum_kind"] = optimum.kind
        for column in DATASET_COLUMNS:
            points[column] = case.get(column)
        points["loss_name"] = case.get("loss")
        for column, value in _run_values(case).items():
            points[column] = value
        frames.append(points)
    if not frames:
        return tidy_frame([], CONVERGENCE_COLUMNS)
    return pd.concat(frames, ignore_index=True)[list(CONVERGENCE_COLUMNS)]


def run_status_table(records: Sequence[Record]) -> pd.DataFrame:
    """One row per case: dataset, loss, run columns, ``diverged``, ``stop_reason``, ``repetitions``."""
    rows = []
    for record in records:
        case = record["case"]
        row = {column: case.get(column) for column in DATASET_COLUMNS}
        row["loss_name"] = case.get("loss")
        row.update(_run_values(case))
        row["diverged"] = bool(record.get("diverged", False))
        row["stop_reason"] = str(record.get("stop_reason", ""))
        row["repetitions"] = len(record.get("timing", []))
        rows.append(row)
    columns = DATASET_COLUMNS + ("loss_name",) + RUN_COLUMNS + ("diverged", "stop_reason", "repetitions")
    return tidy_frame(rows, columns)
