"""The machine a study runs on: CPU, versions, and a memory-bandwidth read probe.

The probe times :func:`fastgd.kernels.stream_read` (one vectorised, parallel read of an ``X`` of
``probe_mbytes``, far larger than any cache: the floor the benchmark suite measures every kernel
against) and reports the median of a few reads in GB/s.  The report divides each epoch's GB/s of
``X`` by it: how close a pass over the data comes to a bare read.
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

from ..kernels import n_row_blocks, stream_read

__all__ = [
    "thread_limits",
    "cpu_count",
    "cpu_model",
    "last_level_cache_bytes",
    "machine_info",
    "measure_read_bandwidth",
    "package_version",
]


def measure_read_bandwidth(n_bytes: int = 256 * 2**20, repeats: int = 5, n_features: int = 100) -> float:
    """Streaming-read bandwidth in GB/s (1e9 bytes/s), on Numba's current threads (module docstring).

    Parameters
    ----------
    n_bytes : int, default 256 MiB
        Size of the float64 ``X``; keep it well above the last-level cache.
    repeats : int, default 5
        Timed reads, after one untimed read that compiles the kernel and faults the pages in.
    n_features : int, default 100

    Returns
    -------
    float
        ``X.nbytes / median(read time) / 1e9``.
    """
    n_samples = max(1, n_bytes // (8 * n_features))
    X = np.ones((n_samples, n_features))
    block_sums = np.empty(n_row_blocks(n_samples))
    if stream_read(X, block_sums) != X.size:  # warm-up: compile, fault the pages in
        raise RuntimeError("the memory bandwidth probe returned a wrong sum")
    times = []
    for _ in range(max(1, repeats)):
        start = time.perf_counter()
        stream_read(X, block_sums)
        times.append(time.perf_counter() - start)
    return X.nbytes / statistics.median(times) / 1e9


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


#: ``machine_info`` key -> the distribution whose version it holds (``None``: not installed).
_PACKAGES = {"pandas": "pandas", "torch": "torch", "sklearn": "scikit-learn", "scipy": "scipy", "fastgd": "fastgd"}


def machine_info(bandwidth_gbytes_per_s: float | None = None) -> dict[str, Any]:
    """The ``machine`` entry of study.json and of every results record.

    Parameters
    ----------
    bandwidth_gbytes_per_s : float, optional
        Result of :func:`measure_read_bandwidth`, if it was run.

    Returns
    -------
    dict
        CPU model, cores, last-level cache bytes, Numba threads, the bandwidth, the platform and the
        versions of Python and the packages (``None`` for one that is not installed).
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
        **{name: package_version(dist) for name, dist in _PACKAGES.items()},
        "platform": platform.platform(),
    }


@contextlib.contextmanager
def thread_limits(threads: int) -> Iterator[None]:
    """Run the block with ``threads`` Numba, PyTorch and BLAS threads; restore them after."""
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
