"""The results store: one Parquet file per finished case, ``study.json``, and a lock.

Layout of a results directory::

    study.json          the study (config), machine info, notes, command, times
    cases/<id>.parquet  the tidy rows of one finished case
    .lock               held (``flock``) by the run writing here

**Tidy rows.**  Each case file holds one row per recorded point of its run, every key as a column:
the case's keys (:meth:`Case.columns`: ``case_id``, ``phase``, the dataset's ``n_samples``,
``n_features``, ``dtype``, ``noise``, ``outliers``, ``correlation``, ``data_seed``; ``loss``,
``delta``, ``method``, ``optimizer``, ``batch_size`` (nullable; ``<NA>`` is full batch), ``backend``,
``threads``, ``lr``, ``schedule``, ``repetition``), the measurement (``epoch``, ``step``,
``samples_seen``, ``time_s``, ``objective``), the optimum (``f_star``, ``f_star_kind``,
``suboptimality`` = ``(objective - f_star) / |f_star|``, computed once when the case is measured)
and the run's outcome (``compile_s``, ``diverged``, ``stop_reason``).

**Durability.**  A case file is written to a temporary name and renamed (:mod:`fastgd._atomic`), so
it exists whole or not at all: a killed run loses only the case it was measuring, and a rerun skips
every case whose file exists.  The lock makes a second run on the same directory stop at once
(naming the holder); results of a different study are refused unless discarded (``--force``).
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pandas as pd

from .._atomic import atomic_path, atomic_write_json

__all__ = ["CASES_DIR", "STUDY_FILE", "ResultsStore", "StoreError", "load_points", "read_study_info"]

STUDY_FILE = "study.json"
CASES_DIR = "cases"
LOCK_FILE = ".lock"


class StoreError(RuntimeError):
    """The results directory cannot be used; the one-line message says why."""


def _results_dir(path: str | os.PathLike[str]) -> Path:
    """``path``, or ``path/results`` when given a report directory that holds one."""
    directory = Path(path)
    if not (directory / STUDY_FILE).exists() and (directory / "results" / STUDY_FILE).exists():
        return directory / "results"
    return directory


def read_study_info(results_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """The contents of ``study.json`` (``{}`` when there is none)."""
    path = _results_dir(results_dir) / STUDY_FILE
    try:
        return dict(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as error:
        raise StoreError(f"{path}: cannot read ({error})") from None


def _read_case(path: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except Exception as error:  # pyarrow raises several types for a damaged file
        raise StoreError(f"{path}: damaged case file ({type(error).__name__}); delete it to re-measure") from None


def load_points(results_dir: str | os.PathLike[str]) -> pd.DataFrame:
    """All stored tidy rows of a results directory, in case order (empty frame when none).

    ``results_dir`` may also be a report directory holding ``results/``.
    """
    files = sorted((_results_dir(results_dir) / CASES_DIR).glob("*.parquet"))
    frames = [_read_case(path) for path in files]
    if not frames:
        return pd.DataFrame()
    return pd.concat(frames, ignore_index=True)


class ResultsStore:
    """Write access to a results directory, held under an exclusive lock (a context manager).

    ``study`` is the study's plain-data form: a directory holding another study's results is refused
    unless ``discard=True``, which deletes them first (``fastgd bench --force``).
    """

    def __init__(self, results_dir: str | os.PathLike[str], study: dict[str, Any], discard: bool = False) -> None:
        self.directory = Path(results_dir)
        self.study = json.loads(json.dumps(study))  # the form study.json holds (tuples as lists)
        self.discard = discard
        self._lock: Any = None

    def __enter__(self) -> ResultsStore:
        directory = self.directory
        if directory.exists() and not directory.is_dir():
            raise StoreError(f"{directory} is a file, not a directory")
        try:
            (directory / CASES_DIR).mkdir(parents=True, exist_ok=True)
            self._lock = open(directory / LOCK_FILE, "a+")  # noqa: SIM115 (held until __exit__)
        except OSError as error:
            raise StoreError(f"cannot write to {directory} ({error.strerror or error})") from None
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock.seek(0)
            holder = self._lock.read().strip() or "another process"
            self._lock.close()
            raise StoreError(f"{directory} is in use by {holder}; wait for it or use another --results") from None
        self._lock.truncate(0)  # opened for appending: the write lands at 0
        self._lock.write(f"pid {os.getpid()}")
        self._lock.flush()
        try:
            self._check_study()
            probe = directory / CASES_DIR / ".write-test"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as error:
            self.__exit__(None, None, None)
            raise StoreError(f"cannot write to {directory} ({error.strerror or error})") from None
        except StoreError:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        if self._lock is not None:
            self._lock.close()  # closing the file releases the flock
            self._lock = None

    def _check_study(self) -> None:
        stored = read_study_info(self.directory).get("study")
        has_cases = any((self.directory / CASES_DIR).glob("*.parquet"))
        if self.discard:
            shutil.rmtree(self.directory / CASES_DIR)
            (self.directory / CASES_DIR).mkdir()
        elif has_cases and stored is not None and stored != self.study:
            raise StoreError(
                f"{self.directory} holds results of a different study ({stored.get('name')!r}); "
                "use --force to discard them, or another --results directory"
            )

    def finished_ids(self) -> set[str]:
        """Ids of the cases whose file exists."""
        return {path.stem for path in (self.directory / CASES_DIR).glob("*.parquet")}

    def read_case(self, case_id: str) -> pd.DataFrame:
        """The stored rows of one finished case."""
        return _read_case(self.directory / CASES_DIR / f"{case_id}.parquet")

    def write_case(self, case_id: str, rows: pd.DataFrame) -> Path:
        """Store one finished case's rows atomically."""
        target = self.directory / CASES_DIR / f"{case_id}.parquet"
        with atomic_path(target) as tmp:
            rows.to_parquet(tmp, index=False)
        return target

    def write_study_info(self, info: dict[str, Any]) -> None:
        """Atomically (re)write ``study.json``."""
        atomic_write_json(self.directory / STUDY_FILE, info)
