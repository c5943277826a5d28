"""The peers implement the same updates: NumPy against scikit-learn and PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

from fastgd.optim import SGD, Adagrad, Adam, AdamW, RMSprop
from fastgd.study.peers import backend_applies, make_peer, missing_peer_note


def _data(n=300, d=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = X @ rng.standard_normal(d) + 0.5 + 0.3 * rng.standard_normal(n)
    return X, y


def _train(backend, X, y, loss, optimizer, batch_size, epochs=3):
    peer = make_peer(backend, X, y, loss=loss, delta=1.0, optimizer=optimizer, batch_size=batch_size)
    for epoch in range(epochs):
        peer.prepare_epoch(np.random.default_rng(epoch).permutation(X.shape[0]))
        peer.run_epoch()
    return peer.parameters()


def _assert_same(a, b, atol=1e-10):
    np.testing.assert_allclose(a[0], b[0], rtol=0, atol=atol)
    assert a[1] == pytest.approx(b[1], abs=atol)


@pytest.mark.parametrize("loss", ["l2", "l1", "huber"])
def test_sklearn_sgd_matches_numpy_per_sample_sgd(loss):
    pytest.importorskip("sklearn")
    X, y = _data()
    _assert_same(_train("sklearn", X, y, loss, SGD(lr=0.01), 1), _train("numpy", X, y, loss, SGD(lr=0.01), 1))


@pytest.mark.parametrize(
    "optimizer",
    [
        SGD(lr=0.05),
        SGD(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.1),
        Adam(lr=0.05, amsgrad=True, weight_decay=0.1),
        AdamW(lr=0.05),
        RMSprop(lr=0.01, centered=True, momentum=0.5, weight_decay=0.1),
        Adagrad(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1),
    ],
    ids=lambda o: o.name,
)
@pytest.mark.parametrize("batch_size", [None, 32])
@pytest.mark.parametrize("loss", ["l2", "l1", "huber"])
def test_torch_optim_matches_numpy_rules(optimizer, batch_size, loss):
    pytest.importorskip("torch")
    X, y = _data()
    _assert_same(_train("torch", X, y, loss, optimizer, batch_size), _train("numpy", X, y, loss, optimizer, batch_size))


def test_numpy_per_sample_generic_rule_matches_plain_fast_path():
    X, y = _data(n=100)
    plain = _train("numpy", X, y, "l2", SGD(lr=0.01), 1)
    generic = _train("numpy", X, y, "l2", SGD(lr=0.01, dampening=0.5), 1)  # no momentum: same rule, generic loop
    _assert_same(plain, generic, atol=1e-12)


def test_numpy_keeps_float32():
    X, y = _data()
    coef, _ = _train("numpy", X.astype(np.float32), y.astype(np.float32), "l2", Adam(lr=0.01), 16)
    assert coef.dtype == np.float32


def test_applicability():
    plain, heavy = SGD(lr=0.01), SGD(lr=0.01, momentum=0.9)
    assert backend_applies("sklearn", plain, 1)
    assert not backend_applies("sklearn", heavy, 1)
    assert not backend_applies("sklearn", plain, 32)
    assert not backend_applies("torch", plain, 1)
    assert backend_applies("torch", Adam(), 32) and backend_applies("torch", plain, None)
    assert all(backend_applies(b, heavy, 1) for b in ("fastgd", "numpy"))


def test_missing_peer_is_noted_not_faked(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "torch" else real(name, *a))
    note = missing_peer_note("torch")
    assert note is not None and "torch peer skipped" in note and "not installed" in note
    assert missing_peer_note("numpy") is None and missing_peer_note("fastgd") is None


@pytest.mark.parametrize("loss", ["l2", "l1", "huber"])
@pytest.mark.parametrize(
    ("method", "backends"),
    [
        ("sgd", ("numpy", "sklearn")),
        ("minibatch", ("numpy", "torch")),
        ("adam", ("numpy", "torch")),
        ("batch", ("numpy", "torch")),
    ],
)
def test_peers_follow_fastgd_step_for_step(loss, method, backends):
    """Same update rule, same batch order (epoch_order): same parameters as fastgd.fit."""
    import fastgd
    from fastgd.study.measure import epoch_order

    X, y, _, _ = fastgd.make_regression(400, 4, outliers=0.05, seed=1)
    optimizer, batch_size = fastgd.method(method, lr=0.01)
    reference = fastgd.fit(X, y, loss=loss, optimizer=optimizer, batch_size=batch_size, epochs=2, seed=3)
    for backend in backends:
        pytest.importorskip({"numpy": "numpy", "sklearn": "sklearn", "torch": "torch"}[backend])
        peer = make_peer(backend, X, y, loss=loss, delta=1.0, optimizer=optimizer, batch_size=batch_size)
        for epoch in (1, 2):
            peer.prepare_epoch(None if batch_size is None else epoch_order(400, 3, epoch, True))
            peer.run_epoch()
        _assert_same(peer.parameters(), (reference.coef, reference.intercept), atol=1e-12)
