"""The peers run the same updates as fastgd: each peer against fastgd.fit on the same rows in the same order."""

from __future__ import annotations

import numpy as np
import pytest

import fastgd
from fastgd.optim import SGD, Adagrad, Adam, AdamW, RMSprop
from fastgd.schedules import Constant, CosineAnnealing, InverseScaling
from fastgd.study.cases import backend_applies, missing_backend_note
from fastgd.study.peers import make_peer

CONSTANT = Constant()


def _data(n=300, d=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = X @ rng.standard_normal(d) + 0.5 + 0.3 * rng.standard_normal(n)
    return X, y


def _peer(backend, X, y, loss, optimizer, batch_size, schedule=CONSTANT, epochs=3, shuffle=True):
    peer = make_peer(
        backend, X, y, loss=loss, delta=1.0, optimizer=optimizer, batch_size=batch_size, schedule=schedule,
        epochs=epochs, seed=5, shuffle=shuffle,
    )  # fmt: skip
    for epoch in range(epochs):
        peer.run_epoch(epoch)
    return peer.parameters()


def _fastgd(X, y, loss, optimizer, batch_size, schedule=CONSTANT, epochs=3, shuffle=True):
    result = fastgd.fit(
        X, y, loss=loss, optimizer=optimizer, batch_size=batch_size, lr_schedule=schedule, epochs=epochs, seed=5,
        shuffle=shuffle,
    )  # fmt: skip
    return result.coef, result.intercept


def _assert_same(a, b, atol=1e-10):
    np.testing.assert_allclose(a[0], b[0], rtol=0, atol=atol)
    assert a[1] == pytest.approx(b[1], abs=atol)


OPTIMIZERS = [
    SGD(lr=0.05),
    SGD(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.1),
    Adam(lr=0.05, amsgrad=True, weight_decay=0.1),
    AdamW(lr=0.05),
    RMSprop(lr=0.01, centered=True, momentum=0.5, weight_decay=0.1),
    Adagrad(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1),
]


@pytest.mark.parametrize("optimizer", [*OPTIMIZERS, SGD(lr=0.005, momentum=0.5)], ids=lambda o: o.name)
@pytest.mark.parametrize("batch_size", [None, 32, 1])
@pytest.mark.parametrize("loss", ["l2", "l1", "huber"])
def test_numpy_peer_equals_fastgd_on_the_same_rows(optimizer, batch_size, loss):
    if batch_size == 1:
        optimizer = type(optimizer)(**(vars(optimizer) | {"lr": optimizer.lr / 10}))  # per-sample steps: smaller
    X, y = _data()
    _assert_same(_peer("numpy", X, y, loss, optimizer, batch_size), _fastgd(X, y, loss, optimizer, batch_size))


@pytest.mark.parametrize("optimizer", OPTIMIZERS, ids=lambda o: o.name)
@pytest.mark.parametrize("batch_size", [None, 32])
@pytest.mark.parametrize("loss", ["l2", "l1", "huber"])
def test_torch_peer_equals_fastgd_on_the_same_rows(optimizer, batch_size, loss):
    pytest.importorskip("torch")
    X, y = _data()
    _assert_same(_peer("torch", X, y, loss, optimizer, batch_size), _fastgd(X, y, loss, optimizer, batch_size))


@pytest.mark.parametrize("schedule", [CosineAnnealing(), InverseScaling(power_t=0.5)], ids=lambda s: s.name)
@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_peer_schedules_equal_fastgd_schedules(backend, schedule):
    pytest.importorskip(backend)
    X, y = _data()
    optimizer = Adam(lr=0.05)
    _assert_same(
        _peer(backend, X, y, "l2", optimizer, 16, schedule, epochs=4), _fastgd(X, y, "l2", optimizer, 16, schedule, 4)
    )


@pytest.mark.parametrize("schedule", [Constant(), CosineAnnealing(), InverseScaling()], ids=lambda s: s.name)
@pytest.mark.parametrize("loss", ["l2", "l1", "huber"])
def test_sklearn_in_storage_order_equals_fastgd(loss, schedule):
    pytest.importorskip("sklearn")
    X, y = _data()
    optimizer = SGD(lr=0.01)
    peer = _peer("sklearn", X, y, loss, optimizer, 1, schedule, shuffle=False)
    _assert_same(peer, _fastgd(X, y, loss, optimizer, 1, schedule, shuffle=False))


def test_sklearn_shuffles_with_its_own_generator_every_epoch():
    pytest.importorskip("sklearn")
    X, y = _data()
    shuffled = _peer("sklearn", X, y, "l2", SGD(lr=0.01), 1)
    in_order = _peer("sklearn", X, y, "l2", SGD(lr=0.01), 1, shuffle=False)
    assert not np.allclose(shuffled[0], in_order[0], rtol=0, atol=1e-12)
    coef_star = np.linalg.lstsq(np.c_[X, np.ones(len(X))], y, rcond=None)[0][:-1]
    np.testing.assert_allclose(shuffled[0], coef_star, atol=0.05)


def test_numpy_keeps_float32():
    X, y = _data()
    coef, _ = _peer("numpy", X.astype(np.float32), y.astype(np.float32), "l2", Adam(lr=0.01), 16)
    assert coef.dtype == np.float32


def test_applicability():
    plain, heavy = SGD(lr=0.01), SGD(lr=0.01, momentum=0.9)
    assert backend_applies("sklearn", plain, 1, "invscaling")
    assert not backend_applies("sklearn", heavy, 1, "constant")
    assert not backend_applies("sklearn", plain, 32, "constant")
    assert not backend_applies("torch", plain, 1, "constant")
    assert backend_applies("torch", Adam(), 32, "cosine") and backend_applies("torch", plain, None, "constant")
    assert all(backend_applies(b, heavy, 1, "cosine") for b in ("fastgd", "numpy"))
    assert missing_backend_note("fastgd") is None
