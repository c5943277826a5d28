"""Running a study: records per case, resume after an interruption, --force, optimum checks."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest

from fastgd.study import runner
from fastgd.study.config import DatasetSpec, MethodConfig, Study, preset
from fastgd.study.records import RECORDS_FILE, STUDY_FILE, load_records

#: A study of peers only, with user-named methods: seconds to run.
_PEER_STUDY = Study(
    name="peers",
    datasets=(DatasetSpec(n_samples=300, n_features=3, outliers=0.05),),
    losses=("l2", "l1"),
    methods=(
        MethodConfig("plain", optimizer="SGD", lr=0.01, batch_size=1),
        MethodConfig("adam32", optimizer="Adam", lr=0.05, batch_size=32),
    ),
    backends=("numpy", "sklearn"),
    repetitions=2,
    epochs=2,
    probe_mbytes=4,
    settle_s=0.0,
)
_N_PEER_CASES = 6  # 2 losses x (numpy, sklearn for plain; numpy for adam32)


def _lines(directory):
    return (directory / RECORDS_FILE).read_bytes().splitlines()


def test_every_case_is_recorded_with_the_schema(tmp_path):
    outcome = runner.run_study(
        _PEER_STUDY, tmp_path, quiet=True, command="fastgd bench --config x.toml", log=lambda _: None
    )
    assert (outcome.n_cases, outcome.n_run, outcome.n_skipped) == (_N_PEER_CASES, _N_PEER_CASES, 0)
    records = load_records(tmp_path)
    assert len(records) == _N_PEER_CASES
    info = json.loads((tmp_path / STUDY_FILE).read_text())
    assert info["command"] == "fastgd bench --config x.toml"
    assert sorted(info["case_ids"]) == sorted(r["case_id"] for r in records)
    assert info["machine"]["bandwidth_gbytes_per_s"] > 0
    for record in records:
        assert set(record["case"]) == {
            "n_samples",
            "n_features",
            "dtype",
            "noise",
            "outliers",
            "correlation",
            "data_seed",
            "loss",
            "delta",
            "method",
            "backend",
            "optimizer",
            "lr",
            "batch_size",
            "epochs",
            "threads",
        }
        assert [row["repetition"] for row in record["timing"]] == [0, 1]
        for row in record["timing"]:
            assert row["epoch_time_min_s"] <= row["epoch_time_s"] <= row["epoch_time_max_s"]
            assert row["samples_per_s"] == pytest.approx(300 / row["epoch_time_s"])
            assert row["gbytes_per_s"] == pytest.approx(300 * 3 * 8 / row["epoch_time_s"] / 1e9)
            assert 0 < row["bandwidth_fraction"]
        assert len(record["convergence"]) == 2 * (2 + 1)
        assert len(record["coef_path"]) == 3 and len(record["coef_path"][0]) == 4
        assert record["optimum"]["kind"] == {"l2": "normal_equations", "l1": "highs_lp"}[record["case"]["loss"]]
        assert not record["diverged"] and record["stop_reason"] == "max_epochs"
        assert set(record["machine"]) >= {
            "cpu_model",
            "cores",
            "python",
            "numpy",
            "numba",
            "pandas",
            "torch",
            "sklearn",
        }


def test_interrupted_study_resumes_without_redoing_finished_cases(tmp_path, monkeypatch):
    real = runner.measure_case
    calls = []

    def interrupt_third(*args, **kwargs):
        calls.append(args[0].case_id)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(runner, "measure_case", interrupt_third)
    with pytest.raises(KeyboardInterrupt):
        runner.run_study(_PEER_STUDY, tmp_path, quiet=True, log=lambda _: None)
    saved = _lines(tmp_path)
    assert len(saved) == 2 and (tmp_path / STUDY_FILE).exists()

    monkeypatch.setattr(runner, "measure_case", real)
    outcome = runner.run_study(_PEER_STUDY, tmp_path, quiet=True, log=lambda _: None)
    assert (outcome.n_run, outcome.n_skipped) == (_N_PEER_CASES - 2, 2)
    after = _lines(tmp_path)
    assert after[:2] == saved  # finished records untouched, byte for byte
    assert len(after) == _N_PEER_CASES
    assert len({json.loads(line)["case_id"] for line in after}) == _N_PEER_CASES

    again = runner.run_study(_PEER_STUDY, tmp_path, quiet=True, log=lambda _: None)
    assert (again.n_run, again.n_skipped) == (0, _N_PEER_CASES)
    assert _lines(tmp_path) == after


def test_max_cases_then_force_redoes_everything(tmp_path):
    runner.run_study(_PEER_STUDY, tmp_path, quiet=True, max_cases=4, log=lambda _: None)
    assert len(_lines(tmp_path)) == 4
    forced = runner.run_study(_PEER_STUDY, tmp_path, force=True, quiet=True, log=lambda _: None)
    assert forced.n_run == _N_PEER_CASES
    assert len(_lines(tmp_path)) == 4 + _N_PEER_CASES
    assert len(load_records(tmp_path)) == _N_PEER_CASES


def test_quiet_mode_logs_one_line_per_case(tmp_path):
    lines = []
    runner.run_study(_PEER_STUDY, tmp_path, quiet=True, log=lines.append)
    assert len(lines) == _N_PEER_CASES
    assert lines[0].startswith(f"[1/{_N_PEER_CASES}] numpy/plain l2 300x3")


def test_threads_beyond_the_machine_are_skipped_with_a_note(tmp_path):
    import numba

    too_many = int(numba.config.NUMBA_NUM_THREADS) + 1
    study = dataclasses.replace(_PEER_STUDY, threads=(1, too_many))
    outcome = runner.run_study(study, tmp_path, quiet=True, log=lambda _: None)
    assert outcome.n_cases == _N_PEER_CASES
    assert any(f"[{too_many}]" in note for note in outcome.notes)
    assert numba.get_num_threads() == int(numba.config.NUMBA_NUM_THREADS)


def test_tiny_preset_fastgd_suboptimality_is_nonnegative(tmp_path):
    """Every fastgd run's loss is >= the certified optimum (up to rounding)."""
    runner.run_study(preset("tiny"), tmp_path, quiet=True, log=lambda _: None)
    records = load_records(tmp_path)
    backends = {r["case"]["backend"] for r in records}
    assert {"fastgd", "numpy"} <= backends
    checked = 0
    for record in records:
        f_star = record["optimum"]["loss"]
        assert f_star is not None  # tiny: l2 and l1 are both certified
        for point in record["convergence"]:
            if math.isfinite(point["loss"]):
                assert point["loss"] - f_star >= -1e-9 * max(1.0, abs(f_star))
                checked += 1
        if record["case"]["backend"] == "fastgd" and record["case"]["method"] == "batch":
            assert record["timing"][0]["compile_s"] >= 0
    assert checked > 0


def test_thread_limits_restore_numba_threads():
    import numba

    from fastgd.cli import thread_limits

    before = numba.get_num_threads()
    with thread_limits(1):
        assert numba.get_num_threads() == 1
    assert numba.get_num_threads() == before


def test_record_optimum_matches_lstsq(tmp_path):
    runner.run_study(_PEER_STUDY, tmp_path, quiet=True, max_cases=1, log=lambda _: None)
    record = load_records(tmp_path)[0]
    assert record["case"]["loss"] == "l2"
    import fastgd

    data = fastgd.make_regression(300, 3, outliers=0.05, seed=0)
    augmented = np.column_stack([data.X, np.ones(300)])
    reference = np.linalg.lstsq(augmented, data.y, rcond=None)[0]
    np.testing.assert_allclose(record["optimum"]["coef"], reference[:3], atol=1e-10)


def test_divergence_is_recorded_not_hidden(tmp_path):
    study = Study(
        name="diverges",
        datasets=(DatasetSpec(n_samples=200, n_features=3),),
        losses=("l2",),
        methods=(MethodConfig("huge", optimizer="SGD", lr=50.0),),
        backends=("fastgd", "numpy"),
        repetitions=1,
        epochs=6,
        probe_mbytes=4,
        settle_s=0.0,
    )
    runner.run_study(study, tmp_path, quiet=True, log=lambda _: None)
    records = load_records(tmp_path)
    assert {r["case"]["backend"] for r in records} == {"fastgd", "numpy"}
    for record in records:
        assert record["diverged"] is True
        assert record["stop_reason"].startswith("diverged")
        assert len(record["convergence"]) < 1 + 6


def test_runner_pauses_settle_s_before_every_case(tmp_path, monkeypatch):
    pauses: list[float] = []
    monkeypatch.setattr(runner.time, "sleep", pauses.append)
    study = dataclasses.replace(_PEER_STUDY, settle_s=0.125)
    runner.run_study(study, tmp_path, quiet=True, log=lambda _: None)
    assert pauses == [0.125] * _N_PEER_CASES
    pauses.clear()
    runner.run_study(dataclasses.replace(_PEER_STUDY, settle_s=0.0), tmp_path / "again", quiet=True, log=lambda _: None)
    assert pauses == []
