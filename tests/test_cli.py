"""The ``fastgd`` command line: help, errors, and the study end to end."""

from __future__ import annotations

import contextlib
import io
import signal
import subprocess
import sys
import time

import pytest

from fastgd.cli import main


def test_program_help_lists_commands(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "bench" in out and "report" in out and "exit status" in out


def test_bench_help_is_complete(capsys):
    assert main(["bench", "--help"]) == 0
    out = capsys.readouterr().out
    for option in (
        "--preset",
        "--config",
        "--out",
        "--results",
        "--force",
        "--quiet",
        "--threads",
        "datasets = [",
        "[timing.dataset]",
    ):
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

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _run(argv):
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        status = main(argv)
    return status, stdout.getvalue(), stderr.getvalue()


@pytest.fixture(scope="module")
def tiny_report(tmp_path_factory):
    """Run ``fastgd bench --preset tiny`` once for the end-to-end checks."""
    out = tmp_path_factory.mktemp("tiny-report")
    return (out, *_run(["bench", "--preset", "tiny", "--out", str(out), "--quiet"]))


def test_bench_tiny_writes_the_store_and_the_report(tiny_report):
    out, status, stdout, stderr = tiny_report
    assert status == 0, stderr
    assert "Traceback" not in stderr
    cases = sorted((out / "results" / "cases").glob("*.parquet"))
    assert len(cases) > 50 and (out / "results" / "study.json").is_file()
    assert (out / "REPORT.md").read_text().startswith("#")
    pngs = sorted(out.glob("*.png"))
    assert pngs and all(path.read_bytes().startswith(_PNG_SIGNATURE) for path in pngs)
    assert sorted(out.glob("*.csv"))
    assert f"{len(cases)} cases run, 0 already done" in stdout


def test_rerun_resumes_and_report_redraws_from_either_directory(tiny_report):
    out, *_ = tiny_report
    status, stdout, stderr = _run(["bench", "--preset", "tiny", "--out", str(out), "--quiet"])
    assert status == 0, stderr
    assert "0 cases run" in stdout
    before = (out / "REPORT.md").read_text()
    status, stdout, stderr = _run(["report", "--results", str(out), "--out", str(out)])  # OUT holds results/
    assert status == 0, stderr
    assert (out / "REPORT.md").read_text() == before


def _one_line_error(status, stderr, *words):
    assert status == 2
    assert len(stderr.strip().splitlines()) == 1 and "Traceback" not in stderr
    for word in words:
        assert word in stderr


def test_a_second_run_on_a_locked_directory_exits_2_naming_the_holder(tiny_report):
    from fastgd.study.store import ResultsStore, read_study_info

    out, *_ = tiny_report
    with ResultsStore(out / "results", read_study_info(out / "results")["study"]):
        status, _, stderr = _run(["bench", "--preset", "tiny", "--out", str(out), "--quiet"])
    _one_line_error(status, stderr, "in use by pid")


def test_a_different_study_into_the_same_results_is_refused(tiny_report, tmp_path):
    out, *_ = tiny_report
    config = tmp_path / "other.toml"
    config.write_text("methods = [{name = 'batch'}]\n[[datasets]]\nn_samples = 50\nn_features = 2\n")
    status, _, stderr = _run(["bench", "--config", str(config), "--out", str(out), "--quiet"])
    _one_line_error(status, stderr, "different study", "--force")


@pytest.mark.parametrize("option", ["--out", "--results"])
def test_a_file_where_a_directory_belongs_exits_2(tmp_path, option):
    a_file = tmp_path / "file"
    a_file.write_text("")
    status, _, stderr = _run(["bench", "--preset", "tiny", option, str(a_file), "--quiet"])
    _one_line_error(status, stderr, option, "is a file")
    status, _, stderr = _run(["report", option, str(a_file)])
    _one_line_error(status, stderr, "file" if option == "--results" else option)


def test_an_unwritable_out_exits_2(tmp_path):
    a_file = tmp_path / "file"
    a_file.write_text("")
    status, _, stderr = _run(["bench", "--preset", "tiny", "--out", str(a_file / "sub"), "--quiet"])
    _one_line_error(status, stderr, "cannot write")


def test_more_threads_than_cores_exits_2_before_measuring(tmp_path):
    status, _, stderr = _run(["bench", "--preset", "tiny", "--out", str(tmp_path), "--threads", "4096", "--quiet"])
    _one_line_error(status, stderr, "4096 threads", "cores")
    assert not list((tmp_path / "results" / "cases").glob("*.parquet"))


def test_batch_size_above_n_samples_exits_2(tmp_path):
    config = tmp_path / "study.toml"
    config.write_text(
        "methods = [{name = 'minibatch', batch_size = 100}]\n[[datasets]]\nn_samples = 50\nn_features = 2\n"
    )
    status, _, stderr = _run(["bench", "--config", str(config), "--out", str(tmp_path / "out")])
    _one_line_error(status, stderr, "methods[0].batch_size", "n_samples")


def test_interrupted_report_is_one_line(tiny_report, monkeypatch):
    import fastgd.report

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(fastgd.report, "write_report", interrupted)
    out, *_ = tiny_report
    status, _, stderr = _run(["report", "--results", str(out), "--out", str(out)])
    assert status == 130 and len(stderr.strip().splitlines()) == 1 and "interrupted" in stderr


def test_sigterm_stops_like_ctrl_c_and_the_rerun_resumes(tmp_path):
    out, config = tmp_path / "out", tmp_path / "study.toml"
    config.write_text(
        "methods = [{name = 'batch', epochs = 200}]\nbackends = ['fastgd', 'numpy']\nprobe_mbytes = 4\n"
        "settle_s = 0\nlr_grid = {points = 5, max_widen = 0}\n[[datasets]]\nn_samples = 3000\nn_features = 5\n"
    )
    command = [sys.executable, "-m", "fastgd", "bench", "--config", str(config), "--out", str(out), "--quiet"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    cases = out / "results" / "cases"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(cases.glob("*.parquet"))) < 3:
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert "interrupted" in stderr and "Traceback" not in stderr
    kept = len(list(cases.glob("*.parquet")))
    assert kept >= 3
    status, stdout, stderr = _run(["bench", "--config", str(config), "--out", str(out), "--quiet"])
    assert status == 0, stderr
    assert f" cases run, {kept} already done" in stdout
