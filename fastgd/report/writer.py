"""Write a report directory: the CSV tables, the PNG figures and ``REPORT.md``.

Every file is written atomically (:mod:`fastgd._atomic`: a temporary file in the same directory, then
:func:`os.replace`), figures rendered to memory first; ``REPORT.md`` is written last.  Files of this
package's names (:data:`OWNED_FILES`) left by a previous report and not written this time are removed,
so ``REPORT.md`` links every figure the directory holds.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from .._atomic import atomic_write_bytes, atomic_write_text
from ..study.config import Study
from ..study.store import load_points, read_study_info
from .markdown import render_study_report, verdict
from .plotdata import (
    convergence_lines,
    epoch_time_bars,
    profile_lines,
    rounds_lines,
    sensitivity_lines,
    speedup_bars,
)
from .plots import draw_bars, draw_lines, figure_png_bytes
from .tables import (
    profile_table,
    report_points,
    sensitivity_table,
    speedup_table,
    time_to_target_table,
    timing_table,
    winners_table,
)

__all__ = ["OWNED_FILES", "FigureWriter", "ReportError", "remove_stale", "write_report", "write_study_report"]

#: Files of this package's names: those not written by a report are removed (old-format ones included).
OWNED_FILES = tuple(
    "convergence*.png distributed.png sensitivity*.png profile*.png epoch_time.png speedup.png scaling.png".split()
)
OWNED_FILES += ("seed_*.png", "benchmark_*.png", "convergence.csv")
_DEFAULTS = Study(datasets=())  # targets and criterion of a study.json that leaves them at their defaults


class ReportError(RuntimeError):
    """The inputs of a report are missing or unusable (no points, a bad benchmark JSON, ...)."""


def write_csv(path: Path, frame: pd.DataFrame) -> Path:
    """Atomically write a table as CSV (no index, full float precision)."""
    return atomic_write_text(path, frame.to_csv(index=False, lineterminator="\n"))


class FigureWriter:
    """Render figures to PNG in memory and write them atomically, remembering what was written and why not."""

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        self.written: list[Path] = []
        self.by_section: dict[str, list[str]] = {}
        self.notes: dict[str, str] = {}

    def draw(self, name: str, data: pd.DataFrame, note: str, draw: Callable[..., Figure], **options: Any) -> None:
        """Draw ``data`` with ``draw`` (:mod:`.plots`) into ``name`` (section: its stem), or note why not."""
        section = name.removesuffix(".png")
        if data.empty:
            if note:
                self.notes[section] = note
            return
        self.written.append(atomic_write_bytes(self.out_dir / name, figure_png_bytes(draw(data, **options))))
        self.by_section.setdefault(section, []).append(name)


def remove_stale(out_dir: Path, keep: list[Path]) -> None:
    """Delete files matching :data:`OWNED_FILES` in ``out_dir`` that are not in ``keep``."""
    kept = {path.resolve() for path in keep}
    for pattern in OWNED_FILES:
        for path in out_dir.glob(pattern):
            if path.resolve() not in kept:
                path.unlink(missing_ok=True)


def write_study_report(points: pd.DataFrame, info: Mapping[str, Any], out_dir: str | os.PathLike[str]) -> list[Path]:
    """Write every table, figure and ``REPORT.md`` of a study from its points table.

    Parameters
    ----------
    points : pandas.DataFrame
        The points table (:func:`fastgd.study.store.load_points`).
    info : mapping
        :func:`fastgd.study.store.read_study_info`: ``study`` (with ``targets``
        and ``criterion_target``), ``machine``, ``notes``, ``command``, ...
    out_dir : path-like
        Output directory, created if needed.

    Returns
    -------
    list of pathlib.Path
        The files written, ``REPORT.md`` last.
    """
    if points.empty:
        raise ReportError("the study holds no points: run `fastgd bench` first")
    study = info.get("study") or {}
    criterion = float(study.get("criterion_target") or _DEFAULTS.criterion_target)
    targets = sorted(
        {*(float(target) for target in study.get("targets") or _DEFAULTS.targets), criterion}, reverse=True
    )
    timing = timing_table(points, (info.get("machine") or {}).get("bandwidth_gbytes_per_s"))
    winners = winners_table(points, targets)
    at_criterion = winners[winners["target"] == criterion] if not winners.empty else winners
    speedup = speedup_table(timing, winners)
    sensitivity = sensitivity_table(points, criterion, winners)
    profile = profile_table(winners)
    tables = {
        "points.csv": report_points(points, at_criterion) if not winners.empty else points[points["phase"] == "timing"],
        "timing.csv": timing,
        "winners.csv": winners,
        "time_to_target.csv": time_to_target_table(winners, targets),
        "sensitivity.csv": sensitivity,
        "profile.csv": profile,
        "speedup.csv": speedup,
    }
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = [write_csv(out / name, table) for name, table in tables.items()]
    figures = FigureWriter(out)
    no_tune, label = "no tune-phase point was recorded.", f"{criterion:.0e}"
    figures.draw(
        "convergence.png", convergence_lines(tables["points.csv"]), no_tune, draw_lines, hlines=targets,
        title=f"Convergence of the winners tuned for {label}: median over repetitions",
        xlabel="training time (s, log scale)", ylabel="relative suboptimality (loss − f*) / |f*|",
    )  # fmt: skip
    figures.draw(
        "distributed.png", rounds_lines(tables["points.csv"]), "", draw_lines, hlines=targets,
        title=f"fastgd.distributed ({study.get('threads') or _DEFAULTS.threads} workers, local SGD averaged per epoch)",
        xlabel="epochs = synchronisation rounds (log scale)", ylabel="relative suboptimality (loss − f*) / |f*|",
    )  # fmt: skip
    figures.draw(
        "profile.png", profile_lines(profile, criterion), "no solver reached the target on any problem.", draw_lines,
        title=f"Performance profiles of time to {label}", xlabel="τ: time within τ × the best solver's (log scale)",
        ylabel="share of problems", log_y=False, steps=True,
    )  # fmt: skip
    figures.draw(
        "sensitivity.png", sensitivity_lines(sensitivity), no_tune, draw_lines, hlines=targets,
        title="Step-size sensitivity: final suboptimality against lr (fastgd)",
        xlabel="learning rate (log scale)", ylabel="final relative suboptimality",
    )  # fmt: skip
    figures.draw(
        "epoch_time.png", epoch_time_bars(timing), "no timing-phase point was recorded.", draw_bars,
        title="Epoch time per method and backend (median, min–max bars)", ylabel="epoch time (s, log scale)",
    )  # fmt: skip
    figures.draw(
        "speedup.png", speedup_bars(speedup, criterion), "no peer ran the cases fastgd ran.", draw_bars,
        title="Speed-up of fastgd over each peer (above 1×: fastgd is faster)", ylabel="peer time / fastgd time",
        reference=1.0, annotate=True,
    )  # fmt: skip
    written += figures.written
    lines = verdict(winners, speedup, timing, criterion)
    text = render_study_report(info, lines, tables, targets, criterion, figures.by_section, figures.notes)
    written.append(atomic_write_text(out / "REPORT.md", text))
    remove_stale(out, written)
    return written


def write_report(results_dir: str | os.PathLike[str], out_dir: str | os.PathLike[str]) -> list[Path]:
    """Re-draw every table, figure and ``REPORT.md`` of a study from its stored results.

    Parameters
    ----------
    results_dir : path-like
        The study's results store, or a study's OUT holding ``results/``.
    out_dir : path-like
        Output directory, created if needed.

    Returns
    -------
    list of pathlib.Path
        The files written, ``REPORT.md`` last.

    Raises
    ------
    ReportError
        The store holds no point.
    """
    return write_study_report(load_points(results_dir), read_study_info(results_dir), out_dir)
