"""Synthetic data generation: :func:`fastgd.data.make_regression` against NumPy.

Groups ``make_regression[<n>x<d> float64]`` hold, for the same shape:

* ``fastgd``: ``make_regression(n, d, seed=0)`` on 2 Numba threads (counter-based
  normals, parallel over rows, fresh output arrays every round);
* ``numpy``: ``rng = np.random.default_rng(seed); X = rng.standard_normal((n, d));
  y = X @ coef + noise * rng.standard_normal(n)`` (also fresh arrays every round).

Sizes: ``200_000 x 100`` by default, plus ``1_000_000 x 100`` with
``FASTGD_BENCH_LARGE=1``; a tiny shape under ``--benchmark-disable`` (each test
then runs once, as a smoke test).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numba
import numpy as np
import pytest

from fastgd.data import make_regression

DEFAULT_SIZES = [(200_000, 100)]
LARGE_SIZES = [(1_000_000, 100)]
TINY_SIZES = [(2_000, 8)]
NOISE = 1.0
SEED = 0


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "size" in metafunc.fixturenames:
        if metafunc.config.getoption("benchmark_disable", default=False):
            sizes = TINY_SIZES
        else:
            sizes = DEFAULT_SIZES + (LARGE_SIZES if os.environ.get("FASTGD_BENCH_LARGE") == "1" else [])
        metafunc.parametrize("size", sizes, ids=[f"{n}x{d}" for n, d in sizes])


def numpy_make_regression(n_samples: int, n_features: int, coef: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The plain-NumPy equivalent: one Generator, fresh arrays."""
    rng = np.random.default_rng(SEED)
    X = rng.standard_normal((n_samples, n_features))
    y = X @ coef + NOISE * rng.standard_normal(n_samples)
    return X, y


@pytest.mark.parametrize("implementation", ["fastgd", "numpy"])
def test_make_regression(benchmark: Any, implementation: str, size: tuple[int, int]) -> None:
    n_samples, n_features = size
    benchmark.group = f"make_regression[{n_samples}x{n_features} float64]"
    benchmark.extra_info["implementation"] = implementation
    saved_threads = numba.get_num_threads()
    numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))  # type: ignore[attr-defined]
    try:
        run: Callable[[], tuple[np.ndarray, np.ndarray]]
        if implementation == "fastgd":

            def run() -> tuple[np.ndarray, np.ndarray]:
                X, y, _, _ = make_regression(n_samples, n_features, noise=NOISE, seed=SEED)
                return X, y

            make_regression(10, n_features)  # JIT/cache load outside the timed region
        else:
            coef = np.random.default_rng(1).standard_normal(n_features)

            def run() -> tuple[np.ndarray, np.ndarray]:
                return numpy_make_regression(n_samples, n_features, coef)

        threads = numba.get_num_threads()
        X, y = benchmark.pedantic(run, rounds=5, iterations=1, warmup_rounds=1)
    finally:
        numba.set_num_threads(saved_threads)

    assert X.shape == (n_samples, n_features) and y.shape == (n_samples,)
    assert X.dtype == y.dtype == np.float64 and X.flags.c_contiguous
    assert np.isfinite(X).all() and np.isfinite(y).all()
    assert 0.85 < X[:, 0].var() < 1.15 and abs(X.mean()) < 0.05
    benchmark.extra_info["threads"] = threads
    benchmark.extra_info["n_samples"] = n_samples
    stats = getattr(benchmark, "stats", None)
    if stats is not None and not benchmark.disabled:
        median = stats.stats.median
        benchmark.extra_info["samples_per_s"] = n_samples / median
        benchmark.extra_info["gbytes_per_s"] = (X.nbytes + y.nbytes) / median / 1e9
