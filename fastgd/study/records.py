"""The results store: append-only JSONL records, one per finished case.

A results directory holds

``records.jsonl``
    One JSON object per line, one line per finished case (all its
    repetitions).  Each line carries a ``sha256`` of its own canonical JSON
    (``sort_keys=True``, no whitespace, without the ``sha256`` key), so an
    edited or damaged line is detected instead of silently used.  Lines are
    only ever appended (write, flush, ``fsync``), so an interrupted study
    loses nothing that had finished.
``study.json``
    The study's parameters, the command line, the machine and notes (written
    atomically with :func:`atomic_write_text`).

Every other output file of fastgd is written with :func:`atomic_write_text`
or :func:`atomic_write_bytes`: a temporary file in the same directory,
``fsync``, then :func:`os.replace`, so a reader never sees half a file.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = [
    "RECORDS_FILE",
    "SCHEMA_VERSION",
    "STUDY_FILE",
    "CorruptRecordError",
    "PartialRecordWarning",
    "append_record",
    "atomic_write_bytes",
    "atomic_write_json",
    "atomic_write_text",
    "canonical_json",
    "finished_case_ids",
    "load_records",
    "read_study_info",
    "record_sha256",
]

#: Version of the record layout written in each record's ``"schema"`` key.
SCHEMA_VERSION = 1
#: File name of the append-only record log inside a results directory.
RECORDS_FILE = "records.jsonl"
#: File name of the study description inside a results directory.
STUDY_FILE = "study.json"


class CorruptRecordError(ValueError):
    """A results record is not valid JSON, fails its checksum or lacks a key.

    Attributes
    ----------
    path : pathlib.Path
        The records file.
    line_number : int
        1-based number of the offending line.
    reason : str
        What is wrong with it.
    """

    def __init__(self, path: Path, line_number: int, reason: str) -> None:
        self.path = Path(path)
        self.line_number = line_number
        self.reason = reason
        super().__init__(f"{self.path}, line {line_number}: corrupt results record ({reason})")


class PartialRecordWarning(UserWarning):
    """The last line of a records file is incomplete (an interrupted write); it is ignored."""


def canonical_json(obj: Any) -> str:
    """Serialise ``obj`` the one way its checksum is computed over.

    Keys sorted, no whitespace, non-ASCII escaped.  Non-finite floats are
    written as ``NaN``/``Infinity`` (Python's JSON dialect), so a diverged
    run's losses survive the round trip.
    """
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=True)


def record_sha256(record: Mapping[str, Any]) -> str:
    """SHA-256 hex digest of ``record``'s canonical JSON, ignoring its ``sha256`` key."""
    body = {key: value for key, value in record.items() if key != "sha256"}
    return hashlib.sha256(canonical_json(body).encode("ascii")).hexdigest()


def _fsync_directory(directory: Path) -> None:
    """Persist a rename in ``directory`` (best effort: not every OS allows it)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _current_umask() -> int:
    """The process umask (read by setting and restoring it; there is no getter)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never half.

    The bytes go to a temporary file in the same directory, which is flushed,
    ``fsync``-ed and renamed over ``path`` with :func:`os.replace`.  On any
    error the temporary file is removed and ``path`` is left untouched.
    Parent directories are created.

    Returns
    -------
    path : pathlib.Path
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        # mkstemp creates the file private (0600); give it the mode a plain open() would.
        os.fchmod(fd, 0o666 & ~_current_umask())
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, target)
    except BaseException:
        try:
            os.unlink(tmp_name)
        except FileNotFoundError:
            pass
        raise
    _fsync_directory(target.parent)
    return target


def atomic_write_text(path: str | os.PathLike[str], text: str, encoding: str = "utf-8") -> Path:
    """Atomically write ``text`` to ``path`` (see :func:`atomic_write_bytes`)."""
    return atomic_write_bytes(path, text.encode(encoding))


def atomic_write_json(path: str | os.PathLike[str], obj: Any) -> Path:
    """Atomically write ``obj`` as indented, key-sorted JSON with a trailing newline."""
    return atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True, allow_nan=True) + "\n")


def _drop_partial_tail(path: Path) -> None:
    """Cut an unterminated last line (an interrupted append) so the next append starts clean."""
    with open(path, "rb+") as handle:
        size = handle.seek(0, os.SEEK_END)
        if size == 0:
            return
        handle.seek(size - 1)
        if handle.read(1) == b"\n":
            return
        data_start = max(0, size - (1 << 20))
        while True:
            handle.seek(data_start)
            chunk = handle.read(size - data_start)
            cut = chunk.rfind(b"\n")
            if cut >= 0 or data_start == 0:
                break
            data_start = max(0, data_start - (1 << 20))
        keep = data_start + cut + 1 if cut >= 0 else 0
        handle.truncate(keep)
        handle.flush()
        os.fsync(handle.fileno())


def append_record(results_dir: str | os.PathLike[str], record: Mapping[str, Any]) -> dict[str, Any]:
    """Append one finished case to ``results_dir/records.jsonl`` and make it durable.

    The ``schema`` key is set when missing and the ``sha256`` key is
    (re)computed.  The line is written, flushed and ``fsync``-ed before this
    returns.  An unterminated last line left by an interrupted earlier write
    is cut first, so it can never merge with the new line.

    Parameters
    ----------
    results_dir : path-like
        Directory of the study's results (created if needed).
    record : mapping
        The record; it must have a ``case_id``.

    Returns
    -------
    record : dict
        The record as written, with its ``schema`` and ``sha256``.
    """
    if "case_id" not in record:
        raise ValueError("a results record needs a 'case_id'")
    body = {key: value for key, value in record.items() if key != "sha256"}
    body.setdefault("schema", SCHEMA_VERSION)
    body["sha256"] = record_sha256(body)
    line = canonical_json(body) + "\n"
    directory = Path(results_dir)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / RECORDS_FILE
    if path.exists():
        _drop_partial_tail(path)
    with open(path, "ab") as handle:
        handle.write(line.encode("ascii"))
        handle.flush()
        os.fsync(handle.fileno())
    return body


def _parse_line(path: Path, line_number: int, raw: bytes) -> dict[str, Any]:
    """Decode and verify one complete line, or raise :class:`CorruptRecordError`."""
    try:
        record = json.loads(raw.decode("ascii"))
    except (UnicodeDecodeError, ValueError) as error:
        raise CorruptRecordError(path, line_number, f"not valid JSON: {error}") from None
    if not isinstance(record, dict):
        raise CorruptRecordError(path, line_number, "not a JSON object")
    stored = record.get("sha256")
    if not isinstance(stored, str):
        raise CorruptRecordError(path, line_number, "no sha256 checksum")
    if record_sha256(record) != stored:
        raise CorruptRecordError(path, line_number, "sha256 checksum does not match its content")
    if record.get("schema") != SCHEMA_VERSION:
        raise CorruptRecordError(path, line_number, f"unknown schema {record.get('schema')!r}")
    if not isinstance(record.get("case_id"), str):
        raise CorruptRecordError(path, line_number, "no case_id")
    return record


def load_records(results_dir: str | os.PathLike[str], *, latest_only: bool = True) -> list[dict[str, Any]]:
    """Read and verify every record of a results directory.

    Parameters
    ----------
    results_dir : path-like
        Directory holding ``records.jsonl``.  A missing file gives ``[]``.
    latest_only : bool, default True
        A case redone with ``--force`` has several records; keep only the
        last one written for each ``case_id`` (in the order the kept records
        were written).  ``False`` returns every line.

    Returns
    -------
    records : list of dict

    Raises
    ------
    CorruptRecordError
        A complete line is not JSON, not an object, lacks ``case_id`` or has
        a checksum that does not match; the error names the file and line.

    Warns
    -----
    PartialRecordWarning
        The last line has no trailing newline (a write was interrupted); it is
        ignored, so that case counts as unfinished and reruns.
    """
    path = Path(results_dir) / RECORDS_FILE
    if not path.exists():
        return []
    raw_lines = path.read_bytes().split(b"\n")
    tail = raw_lines.pop()  # after the last newline: b"" when the file ends cleanly
    records = [_parse_line(path, number, raw) for number, raw in enumerate(raw_lines, start=1)]
    if tail:
        warnings.warn(
            f"{path}, line {len(raw_lines) + 1}: incomplete last record (interrupted write) ignored; "
            "its case will be run again",
            PartialRecordWarning,
            stacklevel=2,
        )
    if not latest_only:
        return records
    latest = {record["case_id"]: index for index, record in enumerate(records)}
    return [record for index, record in enumerate(records) if latest[record["case_id"]] == index]


def finished_case_ids(results_dir: str | os.PathLike[str]) -> set[str]:
    """``case_id`` of every verified record in ``results_dir`` (see :func:`load_records`)."""
    return {record["case_id"] for record in load_records(results_dir)}


def read_study_info(results_dir: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The parsed ``study.json`` of a results directory, or ``None`` when there is none."""
    path = Path(results_dir) / STUDY_FILE
    if not path.exists():
        return None
    info = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(info, dict):
        raise ValueError(f"{path}: expected a JSON object")
    return info
