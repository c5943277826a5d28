"""``fastgd.report`` tables, verdict, figure data and drawing, on a hand-made study (no study is run)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import matplotlib.image
import numpy as np
import pandas as pd
import pytest

from fastgd.report.labels import (
    backend_style,
    format_suboptimality,
    method_style,
    not_reached,
    style_of_label,
    variant_labels,
)
from fastgd.report.markdown import verdict
from fastgd.report.plotdata import (
    convergence_lines,
    epoch_time_bars,
    profile_lines,
    rounds_lines,
    sensitivity_lines,
    speedup_bars,
)
from fastgd.report.plots import draw_bars, draw_lines, figure_png_bytes
from fastgd.report.tables import (
    TIMING_COLUMNS,
    profile_table,
    report_points,
    sensitivity_table,
    speedup_table,
    time_to_target_table,
    timing_table,
    winners_table,
)

from .test_select import curve, points

TARGETS = (1e-1, 1e-2, 1e-3)
BATCH = {"batch": pd.NA, "sgd": 1, "adam": 32}
OPTIMIZER = {"batch": "sgd", "sgd": "sgd", "adam": "adam"}
# relative suboptimality after k epochs = rate**k (None: diverges at epoch 2)
RATES: dict[str, dict[float, float | None]] = {
    "batch": {0.01: 0.9, 0.1: 0.5, 1.0: None},
    "sgd": {0.01: 0.7, 0.1: 0.4, 1.0: 0.3},  # best lr at the high edge of the grid
    "adam": {0.01: 0.8, 0.1: 0.6, 1.0: None},
}
EPOCH_TIME = {"batch": 1e-3, "sgd": 2e-3, "adam": 1.5e-3}
PEER_FACTOR = {"fastgd": 1.0, "numpy": 3.0}
L1_FLOOR = 0.031  # Adam never gets below it on L1
EPOCHS = 8
TIMING_DATASET = {"n_samples": 4000, "n_features": 10}


def run_keys(method: str, backend: str, **keys: Any) -> dict[str, Any]:
    return {
        "method": method,
        "optimizer": OPTIMIZER[method],
        "batch_size": BATCH[method],
        "backend": backend,
        **keys,
    }


def tune_curve(method: str, lr: float, loss: str) -> list[float]:
    rate = RATES[method][lr]
    if rate is None:
        return [1.0, 0.5, np.inf, np.nan]
    floor = L1_FLOOR if (method, loss) == ("adam", "l1") else 0.0
    return [max(rate**epoch, floor) for epoch in range(EPOCHS + 1)]


def study_points() -> pd.DataFrame:
    runs = []
    for loss in ("l2", "l1"):
        for method in RATES:
            for backend, factor in PEER_FACTOR.items():
                for lr in RATES[method]:
                    for repetition in (0, 1):
                        noisy = 1.6 if (method, backend, repetition) == ("sgd", "numpy", 1) else 1.0
                        runs.append(
                            curve(
                                tune_curve(method, lr, loss),
                                epoch_time=EPOCH_TIME[method] * factor * noisy,
                                **run_keys(method, backend, loss=loss, lr=lr, repetition=repetition),
                            )
                        )
        for method in RATES:
            for backend, factor in PEER_FACTOR.items():
                for repetition in (0, 1):
                    keys = run_keys(method, backend, loss=loss, lr=0.1, repetition=repetition, phase="timing")
                    time = 4 * EPOCH_TIME[method] * factor * (1.0 + 0.1 * repetition)
                    runs.append(curve([1.0, 0.5, 0.3, 0.2], epoch_time=time, **TIMING_DATASET, **keys))
    return points(*runs)


STUDY_INFO: dict[str, Any] = {
    "study": {"name": "hand-made", "targets": list(TARGETS), "criterion_target": 1e-2},
    "machine": {"cpu_model": "Test CPU 3000", "cores": 2, "bandwidth_gbytes_per_s": 10.0, "python": "3.11.7"},
    "notes": ["torch is not installed: the PyTorch cases were skipped"],
    "command": "fastgd bench --preset quick --out reports",
    "started_at": "2026-12-02T08:00:00+00:00",
    "finished_at": "2026-12-02T08:03:00+00:00",
    "elapsed_s": 180.0,
}


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return study_points()


@pytest.fixture(scope="module")
def winners(frame: pd.DataFrame) -> pd.DataFrame:
    return winners_table(frame, TARGETS)


def test_timing_table(frame: pd.DataFrame) -> None:
    timing = timing_table(frame, bandwidth_gbytes_per_s=10.0)
    assert list(timing.columns) == list(TIMING_COLUMNS)
    assert len(timing) == 2 * len(RATES) * len(PEER_FACTOR)
    row = timing[(timing["method"] == "batch") & (timing["backend"] == "fastgd") & (timing["loss"] == "l2")].iloc[0]
    assert row["epoch_time_s"] == pytest.approx(4e-3 * 1.05)
    assert row["epoch_time_min_s"] == pytest.approx(4e-3) and row["epoch_time_max_s"] == pytest.approx(4.4e-3)
    assert row["spread"] == pytest.approx(0.4 / 4.2)
    assert row["samples_per_s"] == pytest.approx(4000 / 4.2e-3)
    assert row["gbytes_per_s"] == pytest.approx(4000 * 10 * 8 / 4.2e-3 / 1e9)
    assert row["bandwidth_fraction"] == pytest.approx(row["gbytes_per_s"] / 10.0)
    assert row["repetitions"] == 2 and pd.isna(row["batch_size"])


def test_winners_and_time_to_target(winners: pd.DataFrame) -> None:
    at = winners[winners["target"] == 1e-2].set_index(["loss", "method", "backend"])
    assert at.loc[("l2", "batch", "fastgd"), "lr"] == 0.1
    assert at.loc[("l2", "batch", "fastgd"), "time_to_target_s"] == pytest.approx(7e-3)  # 0.5**7 < 1e-2
    assert at.loc[("l2", "sgd", "fastgd"), "grid_edge"] == "high"
    assert not at.loc[("l1", "adam", "fastgd"), "reached"]
    assert at.loc[("l1", "adam", "fastgd"), "best_suboptimality"] == pytest.approx(L1_FLOOR)
    wide = time_to_target_table(winners, TARGETS).set_index(["loss", "method", "backend"])
    assert wide.loc[("l2", "batch", "fastgd"), "time_to_1e-02"] == pytest.approx(7e-3)
    assert np.isnan(wide.loc[("l1", "adam", "fastgd"), "time_to_1e-02"])
    assert list(wide.index.get_level_values("method")[:3]) == ["batch", "batch", "sgd"]  # house order


def test_speedups_per_epoch_and_at_equal_accuracy(frame: pd.DataFrame, winners: pd.DataFrame) -> None:
    speedup = speedup_table(timing_table(frame), winners)
    per_epoch = speedup[speedup["kind"] == "per_epoch"]
    assert len(per_epoch) == 2 * len(RATES) and np.allclose(per_epoch["speedup"], 3.0)
    accuracy = speedup[(speedup["kind"] == "time_to_target") & (speedup["target"] == 1e-2)]
    reached = accuracy[accuracy["fastgd_s"].notna()]
    assert set(reached["peer"]) == {"numpy"} and (reached["speedup"] >= 3.0 - 1e-9).all()
    assert accuracy[accuracy["fastgd_s"].isna()]["speedup"].isna().all()


def test_only_fastgd_reaching_is_an_infinite_speedup(winners: pd.DataFrame) -> None:
    fewer = winners.copy()
    numpy_batch = (fewer["backend"] == "numpy") & (fewer["method"] == "batch")
    fewer.loc[numpy_batch, ["reached", "time_to_target_s"]] = [False, np.nan]
    speedup = speedup_table(pd.DataFrame(), fewer)
    batch = speedup[(speedup["method"] == "batch") & (speedup["target"] == 1e-2)]
    assert len(batch) == 2 and np.isinf(batch["speedup"]).all()


def test_sensitivity_profile_and_report_points(frame: pd.DataFrame, winners: pd.DataFrame) -> None:
    sensitivity = sensitivity_table(frame, 1e-2, winners)
    assert len(sensitivity) == 2 * len(RATES) * len(PEER_FACTOR) * 3
    assert sensitivity.groupby(["loss", "method", "backend"])["winner"].sum().eq(1).all()
    profile = profile_table(winners)
    assert profile["fraction"].between(0, 1).all()
    assert {"methods (fastgd)", "backends: SGD"} <= set(profile["profile"])
    for _, line in profile.groupby(["profile", "target", "solver"]):
        assert (np.diff(line.sort_values("tau")["fraction"]) >= 0).all()
    kept = report_points(frame, winners[winners["target"] == 1e-2])
    assert set(kept[kept["phase"] == "tune"]["lr"]) <= {0.1, 1.0}
    assert (kept["phase"] == "timing").sum() == (frame["phase"] == "timing").sum()


def test_verdict_sentences(frame: pd.DataFrame, winners: pd.DataFrame) -> None:
    timing = timing_table(frame)
    lines = verdict(winners, speedup_table(timing, winners), timing, 1e-2)
    text = "\n".join(lines)
    assert lines[0].startswith(
        "**L2**: batch GD reached 1e-02 first, in 7 ms (lr 0.1, constant), 1.14× sooner than SGD"
    )
    assert "Adam not reached (best 3.1e-2)" in text and "Adam not reached (best 1.7e-2)" in text
    assert "**fastgd vs NumPy**: speed-up at equal accuracy" in text and "per epoch 3× (6 cases)" in text
    assert "SGD · fastgd on L2 (lr 1, constant, high edge)" in text
    assert "Noisy" in text and "SGD · NumPy" in text


def test_labels() -> None:
    assert format_suboptimality(0.031) == "3.1e-2" and format_suboptimality(1e-3) == "1e-3"
    assert not_reached(0.0168) == "not reached (best 1.7e-2)" and not_reached(np.nan) == "not reached"
    frame = pd.DataFrame({"method": ["minibatch", "minibatch", "sgd"], "batch_size": pd.array([32, 256, 1], "Int64")})
    assert list(variant_labels(frame, ["method", "batch_size"])) == ["mini-batch b=32", "mini-batch b=256", "SGD"]


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def assert_valid_png(source: bytes | Path) -> None:
    data = source.read_bytes() if isinstance(source, Path) else source
    assert data[:8] == PNG_SIGNATURE and len(data) > 5_000
    image = matplotlib.image.imread(io.BytesIO(data), format="png")
    assert image.shape[0] >= 200 and float(image[..., :3].std()) > 0.01


def test_figure_data_and_drawing(frame: pd.DataFrame, winners: pd.DataFrame) -> None:
    at = winners[winners["target"] == 1e-2]
    lines = convergence_lines(report_points(frame, at))
    assert set(lines["panel"]) == {"L2", "L1"} and (lines["x"] > 0).all() and (lines["y"] > 0).all()
    assert "batch GD · fastgd" in set(lines["series"])
    assert_valid_png(figure_png_bytes(draw_lines(lines, title="t", xlabel="x", ylabel="y", hlines=TARGETS)))
    sensitivity = sensitivity_lines(sensitivity_table(frame, 1e-2, winners))
    assert {"edge", "winner", "diverged"} <= set(sensitivity["mark"])
    assert_valid_png(figure_png_bytes(draw_lines(sensitivity, title="t", xlabel="lr", ylabel="y")))
    profile = profile_lines(profile_table(winners), 1e-2)
    assert_valid_png(figure_png_bytes(draw_lines(profile, title="t", xlabel="τ", ylabel="y", log_y=False, steps=True)))
    timing = timing_table(frame)
    bars = epoch_time_bars(timing)
    assert (bars["lower"] <= bars["value"]).all() and set(bars["series"]) == {"fastgd", "NumPy"}
    assert_valid_png(figure_png_bytes(draw_bars(bars, title="t", ylabel="s")))
    speedups = speedup_bars(speedup_table(timing, winners), 1e-2)
    assert {panel.split(":")[0] for panel in speedups["panel"]} == {"per epoch", "time to 1e-02"}
    assert_valid_png(figure_png_bytes(draw_bars(speedups, title="t", ylabel="x", reference=1.0, annotate=True)))


def test_rounds_lines_put_distributed_next_to_one_machine(frame: pd.DataFrame) -> None:
    assert rounds_lines(frame).empty  # no distributed backend ran: no figure
    tune = frame[(frame["phase"] == "tune") & (frame["method"] == "adam") & (frame["backend"] == "fastgd")]
    points = pd.concat([frame, tune.assign(backend="distributed")], ignore_index=True)
    lines = rounds_lines(points)
    assert set(lines["series"]) == {"Adam · fastgd", "Adam · fastgd distributed (dask)"}
    whole = lines["x"].to_numpy()
    assert (whole >= 1).all() and (whole == np.round(whole)).all()  # per epoch = per synchronisation round


def test_styles_are_stable_and_distinct() -> None:
    backends = [backend_style(name) for name in ("fastgd", "distributed", "numpy", "sklearn", "torch")]
    methods = [method_style(name) for name in ("batch", "sgd", "minibatch", "adam")]
    for styles in (methods, backends):
        assert len({style.color for style in styles}) == len(styles)
        assert len({style.marker for style in styles}) == len(styles)
    assert method_style("my_optimizer") == method_style("my_optimizer")
    assert style_of_label("mini-batch b=32") == method_style("minibatch")
    assert style_of_label("fastgd distributed (dask)") == backend_style("distributed")
