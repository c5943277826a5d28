"""Invalidate fastgd's on-disk Numba cache when *any* fastgd source file changes.

Numba keys each cached kernel on the modification time and size of the one
file that defines it.  fastgd's kernels inline code from other modules (the
loss and optimizer kernels into the training loop, helpers into every
gradient kernel), so after editing, say, ``kernels/optim.py``, the cached
training loop in ``kernels/training.py`` would still hold the old optimizer —
with a changed state layout that reads out of bounds.  (A fresh install has
fresh files and is not affected; an editable install after ``git pull`` is.)

This module registers a cache locator, ahead of Numba's own, for functions
defined in fastgd's package directory: it stores files where Numba would
(``__pycache__`` next to the source, or Numba's user-wide fallback) and adds
to their source stamp a digest of the name, size and modification time of
every ``.py`` file in the package.  Any edit anywhere in fastgd therefore
recompiles everything once.  Functions outside fastgd are untouched.
"""

from __future__ import annotations

import functools
import hashlib
import os
from pathlib import Path
from typing import Any, cast

from numba.core import caching

__all__ = ["install_package_cache_locator", "package_stamp"]

PACKAGE_DIR = Path(__file__).resolve().parent


def _locator_classes() -> list[Any]:
    """Numba's list of cache locator classes, tried in order (mutable, shared)."""
    return cast("list[Any]", caching.CacheImpl._locator_classes)


@functools.lru_cache(maxsize=1)
def package_stamp() -> str:
    """Digest of (relative path, size, mtime) of every ``.py`` file in the fastgd package."""
    digest = hashlib.sha256()
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        stat = path.stat()
        digest.update(f"{path.relative_to(PACKAGE_DIR)}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


class PackageCacheLocator(caching._CacheLocator):
    """Numba's own locator for the file, with the package digest added to its stamp."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        # Numba reads this when it warns that a function cannot be cached.
        self._py_file = getattr(inner, "_py_file", "<unknown>")

    def ensure_cache_path(self) -> None:
        self._inner.ensure_cache_path()

    def get_cache_path(self) -> str:
        return str(self._inner.get_cache_path())

    def get_source_stamp(self) -> Any:
        return (package_stamp(), self._inner.get_source_stamp())

    def get_disambiguator(self) -> str:
        return str(self._inner.get_disambiguator())

    @classmethod
    def from_function(cls, py_func: Any, py_file: str) -> PackageCacheLocator | None:
        try:
            inside = Path(py_file).resolve().is_relative_to(PACKAGE_DIR)
        except OSError:
            return None
        if not inside:
            return None
        for inner_class in _locator_classes():
            if inner_class is cls:
                continue
            inner = inner_class.from_function(py_func, py_file)
            if inner is not None:
                return cls(inner)
        return None


def install_package_cache_locator() -> None:
    """Put :class:`PackageCacheLocator` first in Numba's locator list (idempotent)."""
    if os.environ.get("NUMBA_CACHE_LOCATOR_CLASSES"):
        return  # the user chose the locators explicitly
    classes = _locator_classes()
    if PackageCacheLocator not in classes:
        classes.insert(0, PackageCacheLocator)
