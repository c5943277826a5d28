"""Reductions over fixed row blocks: bit-identical results for any thread count."""

from __future__ import annotations

import numba
import numpy as np
import pytest

import fastgd
from fastgd.kernels import ROW_BLOCK


@pytest.fixture
def threads():
    saved = numba.get_num_threads()
    yield
    numba.set_num_threads(saved)


@pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2, reason="needs at least 2 Numba threads")
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("loss", ["l2", "l1", "huber"])
def test_full_gradient_identical_for_1_and_2_threads(threads, dtype, loss):
    rng = np.random.default_rng(7)
    n_samples = 7 * ROW_BLOCK + 123
    X = rng.standard_normal((n_samples, 13)).astype(dtype)
    y = rng.standard_normal(n_samples).astype(dtype)
    coef = rng.standard_normal(13).astype(dtype)
    results = []
    for n_threads in (1, 2):
        numba.set_num_threads(n_threads)
        value, grad, grad_b = fastgd.loss_and_grad(X, y, coef, 0.1, loss=loss)
        results.append((value, grad.tobytes(), grad_b, fastgd.loss_value(X, y, coef, 0.1, loss=loss)))
    assert results[0] == results[1]
