"""Full-batch loss+gradient and loss only: fastgd's fused kernels against the floor and their peers.

Groups ``gradient[<loss> <n>x<d> <dtype>]`` hold, for the same data:

* ``fastgd`` with 1 and 2 Numba threads (the fused kernel, one read of ``X``);
* ``floor`` with 1 and 2 threads: :func:`fastgd.kernels.stream_read`, one
  vectorised parallel read of ``X`` -- the least any one-pass kernel can cost;
* ``numpy-two-pass``: ``X.T @ (X @ coef + intercept - y) * 2/n`` (reads ``X`` twice);
* ``numpy-gemv``: one ``X @ coef`` (a BLAS read of ``X``; not the floor: its
  speed depends on the BLAS kernel chosen for the CPU);
* ``torch``: the same two-pass formula on tensors sharing the memory (if installed).

The Huber groups hold fastgd and the floor only.  Groups
``full_loss[<n>x<d> <dtype>]`` time :func:`fastgd.kernels.full_loss` (the
loss alone) against the floor.  Every fastgd entry stores its median over the
floor measured right after it (``extra_info["ratio_to_floor"]``).
"""

from __future__ import annotations

import numba
import numpy as np
import pytest

from fastgd import kernels

from .conftest import bench_sizes, record_ratio_to_floor, record_throughput, regression_data, size_id

IMPLEMENTATIONS = ["fastgd-1thread", "fastgd-2threads", "floor-1thread", "floor-2threads", "numpy-two-pass",
                   "numpy-gemv", "torch"]  # fmt: skip
#: Peers are timed for these losses only (the Huber groups compare fastgd with the floor).
PEER_LOSSES = {"l2", "l1"}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "size" in metafunc.fixturenames:
        sizes = bench_sizes(metafunc.config, "gradient")
        metafunc.parametrize("size", sizes, ids=[size_id(s) for s in sizes])


def numpy_gradient(X, y, coef, intercept, loss):
    residual = X @ coef
    residual += intercept - y
    if loss == "l2":
        slope = 2.0 * residual
    elif loss == "l1":
        slope = np.sign(residual)
    else:  # huber, delta = 1
        slope = np.clip(residual, -1.0, 1.0)
    return X.T @ slope / X.shape[0]


def thread_count(implementation: str) -> int:
    return 1 if implementation.endswith("1thread") else min(2, numba.config.NUMBA_NUM_THREADS)


def timed_with_threads(benchmark, threads, function):
    """Benchmark ``function`` with ``threads`` Numba threads (one untimed warm-up call first)."""
    saved = numba.get_num_threads()
    numba.set_num_threads(threads)
    try:
        function()  # JIT warm-up, outside the timed region
        return benchmark(function)
    finally:
        numba.set_num_threads(saved)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("loss", ["l2", "l1", "huber"])
@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_full_gradient(benchmark, implementation, loss, dtype, size):
    if loss not in PEER_LOSSES and not implementation.startswith(("fastgd", "floor")):
        pytest.skip("the Huber groups compare fastgd with the floor only")
    n_samples, n_features = size
    X, y, coef = regression_data(n_samples, n_features, dtype)
    cast = np.dtype(dtype).type
    intercept = cast(0.5)
    benchmark.group = f"gradient[{loss} {size_id(size)} {dtype}]"
    benchmark.extra_info["implementation"] = implementation.split("-")[0]
    threads = 2
    expected = numpy_gradient(X, y, coef, intercept, loss)

    if implementation.startswith("fastgd"):
        threads = thread_count(implementation)
        grad_out = np.empty(n_features + 1, dtype)
        workspace = kernels.gradient_workspace(n_samples, n_features, dtype)
        loss_kernel = kernels.get_loss(loss)

        def run():
            kernels.full_loss_grad(X, y, coef, intercept, loss_kernel, cast(1.0), grad_out, workspace)
            return grad_out[:n_features]

        result = timed_with_threads(benchmark, threads, run)
        record_ratio_to_floor(benchmark, X, threads)
    elif implementation.startswith("floor"):
        threads = thread_count(implementation)
        block_sums = np.empty(kernels.n_row_blocks(n_samples))
        total = timed_with_threads(benchmark, threads, lambda: kernels.stream_read(X, block_sums))
        assert total == pytest.approx(float(X.sum(dtype=np.float64)), rel=1e-3, abs=1e-3 * X.size)
        record_throughput(benchmark, X, threads)
        return
    elif implementation == "numpy-two-pass":
        result = benchmark(numpy_gradient, X, y, coef, intercept, loss)
    elif implementation == "numpy-gemv":
        product = benchmark(np.matmul, X, coef)
        np.testing.assert_allclose(product[:5], X[:5] @ coef, rtol=1e-4)
        record_throughput(benchmark, X, threads)
        return
    else:
        torch = pytest.importorskip("torch")
        X_t, y_t, coef_t = torch.from_numpy(X), torch.from_numpy(y), torch.from_numpy(coef)

        def run_torch():
            residual = X_t @ coef_t + float(intercept) - y_t
            slope = 2.0 * residual if loss == "l2" else torch.sign(residual)
            return (X_t.T @ slope) / n_samples

        run_torch()
        result = benchmark(run_torch).numpy()

    rtol = 1e-8 if dtype == "float64" else 2e-3
    np.testing.assert_allclose(result, expected, rtol=rtol, atol=rtol * float(np.abs(expected).max()))
    record_throughput(benchmark, X, threads)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("implementation", ["fastgd-1thread", "fastgd-2threads", "floor-1thread", "floor-2threads"])
def test_full_loss(benchmark, implementation, dtype, size):
    """The mean L2 loss alone (:func:`fastgd.kernels.full_loss`) against the floor."""
    n_samples, n_features = size
    X, y, coef = regression_data(n_samples, n_features, dtype)
    cast = np.dtype(dtype).type
    benchmark.group = f"full_loss[{size_id(size)} {dtype}]"
    benchmark.extra_info["implementation"] = implementation.split("-")[0]
    threads = thread_count(implementation)
    block_sums = np.empty(kernels.n_row_blocks(n_samples))
    if implementation.startswith("floor"):
        timed_with_threads(benchmark, threads, lambda: kernels.stream_read(X, block_sums))
    else:
        loss = kernels.LOSSES["l2"]
        # The reference first: OpenBLAS's threads spin for a while after a call,
        # which slowed the floor measured right after the benchmark (ratios < 1).
        residual = X.astype(np.float64) @ coef.astype(np.float64) + 0.5 - y
        expected = float(np.mean(residual**2))
        value = timed_with_threads(
            benchmark, threads, lambda: kernels.full_loss(X, y, coef, cast(0.5), loss, cast(1.0), block_sums)
        )
        record_ratio_to_floor(benchmark, X, threads)
        assert value == pytest.approx(expected, rel=1e-9 if dtype == "float64" else 1e-4)
    record_throughput(benchmark, X, threads)
