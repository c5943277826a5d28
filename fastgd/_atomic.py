"""Atomic file writes: a reader sees the old file or the new one, never half of one.

Every writer here puts its bytes in a temporary file in the target's own
directory, flushes and ``fsync``-s it, and renames it over the target with
:func:`os.replace` (atomic on POSIX and Windows).  On any error, Ctrl-C
included, the temporary file is removed and the target is left untouched.
Temporary names start with a dot and end in ``.tmp``, so directory scans can
skip them.

Used by :func:`fastgd.make_regression` (``path=``), the study's results store
and the report writer.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["atomic_path", "atomic_write_bytes", "atomic_write_json", "atomic_write_text", "temporary_name"]


def temporary_name(target: Path) -> Path:
    """A fresh hidden temporary path next to ``target`` (``.NAME.<random>.tmp``)."""
    return target.with_name(f".{target.name}.{secrets.token_hex(8)}.tmp")


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


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces ``path`` atomically.

    For writers that want a file name (``DataFrame.to_parquet``,
    ``Figure.savefig``, ``numpy.save``).  The file is created with the mode a
    plain ``open()`` would give (the umask's), then ``fsync``-ed and renamed.

    Examples
    --------
    >>> import pandas as pd, tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "table.csv"
    >>> with atomic_path(target) as tmp:
    ...     pd.DataFrame({"a": [1]}).to_csv(tmp, index=False)
    >>> target.read_text().splitlines()
    ['a', '1']
    """
    target = Path(path)
    tmp = temporary_name(target)
    try:
        yield tmp
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_directory(target.parent)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Atomically write ``data`` to ``path``; returns ``path`` as a :class:`~pathlib.Path`."""
    target = Path(path)
    with atomic_path(target) as tmp, open(tmp, "wb") as handle:
        handle.write(data)
    return target


def atomic_write_text(path: str | os.PathLike[str], text: str, encoding: str = "utf-8") -> Path:
    """Atomically write ``text`` to ``path`` (see :func:`atomic_write_bytes`)."""
    return atomic_write_bytes(path, text.encode(encoding))


def atomic_write_json(path: str | os.PathLike[str], obj: Any) -> Path:
    """Atomically write ``obj`` as indented, key-sorted JSON with a trailing newline."""
    return atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True, allow_nan=True) + "\n")
