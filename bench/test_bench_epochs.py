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
"""

from __future__ import annotations

import importlib.util

import numba
import numpy as np
import pytest

import fastgd
from fastgd.kernels import full_loss_grad, get_loss, gradient_workspace
from fastgd.study.peers import make_peer
from fastgd.trainer import STATUS_OK, Trainer

from .conftest import bench_sizes, record_throughput, regression_data, size_id

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
