"""``fastgd.study.select``: time to target, the lr-selection rule, grid edges, performance profiles."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pytest

from fastgd.report.tables import report_points
from fastgd.study.select import (
    CONFIG_KEYS,
    GROUP_KEYS,
    config_summary,
    performance_profile,
    run_summary,
    select_winners,
    time_column,
)

DATASET = {
    "n_samples": 1000,
    "n_features": 10,
    "dtype": "float64",
    "noise": 1.0,
    "outliers": 0.0,
    "correlation": 0.0,
    "data_seed": 0,
}


def curve(
    suboptimality: Sequence[float],
    *,
    epoch_time: float = 1.0,
    f_star: float = 2.0,
    **keys: Any,
) -> list[dict[str, Any]]:
    """The rows of one run: a point per epoch, ``time_s = epoch * epoch_time``."""
    run = {
        "case_id": "case",
        "phase": "tune",
        **DATASET,
        "loss": "l2",
        "delta": 1.0,
        "method": "sgd",
        "optimizer": "sgd",
        "batch_size": 1,
        "backend": "fastgd",
        "threads": 1,
        "lr": 0.1,
        "schedule": "constant",
        "repetition": 0,
        "compile_s": 0.5,
        "f_star_kind": "normal_equations" if np.isfinite(f_star) else "none",
        "stop_reason": "max_epochs",
    }
    run.update(keys)
    rows = []
    for epoch, value in enumerate(suboptimality):
        rows.append(
            {
                **run,
                "epoch": float(epoch),
                "step": epoch * 10,
                "samples_seen": epoch * int(run["n_samples"]),
                "time_s": epoch * epoch_time,
                "objective": f_star * (1 + value),
                "f_star": f_star,
                "suboptimality": value,
                "diverged": not np.isfinite(value),
            }
        )
    return rows


def points(*runs: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame([row for run in runs for row in run])
    frame["batch_size"] = frame["batch_size"].astype("Int64")
    return frame


def test_time_to_target_on_a_hand_made_curve() -> None:
    frame = points(curve([1.0, 0.5, 0.05, 0.02, 0.005, 0.007], epoch_time=2.0))
    summary = run_summary(frame, [1e-1, 1e-2, 1e-3])
    assert len(summary) == 1
    row = summary.iloc[0]
    assert row[time_column(1e-1)] == 4.0  # epoch 2 is the first point <= 0.1
    assert row[time_column(1e-2)] == 8.0
    assert np.isnan(row[time_column(1e-3)])
    assert row["final_suboptimality"] == 0.007 and row["best_suboptimality"] == 0.005
    assert row["epoch_time_s"] == 2.0 and not row["diverged"]


def test_final_suboptimality_skips_the_non_finite_tail() -> None:
    summary = run_summary(points(curve([1.0, 0.3, np.inf, np.nan])), [0.5])
    assert summary.loc[0, "final_suboptimality"] == 0.3 and summary.loc[0, "diverged"]


def test_full_batch_rows_group_together() -> None:
    frame = points(curve([1.0, 0.1], method="batch", batch_size=pd.NA, repetition=0), curve([1.0, 0.2], repetition=1))
    frame.loc[frame["repetition"] == 1, "batch_size"] = pd.NA
    frame.loc[frame["repetition"] == 1, "method"] = "batch"
    assert len(run_summary(frame)) == 2
    assert len(select_winners(frame, 0.15)) == 1


def grid(*runs: tuple[float, Sequence[float]], **keys: Any) -> pd.DataFrame:
    """Runs of one tuning group: ``(lr, curve)`` pairs, two repetitions each."""
    return points(*[curve(values, lr=lr, repetition=rep, **keys) for lr, values in runs for rep in (0, 1)])


def test_the_fastest_lr_to_the_target_wins() -> None:
    frame = grid((0.01, [1, 0.5, 0.2, 0.05, 0.005]), (0.1, [1, 0.1, 0.005, 0.004, 0.003]), (1.0, [1, 0.3, 0.02, 0.009]))
    winner = select_winners(frame, 1e-2).iloc[0]
    assert winner["lr"] == 0.1 and winner["reached"] and winner["time_to_target_s"] == 2.0
    assert winner["grid_edge"] == "" and winner["n_repetitions"] == 2 and winner["n_lrs"] == 3


def test_a_never_reaching_lr_loses_to_one_that_reaches() -> None:
    frame = grid((0.01, [1, 0.5, 0.2, 0.05, 0.009]), (0.1, [1, 0.02, 0.011, 0.0101, 0.0101]), (1.0, [1, 0.5, 0.4]))
    winner = select_winners(frame, 1e-2).iloc[0]
    assert winner["lr"] == 0.01 and winner["time_to_target_s"] == 4.0


def test_not_reached_and_ties_are_broken_by_final_suboptimality() -> None:
    never = grid((0.01, [1, 0.5, 0.2]), (0.1, [1, 0.3, 0.05]), (1.0, [1, 0.5, 0.4]))
    winner = select_winners(never, 1e-2).iloc[0]
    assert winner["lr"] == 0.1 and not winner["reached"] and np.isnan(winner["time_to_target_s"])
    assert winner["final_suboptimality"] == 0.05 and winner["best_suboptimality"] == 0.05
    tie = grid((0.01, [1, 0.005, 0.004]), (0.1, [1, 0.005, 0.001]), (1.0, [1, 0.5, 0.4]))
    assert select_winners(tie, 1e-2).iloc[0]["lr"] == 0.1


def test_a_diverged_configuration_never_wins() -> None:
    frame = grid((0.01, [1, 0.5, 0.2]), (0.1, [1, 0.001, np.inf]))
    winner = select_winners(frame, 1e-2).iloc[0]
    assert winner["lr"] == 0.01 and not winner["reached"]
    assert config_summary(run_summary(frame, [1e-2]), 1e-2).set_index("lr").loc[0.1, "diverged"]


def test_a_group_whose_every_configuration_diverged_has_no_winner() -> None:
    frame = pd.concat(
        [grid((0.1, [1, np.inf]), (1.0, [1, np.nan]), method="adam"), grid((0.1, [1, 0.001]), (1.0, [1, 0.5]))]
    )
    winners = select_winners(frame, 1e-2).set_index("method")
    assert winners.loc["sgd", "lr"] == 0.1
    failed = winners.loc["adam"]
    assert np.isnan(failed["lr"]) and pd.isna(failed["schedule"]) and not failed["reached"] and failed["diverged"]
    assert len(report_points(frame, winners.reset_index())) == len(curve([1, 0.001])) * 2


def test_grid_edges_are_flagged_per_schedule() -> None:
    low = grid((0.01, [1, 0.001]), (0.1, [1, 0.05, 0.002]), (1.0, [1, 0.5, 0.05]))
    assert select_winners(low, 1e-2).iloc[0]["grid_edge"] == "low"
    high = grid((0.01, [1, 0.5, 0.2]), (0.1, [1, 0.05, 0.002]), (1.0, [1, 0.001]))
    assert select_winners(high, 1e-2).iloc[0]["grid_edge"] == "high"
    diverged_above = grid((0.1, [1, 0.05, 0.002]), (1.0, [1, 0.001]), (10.0, [1, np.inf]))
    assert select_winners(diverged_above, 1e-2).iloc[0]["grid_edge"] == ""  # bracketed by divergence
    one_lr = grid((0.1, [1, 0.001]))
    assert select_winners(one_lr, 1e-2).iloc[0]["grid_edge"] == ""


def test_spread_across_repetitions() -> None:
    frame = points(curve([1, 0.001], epoch_time=1.0), curve([1, 0.001], epoch_time=1.5, repetition=1))
    winner = select_winners(frame, 1e-2).iloc[0]
    assert winner["spread_of"] == "time_to_target"
    assert winner["spread"] == pytest.approx(0.5 / 1.25)


def test_timing_rows_are_not_tuned_and_keys_are_complete() -> None:
    frame = pd.concat([grid((0.1, [1, 0.001])), points(curve([1, 0.5], phase="timing"))])
    winners = select_winners(frame, 1e-2)
    assert list(winners["phase"]) == ["tune"]
    assert set(GROUP_KEYS) <= set(winners.columns) and set(CONFIG_KEYS) <= set(winners.columns)


def profile_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "solver": ["a", "b", "c"] * 3,
            "problem": ["p1"] * 3 + ["p2"] * 3 + ["p3"] * 3,
            "time": [1.0, 2.0, np.nan, 4.0, 2.0, 8.0, np.inf, np.nan, 3.0],
        }
    )


def test_performance_profile_values() -> None:
    profile = performance_profile(profile_table(), "solver", "problem", "time")
    at = profile.set_index(["solver", "tau"])["fraction"]
    assert at[("a", 1.0)] == pytest.approx(1 / 3) and at[("b", 1.0)] == pytest.approx(1 / 3)
    assert at[("a", 2.0)] == pytest.approx(2 / 3) and at[("b", 2.0)] == pytest.approx(2 / 3)
    assert at[("c", 4.0)] == pytest.approx(2 / 3)
    assert set(profile["n_problems"]) == {3}


def test_performance_profile_is_in_0_1_and_monotone() -> None:
    rng = np.random.default_rng(0)
    table = pd.DataFrame(
        {
            "solver": np.repeat(["a", "b", "c", "d"], 20),
            "problem": np.tile(np.arange(20), 4),
            "time": np.where(rng.random(80) < 0.2, np.nan, rng.lognormal(size=80)),
        }
    )
    profile = performance_profile(table, "solver", ["problem"], "time", taus=np.geomspace(1, 100, 30))
    assert profile["fraction"].between(0, 1).all()
    for _, solver in profile.groupby("solver"):
        assert (np.diff(solver.sort_values("tau")["fraction"]) >= 0).all()
    assert profile.groupby("tau")["fraction"].max().iloc[0] > 0  # someone is best on each solved problem


def test_a_solver_missing_on_a_problem_has_not_solved_it() -> None:
    table = profile_table().drop(index=[1])  # b never ran p1
    profile = performance_profile(table, "solver", "problem", "time")
    assert profile[profile["solver"] == "b"]["fraction"].max() == pytest.approx(1 / 3)  # p2 only
    assert profile.set_index(["solver", "tau"]).loc[("a", 1.0), "fraction"] == pytest.approx(1 / 3)


def test_repetitions_of_the_winner_do_not_re_decide_the_choice() -> None:
    first = curve([1, 0.5, 0.001], epoch_time=1.0, lr=0.1)  # reaches 1e-2 at 2 s in the grid pass
    other = curve([1, 0.5, 0.001], epoch_time=1.5, lr=0.3)  # 3 s: slower in the grid pass
    slow_repeats = [curve([1, 0.5, 0.001], epoch_time=4.0, lr=0.1, repetition=r) for r in (1, 2)]
    winner = select_winners(points(first, other, *slow_repeats), 1e-2).iloc[0]
    assert winner["lr"] == 0.1  # the grid pass decided, although its median over repetitions (8 s) is slower
    assert winner["time_to_target_s"] == 8.0 and winner["n_repetitions"] == 3
