"""``write_report`` and ``write_report_from_benchmark_json``: files, links, atomic writes, errors."""

from __future__ import annotations

import copy
import json
import os
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from fastgd.report import (
    CONVERGENCE_COLUMNS,
    TIMING_COLUMNS,
    ReportError,
    write_report,
    write_report_from_benchmark_json,
)
from fastgd.report.benchjson import BENCHMARK_COLUMNS, benchmark_timing_table
from fastgd.report.mdtable import markdown_table
from fastgd.study.records import CorruptRecordError, append_record, atomic_write_json

from .test_report_plots import assert_valid_png
from .test_report_tables import MACHINE, make_records

COMMAND = "fastgd bench --preset quick --out reports"
NOTE = "torch is not installed: the PyTorch cases were skipped"


def write_results(results_dir: Path, records: list[dict[str, Any]] | None = None) -> Path:
    for record in records if records is not None else make_records():
        append_record(results_dir, record)
    atomic_write_json(
        results_dir / "study.json",
        {
            "command": COMMAND,
            "preset": "quick",
            "study": {"repetitions": 2},
            "machine": MACHINE,
            "notes": [NOTE],
            "started_at": "2026-11-29T11:00:00+00:00",
        },
    )
    return results_dir


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    root = tmp_path_factory.mktemp("report")
    written = write_report(write_results(root / "results"), root / "out")
    return root / "out", written


def test_every_file_is_written_and_returned(report_dir: tuple[Path, list[Path]]) -> None:
    out, written = report_dir
    names = [path.name for path in written]
    assert names[:2] == ["timing.csv", "convergence.csv"] and names[-1] == "REPORT.md"
    assert {"epoch_time.png", "speedup.png", "seed_gradient_descent.png"} <= set(names)
    assert any(name.startswith("convergence_") and name.endswith(".png") for name in names)
    assert sorted(path.name for path in out.iterdir()) == sorted(names)  # and nothing else: no temp files
    for path in written:
        if path.suffix == ".png":
            assert_valid_png(path)


def test_csv_columns_and_no_missing_values(report_dir: tuple[Path, list[Path]]) -> None:
    out, _ = report_dir
    timing = pd.read_csv(out / "timing.csv")
    assert list(timing.columns) == list(TIMING_COLUMNS)
    assert not timing.isna().any().any()
    convergence = pd.read_csv(out / "convergence.csv")
    assert list(convergence.columns) == list(CONVERGENCE_COLUMNS)
    certified = convergence[convergence["optimum_kind"] == "normal_equations"]
    assert len(certified) and (certified["suboptimality"] >= -1e-12).all()
    assert set(convergence["optimum_kind"]) == {"normal_equations", "best_seen"}
    assert not convergence.isna().any().any()


def test_report_md_has_tables_command_card_and_links(report_dir: tuple[Path, list[Path]]) -> None:
    out, _ = report_dir
    text = (out / "REPORT.md").read_text(encoding="utf-8")
    assert f"```sh\n{COMMAND}\n```" in text
    assert "Test CPU 3000" in text and NOTE in text
    assert "Dataset: 40 × 3 float64, noise 0.3." in text  # one dataset: named once, not on every row
    header = "| loss | method | threads | fastgd | NumPy | scikit-learn | PyTorch | fastgd vs NumPy |"
    assert header in text
    assert "| 3× |" in text  # NumPy is 3x slower than fastgd in the hand-made records
    assert "time to 1e-03" in text and "time to 1e-06" in text and "not reached" in text
    assert "### Final losses" in text
    assert "certified: normal equations (float64)" in text and "best loss seen across all runs" in text
    for phrase in (
        "## Convention card",
        "r = X @ coef + intercept - y",
        "sign(0) = 0",
        "never touches the intercept",
        "eps` outside the square root",
        "b_1 = g_1",
        "last, smaller batch",
    ):
        assert phrase in text
    assert "no scaling sweep" in text  # one size only: no scaling figure, and the report says so
    links = set(re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text))
    assert links == {path.name for path in out.glob("*.png")}


def test_no_records_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match="no results records"):
        write_report(tmp_path, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_corrupt_record_is_reported_not_used(tmp_path: Path) -> None:
    results = write_results(tmp_path / "results", make_records(losses=("l2",))[:2])
    lines = (results / "records.jsonl").read_text().splitlines(keepends=True)
    lines[0] = lines[0].replace('"max_epochs"', '"edited"')
    (results / "records.jsonl").write_text("".join(lines))
    with pytest.raises(CorruptRecordError, match="line 1"):
        write_report(results, tmp_path / "out")


def test_a_failed_write_leaves_the_previous_files_intact(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    results = write_results(tmp_path / "results", make_records(losses=("l2",)))
    out = tmp_path / "out"
    write_report(results, out)
    before = {path.name: path.read_bytes() for path in out.iterdir()}
    if not Path("/proc/self/fd").is_dir():
        pytest.skip("needs /proc to name the file being synced")
    real_fsync = os.fsync

    def fsync_failing_on_png(fd: int) -> None:
        """The disk fills up once the epoch-time figure's bytes are in its temporary file."""
        if "epoch_time.png" in os.readlink(f"/proc/self/fd/{fd}"):
            raise OSError(28, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync_failing_on_png)
    with pytest.raises(OSError, match="No space left"):
        write_report(write_results(results, make_records(losses=("l2",), epochs=5)), out)
    monkeypatch.undo()
    after = {path.name: path.read_bytes() for path in out.iterdir()}
    assert set(after) == set(before)  # no temporary file left behind
    assert after["epoch_time.png"] == before["epoch_time.png"]
    assert after["REPORT.md"] == before["REPORT.md"]
    # the CSVs were written before the failure: the new ones, whole
    assert after["convergence.csv"] != before["convergence.csv"]
    assert pd.read_csv(out / "convergence.csv")["epoch"].max() == 5


def test_a_failed_rename_leaves_the_previous_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    results = write_results(tmp_path / "results", make_records(losses=("l2",)))
    out = tmp_path / "out"
    write_report(results, out)
    before = (out / "REPORT.md").read_bytes()

    def failing_replace(source: Any, target: Any) -> None:
        raise OSError("rename failed")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="rename failed"):
        write_report(results, out)
    monkeypatch.undo()
    assert (out / "REPORT.md").read_bytes() == before
    assert not [path for path in out.iterdir() if path.name.startswith(".")]


def test_stale_figures_are_removed_and_other_files_kept(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "scaling.png").write_bytes(b"old")
    (out / "my_own_picture.png").write_bytes(b"mine")
    write_report(write_results(tmp_path / "results", make_records(losses=("l2",))), out)
    assert not (out / "scaling.png").exists()
    assert (out / "my_own_picture.png").read_bytes() == b"mine"


# --------------------------------------------------------------------------
# pytest-benchmark JSON
# --------------------------------------------------------------------------


def _stats(median: float) -> dict[str, Any]:
    return {
        "min": median * 0.9,
        "max": median * 3.0,
        "mean": median * 1.1,
        "stddev": median * 0.2,
        "rounds": 25,
        "median": median,
        "iqr": median * 0.1,
        "q1": median * 0.95,
        "q3": median * 1.05,
        "iqr_outliers": 1,
        "stddev_outliers": 1,
        "outliers": "1;1",
        "ld15iqr": median * 0.9,
        "hd15iqr": median * 1.2,
        "ops": 1 / median,
        "total": median * 25,
        "data": [median] * 25,
        "iterations": 1,
    }


def _benchmark(
    name: str, group: str | None, params: dict[str, Any] | None, extra: dict[str, Any], median: float
) -> dict[str, Any]:
    return {
        "group": group,
        "name": name,
        "fullname": f"bench/test_epochs.py::{name}",
        "params": params,
        "param": None if params is None else "-".join(str(v) for v in params.values()),
        "extra_info": extra,
        "options": {
            "disable_gc": False,
            "timer": "perf_counter",
            "min_rounds": 5,
            "max_time": 1.0,
            "min_time": 5e-06,
            "warmup": False,
        },
        "stats": _stats(median),
    }


BENCHMARK_JSON = {
    "machine_info": {
        "node": "vm",
        "processor": "",
        "machine": "x86_64",
        "python_compiler": "GCC 12.2.0",
        "python_implementation": "CPython",
        "python_implementation_version": "3.11.7",
        "python_version": "3.11.7",
        "python_build": ["main", "May  9 2026 07:35:25"],
        "release": "6.18.44",
        "system": "Linux",
        "cpu": {
            "arch": "X86_64",
            "bits": 64,
            "count": 2,
            "brand_raw": "AMD EPYC",
            "vendor_id_raw": "AuthenticAMD",
        },
    },
    "commit_info": {
        "id": "b67e7cb",
        "time": "2026-11-29T12:00:00+00:00",
        "author_time": "2026-11-29T12:00:00+00:00",
        "dirty": True,
        "project": "fastgd",
        "branch": "main",
    },
    "benchmarks": [
        _benchmark(
            "test_epoch[sgd-fastgd]",
            "epoch: sgd",
            {"method": "sgd", "backend": "fastgd"},
            {"n_samples": 10000, "n_features": 20, "threads": 2, "samples_per_s": 5e6, "gbytes_per_s": 0.8},
            2e-3,
        ),
        _benchmark(
            "test_epoch[sgd-sklearn]",
            "epoch: sgd",
            {"method": "sgd", "backend": "sklearn"},
            {"n_samples": 10000, "n_features": 20, "n_threads": 2},
            8e-3,
        ),
        _benchmark("test_full_loss", "kernels", None, {}, 4e-5),
    ],
    "datetime": "2026-11-29T12:17:33.928211+00:00",
    "version": "5.2.3",
}


def test_benchmark_json_maps_to_the_timing_columns() -> None:
    table = benchmark_timing_table(copy.deepcopy(BENCHMARK_JSON))
    assert list(table.columns) == list(TIMING_COLUMNS + BENCHMARK_COLUMNS)
    first, second, kernel = (row for _, row in table.iterrows())
    assert (first["method"], first["backend"], first["n_samples"], first["threads"]) == (
        "sgd",
        "fastgd",
        10000,
        2,
    )
    assert first["epoch_time_s"] == 2e-3 and first["epoch_time_min_s"] == pytest.approx(1.8e-3)
    assert first["samples_per_s"] == 5e6 and first["cpu_model"] == "AMD EPYC" and first["cores"] == 2
    assert second["threads"] == 2  # from the n_threads alias
    assert pd.isna(second["samples_per_s"]) and pd.isna(kernel["method"])  # missing stays empty
    assert kernel["benchmark_group"] == "kernels" and kernel["rounds"] == 25


def test_report_from_benchmark_json(tmp_path: Path) -> None:
    source = tmp_path / "bench.json"
    source.write_text(json.dumps(BENCHMARK_JSON))
    written = write_report_from_benchmark_json(source, tmp_path / "out")
    names = [path.name for path in written]
    assert names == ["timing.csv", "benchmark_epoch_time.png", "benchmark_speedup.png", "REPORT.md"]
    for path in written[1:3]:
        assert_valid_png(path)
    timing = pd.read_csv(tmp_path / "out" / "timing.csv")
    assert list(timing.columns) == list(TIMING_COLUMNS + BENCHMARK_COLUMNS)
    assert timing["epoch_time_s"].notna().all()
    text = (tmp_path / "out" / "REPORT.md").read_text(encoding="utf-8")
    assert "`test_epoch[sgd-fastgd]`" in text and "AMD EPYC" in text and "b67e7cb main (dirty)" in text
    assert "| fastgd vs scikit-learn |" in text and "4×" in text
    assert set(re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)) == {
        "benchmark_epoch_time.png",
        "benchmark_speedup.png",
    }
    assert "## Convention card" in text


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "not valid JSON"),
        ("[]", "not a pytest-benchmark"),
        ('{"benchmarks": []}', "holds no benchmark"),
    ],
)
def test_bad_benchmark_json_is_a_clear_error(tmp_path: Path, content: str, message: str) -> None:
    source = tmp_path / "bench.json"
    source.write_text(content)
    with pytest.raises(ReportError, match=message):
        write_report_from_benchmark_json(source, tmp_path / "out")
    with pytest.raises(ReportError, match="no such"):
        write_report_from_benchmark_json(tmp_path / "missing.json", tmp_path / "out")


def test_markdown_table_escapes_and_checks_widths() -> None:
    table = markdown_table(["a", "b|c"], [[1, "x|y"], [None, "two\nlines"]], ["l", "r"])
    assert table.splitlines() == ["| a | b\\|c |", "| :--- | ---: |", "| 1 | x\\|y |", "|  | two lines |"]
    with pytest.raises(ValueError, match="row 0"):
        markdown_table(["a"], [[1, 2]])
