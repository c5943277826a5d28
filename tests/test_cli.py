"""The ``fastgd`` command line: help, errors, and the study end to end."""

from __future__ import annotations

import subprocess
import sys

import pytest

from fastgd.cli import main


def test_program_help_lists_commands(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "bench" in out and "report" in out and "exit status" in out


def test_bench_help_is_complete(capsys):
    assert main(["bench", "--help"]) == 0
    out = capsys.readouterr().out
    for option in ("--preset", "--config", "--out", "--results", "--force", "--quiet", "--threads", "[[datasets]]"):
        assert option in out


def test_report_help_is_complete(capsys):
    assert main(["report", "--help"]) == 0
    out = capsys.readouterr().out
    for option in ("--results", "--out", "--benchmark-json"):
        assert option in out


@pytest.mark.parametrize(
    "argv",
    [["bench", "--bogus"], ["bench", "--preset", "huge"], ["bench", "--threads", "0"], ["frobnicate"], []],
)
def test_bad_option_exits_2_with_one_line(capsys, argv):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert "error:" in err


def test_config_error_exits_2_with_one_line_naming_the_key(capsys, tmp_path):
    config = tmp_path / "study.toml"
    config.write_text("epochs = -1\n[[datasets]]\nn_samples = 10\nn_features = 2\n")
    assert main(["bench", "--config", str(config), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert "epochs" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_report_without_results_exits_2(capsys, tmp_path):
    assert main(["report", "--results", str(tmp_path / "none"), "--out", str(tmp_path)]) == 2
    assert "no results" in capsys.readouterr().err


def test_report_with_missing_benchmark_json_exits_2(capsys, tmp_path):
    assert main(["report", "--benchmark-json", str(tmp_path / "absent.json"), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "absent.json" in err


def test_python_dash_m_fastgd_runs_the_cli():
    done = subprocess.run(
        [sys.executable, "-m", "fastgd", "bench", "--nope"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "unrecognized arguments" in done.stderr


# ----------------------------------------------------------------------------
# End to end (joint with fastgd.report): the tiny preset into a temporary directory
# ----------------------------------------------------------------------------

_TIMING_COLUMNS = {
    "n_samples",
    "n_features",
    "dtype",
    "noise",
    "outliers",
    "correlation",
    "loss",
    "method",
    "backend",
    "optimizer",
    "lr",
    "batch_size",
    "threads",
    "repetition",
    "epoch_time_s",
    "epoch_time_min_s",
    "epoch_time_max_s",
    "samples_per_s",
    "gbytes_per_s",
    "bandwidth_fraction",
    "compile_s",
    "cpu_model",
    "cores",
    "python",
    "numpy",
    "numba",
    "pandas",
    "torch",
    "sklearn",
}
_CONVERGENCE_COLUMNS = {
    "n_samples",
    "n_features",
    "dtype",
    "method",
    "backend",
    "repetition",
    "epoch",
    "step",
    "samples_seen",
    "time_s",
    "loss",
    "suboptimality",
    "coef_error",
    "optimum_kind",
}
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def tiny_report(tmp_path_factory):
    """Run ``fastgd bench --preset tiny`` once for the end-to-end checks."""
    out = tmp_path_factory.mktemp("tiny-report")
    import contextlib
    import io

    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        status = main(["bench", "--preset", "tiny", "--out", str(out), "--quiet"])
    return out, status, stdout.getvalue(), stderr.getvalue()


def test_bench_tiny_writes_every_file(tiny_report):
    out, status, stdout, stderr = tiny_report
    assert status == 0, stderr
    summary = stdout.strip().splitlines()[-1]
    assert summary.startswith("fastgd bench:") and str(out / "REPORT.md") in summary
    for name in ("timing.csv", "convergence.csv", "REPORT.md", "results/records.jsonl", "results/study.json"):
        assert (out / name).is_file(), name
    pngs = sorted(out.glob("*.png"))
    names = {png.name for png in pngs}
    assert {"epoch_time.png", "speedup.png"} <= names
    assert any(name.startswith("convergence_") for name in names)
    assert any(name.startswith("seed_") for name in names)
    import matplotlib.image

    report = (out / "REPORT.md").read_text()
    for png in pngs:
        data = png.read_bytes()
        assert data.startswith(_PNG_SIGNATURE) and len(data) > 1000, png.name
        assert matplotlib.image.imread(png).size > 0
        assert f"]({png.name})" in report, f"REPORT.md does not link {png.name}"
    assert "fastgd bench --preset tiny" in report


def test_bench_tiny_tables_have_the_documented_columns_and_no_gaps(tiny_report):
    import pandas as pd

    out, status, _, _ = tiny_report
    assert status == 0
    timing = pd.read_csv(out / "timing.csv")
    assert _TIMING_COLUMNS <= set(timing.columns)
    assert set(timing["backend"]) >= {"fastgd", "numpy"}
    assert set(timing["method"]) == {"batch", "sgd", "minibatch", "adam"}
    measured = [
        "epoch_time_s",
        "epoch_time_min_s",
        "epoch_time_max_s",
        "samples_per_s",
        "gbytes_per_s",
        "bandwidth_fraction",
    ]
    assert not timing[measured + ["compile_s", "cpu_model", "numpy"]].isna().any().any()
    assert (timing["epoch_time_s"] > 0).all()
    convergence = pd.read_csv(out / "convergence.csv")
    assert _CONVERGENCE_COLUMNS <= set(convergence.columns)
    assert (
        not convergence[["epoch", "time_s", "loss", "suboptimality", "coef_error", "optimum_kind"]].isna().any().any()
    )
    fastgd_rows = convergence[convergence["backend"] == "fastgd"]
    scale = fastgd_rows["loss"].abs().clip(lower=1.0)
    assert (fastgd_rows["suboptimality"] >= -1e-9 * scale).all()


def test_rerun_resumes_and_report_redraws_the_same_tables(tiny_report, capsys):
    out, status, _, _ = tiny_report
    assert status == 0
    timing_before = (out / "timing.csv").read_bytes()
    records_before = (out / "results" / "records.jsonl").read_bytes()
    assert main(["bench", "--preset", "tiny", "--out", str(out), "--quiet"]) == 0
    summary = capsys.readouterr().out.strip().splitlines()[-1]
    assert "0 run" in summary
    assert (out / "results" / "records.jsonl").read_bytes() == records_before
    assert (out / "timing.csv").read_bytes() == timing_before
    assert main(["report", "--out", str(out)]) == 0
    assert "REPORT.md" in capsys.readouterr().out
    assert (out / "timing.csv").read_bytes() == timing_before


def test_partial_last_record_is_a_one_line_warning_and_reruns(tiny_report, tmp_path, capsys):
    import shutil

    out, status, _, _ = tiny_report
    assert status == 0
    copy = tmp_path / "results"
    shutil.copytree(out / "results", copy)
    data = (copy / "records.jsonl").read_bytes()
    (copy / "records.jsonl").write_bytes(data[:-30])  # an interrupted append
    argv = ["bench", "--preset", "tiny", "--results", str(copy), "--out", str(tmp_path / "report"), "--quiet"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    warning_lines = [line for line in captured.err.splitlines() if "warning:" in line]
    assert warning_lines and "incomplete last record" in warning_lines[0]
    assert "1 run" in captured.out.strip().splitlines()[-1]
    assert (copy / "records.jsonl").read_bytes().count(b"\n") == data.count(b"\n")


def test_corrupt_results_are_reported_not_used(tiny_report, tmp_path, capsys):
    import shutil

    out, status, _, _ = tiny_report
    assert status == 0
    copy = tmp_path / "results"
    shutil.copytree(out / "results", copy)
    lines = (copy / "records.jsonl").read_text().splitlines(keepends=True)
    lines[0] = lines[0].replace('"diverged":false', '"diverged":true')
    (copy / "records.jsonl").write_text("".join(lines))
    assert main(["report", "--results", str(copy), "--out", str(tmp_path / "report")]) == 1
    err = capsys.readouterr().err
    assert "line 1" in err and "corrupt" in err
    assert (
        main(["bench", "--preset", "tiny", "--results", str(copy), "--out", str(tmp_path / "report"), "--quiet"]) == 1
    )
    assert "line 1" in capsys.readouterr().err
