"""Write a report directory: ``timing.csv``, ``convergence.csv``, the PNG figures and ``REPORT.md``.

Every file is written atomically (:func:`fastgd.study.records.atomic_write_text`
and ``atomic_write_bytes``: a temporary file in the same directory, then
:func:`os.replace`), figures by rendering to memory first, so a reader never
sees half a file and a failure leaves the previous file intact.  ``REPORT.md``
is written last.  Figures a previous report left in ``out_dir`` under this
package's names (see :data:`OWNED_FIGURES`) and not drawn this time are
removed, so ``REPORT.md`` links every figure the directory holds.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from .errors import ReportError, SeedPictureUnavailable
from .markdown import StudyReport, render_study_report
from .plotdata import (
    MIN_SCALING_SIZES,
    BarPanel,
    convergence_figures,
    scaling_panels,
    speedup_panels,
    timing_panels,
)
from .plots import draw_bar_panels, draw_convergence, draw_scaling, figure_png_bytes
from .seeddata import gradient_walks, outlier_fits
from .seedplots import draw_gradient_walks, draw_outlier_fits
from .summaries import (
    epoch_time_summary,
    final_loss_table,
    machine_rows,
    optima_table,
    speedup_table,
    time_to_target_table,
)
from .tables import convergence_table, run_status_table, select_optima, timing_table

__all__ = ["OWNED_FIGURES", "FigureWriter", "remove_stale_figures", "write_report"]

STUDY_FILE = "study.json"
OWNED_FIGURES: tuple[str, ...] = (
    "epoch_time.png",
    "speedup.png",
    "convergence_*.png",
    "scaling.png",
    "seed_*.png",
    "benchmark_*.png",
)
TIMING_YLABEL = "epoch time (s, log scale)"
SPEEDUP_YLABEL = "speed-up of fastgd (peer time / fastgd time)"


def write_text(path: Path, text: str) -> Path:
    """Atomically write ``text`` (UTF-8) to ``path``."""
    from fastgd.study.records import atomic_write_text

    return Path(atomic_write_text(path, text))


def write_bytes(path: Path, data: bytes) -> Path:
    """Atomically write ``data`` to ``path``."""
    from fastgd.study.records import atomic_write_bytes

    return Path(atomic_write_bytes(path, data))


def write_csv(path: Path, frame: pd.DataFrame) -> Path:
    """Atomically write a table as CSV (no index, newline line ends, full float precision)."""
    return write_text(path, frame.to_csv(index=False, lineterminator="\n"))


class FigureWriter:
    """Render figures to PNG in memory and write them atomically, remembering what was written.

    Parameters
    ----------
    out_dir : pathlib.Path
        Where the PNG files go.
    """

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        self.written: list[Path] = []
        self.by_section: dict[str, list[str]] = {}

    def write(self, section: str, name: str, figure: Figure) -> None:
        """Write ``figure`` as ``out_dir/name`` and file it under ``section``."""
        self.written.append(write_bytes(self.out_dir / name, figure_png_bytes(figure)))
        self.by_section.setdefault(section, []).append(name)

    def write_timing(
        self,
        timing: list[BarPanel],
        speedups: list[BarPanel],
        *,
        prefix: str = "",
        timing_title: str = "Epoch time per method and backend (median, min–max bars)",
        timing_ylabel: str = TIMING_YLABEL,
    ) -> dict[str, str]:
        """Write the epoch-time and speed-up bar charts; return notes for those not drawn."""
        notes = {}
        if timing:
            self.write(
                "timing",
                f"{prefix}epoch_time.png",
                draw_bar_panels(timing, title=timing_title, ylabel=timing_ylabel),
            )
        else:
            notes["timing"] = "no epoch time was recorded."
        if speedups:
            self.write(
                "speedup",
                f"{prefix}speedup.png",
                draw_bar_panels(
                    speedups,
                    title="Speed-up of fastgd against each peer (above 1×: fastgd is faster)",
                    ylabel=SPEEDUP_YLABEL,
                    reference_line=1.0,
                    annotate=True,
                    tick_format=lambda value, _: f"{value:g}×",
                ),
            )
        else:
            notes["speedup"] = "no peer backend ran the same cases as fastgd, so there is no speed-up to show."
        return notes


def remove_stale_figures(out_dir: Path, keep: list[Path]) -> list[Path]:
    """Delete figures matching :data:`OWNED_FIGURES` in ``out_dir`` that are not in ``keep``."""
    kept = {path.resolve() for path in keep}
    removed = []
    for pattern in OWNED_FIGURES:
        for path in sorted(out_dir.glob(pattern)):
            if path.resolve() not in kept:
                path.unlink(missing_ok=True)
                removed.append(path)
    return removed


def _read_study(results_dir: Path) -> dict[str, Any]:
    path = results_dir / STUDY_FILE
    if not path.exists():
        return {}
    try:
        study = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as error:
        raise ReportError(f"{path}: not valid JSON ({error})") from None
    if not isinstance(study, dict):
        raise ReportError(f"{path}: expected a JSON object")
    return study


def _seed_pictures(figures: FigureWriter) -> str | None:
    figures.write("seed", "seed_gradient_descent.png", draw_gradient_walks(gradient_walks()))
    try:
        fits = outlier_fits()
    except SeedPictureUnavailable as error:
        return f"the L1-against-L2 picture is missing: {error}."
    figures.write("seed", "seed_l1_vs_l2.png", draw_outlier_fits(fits))
    return None


def _draw_all(
    figures: FigureWriter, convergence: pd.DataFrame, summary: pd.DataFrame, speedups: pd.DataFrame
) -> dict[str, str]:
    notes = figures.write_timing(timing_panels(summary), speedup_panels(speedups))
    for data in convergence_figures(convergence):
        figures.write("convergence", f"convergence_{data.slug}.png", draw_convergence(data))
    if "convergence" not in figures.by_section:
        notes["convergence"] = "no convergence point was recorded."
    scaling = scaling_panels(summary)
    if scaling:
        figures.write("scaling", "scaling.png", draw_scaling(scaling))
    else:
        notes["scaling"] = (
            f"these results hold no scaling sweep (fewer than {MIN_SCALING_SIZES} problem sizes "
            "for any method and backend); the `full` preset runs one."
        )
    seed_note = _seed_pictures(figures)
    if seed_note:
        notes["seed"] = seed_note
    return notes


def write_report(results_dir: str | os.PathLike[str], out_dir: str | os.PathLike[str]) -> list[Path]:
    """Re-draw every table, figure and ``REPORT.md`` of a study from its saved results.

    Parameters
    ----------
    results_dir : path-like
        A study's results directory (``records.jsonl`` and ``study.json``).
    out_dir : path-like
        Where to write ``timing.csv``, ``convergence.csv``, the PNG figures and
        ``REPORT.md`` (created if needed).

    Returns
    -------
    list of pathlib.Path
        The files written, ``REPORT.md`` last.

    Raises
    ------
    ReportError
        ``results_dir`` holds no results record, or its ``study.json`` is unreadable.
    fastgd.study.records.CorruptRecordError
        A record is corrupt (never silently used).
    """
    from fastgd.study.records import load_records

    results, out = Path(results_dir), Path(out_dir)
    records = load_records(results)
    if not records:
        raise ReportError(f"no results records in {results / 'records.jsonl'}: run `fastgd bench` first")
    study = _read_study(results)
    optima = select_optima(records)
    timing, convergence = timing_table(records), convergence_table(records, optima)
    summary = epoch_time_summary(timing)
    speedups = speedup_table(summary)
    out.mkdir(parents=True, exist_ok=True)
    written = [write_csv(out / "timing.csv", timing), write_csv(out / "convergence.csv", convergence)]
    figures = FigureWriter(out)
    notes = _draw_all(figures, convergence, summary, speedups)
    written += figures.written
    report = StudyReport(
        study=study,
        results_dir=str(results),
        out_dir=str(out),
        n_records=len(records),
        summary=summary,
        speedups=speedups,
        time_to_target=time_to_target_table(convergence),
        finals=final_loss_table(convergence, run_status_table(records)),
        optima=optima_table(optima),
        machine=machine_rows([study.get("machine")] + [record.get("machine") for record in records]),
        figures=figures.by_section,
        figure_notes=notes,
    )
    written.append(write_text(out / "REPORT.md", render_study_report(report)))
    remove_stale_figures(out, written)
    return written
