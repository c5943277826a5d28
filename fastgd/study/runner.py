"""Run a study: the tune phase, then the timing phase, each case stored as soon as it finishes.

**Tune.**  For every dataset x loss x method x backend (a *group*), each schedule's learning-rate
grid runs once (repetition 0).  When the best rate of a schedule sits on an edge of its grid, one
more rate beyond that edge is run, up to ``lr_grid.max_widen`` times.  The group's winner (the rule
of :mod:`fastgd.study.select`, at ``criterion_target``) then runs its remaining ``repetitions``.

**Timing.**  On ``timing.dataset`` (larger than the last-level cache), every method x backend x
thread count runs ``timing.repetitions`` times at the learning rate and schedule it won on the first
tune dataset (the grid centre, constant, where it has none); ``distributed`` runs one worker per
thread, so only at 2 threads or more.

Every case is one file in the store; a rerun recomputes the same plan from the stored rows and skips
every case whose file exists, so Ctrl-C, SIGTERM or a crash loses only the case being measured.  The
certified optimum is computed once per (dataset, loss); one dataset is in memory at a time.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import make_regression
from .cases import Case, backend_applies, missing_backend_note
from .config import DatasetSpec, MethodSpec, Study, StudyConfigError
from .machine import cpu_count, machine_info, measure_read_bandwidth, thread_limits
from .measure import close_clusters, run_case
from .optimum import Optimum, certified_optimum
from .select import select_winners
from .store import ResultsStore

__all__ = ["StudyOutcome", "run_study"]


@dataclass
class StudyOutcome:
    """What :func:`run_study` did: cases measured and skipped, notes, elapsed seconds."""

    n_run: int = 0
    n_skipped: int = 0
    notes: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0


class _Stop(Exception):
    """``max_cases`` measured: stop here (the rest is left for a rerun)."""


def _check_threads(study: Study) -> None:
    available = cpu_count()
    wanted = [("threads", study.threads)]
    if study.timing is not None:
        wanted += [(f"timing.threads[{i}]", t) for i, t in enumerate(study.timing.threads)]
    for key, threads in wanted:
        if threads > available:
            raise StudyConfigError(f"{key}: {threads} threads asked for, but this machine has {available} cores")


class _Runner:
    """Walks the plan; measures what the store lacks and reads back what it has."""

    def __init__(
        self, study: Study, store: ResultsStore, outcome: StudyOutcome, say: Callable[[str], None],
        quiet: bool, max_cases: int | None,
    ) -> None:  # fmt: skip
        self.study, self.store, self.outcome, self.say = study, store, outcome, say
        self.quiet, self.max_cases = quiet, max_cases
        self.finished = store.finished_ids()
        self.rows: dict[str, pd.DataFrame] = {}
        self.data: tuple[DatasetSpec | None, Any] = (None, None)
        self.optima: dict[str, Optimum] = {}
        self.winners: dict[tuple[str, str, str], tuple[float, str]] = {}
        self.backends = [b for b in study.backends if missing_backend_note(b) is None]

    # -- data and optimum, loaded only when a case must be measured --------------------
    def _dataset(self, spec: DatasetSpec) -> tuple[np.ndarray, np.ndarray]:
        if self.data[0] != spec:
            self.data, self.optima = (None, None), {}  # free the previous dataset first
            try:
                made = make_regression(
                    spec.n_samples, spec.n_features, noise=spec.noise, outliers=spec.outliers,
                    correlation=spec.correlation, dtype=np.dtype(spec.dtype), seed=spec.seed,
                )  # fmt: skip
            except MemoryError:
                raise StudyConfigError(
                    f"dataset {spec.label}: cannot allocate X ({spec.x_bytes / 1e9:.3g} GB); use a smaller n_samples"
                ) from None
            self.data = (spec, (made.X, made.y))
        return self.data[1]  # type: ignore[no-any-return]

    def _optimum(self, case: Case, X: np.ndarray, y: np.ndarray) -> Optimum:
        if case.loss not in self.optima:
            optimum = certified_optimum(X, y, case.loss, delta=case.delta, size_limit=self.study.lp_size_limit)
            self.optima[case.loss] = optimum
            if optimum.kind is None:
                why = "no closed form" if case.loss == "huber" else "too large for the exact LP, or SciPy is missing"
                self._note(f"{case.loss} on {case.dataset.label}: no certified optimum ({why}); no suboptimality")
            if self.study.settle_s:  # OpenBLAS threads of the solve busy-wait: let them go idle
                time.sleep(self.study.settle_s)
        return self.optima[case.loss]

    def _note(self, note: str) -> None:
        if note not in self.outcome.notes:
            self.outcome.notes.append(note)

    # -- one case ---------------------------------------------------------------------
    def run(self, case: Case) -> pd.DataFrame:
        case_id = case.case_id
        if case_id in self.rows:
            return self.rows[case_id]
        if case_id in self.finished:
            self.outcome.n_skipped += 1
            rows = self.store.read_case(case_id)
        else:
            if self.max_cases is not None and self.outcome.n_run >= self.max_cases:
                raise _Stop
            X, y = self._dataset(case.dataset)
            optimum = self._optimum(case, X, y)
            with thread_limits(case.threads):
                rows = run_case(case, X, y, optimum)
            self.store.write_case(case_id, rows)
            self.outcome.n_run += 1
            if not self.quiet:
                self.say(_progress_line(self.outcome.n_run, case, rows))
        self.rows[case_id] = rows
        return rows

    def _case(self, phase: str, spec: DatasetSpec, loss: str, method: MethodSpec, backend: str, **keys: Any) -> Case:
        optimizer, batch_size = method.build()
        params = asdict(optimizer)  # every hyper-parameter but lr, which is the case's own key
        study, lr = self.study, float(params.pop("lr"))
        fields = {
            "phase": phase, "dataset": spec, "loss": loss, "delta": study.delta, "method": method.name,
            "optimizer": optimizer.name, "optimizer_params": params, "batch_size": batch_size,
            "backend": backend, "threads": study.threads, "lr": lr, "schedule": "constant",
            "epochs": method.epochs or study.epochs, "repetition": 0, "fit_seed": study.fit_seed,
        }  # fmt: skip
        return Case(**(fields | keys))

    # -- the two phases ---------------------------------------------------------------
    def tune(self) -> None:
        study = self.study
        target = study.criterion_target
        for spec_index, spec in enumerate(study.datasets):
            for loss in study.losses:
                for method in study.methods:
                    optimizer, batch_size = method.build()
                    for backend in self.backends:
                        schedules = [
                            s for s in study.method_schedules(method, batch_size)
                            if backend_applies(backend, optimizer, batch_size, s)
                        ]  # fmt: skip
                        rows = [self._tune_grid(spec, loss, method, backend, s, float(optimizer.lr)) for s in schedules]
                        if not rows:
                            continue
                        winner = _winner(pd.concat(rows, ignore_index=True), target)
                        if not np.isfinite(winner["lr"]):
                            self._note(f"{backend}/{method.name} {loss} on {spec.label}: every learning rate diverged")
                            continue
                        best = (float(winner["lr"]), str(winner["schedule"]))
                        if spec_index == 0:
                            self.winners[(loss, method.name, backend)] = best
                        for repetition in range(1, study.repetitions):
                            self.run(self._case("tune", spec, loss, method, backend, lr=best[0], schedule=best[1],
                                                repetition=repetition))  # fmt: skip

    def _tune_grid(
        self, spec: DatasetSpec, loss: str, method: MethodSpec, backend: str, schedule: str, centre: float
    ) -> pd.DataFrame:
        grid = self.study.lr_grid
        rates = grid.rates(centre)

        def run(lr: float) -> pd.DataFrame:
            return self.run(self._case("tune", spec, loss, method, backend, lr=lr, schedule=schedule))

        rows = pd.concat([run(lr) for lr in rates], ignore_index=True)
        for _ in range(grid.max_widen):
            best = _winner(rows, self.study.criterion_target)
            edge = "low" if not np.isfinite(best["lr"]) else best["grid_edge"]
            if edge not in ("low", "high"):
                break
            rates = [rates[0] / grid.ratio, *rates] if edge == "low" else [*rates, rates[-1] * grid.ratio]
            rows = pd.concat([rows, run(rates[0] if edge == "low" else rates[-1])], ignore_index=True)
        return rows

    def timing(self) -> None:
        timing = self.study.timing
        if timing is None:
            return
        for threads in timing.threads:
            for loss in timing.losses:
                for method in self.study.methods:
                    optimizer, batch_size = method.build()
                    for backend in self.backends:
                        lr, schedule = self.winners.get((loss, method.name, backend), (float(optimizer.lr), "constant"))
                        if not backend_applies(backend, optimizer, batch_size, schedule):
                            continue
                        if backend == "distributed" and threads < 2:
                            continue  # one worker per thread: a single worker is not distributed
                        for repetition in range(timing.repetitions):
                            self.run(self._case(
                                "timing", timing.dataset, loss, method, backend, threads=threads, lr=lr,
                                schedule=schedule, epochs=timing.epochs, repetition=repetition,
                            ))  # fmt: skip


#: The columns :func:`select_winners` needs within one tuning group (its other keys are constant there).
_GROUP_COLUMNS = ["phase", "lr", "schedule", "repetition", "epoch", "step", "time_s", "objective", "suboptimality",
                  "diverged", "compile_s"]  # fmt: skip


def _winner(group_rows: pd.DataFrame, target: float) -> pd.Series:
    """The winning configuration of one tuning group, by the rule of :func:`select_winners`."""
    return select_winners(group_rows[_GROUP_COLUMNS], target).iloc[0]


def _progress_line(count: int, case: Case, rows: pd.DataFrame) -> str:
    times = rows["time_s"].to_numpy()
    epoch_ms = 1e3 * float(np.median(np.diff(times))) if len(times) > 1 else float("nan")
    final = rows["suboptimality"].iloc[-1]
    flag = " DIVERGED" if rows["diverged"].iloc[0] else ""
    return f"[{count}] {case.label}: {epoch_ms:.3g} ms/epoch, final suboptimality {final:.2g}{flag}"


def run_study(
    study: Study,
    results_dir: str | Path,
    *,
    force: bool = False,
    quiet: bool = False,
    command: str | None = None,
    max_cases: int | None = None,
    log: Callable[[str], None] | None = None,
) -> StudyOutcome:
    """Run every unfinished case of ``study``, storing each in ``results_dir`` as it finishes.

    Parameters
    ----------
    study : Study
    results_dir : path-like
        The results store (created if needed; see :mod:`fastgd.study.store`).
    force, quiet : bool, default False
        Discard the results already there and measure everything again; no per-case progress lines.
    command : str, optional
        The command line that reproduces the run (kept in ``study.json``).
    max_cases : int, optional
        Stop after measuring this many cases (the rest stay for a rerun).
    log : callable, optional
        Where progress lines go (default: stderr).

    Raises
    ------
    StudyConfigError
        More threads than the machine has, or a dataset or probe that cannot be allocated.
    fastgd.study.store.StoreError
        The results directory is locked, holds another study, or cannot be written (checked first).
    """
    started = time.perf_counter()
    say = log or (lambda line: print(line, file=sys.stderr, flush=True))
    _check_threads(study)
    outcome = StudyOutcome()
    outcome.notes.extend(n for b in study.backends if (n := missing_backend_note(b)) is not None)
    with ResultsStore(results_dir, study.to_dict(), discard=force) as store:
        try:
            bandwidth = measure_read_bandwidth(study.probe_mbytes * 2**20)
        except MemoryError:
            raise StudyConfigError(f"probe_mbytes: cannot allocate the {study.probe_mbytes} MiB probe buffer") from None
        info: dict[str, Any] = {
            "command": command, "study": study.to_dict(), "machine": machine_info(bandwidth), "notes": outcome.notes,
            "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }  # fmt: skip
        store.write_study_info(info)
        runner = _Runner(study, store, outcome, say, quiet, max_cases)
        try:
            runner.tune()
            runner.timing()
        except _Stop:
            pass
        finally:
            close_clusters()
            outcome.elapsed_s = time.perf_counter() - started
            finished_at = datetime.now(UTC).isoformat(timespec="seconds")
            info |= {"notes": outcome.notes, "elapsed_s": outcome.elapsed_s, "finished_at": finished_at}
            store.write_study_info(info)
    return outcome
