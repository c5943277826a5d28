"""Running a study: tidy rows, one file per case, tuned winners, resume, f* as a column, divergence."""

from __future__ import annotations

import math

import msgspec
import numpy as np
import pandas as pd
import pytest

import fastgd
from fastgd.study import runner
from fastgd.study.config import DatasetSpec, LrGrid, MethodSpec, Study, StudyConfigError, TimingSpec
from fastgd.study.machine import thread_limits
from fastgd.study.optimum import least_squares
from fastgd.study.select import select_winners
from fastgd.study.store import CASES_DIR, load_points, read_study_info

#: A study that runs in seconds: two methods, fastgd and NumPy, a 3-point grid, a timing phase.
_SMALL = Study(
    name="small",
    datasets=(DatasetSpec(n_samples=300, n_features=3, outliers=0.05),),
    losses=("l2", "l1"),
    methods=(MethodSpec(name="batch", epochs=6), MethodSpec(name="adam", batch_size=32)),
    backends=("fastgd", "numpy"),
    repetitions=2,
    epochs=3,
    schedules=("constant", "cosine"),
    lr_grid=LrGrid(points=3, max_widen=1),
    probe_mbytes=4,
    settle_s=0.0,
    timing=TimingSpec(dataset=DatasetSpec(n_samples=500, n_features=3), epochs=2, repetitions=2),
)

#: Every column of the tidy rows, as fastgd.study.store documents them.
COLUMNS = {
    "case_id", "phase", "n_samples", "n_features", "dtype", "noise", "outliers", "correlation", "data_seed",
    "loss", "delta", "method", "optimizer", "batch_size", "backend", "threads", "lr", "schedule", "repetition",
    "epoch", "step", "samples_seen", "time_s", "objective", "f_star", "f_star_kind", "suboptimality",
    "compile_s", "diverged", "stop_reason",
}  # fmt: skip


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    directory = tmp_path_factory.mktemp("small")
    outcome = runner.run_study(_SMALL, directory, quiet=True, command="test", log=lambda _: None)
    return directory, outcome, load_points(directory)


def test_rows_are_tidy_with_every_key_as_a_column(small):
    _, _, points = small
    assert set(points.columns) == COLUMNS
    assert not points[sorted(COLUMNS - {"suboptimality", "f_star", "batch_size"})].isna().any().any()
    assert str(points["batch_size"].dtype) == "Int64"
    assert points.loc[points["method"] == "batch", "batch_size"].isna().all()  # full batch is <NA>, as fit's None
    assert set(points["phase"]) == {"tune", "timing"}
    assert (points.groupby(["case_id"])["time_s"].agg(lambda t: (np.diff(t) >= 0).all())).all()


def test_one_file_per_case_and_the_study_info(small):
    directory, outcome, points = small
    files = {path.stem for path in (directory / CASES_DIR).glob("*.parquet")}
    assert files == set(points["case_id"]) and outcome.n_run == len(files)
    info = read_study_info(directory)
    assert msgspec.convert(info["study"], Study) == _SMALL
    assert info["machine"]["bandwidth_gbytes_per_s"] > 0 and info["command"] == "test"


def test_f_star_is_the_certified_optimum_carried_as_a_column(small):
    _, _, points = small
    spec = _SMALL.datasets[0]
    data = fastgd.make_regression(spec.n_samples, spec.n_features, noise=spec.noise, outliers=spec.outliers, seed=0)
    coef, intercept = least_squares(data.X, data.y)
    f_star = fastgd.loss_value(data.X, data.y, coef, intercept, loss="l2")
    tune_l2 = points[(points["phase"] == "tune") & (points["loss"] == "l2")]
    assert tune_l2["f_star"].unique() == pytest.approx([f_star], rel=1e-12)
    assert set(tune_l2["f_star_kind"]) == {"normal_equations"}
    expected = (tune_l2["objective"] - tune_l2["f_star"]) / tune_l2["f_star"].abs()
    np.testing.assert_array_equal(tune_l2["suboptimality"], expected)
    assert (tune_l2["suboptimality"].dropna() > -1e-9).all()
    assert set(points.loc[points["loss"] == "l1", "f_star_kind"]) <= {"highs_lp", "none"}


def test_each_grid_is_run_and_its_winner_repeated(small):
    _, _, points = small
    tune = points[points["phase"] == "tune"]
    winners = select_winners(tune, _SMALL.criterion_target)
    assert len(winners) == 2 * 2 * 2  # losses x methods x backends
    for _, winner in winners.iterrows():
        same = tune[(tune["method"] == winner["method"]) & (tune["backend"] == winner["backend"])
                    & (tune["loss"] == winner["loss"]) & (tune["lr"] == winner["lr"])
                    & (tune["schedule"] == winner["schedule"])]  # fmt: skip
        assert set(same["repetition"]) == {0, 1}
    adam = tune[(tune["method"] == "adam") & (tune["backend"] == "fastgd") & (tune["loss"] == "l2")]
    assert set(adam["schedule"]) == {"constant", "cosine"} and adam["lr"].nunique() >= 3
    batch = tune[tune["method"] == "batch"]
    assert set(batch["schedule"]) == {"constant"}  # full batch runs constant only


def test_timing_phase_runs_the_tuned_rate_on_the_timing_dataset(small):
    _, _, points = small
    tune, timing = points[points["phase"] == "tune"], points[points["phase"] == "timing"]
    assert set(timing["n_samples"]) == {500} and set(timing["repetition"]) == {0, 1}
    winners = select_winners(tune[tune["loss"] == "l2"], _SMALL.criterion_target)
    for _, winner in winners.iterrows():
        rows = timing[(timing["method"] == winner["method"]) & (timing["backend"] == winner["backend"])]
        assert set(rows["lr"]) == {winner["lr"]} and set(rows["schedule"]) == {winner["schedule"]}


def test_numpy_and_fastgd_agree_where_they_run_the_same_rows(small):
    _, _, points = small
    keys = ["phase", "loss", "method", "lr", "schedule", "repetition", "step"]
    both = points[points["backend"].isin(["fastgd", "numpy"])].pivot_table(
        index=keys, columns="backend", values="objective", aggfunc="first"
    ).dropna()  # fmt: skip
    assert len(both) > 50
    np.testing.assert_allclose(both["numpy"], both["fastgd"], rtol=1e-9)


def test_resume_after_a_kill_between_cases_measures_only_the_rest(tmp_path, small):
    _, full, _ = small
    first = runner.run_study(_SMALL, tmp_path, quiet=True, max_cases=7, log=lambda _: None)
    assert first.n_run == 7 and len(list((tmp_path / CASES_DIR).glob("*.parquet"))) == 7
    second = runner.run_study(_SMALL, tmp_path, quiet=True, log=lambda _: None)
    assert second.n_run == full.n_run - 7 and second.n_skipped >= 7
    third = runner.run_study(_SMALL, tmp_path, quiet=True, log=lambda _: None)
    assert third.n_run == 0
    assert len(load_points(tmp_path)) == len(small[2])


def test_a_grid_centred_too_low_is_widened_and_an_edge_is_flagged(tmp_path):
    study = msgspec.structs.replace(
        _SMALL, methods=(MethodSpec(name="batch", lr=1e-4, epochs=6),), backends=("fastgd",), losses=("l2",),
        timing=None, lr_grid=LrGrid(points=2, max_widen=2),
    )  # fmt: skip
    runner.run_study(study, tmp_path, quiet=True, log=lambda _: None)
    points = load_points(tmp_path)
    assert sorted(points["lr"].unique()) == pytest.approx([1e-4, 1e-4 * 10**0.5, 1e-3, 1e-3 * 10**0.5])
    winner = select_winners(points, study.criterion_target).iloc[0]
    assert winner["lr"] == pytest.approx(1e-3 * 10**0.5) and winner["grid_edge"] == "high"


def test_divergence_is_recorded_not_hidden(tmp_path):
    study = msgspec.structs.replace(
        _SMALL, methods=(MethodSpec(name="batch", lr=10.0, epochs=6),), losses=("l2",), timing=None,
        lr_grid=LrGrid(points=1, max_widen=0), repetitions=1,
    )  # fmt: skip
    outcome = runner.run_study(study, tmp_path, quiet=True, log=lambda _: None)
    points = load_points(tmp_path)
    assert points["diverged"].all() and points["stop_reason"].str.startswith("diverged").all()
    assert any("every learning rate diverged" in note for note in outcome.notes)


def test_threads_beyond_the_machine_are_refused_before_anything_runs(tmp_path):
    study = msgspec.structs.replace(_SMALL, threads=10_000)
    with pytest.raises(StudyConfigError, match=r"threads: 10000 threads asked for, but this machine has \d+ cores"):
        runner.run_study(study, tmp_path / "r", quiet=True)
    assert not (tmp_path / "r").exists()


def test_thread_limits_restore_numba_threads():
    import numba

    before = numba.get_num_threads()
    with thread_limits(1):
        assert numba.get_num_threads() == 1
    assert numba.get_num_threads() == before


def test_epoch_time_ignores_evaluation(small):
    _, _, points = small
    fast = points[(points["backend"] == "fastgd") & (points["phase"] == "timing")]
    per_epoch = fast.groupby("case_id")["time_s"].agg(lambda t: np.diff(t).max())
    assert (per_epoch < 1.0).all() and not math.isnan(per_epoch.sum())
    assert isinstance(points, pd.DataFrame)


def test_distributed_backend_equals_fastgd_in_full_batch(tmp_path):
    pytest.importorskip("distributed")
    study = msgspec.structs.replace(
        _SMALL, methods=(MethodSpec(name="batch", epochs=4),), backends=("fastgd", "distributed"), losses=("l2",),
        lr_grid=LrGrid(points=2, max_widen=0), repetitions=1, timing=None,
    )  # fmt: skip
    runner.run_study(study, tmp_path, quiet=True, log=lambda _: None)
    points = load_points(tmp_path)
    both = points.pivot_table(index=["lr", "step"], columns="backend", values="objective", aggfunc="first")
    assert len(both) == 2 * 5
    # fastgd.distributed's full batch is bit-identical in its parameters; a freshly compiled loss kernel (cold
    # cache) can round the recorded loss differently in the last bit, so the objective is compared to 1e-12.
    np.testing.assert_allclose(both["distributed"], both["fastgd"], rtol=1e-12)
