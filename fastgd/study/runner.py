"""Run a study: every case once, persisted as soon as it finishes, resumable.

:func:`run_study` measures the machine's memory bandwidth, writes
``study.json``, then runs each unfinished case (see
:mod:`fastgd.study.measure`) and appends its record to ``records.jsonl`` at
once.  A rerun skips the cases already recorded (``force=True`` redoes them);
Ctrl-C or a crash loses nothing that had finished.  The certified optimum is
computed once per (dataset, loss); one dataset is in memory at a time.

This is harness code: it sets Numba's, PyTorch's and the BLAS thread counts
for each case and restores them afterwards.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numba
import numpy as np

from ..cli import thread_limits  # thread counts are the harness's to set, not the library's
from .cases import Case, expand_cases
from .config import DatasetSpec, Study
from .machine import machine_info, measure_read_bandwidth
from .measure import measure_case
from .optimum import Optimum, certified_optimum
from .records import STUDY_FILE, append_record, atomic_write_json, finished_case_ids

__all__ = ["StudyOutcome", "run_study"]


@dataclass
class StudyOutcome:
    """What :func:`run_study` did.

    Attributes
    ----------
    results_dir : Path
    n_cases : int
        Cases in the study.
    n_run : int
        Cases measured by this call.
    n_skipped : int
        Cases already finished by an earlier run, not redone.
    notes : list of str
        Skipped peers and other remarks (also in ``study.json``).
    elapsed_s : float
    """

    results_dir: Path
    n_cases: int
    n_run: int = 0
    n_skipped: int = 0
    notes: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0


def _make_dataset(spec: DatasetSpec) -> tuple[np.ndarray, np.ndarray]:
    import fastgd

    data = fastgd.make_regression(
        spec.n_samples,
        spec.n_features,
        noise=spec.noise,
        outliers=spec.outliers,
        correlation=spec.correlation,
        dtype=np.dtype(spec.dtype),
        seed=spec.seed,
    )
    return data.X, data.y


class _Progress:
    """A tqdm bar over the cases, or plain log lines in quiet mode."""

    def __init__(self, total: int, quiet: bool, log: Callable[[str], None]) -> None:
        self.total, self.quiet, self.log, self.done = total, quiet, log, 0
        self.bar = None
        if not quiet:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, desc="fastgd bench", unit="case", file=sys.stderr, dynamic_ncols=True)

    def start(self, case: Case) -> None:
        if self.bar is not None:
            self.bar.set_postfix_str(case.label, refresh=True)

    def finish(self, case: Case, record: dict[str, Any]) -> None:
        self.done += 1
        if self.bar is not None:
            self.bar.update(1)
            return
        median = float(np.median([row["epoch_time_s"] for row in record["timing"]]))
        flag = " DIVERGED" if record["diverged"] else ""
        self.log(f"[{self.done}/{self.total}] {case.label}: {median * 1e3:.3g} ms/epoch{flag}")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _usable_thread_cases(cases: list[Case], notes: list[str]) -> list[Case]:
    available = int(numba.config.NUMBA_NUM_THREADS)  # type: ignore[attr-defined]
    too_many = sorted({case.threads for case in cases if case.threads > available})
    if too_many:
        notes.append(f"thread counts {too_many} skipped: this machine offers {available} Numba threads")
    return [case for case in cases if case.threads <= available]


def run_study(
    study: Study,
    results_dir: str | Path,
    *,
    force: bool = False,
    quiet: bool = False,
    command: str | None = None,
    max_cases: int | None = None,
    log: Callable[[str], None] | None = None,
    on_case_done: Callable[[Case, dict[str, Any]], None] | None = None,
) -> StudyOutcome:
    """Run every unfinished case of ``study`` and append its record to ``results_dir``.

    Parameters
    ----------
    study : Study
    results_dir : path-like
        Where ``records.jsonl`` and ``study.json`` live (created if needed).
    force : bool, default False
        Redo cases that already have a record (the new record supersedes the old).
    quiet : bool, default False
        Plain log lines instead of a progress bar.
    command : str, optional
        The command line that reproduces the run (stored in ``study.json``).
    max_cases : int, optional
        Stop after measuring this many cases (the rest stay for a rerun).
    log : callable, optional
        Where log lines go (default: print to stderr).
    on_case_done : callable, optional
        Called with ``(case, record)`` after each record is persisted.

    Returns
    -------
    StudyOutcome

    Raises
    ------
    fastgd.study.records.CorruptRecordError
        The existing records file is damaged (it is never silently reused).
    KeyboardInterrupt
        Propagated after the progress bar is closed; finished cases are kept.
    """
    started = time.perf_counter()
    say = log or (lambda line: print(line, file=sys.stderr))
    directory = Path(results_dir)
    directory.mkdir(parents=True, exist_ok=True)
    finished = set() if force else finished_case_ids(directory)
    all_cases, notes = expand_cases(study)
    cases = _usable_thread_cases(all_cases, notes)
    todo = [case for case in cases if case.case_id not in finished]
    outcome = StudyOutcome(directory, len(cases), n_skipped=len(cases) - len(todo), notes=notes)
    if max_cases is not None:
        todo = todo[:max_cases]
    if not todo and (directory / STUDY_FILE).exists():
        outcome.elapsed_s = time.perf_counter() - started
        return outcome

    if not quiet:
        say(f"measuring memory bandwidth ({study.probe_mbytes} MiB read probe)...")
    machine = machine_info(measure_read_bandwidth(study.probe_mbytes * 2**20))
    info: dict[str, Any] = {
        "command": command,
        "preset": study.name,
        "study": study.to_dict(),
        "machine": machine,
        "notes": notes,
        "case_ids": [case.case_id for case in cases],
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    _note_cached_datasets(todo, machine.get("llc_bytes"), notes)
    atomic_write_json(directory / STUDY_FILE, info)

    if any(case.backend == "torch" for case in todo):
        import torch  # noqa: F401  (imported now so that thread_limits governs it from the first case)

    progress = _Progress(len(todo), quiet, say)
    current: tuple[DatasetSpec | None, Any] = (None, None)
    optima: dict[tuple[str, float], Optimum] = {}
    try:
        for case in todo:
            progress.start(case)
            if current[0] != case.dataset:
                current = (None, None)  # free the previous dataset first
                optima.clear()
                current = (case.dataset, _make_dataset(case.dataset))
            X, y = current[1]
            key = (case.loss, case.delta)
            if key not in optima:
                optima[key] = certified_optimum(X, y, case.loss, delta=case.delta, size_limit=study.lp_size_limit)
                _note_uncertified(case, optima[key], notes)
            if study.settle_s > 0:  # let BLAS threads still spinning from the last call go idle
                time.sleep(study.settle_s)
            with thread_limits(case.threads):
                record = measure_case(case, X, y, optima[key], machine)
            append_record(directory, record)
            outcome.n_run += 1
            progress.finish(case, record)
            if on_case_done is not None:
                on_case_done(case, record)
    finally:
        progress.close()
        info["notes"] = notes
        info["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        atomic_write_json(directory / STUDY_FILE, info)
    outcome.elapsed_s = time.perf_counter() - started
    return outcome


def _note_cached_datasets(cases: list[Case], llc_bytes: int | None, notes: list[str]) -> None:
    """Say which datasets fit in the last-level cache (their GB/s may exceed the memory bandwidth)."""
    if not llc_bytes:
        return
    for spec in dict.fromkeys(case.dataset for case in cases):
        if spec.x_bytes <= llc_bytes:
            note = (
                f"{spec.n_samples}x{spec.n_features} {spec.dtype}: X ({spec.x_bytes / 2**20:.3g} MiB) fits in the "
                f"{llc_bytes / 2**20:.3g} MiB last-level cache, so its GB/s can exceed the memory bandwidth"
            )
            if note not in notes:
                notes.append(note)


def _note_uncertified(case: Case, optimum: Optimum, notes: list[str]) -> None:
    if optimum.kind is not None:
        return
    spec = case.dataset
    why = "no closed form" if case.loss == "huber" else "too large for the exact LP"
    note = (
        f"{case.loss} on {spec.n_samples}x{spec.n_features} {spec.dtype}: no certified optimum ({why}); "
        "suboptimality is measured against the best loss seen"
    )
    if note not in notes:
        notes.append(note)
