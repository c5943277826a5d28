"""Shared set-up for the pytest-benchmark suite.

* Sizes: the real sizes by default; tiny ones under ``--benchmark-disable``
  (the test command runs every benchmark once that way so the suite cannot
  rot).  ``FASTGD_BENCH_QUICK=1`` uses mid-sized data instead of the default.
* ``numba_threads``: sets the Numba thread count for one benchmark and
  restores it (the harness may; library code never does).
* The floor: :func:`fastgd.kernels.stream_read` (one vectorised parallel read
  of ``X``).  :func:`record_ratio_to_floor` times it on the benchmark's own
  data and thread count right after the benchmark and stores
  ``extra_info["ratio_to_floor"]`` (and ``floor_ms``).
* At the end of a timed run a table of ratios is printed: every benchmark's
  median against the fastgd entry with the most threads in its group, and
  against the streaming-read floor, all measured in the same run.
"""

from __future__ import annotations

import os
import statistics
import time
from collections import defaultdict
from typing import Any

import numba
import numpy as np
import pytest

from fastgd.kernels import n_row_blocks, stream_read

#: (n_samples, n_features) per suite when timing for real.
FULL_SIZES = {
    "gradient": [(1_000_000, 100), (1_000_000, 10)],
    "epoch": [(200_000, 100)],
    "sgd_epoch": [(1_000_000, 100)],
}
QUICK_SIZES = {
    "gradient": [(200_000, 100)],
    "epoch": [(50_000, 100)],
    "sgd_epoch": [(100_000, 100)],
}
TINY_SIZES = {key: [(2_000, 8)] for key in FULL_SIZES}


def bench_sizes(config: pytest.Config, suite: str) -> list[tuple[int, int]]:
    """The sizes the ``suite`` runs at under the current options."""
    if config.getoption("benchmark_disable", default=False):
        return TINY_SIZES[suite]
    if os.environ.get("FASTGD_BENCH_QUICK") == "1":
        return QUICK_SIZES[suite]
    return FULL_SIZES[suite]


def size_id(size: tuple[int, int]) -> str:
    return f"{size[0]}x{size[1]}"


_DATA_CACHE: dict[tuple[int, int, str], tuple[np.ndarray, np.ndarray, np.ndarray]] = {}


def regression_data(n_samples: int, n_features: int, dtype: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cached standard-normal regression data ``(X, y, coef)`` for the benchmarks."""
    key = (n_samples, n_features, np.dtype(dtype).name)
    if key not in _DATA_CACHE:
        if len(_DATA_CACHE) >= 3:  # bound memory: keep the most recent few
            _DATA_CACHE.pop(next(iter(_DATA_CACHE)))
        rng = np.random.default_rng(0)
        X = rng.standard_normal((n_samples, n_features)).astype(dtype, copy=False)
        coef = rng.standard_normal(n_features).astype(dtype)
        y = (X @ coef + rng.standard_normal(n_samples).astype(dtype)).astype(dtype)
        _DATA_CACHE[key] = (X, y, coef)
    return _DATA_CACHE[key]


@pytest.fixture
def numba_threads(request: pytest.FixtureRequest):
    """Run one benchmark with ``request.param`` Numba threads (restored after)."""
    wanted = min(int(request.param), numba.config.NUMBA_NUM_THREADS)
    saved = numba.get_num_threads()
    numba.set_num_threads(wanted)
    yield wanted
    numba.set_num_threads(saved)


def record_throughput(benchmark: Any, X: np.ndarray, threads: int) -> None:
    """Fill ``extra_info`` with the data's shape and dtype, and samples/s and GB/s of ``X`` read."""
    n_samples, n_features = X.shape
    benchmark.extra_info["threads"] = threads
    benchmark.extra_info["n_samples"] = n_samples
    benchmark.extra_info["n_features"] = n_features
    benchmark.extra_info["dtype"] = X.dtype.name
    bytes_read = X.nbytes
    stats = getattr(benchmark, "stats", None)
    if stats is None:  # --benchmark-disable: nothing was timed
        return
    median = stats.stats.median
    benchmark.extra_info["samples_per_s"] = n_samples / median
    benchmark.extra_info["gbytes_per_s"] = bytes_read / median / 1e9


def floor_seconds(X: np.ndarray, threads: int, repeats: int = 7) -> float:
    """Median time of one :func:`~fastgd.kernels.stream_read` of ``X`` with ``threads`` Numba threads."""
    block_sums = np.empty(n_row_blocks(X.shape[0]))
    saved = numba.get_num_threads()
    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    try:
        stream_read(X, block_sums)  # compile or load, and touch X
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            stream_read(X, block_sums)
            times.append(time.perf_counter() - start)
    finally:
        numba.set_num_threads(saved)
    return statistics.median(times)


def record_ratio_to_floor(benchmark: Any, X: np.ndarray, threads: int) -> None:
    """Store the benchmark's median over the streaming-read floor of ``X`` at ``threads`` threads.

    ``extra_info["floor_ms"]`` and ``extra_info["ratio_to_floor"]``; nothing
    under ``--benchmark-disable`` (nothing was timed).
    """
    stats = getattr(benchmark, "stats", None)
    if stats is None:
        return
    floor = floor_seconds(X, threads)
    benchmark.extra_info["floor_threads"] = threads
    benchmark.extra_info["floor_ms"] = floor * 1e3
    benchmark.extra_info["ratio_to_floor"] = stats.stats.median / floor


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """Print, per group, each implementation's median relative to fastgd's and to the floor."""
    session = getattr(config, "_benchmarksession", None)
    if session is None or session.disabled or not session.benchmarks:
        return
    groups: dict[str, list[Any]] = defaultdict(list)
    for bench in session.benchmarks:
        if bench and bench.stats:
            groups[bench.group or ""].append(bench)
    lines = []
    for group, benches in sorted(groups.items()):
        ours = [b for b in benches if b.extra_info.get("implementation") == "fastgd"]
        if not ours:
            continue
        base = max(ours, key=lambda b: (b.extra_info.get("threads", 0), -b.stats.median))
        lines.append(f"{group}  (baseline: {base.name}, median {base.stats.median * 1e3:.2f} ms)")
        for bench in sorted(benches, key=lambda b: b.stats.median):
            gbs = bench.extra_info.get("gbytes_per_s")
            gbs_text = f"{gbs:7.1f} GB/s" if gbs else " " * 12
            ratio = bench.extra_info.get("ratio_to_floor")
            floor_text = f"  {ratio:6.2f}x floor ({bench.extra_info['floor_threads']}t)" if ratio else ""
            lines.append(
                f"    {bench.name:<60s} {bench.stats.median * 1e3:10.2f} ms  {gbs_text}"
                f"  {bench.stats.median / base.stats.median:6.2f}x baseline time{floor_text}"
            )
    if lines:
        terminalreporter.write_sep("=", "fastgd ratios (medians, same run)")
        for line in lines:
            terminalreporter.write_line(line)
