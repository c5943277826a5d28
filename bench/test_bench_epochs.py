"""One epoch of each method: fastgd's compiled loop against real peers on the same data.

Groups ``epoch[<method> <n>x<d>]``; every call runs one more epoch of the same
run (one benchmarked call per test).  The peers are the study's
(:mod:`fastgd.study.peers`): NumPy implementations of the same updates,
scikit-learn's ``SGDRegressor`` for per-sample SGD, and ``torch.optim`` over
float64 tensors with mini-batches of the same size.  Every implementation
draws its epoch's row order inside the timed epoch (the NumPy and PyTorch peers
use :func:`fastgd.epoch_order`, scikit-learn its own shuffle).  ``*-inorder``
cases visit the rows in storage order (no shuffle) for every implementation:
random row order costs every implementation memory latency, and the in-order
case shows the compute side alone.  JIT compilation
happens when the ``Trainer`` is built, before timing.

Groups ``epoch-vs-floor[<method> <n>x<d> <dtype>]`` time fastgd's full-batch
epoch (at the gradient suite's sizes) and its in-order Adam epoch with batch
32 (at the epoch suite's size) with 1 and 2 threads, in float64 and float32,
against the streaming-read floor (``extra_info["ratio_to_floor"]``; for the
in-order mini-batch epoch, which runs on one thread, the 1-thread floor) and
the full-batch epoch also against one fused gradient pass
(``extra_info["ratio_to_gradient_pass"]``).
"""

from __future__ import annotations

import importlib.util
import statistics
import time

import numba
import numpy as np
import pytest

import fastgd
from fastgd.kernels import full_loss_grad, get_loss, gradient_workspace
from fastgd.study.peers import make_peer
from fastgd.trainer import STATUS_OK, Trainer

from .conftest import bench_sizes, record_ratio_to_floor, record_throughput, regression_data, size_id

#: method -> (optimizer, batch_size, shuffle, size suite)
METHODS = {
    "sgd": (fastgd.SGD(lr=0.001), 1, False, "sgd_epoch"),
    "minibatch-sgd-b64": (fastgd.SGD(lr=0.05), 64, True, "epoch"),
    "adam-b32": (fastgd.Adam(lr=0.01), 32, True, "epoch"),
    "adam-b32-inorder": (fastgd.Adam(lr=0.01), 32, False, "epoch"),
    "adam-b256": (fastgd.Adam(lr=0.01), 256, True, "epoch"),
    "batch": (fastgd.SGD(lr=0.1), None, False, "sgd_epoch"),
}
#: which implementations apply to which method
IMPLEMENTATIONS = {
    "sgd": ["fastgd", "sklearn", "numpy"],
    "minibatch-sgd-b64": ["fastgd", "numpy", "torch"],
    "adam-b32": ["fastgd", "numpy", "torch"],
    "adam-b32-inorder": ["fastgd", "numpy", "torch"],
    "adam-b256": ["fastgd", "numpy", "torch"],
    "batch": ["fastgd", "fastgd-gradient-pass", "numpy", "torch"],
}
CASES = [(method, impl) for method, impls in IMPLEMENTATIONS.items() for impl in impls]
#: slow peers get a single timed round (plus one warm-up round)
SLOW = {
    ("sgd", "numpy"),
    ("adam-b32", "torch"),
    ("adam-b32-inorder", "torch"),
    ("minibatch-sgd-b64", "torch"),
    ("adam-b256", "torch"),
}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "case" in metafunc.fixturenames:
        params, ids = [], []
        for method, impl in CASES:
            size = bench_sizes(metafunc.config, METHODS[method][3])[0]
            params.append((method, impl, size))
            ids.append(f"{method}-{impl}-{size_id(size)}")
        metafunc.parametrize("case", params, ids=ids)
    if "floor_case" in metafunc.fixturenames:
        cases = [
            (method, size) for method, spec in FLOOR_METHODS.items() for size in bench_sizes(metafunc.config, spec[2])
        ]
        metafunc.parametrize("floor_case", cases, ids=[f"{method}-{size_id(size)}" for method, size in cases])


def test_epoch(benchmark, case):
    method, implementation, (n_samples, n_features) = case
    optimizer, batch_size, shuffle, _ = METHODS[method]
    X, y, _ = regression_data(n_samples, n_features, "float64")
    benchmark.group = f"epoch[{method} {size_id((n_samples, n_features))}]"
    benchmark.extra_info["implementation"] = implementation.split("-")[0]
    benchmark.extra_info["method"] = method
    threads = numba.get_num_threads()
    rounds = 1 if (method, implementation) in SLOW else 3

    if implementation == "fastgd":
        trainer = Trainer(X, y, optimizer=optimizer, batch_size=batch_size, shuffle=shuffle, seed=0, epochs=1000)
        start_loss = trainer.objective()
        status = benchmark.pedantic(trainer.run_epoch, rounds=rounds + 2, iterations=1, warmup_rounds=1)
        assert status == STATUS_OK
        assert trainer.objective() < start_loss
    elif implementation == "fastgd-gradient-pass":
        grad_out = np.empty(n_features + 1)
        workspace = gradient_workspace(n_samples, n_features)
        loss, coef = get_loss("l2"), np.zeros(n_features)
        value = benchmark.pedantic(
            full_loss_grad, args=(X, y, coef, 0.0, loss, 1.0, grad_out, workspace), rounds=rounds + 2, warmup_rounds=1
        )
        assert value == pytest.approx(np.mean(y**2))
    else:
        module = {"numpy": "numpy", "sklearn": "sklearn", "torch": "torch"}[implementation]
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"{module} is not installed")
        peer = make_peer(
            implementation, X, y, loss="l2", delta=1.0, optimizer=optimizer, batch_size=batch_size,
            schedule=fastgd.Constant(), epochs=rounds + 1, seed=0, shuffle=shuffle,
        )  # fmt: skip
        epochs = iter(range(rounds + 1))

        def next_epoch():
            return (next(epochs),), {}

        benchmark.pedantic(peer.run_epoch, setup=next_epoch, rounds=rounds, iterations=1, warmup_rounds=1)
        coef, intercept = peer.parameters()
        assert fastgd.loss_value(X, y, coef, intercept) < np.mean(y**2)  # it trained (loss at coef = 0)
        threads = 2
    record_throughput(benchmark, X, threads)


#: method -> (optimizer, batch_size, size suite, threads of the floor it is held to (None: its own))
FLOOR_METHODS = {
    "batch": (fastgd.SGD(lr=0.1), None, "gradient", None),
    "adam-b32-inorder": (fastgd.Adam(lr=0.001), 32, "epoch", 1),
}


def gradient_pass_seconds(X, y, threads, repeats=7):
    """Median time of one fused L2 gradient pass over ``(X, y)`` with ``threads`` Numba threads."""
    n_samples, n_features = X.shape
    grad_out = np.empty(n_features + 1, X.dtype)
    workspace = gradient_workspace(n_samples, n_features, X.dtype)
    coef, cast = np.zeros(n_features, X.dtype), X.dtype.type
    saved = numba.get_num_threads()
    numba.set_num_threads(threads)
    try:
        times = []
        for _ in range(repeats + 1):
            start = time.perf_counter()
            full_loss_grad(X, y, coef, cast(0.0), get_loss("l2"), cast(1.0), grad_out, workspace)
            times.append(time.perf_counter() - start)
    finally:
        numba.set_num_threads(saved)
    return statistics.median(times[1:])


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("numba_threads", [1, 2], indirect=True, ids=["1thread", "2threads"])
def test_epoch_against_floor(benchmark, floor_case, numba_threads, dtype):
    method, (n_samples, n_features) = floor_case
    optimizer, batch_size, _, floor_threads = FLOOR_METHODS[method]
    X, y, _ = regression_data(n_samples, n_features, dtype)
    benchmark.group = f"epoch-vs-floor[{method} {size_id(X.shape)} {dtype}]"
    benchmark.extra_info["implementation"] = "fastgd"
    benchmark.extra_info["method"] = method
    trainer = Trainer(X, y, optimizer=optimizer, batch_size=batch_size, shuffle=False, seed=0, epochs=10**6)
    status = benchmark.pedantic(trainer.run_epoch, rounds=7, iterations=1, warmup_rounds=1)
    assert status == STATUS_OK
    record_throughput(benchmark, X, numba_threads)
    record_ratio_to_floor(benchmark, X, floor_threads or numba_threads)
    if method == "batch" and getattr(benchmark, "stats", None) is not None:
        benchmark.extra_info["ratio_to_gradient_pass"] = benchmark.stats.stats.median / gradient_pass_seconds(
            X, y, numba_threads
        )
