"""``write_study_report``, ``write_report`` and ``write_report_from_benchmark_json``: files, verdict, atomicity."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import fastgd.report.writer as writer
from fastgd.report import ReportError, write_report, write_report_from_benchmark_json, write_study_report
from fastgd.report.labels import format_seconds, format_speedup
from fastgd.study.select import CRITERION

from .test_report_tables import STUDY_INFO, assert_valid_png, study_points

CSV_FILES = [
    "points.csv",
    "timing.csv",
    "winners.csv",
    "time_to_target.csv",
    "sensitivity.csv",
    "profile.csv",
    "speedup.csv",
]
BENCHMARK_JSON = Path(__file__).resolve().parent.parent / "reports" / "pytest-benchmark" / "benchmark.json"


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    out = tmp_path_factory.mktemp("report")
    (out / "convergence_n50000_d100_float64.png").write_bytes(b"stale figure of an older report")
    (out / "mine.txt").write_text("not the report's")
    return out, write_study_report(study_points(), STUDY_INFO, out)


def test_every_file_is_written_complete_and_returned(report: tuple[Path, list[Path]]) -> None:
    out, written = report
    names = [path.name for path in written]
    assert names[: len(CSV_FILES)] == CSV_FILES and names[-1] == "REPORT.md"
    figures = {"convergence.png", "profile.png", "sensitivity.png", "epoch_time.png", "speedup.png"}
    assert figures <= set(names) and not any(name.startswith("seed_") for name in names)
    assert sorted(path.name for path in out.iterdir()) == sorted(names + ["mine.txt"])  # stale gone, no temp file
    for path in written:
        if path.suffix == ".png":
            assert_valid_png(path)
        elif path.suffix == ".csv":
            assert len(pd.read_csv(path)) > 0, path.name


def test_report_md_starts_with_a_verdict_quoting_the_tables(report: tuple[Path, list[Path]]) -> None:
    out, _ = report
    text = (out / "REPORT.md").read_text(encoding="utf-8")
    sections = re.findall(r"^## (.+)$", text, flags=re.MULTILINE)
    assert text.startswith("# fastgd benchmark study: hand-made\n") and sections[0] == "Verdict"
    verdict = text.split("## Verdict", 1)[1].split("\n## ", 1)[0]
    winners = pd.read_csv(out / "winners.csv")
    first = winners[(winners["target"] == 1e-2) & (winners["backend"] == "fastgd") & (winners["loss"] == "l2")]
    fastest = first.sort_values("time_to_target_s").iloc[0]
    assert f"batch GD reached 1e-02 first, in {format_seconds(fastest['time_to_target_s'])}" in verdict
    speedup = pd.read_csv(out / "speedup.csv")
    per_epoch = speedup[speedup["kind"] == "per_epoch"]["speedup"]
    assert f"per epoch {format_speedup(per_epoch.median())} ({len(per_epoch)} cases)" in verdict
    at_target = speedup[(speedup["kind"] == "time_to_target") & (speedup["target"] == 1e-2)]["speedup"]
    finite = at_target[np.isfinite(at_target)]
    assert f"at equal accuracy (time to 1e-02) {format_speedup(finite.median())}" in verdict
    assert "not reached (best 3.1e-2)" in verdict and "high edge" in verdict and "Noisy" in verdict


def test_report_md_states_the_rule_machine_tables_figures_and_notes(report: tuple[Path, list[Path]]) -> None:
    out, _ = report
    text = (out / "REPORT.md").read_text(encoding="utf-8")
    assert CRITERION in text
    assert "Test CPU 3000" in text and "torch is not installed" in text
    assert "```sh\nfastgd bench --preset quick --out reports\n```" in text
    assert "not reached (best 3.1e-2)" in text.split("## Time to target", 1)[1]
    assert "| —" not in text.split("## Time to target", 1)[1].split("##", 1)[0].replace("| — |", "")
    assert "shuffle=True" in text and "permutation is inside the timed region" in text.replace("\n", " ")
    links = set(re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text))
    assert links == {path.name for path in out.glob("*.png")}


def test_write_report_reads_the_store(tmp_path: Path) -> None:
    from fastgd.study.store import ResultsStore

    points = study_points()
    with ResultsStore(tmp_path / "results", STUDY_INFO["study"]) as store:
        for case_id, rows in points.groupby("case_id", sort=False):
            store.write_case(str(case_id), rows)
        store.write_study_info(dict(STUDY_INFO))
    written = write_report(tmp_path / "results", tmp_path / "out")
    assert written[-1] == tmp_path / "out" / "REPORT.md"
    write_report(tmp_path, tmp_path / "out2")  # a study's OUT (holding results/) reads the same store
    assert (tmp_path / "out2" / "REPORT.md").read_text() == (tmp_path / "out" / "REPORT.md").read_text()


def test_no_points_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match="no points"):
        write_study_report(study_points().iloc[:0], STUDY_INFO, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_failure_midway_leaves_the_previous_report_intact(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = {"REPORT.md": "# the previous report\n", "timing.csv": "a\n1\n"}
    for name, text in before.items():
        (tmp_path / name).write_text(text)

    def broken(*args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(writer, "draw_bars", broken)
    with pytest.raises(KeyboardInterrupt):
        write_study_report(study_points(), STUDY_INFO, tmp_path)
    assert (tmp_path / "REPORT.md").read_text() == before["REPORT.md"]
    assert not [path for path in tmp_path.iterdir() if path.name.endswith(".tmp")]
    for path in tmp_path.glob("*.csv"):  # every CSV is whole: the old one or a complete new one
        assert path.read_text().endswith("\n") and len(pd.read_csv(path)) >= 1


def test_benchmark_json_report(tmp_path: Path) -> None:
    written = write_report_from_benchmark_json(BENCHMARK_JSON, tmp_path)
    names = [path.name for path in written]
    assert names[:2] == ["timing.csv", "speedup.csv"] and names[-1] == "REPORT.md"
    assert {"benchmark_epoch_time.png", "benchmark_speedup.png"} <= set(names)
    source = json.loads(Path(BENCHMARK_JSON).read_text(encoding="utf-8"))
    timing = pd.read_csv(tmp_path / "timing.csv")
    assert len(timing) == len(source["benchmarks"]) and timing["epoch_time_s"].gt(0).all()
    speedup = pd.read_csv(tmp_path / "speedup.csv")
    assert set(speedup["peer"]) >= {"numpy", "torch"} and speedup["speedup"].gt(0).all()
    text = (tmp_path / "REPORT.md").read_text(encoding="utf-8")
    assert "## Timings" in text and source["machine_info"]["cpu"]["brand_raw"] in text
    assert "`test_epoch[sgd-fastgd-1000000x100]`" in text
    for name in names:
        if name.endswith(".png"):
            assert_valid_png(tmp_path / name)


def test_benchmark_json_errors(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match="no such benchmark JSON"):
        write_report_from_benchmark_json(tmp_path / "absent.json", tmp_path / "out")
    (tmp_path / "empty.json").write_text('{"benchmarks": []}')
    with pytest.raises(ReportError, match="holds no benchmark"):
        write_report_from_benchmark_json(tmp_path / "empty.json", tmp_path / "out")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(ReportError, match="not valid JSON"):
        write_report_from_benchmark_json(tmp_path / "bad.json", tmp_path / "out")


def test_a_study_without_tune_phase_still_reports(tmp_path: Path) -> None:
    frame = study_points()
    write_study_report(frame[frame["phase"] == "timing"], {}, tmp_path)
    text = (tmp_path / "REPORT.md").read_text(encoding="utf-8")
    assert "No convergence run at 1e-02" in text and "per epoch 3× (6 cases)" in text
    assert "No figure: no tune-phase point was recorded." in text and (tmp_path / "epoch_time.png").exists()
