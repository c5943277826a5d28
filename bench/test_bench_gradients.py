"""Full-batch loss+gradient: fastgd's fused one-pass kernel against its peers.

Groups ``gradient[<loss> <n>x<d> <dtype>]`` hold, for the same data:

* ``fastgd`` with 1 and 2 Numba threads (the fused kernel, one read of ``X``);
* ``numpy-two-pass``: ``X.T @ (X @ coef + intercept - y) * 2/n`` (reads ``X`` twice);
* ``numpy-gemv``: one ``X @ coef`` — the memory-bandwidth probe, i.e. the cost
  of reading ``X`` once with a tuned BLAS;
* ``torch``: the same two-pass formula on tensors sharing the memory (if installed).
"""

from __future__ import annotations

import numpy as np
import pytest

from fastgd import kernels

from .conftest import bench_sizes, record_throughput, regression_data, size_id

IMPLEMENTATIONS = ["fastgd-1thread", "fastgd-2threads", "numpy-two-pass", "numpy-gemv", "torch"]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "size" in metafunc.fixturenames:
        sizes = bench_sizes(metafunc.config, "gradient")
        metafunc.parametrize("size", sizes, ids=[size_id(s) for s in sizes])


def numpy_gradient(X, y, coef, intercept, loss):
    residual = X @ coef
    residual += intercept - y
    slope = 2.0 * residual if loss == "l2" else np.sign(residual)
    return X.T @ slope / X.shape[0]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("loss", ["l2", "l1"])
@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_full_gradient(benchmark, implementation, loss, dtype, size):
    n_samples, n_features = size
    X, y, coef = regression_data(n_samples, n_features, dtype)
    cast = np.dtype(dtype).type
    intercept = cast(0.5)
    benchmark.group = f"gradient[{loss} {size_id(size)} {dtype}]"
    benchmark.extra_info["implementation"] = implementation.split("-")[0]
    threads = 2
    expected = numpy_gradient(X, y, coef, intercept, loss)

    if implementation.startswith("fastgd"):
        import numba

        threads = 1 if implementation.endswith("1thread") else min(2, numba.config.NUMBA_NUM_THREADS)
        saved = numba.get_num_threads()
        numba.set_num_threads(threads)
        grad_out = np.empty(n_features + 1, dtype)
        workspace = kernels.gradient_workspace(n_samples, n_features, dtype)
        loss_kernel = kernels.get_loss(loss)

        def run():
            kernels.full_loss_grad(X, y, coef, intercept, loss_kernel, cast(1.0), grad_out, workspace)
            return grad_out[:n_features]

        try:
            run()  # JIT warm-up, outside the timed region
            result = benchmark(run)
        finally:
            numba.set_num_threads(saved)
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
