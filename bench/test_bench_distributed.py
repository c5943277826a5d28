"""fastgd.distributed on a LocalCluster of 2 single-threaded workers, against one machine and dask peers.

Groups:

* ``dist-round[...]``: one synchronous round with no work, ``d + 1``
  parameters out and back: the Actor per worker that fastgd.distributed uses,
  against building and computing a new dask.array graph per step (the
  prototype measured 2.7-3.0 ms and 55-65 ms).
* ``dist-epoch[<n>x<d>]``: one full-batch epoch (one step): fastgd.distributed
  (a round to the actors, the partials added in block order, the update);
  single-machine :func:`fastgd.fit`'s compiled epoch on 2 Numba threads; the
  ``dask.array`` expression ``X.T @ (X @ w - y)`` computed per step; and
  dask-glm's ``gradient_descent`` (per iteration; it line-searches, so an
  iteration costs several graph computations), when dask-glm imports.
* ``dist-fit[<n>x<d>]``: a whole :func:`fastgd.distributed.fit` (full batch,
  2 epochs) on in-memory data, as the benchmark study calls it hundreds of
  times: given the NumPy arrays (shipped on every call) against the arrays of
  :func:`fastgd.distributed.from_array` (shipped once).  ``extra_info``'s
  ``fixed_ms`` (printed with ``-s``) is the median of the wall time minus the
  history's last ``time_s``: what a fit costs beyond its training steps
  (actors, warm-up, the three recorded loss passes; for NumPy, the shipping).
  Sizes 20,000 x 100 and 400,000 x 100 float64 (tiny under ``--benchmark-disable``).
* ``dist-jit``: seconds each worker spends compiling (cold: empty cache) or
  loading (warm) the kernels of a full-batch fit and of a local-SGD fit.

Sizes: ``500_000 x 50`` float64 by default, ``4_000_000 x 50`` with
``FASTGD_BENCH_LARGE=1``, a tiny shape under ``--benchmark-disable`` (each test
then runs once, as a smoke test, and the JIT cases, which start clusters of
their own, are skipped).
"""

from __future__ import annotations

import os
import tempfile
import time
import warnings
from typing import Any

import numba
import numpy as np
import pytest

pytest.importorskip("dask.array")
pytest.importorskip("distributed")

import dask.array as da  # noqa: E402

import fastgd  # noqa: E402
import fastgd.distributed as fd  # noqa: E402
from fastgd.distributed._group import ShardGroup  # noqa: E402
from fastgd.distributed.training import FullBatchTrainer  # noqa: E402
from fastgd.kernels import ROW_BLOCK  # noqa: E402
from fastgd.trainer import Trainer  # noqa: E402

N_WORKERS = 2
DEFAULT_SIZE = (500_000, 50)
LARGE_SIZE = (4_000_000, 50)
TINY_SIZE = (3 * ROW_BLOCK + 11, 8)
OPTIMIZER = fastgd.SGD(lr=0.1)


def bench_size(config: pytest.Config) -> tuple[int, int]:
    if config.getoption("benchmark_disable", default=False):
        return TINY_SIZE
    return LARGE_SIZE if os.environ.get("FASTGD_BENCH_LARGE") == "1" else DEFAULT_SIZE


@pytest.fixture(scope="module")
def client():
    with fd.local_cluster(N_WORKERS) as c:
        c.wait_for_workers(N_WORKERS)
        yield c


@pytest.fixture(scope="module")
def dataset(client, request):
    """The same data on the workers (generated there, persisted) and in this process."""
    n_samples, n_features = bench_size(request.config)
    chunk_rows = -(-n_samples // (4 * ROW_BLOCK)) * ROW_BLOCK  # 4 chunks, 2 per worker
    dist = fd.make_regression(n_samples, n_features, seed=0, chunk_rows=chunk_rows)
    X, y = client.persist([dist.X, dist.y])
    local = fastgd.make_regression(n_samples, n_features, seed=0)
    return X, y, local


def _noop_block(block: np.ndarray, w: np.ndarray) -> np.ndarray:
    return np.zeros((1, w.shape[0]), dtype=block.dtype)


@pytest.mark.parametrize("implementation", ["actor", "graph-per-step"])
def test_round_overhead(benchmark: Any, client: Any, dataset: Any, implementation: str) -> None:
    X, y, _ = dataset
    n_features = X.shape[1]
    benchmark.group = f"dist-round[{N_WORKERS} workers, {len(X.chunks[0])} chunks]"
    benchmark.extra_info["implementation"] = "fastgd" if implementation == "actor" else implementation
    params = np.zeros(n_features + 1)
    if implementation == "actor":
        group = ShardGroup(client, X, y, "l2", 1.0)
        benchmark.pedantic(lambda: group.call("ping", params), rounds=200, iterations=1, warmup_rounds=5)
        group.close()
    else:

        def graph_step() -> np.ndarray:
            parts = da.map_blocks(_noop_block, X, params, chunks=((1,) * len(X.chunks[0]), (n_features + 1,)))
            return parts.sum(axis=0).compute()

        benchmark.pedantic(graph_step, rounds=20, iterations=1, warmup_rounds=2)


IMPLEMENTATIONS = ["fastgd-distributed", "fastgd", "dask-expr", "dask-glm"]


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_full_batch_epoch(benchmark: Any, client: Any, dataset: Any, implementation: str) -> None:
    X, y, local = dataset
    n_samples, n_features = X.shape
    benchmark.group = f"dist-epoch[{n_samples}x{n_features} float64]"
    benchmark.extra_info["implementation"] = implementation
    rounds = 10 if n_samples * n_features <= 50_000_000 else 5
    if implementation == "fastgd-distributed":
        group = ShardGroup(client, X, y, "l2", 1.0)
        trainer = FullBatchTrainer(group, {"optimizer": OPTIMIZER, "epochs": 10**6}, X.dtype, n_samples, n_features)
        benchmark.pedantic(lambda: trainer.steps(0, 1), rounds=rounds, iterations=1, warmup_rounds=1)
        benchmark.extra_info["worker_warm_s"] = group.warm_s
        group.close()
    elif implementation == "fastgd":
        saved = numba.get_num_threads()
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))  # type: ignore[attr-defined]
        try:
            trainer = Trainer(local.X, local.y, optimizer=OPTIMIZER, batch_size=None, epochs=10**6)
            benchmark.pedantic(trainer.run_epoch, rounds=rounds, iterations=1, warmup_rounds=1)
        finally:
            numba.set_num_threads(saved)
    elif implementation == "dask-expr":
        w = np.zeros(n_features)

        def expression_step() -> None:
            nonlocal w
            grad = (X.T @ (X @ w - y)).compute() * (2.0 / n_samples)
            w = w - OPTIMIZER.lr * grad

        benchmark.pedantic(expression_step, rounds=rounds, iterations=1, warmup_rounds=1)
    else:
        algorithms = pytest.importorskip("dask_glm.algorithms")
        families = pytest.importorskip("dask_glm.families")
        iterations = 3

        def glm() -> None:
            algorithms.gradient_descent(X, y, max_iter=iterations, tol=0.0, family=families.Normal)

        benchmark.pedantic(glm, rounds=max(1, rounds // 3), iterations=1, warmup_rounds=0)
        benchmark.extra_info["iterations_per_round"] = iterations  # divide the time by this


FIT_SIZES = [(20_000, 100), (400_000, 100)]


@pytest.mark.parametrize("size", FIT_SIZES, ids=[f"{n}x{d}" for n, d in FIT_SIZES])
@pytest.mark.parametrize("source", ["from_array", "numpy"])
def test_fit_fixed_cost(benchmark: Any, request: pytest.FixtureRequest, client: Any, size: Any, source: str) -> None:
    n_samples, n_features = TINY_SIZE if request.config.getoption("benchmark_disable", default=False) else size
    benchmark.group = f"dist-fit[{n_samples}x{n_features} float64, 2 epochs]"
    benchmark.extra_info["implementation"] = "fastgd" if source == "from_array" else source
    local = fastgd.make_regression(n_samples, n_features, seed=0)
    X, y = fd.from_array(local.X, local.y, client=client) if source == "from_array" else (local.X, local.y)
    fixed: list[float] = []

    def one_fit() -> None:
        start = time.perf_counter()
        result = fd.fit(X, y, optimizer=OPTIMIZER, epochs=2, client=client)
        fixed.append(time.perf_counter() - start - float(result.history["time_s"].iloc[-1]))

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sending large graph")  # the NumPy path's, measured as it is
        benchmark.pedantic(one_fit, rounds=5, iterations=1, warmup_rounds=1)
    timed = fixed[1:] or fixed  # the warm-up round left out (under --benchmark-disable there is one run)
    benchmark.extra_info["fixed_ms"] = float(np.median(timed)) * 1e3
    print(f"\nfit fixed cost, {source} {n_samples}x{n_features}: {benchmark.extra_info['fixed_ms']:.1f} ms")


@pytest.mark.parametrize("cache", ["cold", "warm"])
def test_worker_jit(benchmark: Any, request: pytest.FixtureRequest, cache: str) -> None:
    if request.config.getoption("benchmark_disable", default=False):
        pytest.skip("starts two more clusters (a cold compile takes tens of seconds per worker): timed runs only")
    benchmark.group = "dist-jit[seconds per worker]"
    benchmark.extra_info["implementation"] = "fastgd" if cache == "warm" else "fastgd-cold"
    data = fd.make_regression(2 * ROW_BLOCK, 4, seed=0, chunk_rows=ROW_BLOCK)

    def fits(env: dict[str, str]) -> tuple[float, float]:
        with fd.local_cluster(N_WORKERS, env=env) as c:
            full = fd.fit(data.X, data.y, epochs=1, client=c)
            local = fd.fit(data.X, data.y, batch_size=8, epochs=1, client=c)
        return full.compile_s, local.compile_s

    if cache == "warm":  # fastgd's own cache, filled by this process before the workers start
        full_s, local_s = benchmark.pedantic(fits, args=({},), rounds=1, iterations=1)
    else:
        with tempfile.TemporaryDirectory() as cache_dir:  # an empty cache: every worker compiles
            full_s, local_s = benchmark.pedantic(fits, args=({"NUMBA_CACHE_DIR": cache_dir},), rounds=1, iterations=1)
    benchmark.extra_info["full_batch_compile_s"] = full_s
    benchmark.extra_info["local_sgd_compile_s"] = local_s
    print(f"\nworker JIT ({cache}): full batch {full_s:.2f} s, local SGD {local_s:.2f} s (slowest worker)")
