"""Tidy tables, optimum selection and time to target of :mod:`fastgd.report`, on hand-made records.

The builders at the top (``make_records`` and friends) make a tiny but honest
study: least-squares data, full-batch gradient descent in NumPy for every
"run", a certified optimum from the normal equations for L2 and none for L1
(so the report must fall back to the best loss seen).  The other
``test_report_*`` files import them.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from fastgd.report import CONVERGENCE_COLUMNS, TIMING_COLUMNS, time_to_target
from fastgd.report.summaries import (
    epoch_time_summary,
    final_loss_table,
    machine_rows,
    relative_suboptimality,
    speedup_table,
    target_column,
    time_to_target_table,
)
from fastgd.report.tables import (
    convergence_table,
    optimum_key,
    run_status_table,
    select_optima,
    timing_table,
)

MACHINE = {
    "cpu_model": "Test CPU 3000",
    "cores": 2,
    "numba_threads_available": 2,
    "bandwidth_gbytes_per_s": 12.5,
    "python": "3.11.7",
    "numpy": "2.4.0",
    "numba": "0.68.1",
    "pandas": "3.1.1",
    "torch": None,
    "sklearn": "1.9.1",
    "platform": "Linux-x86_64",
}
N_SAMPLES, N_FEATURES = 40, 3
# method -> (learning rate of its hand-made descent, batch size, optimizer name)
METHODS = {
    "batch": (0.3, None, "sgd"),
    "sgd": (0.1, 1, "sgd"),
    "minibatch": (0.2, 8, "sgd"),
    "adam": (0.05, 8, "adam"),
}
# backend -> epoch-time multiplier (fastgd is the fastest)
BACKENDS = {"fastgd": 1.0, "numpy": 3.0, "sklearn": 5.0, "torch": 8.0}
PEERS_OF = {"batch": ("numpy",), "sgd": ("numpy", "sklearn"), "minibatch": ("torch",), "adam": ("torch",)}


def make_problem(
    n_samples: int = N_SAMPLES, n_features: int = N_FEATURES, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_samples, n_features))
    y = X @ np.arange(1.0, n_features + 1.0) + 0.5 + rng.normal(scale=0.3, size=n_samples)
    return X, y


def objective(X: np.ndarray, y: np.ndarray, coef: np.ndarray, intercept: float, loss: str) -> float:
    residual = X @ coef + intercept - y
    return float(np.mean(residual**2) if loss == "l2" else np.mean(np.abs(residual)))


def l2_optimum(X: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    design = np.column_stack([X, np.ones(len(X))])
    solution = np.linalg.lstsq(design, y, rcond=None)[0]
    coef, intercept = solution[:-1], float(solution[-1])
    return {
        "loss": objective(X, y, coef, intercept, "l2"),
        "kind": "normal_equations",
        "coef": coef.tolist(),
        "intercept": intercept,
    }


def descent_path(X: np.ndarray, y: np.ndarray, loss: str, lr: float, epochs: int) -> tuple[list[float], np.ndarray]:
    """Full-batch (sub)gradient descent from zero: the loss and [coef, intercept] after each epoch."""
    params = np.zeros(X.shape[1] + 1)
    losses, path = [], []
    for _ in range(epochs + 1):
        coef, intercept = params[:-1], params[-1]
        losses.append(objective(X, y, coef, intercept, loss))
        path.append(params.copy())
        residual = X @ coef + intercept - y
        slope = 2 * residual if loss == "l2" else np.sign(residual)
        params = params - lr * np.append(X.T @ slope, slope.sum()) / len(y)
    return losses, np.array(path)


def make_record(
    method: str,
    backend: str,
    loss: str,
    *,
    epochs: int = 30,
    repetitions: int = 2,
    n_samples: int = N_SAMPLES,
    n_features: int = N_FEATURES,
    with_coef_path: bool = True,
    certified: bool = True,
    diverged: bool = False,
) -> dict[str, Any]:
    X, y = make_problem(n_samples, n_features)
    lr, batch_size, optimizer = METHODS[method]
    losses, path = descent_path(X, y, loss, lr, epochs)
    epoch_time = 1e-3 * BACKENDS[backend] * n_samples * n_features / (N_SAMPLES * N_FEATURES)
    convergence = [
        {
            "repetition": repetition,
            "epoch": epoch,
            "step": epoch * (1 if batch_size is None else n_samples),
            "samples_seen": epoch * n_samples,
            "time_s": epoch * epoch_time * (1 + 0.1 * repetition),
            "loss": value,
        }
        for repetition in range(repetitions)
        for epoch, value in enumerate(losses)
    ]
    timing = [
        {
            "repetition": repetition,
            "epoch_time_s": epoch_time * (1 + 0.1 * repetition),
            "epoch_time_min_s": epoch_time * 0.9,
            "epoch_time_max_s": epoch_time * 1.5,
            "compile_s": 0.8 if backend == "fastgd" else 0.0,
            "samples_per_s": n_samples / epoch_time,
            "gbytes_per_s": n_samples * n_features * 8 / epoch_time / 1e9,
            "bandwidth_fraction": 0.25,
        }
        for repetition in range(repetitions)
    ]
    optimum = (
        l2_optimum(X, y)
        if loss == "l2" and certified
        else {"loss": None, "kind": None, "coef": None, "intercept": None}
    )
    case = {
        "n_samples": n_samples,
        "n_features": n_features,
        "dtype": "float64",
        "noise": 0.3,
        "outliers": 0.0,
        "correlation": 0.0,
        "data_seed": 0,
        "loss": loss,
        "delta": 1.0,
        "method": method,
        "backend": backend,
        "optimizer": optimizer,
        "lr": lr,
        "batch_size": batch_size,
        "epochs": epochs,
        "threads": 2,
    }
    record = {
        "schema": 1,
        "case_id": f"{method}-{backend}-{loss}-{n_samples}x{n_features}",
        "case": case,
        "timing": timing,
        "convergence": convergence,
        "optimum": optimum,
        "diverged": diverged,
        "stop_reason": "diverged" if diverged else "max_epochs",
        "machine": dict(MACHINE),
        "finished_at": "2026-11-29T12:00:00+00:00",
    }
    if with_coef_path:
        record["coef_path"] = path.tolist()
    return record


def make_records(losses: tuple[str, ...] = ("l2", "l1"), **overrides: Any) -> list[dict[str, Any]]:
    """Every method on fastgd and on its peers, for each loss."""
    return [
        make_record(method, backend, loss, **overrides)
        for loss in losses
        for method in METHODS
        for backend in ("fastgd",) + PEERS_OF[method]
    ]


# --------------------------------------------------------------------------
# timing and convergence tables
# --------------------------------------------------------------------------


def test_timing_table_has_the_documented_columns_and_no_missing_values() -> None:
    records = make_records()
    timing = timing_table(records)
    assert list(timing.columns) == list(TIMING_COLUMNS)
    assert len(timing) == sum(len(record["timing"]) for record in records)
    # torch's version is null in the records: written as "not installed", not as a hole
    assert set(timing["torch"]) == {"not installed"}
    # full batch: batch_size null in the record, n_samples in the table
    assert set(timing.loc[timing["method"] == "batch", "batch_size"]) == {N_SAMPLES}
    assert not timing.isna().any().any()


def test_convergence_table_columns_suboptimality_and_coef_error() -> None:
    records = make_records(losses=("l2",))
    convergence = convergence_table(records)
    assert list(convergence.columns) == list(CONVERGENCE_COLUMNS)
    assert len(convergence) == sum(len(record["convergence"]) for record in records)
    assert set(convergence["optimum_kind"]) == {"normal_equations"}
    f_star = records[0]["optimum"]["loss"]
    np.testing.assert_allclose(convergence["suboptimality"], convergence["loss"] - f_star)
    # against a certified optimum no run can do better than f* (up to rounding)
    assert (convergence["suboptimality"] >= -1e-12 * abs(f_star)).all()
    # coefficients are recorded for repetition 0; repetition 1 reruns it (same losses): same errors
    first = convergence["repetition"] == 0
    assert convergence["coef_error"].notna().all()
    np.testing.assert_array_equal(
        convergence.loc[first, "coef_error"].to_numpy(), convergence.loc[~first, "coef_error"].to_numpy()
    )
    # from zero the error is exactly 1; gradient descent then brings it down
    starts = convergence[first & (convergence["epoch"] == 0)]
    np.testing.assert_allclose(starts["coef_error"], 1.0)
    assert convergence.loc[first, "coef_error"].iloc[-1] < 0.5
    assert not convergence.isna().any().any()


def test_coef_error_of_a_repetition_that_does_not_repeat_repetition_zero_is_unknown() -> None:
    records = make_records(losses=("l2",))
    for point in records[0]["convergence"]:
        if point["repetition"] == 1:
            point["loss"] *= 1.01  # not the same computation: its coefficients are not known
    convergence = convergence_table(records)
    run = convergence.iloc[: len(records[0]["convergence"])]
    assert run.loc[run["repetition"] == 0, "coef_error"].notna().all()
    assert run.loc[run["repetition"] == 1, "coef_error"].isna().all()


def test_best_seen_optimum_is_chosen_and_labelled_when_none_is_certified() -> None:
    records = make_records(losses=("l1",))
    optima = select_optima(records)
    assert len(optima) == 1
    optimum = optima[optimum_key(records[0]["case"])]
    best = min(point["loss"] for record in records for point in record["convergence"])
    assert optimum.kind == "best_seen" and not optimum.certified
    assert optimum.f_star == best
    assert optimum.coef is not None and optimum.coef.shape == (N_FEATURES,)
    convergence = convergence_table(records, optima)
    assert set(convergence["optimum_kind"]) == {"best_seen"}
    assert convergence["suboptimality"].min() == 0.0
    assert (convergence["suboptimality"] >= 0).all()


def test_certified_optimum_of_one_record_serves_its_whole_dataset_and_loss() -> None:
    records = make_records(losses=("l2",))
    for record in records[1:]:
        record["optimum"] = {"loss": None, "kind": None, "coef": None, "intercept": None}
    optima = select_optima(records)
    assert [optimum.kind for optimum in optima.values()] == ["normal_equations"]


def test_coef_error_without_coef_path_is_missing_not_invented() -> None:
    records = make_records(losses=("l2",), with_coef_path=False)
    convergence = convergence_table(records)
    assert convergence["coef_error"].isna().all()
    assert convergence["suboptimality"].notna().all()


def test_run_status_and_final_losses() -> None:
    records = make_records(losses=("l2",))
    records[0]["diverged"], records[0]["stop_reason"] = True, "diverged"
    convergence = convergence_table(records)
    finals = final_loss_table(convergence, run_status_table(records))
    assert len(finals) == len(records)
    assert finals["diverged"].tolist() == [True] + [False] * (len(records) - 1)
    assert (finals["epoch"] == 30).all()
    assert (finals["relative_suboptimality"] >= 0).all()


# --------------------------------------------------------------------------
# summaries
# --------------------------------------------------------------------------


def test_epoch_time_summary_and_speedups() -> None:
    records = make_records(losses=("l2",))
    summary = epoch_time_summary(timing_table(records))
    assert len(summary) == len(records)
    batch = summary[(summary["method"] == "batch") & (summary["backend"] == "fastgd")].iloc[0]
    assert batch["repetitions"] == 2
    assert batch["epoch_time_s"] == pytest.approx(1e-3 * 1.05)  # median of 1.0 and 1.1 ms
    assert batch["epoch_time_min_s"] == pytest.approx(0.9e-3)
    assert batch["epoch_time_max_s"] == pytest.approx(1.5e-3)
    speedups = speedup_table(summary)
    assert len(speedups) == len(METHODS)
    sgd = speedups[speedups["method"] == "sgd"].iloc[0]
    assert sgd["speedup_vs_numpy"] == pytest.approx(3.0)
    assert sgd["speedup_vs_sklearn"] == pytest.approx(5.0)
    assert math.isnan(sgd["speedup_vs_torch"])  # torch did not run SGD


def test_time_to_target_reached_and_not_reached() -> None:
    times = [0.0, 1.0, 2.0, 3.0, 4.0]
    losses = [2.0, 1.1, 1.0005, 1.0000005, 1.0000005]  # f* = 1: relative gaps 1, 0.1, 5e-4, 5e-7
    assert time_to_target(times, losses, 1.0, 1e-3) == 2.0
    assert time_to_target(times, losses, 1.0, 1e-6) == 3.0
    assert time_to_target(times, losses, 1.0, 1e-9) is None


def test_time_to_target_is_relative_to_the_size_of_f_star() -> None:
    times = [0.0, 1.0, 2.0]
    assert time_to_target(times, [-50.0, -99.95, -99.99], -100.0, 1e-3) == 1.0  # |f*| scales the gap
    assert time_to_target(times, [2e3, 1001.0, 1000.5], 1000.0, 1e-3) == 1.0


def test_time_to_target_with_f_star_zero_uses_the_absolute_gap() -> None:
    times = [0.0, 1.0, 2.0, 3.0]
    losses = [1.0, 1e-2, 1e-4, 1e-7]
    assert time_to_target(times, losses, 0.0, 1e-3) == 2.0
    assert time_to_target(times, losses, 0.0, 1e-6) == 3.0
    np.testing.assert_allclose(relative_suboptimality(losses, 0.0), losses)


def test_time_to_target_ignores_diverged_points_and_rejects_bad_input() -> None:
    assert time_to_target([0.0, 1.0], [np.nan, np.inf], 1.0, 1e-3) is None
    assert time_to_target([0.0, 1.0], [2.0, 1.0], np.nan, 1e-3) is None
    with pytest.raises(ValueError, match="equal length"):
        time_to_target([0.0, 1.0], [1.0], 1.0, 1e-3)
    with pytest.raises(ValueError, match="target"):
        time_to_target([0.0], [1.0], 1.0, 0.0)


def test_time_to_target_table_needs_every_repetition() -> None:
    records = make_records(losses=("l2",))
    table = time_to_target_table(convergence_table(records))
    assert len(table) == len(records)
    batch = table[(table["method"] == "batch") & (table["backend"] == "fastgd")].iloc[0]
    # full-batch GD with lr 0.3 on this problem gets within 1e-3 of f* in a few epochs
    epochs = batch[target_column(1e-3, "epochs")]
    assert 0 < epochs < 30
    # repetition 1 runs 10% slower: the reported time is the median of the two
    assert batch[target_column(1e-3)] == pytest.approx(epochs * 1e-3 * 1.05)
    records[0]["convergence"] = [
        point for point in records[0]["convergence"] if point["repetition"] == 0 or point["epoch"] < 2
    ]
    records[0].pop("coef_path")
    table = time_to_target_table(convergence_table(records))
    assert math.isnan(table.iloc[0][target_column(1e-3)])


def test_machine_rows_merge_distinct_values() -> None:
    rows = dict(machine_rows([MACHINE, dict(MACHINE, cpu_model="Other CPU"), None]))
    assert rows["cpu_model"] == "Test CPU 3000; Other CPU"
    assert rows["torch"] == "not installed"
    assert rows["cores"] == "2"
