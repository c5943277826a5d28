"""The machine a study runs on: CPU, versions, and a memory-bandwidth read probe.

The probe sums a buffer of ``probe_mbytes`` (512 MiB by default, far larger
than any cache) with a parallel, vectorised Numba reduction on Numba's current
threads (all of them unless the caller set fewer), and reports the median of a few timed reads in GB/s (1e9 bytes/s).
Every epoch's "GB/s of X read" is divided by it to give the
``bandwidth_fraction`` of a run: how close a streaming pass comes to what the
memory system delivers.
"""

from __future__ import annotations

import contextlib
import os
import platform
import statistics
import sys
import time
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import numba
import numpy as np

from .._jit import jit

__all__ = [
    "thread_limits",
    "cpu_count",
    "cpu_model",
    "last_level_cache_bytes",
    "machine_info",
    "measure_read_bandwidth",
    "package_version",
]


@jit(parallel=True)
def _parallel_read_sum(buffer):  # type: ignore[no-untyped-def]
    """Sum of ``buffer``, read once: a ``prange`` reduction that Numba splits over its threads.

    Written as the plain reduction on purpose: it vectorises (about 27 GB/s
    from one core here), whereas a hand-blocked loop with a ``min()`` bound did
    not (about 5 GB/s) and would understate the machine.
    """
    total = 0.0
    for i in numba.prange(buffer.shape[0]):
        total += buffer[i]
    return total


def measure_read_bandwidth(n_bytes: int = 512 * 2**20, repeats: int = 5) -> float:
    """Memory read bandwidth in GB/s (1e9 bytes per second), median of ``repeats`` reads.

    Parameters
    ----------
    n_bytes : int, default 512 MiB
        Size of the buffer read; keep it well above the last-level cache.
    repeats : int, default 5
        Timed reads (after one untimed read that also compiles the probe).

    Returns
    -------
    float
        ``n_bytes / median(read time) / 1e9``.
    """
    buffer = np.ones(max(1, n_bytes // 8))
    expected = float(buffer.shape[0])
    if _parallel_read_sum(buffer) != expected:  # warm-up: compile, fault the pages in
        raise RuntimeError("memory bandwidth probe returned a wrong sum")
    times = []
    for _ in range(max(1, repeats)):
        start = time.perf_counter()
        _parallel_read_sum(buffer)
        times.append(time.perf_counter() - start)
    return buffer.nbytes / statistics.median(times) / 1e9


def cpu_model() -> str:
    """CPU model name from ``/proc/cpuinfo`` (Linux), else :func:`platform.processor`."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if line.lower().startswith(("model name", "hardware", "cpu model")):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def last_level_cache_bytes() -> int | None:
    """Size of the CPU's last-level cache in bytes (Linux sysfs), or ``None`` if unknown."""
    best: tuple[int, int] | None = None
    for index in sorted(Path("/sys/devices/system/cpu/cpu0/cache").glob("index*")):
        try:
            level = int((index / "level").read_text().strip())
            text = (index / "size").read_text().strip().upper()
        except (OSError, ValueError):
            continue
        scale = {"K": 2**10, "M": 2**20, "G": 2**30}.get(text[-1:], 1)
        digits = text.rstrip("KMG")
        if digits.isdigit() and (best is None or level > best[0]):
            best = (level, int(digits) * scale)
    return None if best is None else best[1]


def cpu_count() -> int:
    """Cores this process may run on (its CPU affinity where the OS reports it)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def package_version(distribution: str) -> str | None:
    """Installed version of ``distribution``, or ``None`` if it is not installed (never imports it)."""
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def machine_info(bandwidth_gbytes_per_s: float | None = None) -> dict[str, Any]:
    """The ``machine`` entry of study.json and of every results record.

    Parameters
    ----------
    bandwidth_gbytes_per_s : float, optional
        Result of :func:`measure_read_bandwidth`, if it was run.

    Returns
    -------
    dict
        ``cpu_model``, ``cores``, ``llc_bytes`` (last-level cache, ``None`` if
        unknown), ``numba_threads_available``,
        ``bandwidth_gbytes_per_s``, ``python``, ``numpy``, ``numba``,
        ``pandas``, ``torch`` (``None`` if absent), ``sklearn`` (``None`` if
        absent), ``scipy``, ``fastgd`` and ``platform``.
    """
    return {
        "cpu_model": cpu_model(),
        "cores": cpu_count(),
        "llc_bytes": last_level_cache_bytes(),
        "numba_threads_available": int(numba.config.NUMBA_NUM_THREADS),  # type: ignore[attr-defined]
        "bandwidth_gbytes_per_s": bandwidth_gbytes_per_s,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numba": numba.__version__,
        "pandas": package_version("pandas"),
        "torch": package_version("torch"),
        "sklearn": package_version("scikit-learn"),
        "scipy": package_version("scipy"),
        "fastgd": package_version("fastgd"),
        "platform": platform.platform(),
    }


@contextlib.contextmanager
def thread_limits(threads: int) -> Iterator[None]:
    """Run the block with ``threads`` Numba, PyTorch and BLAS threads; restore them after.

    The study runs each case at its thread count through this.  Only the
    harness sets thread counts: library code reads ``numba.get_num_threads()``.
    """
    from threadpoolctl import threadpool_limits

    previous_numba = numba.get_num_threads()
    torch = sys.modules.get("torch")
    previous_torch = torch.get_num_threads() if torch is not None else None
    numba.set_num_threads(threads)
    if torch is not None:
        torch.set_num_threads(threads)
    try:
        with threadpool_limits(limits=threads):
            yield
    finally:
        numba.set_num_threads(previous_numba)
        if torch is not None and previous_torch is not None:
            torch.set_num_threads(previous_torch)
