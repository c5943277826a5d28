"""The public kernels are usable from a user's own ``@njit`` code (numba-stats style)."""

from __future__ import annotations

import warnings

import numba
import numpy as np
import pytest

from fastgd import kernels

from .naive import ref_loss_and_grad


@numba.njit
def user_full_gradient(X, y, coef, intercept):
    grad_out = np.empty(X.shape[1] + 1, X.dtype)
    workspace = (
        np.empty((kernels.n_row_blocks(X.shape[0]), X.shape[1] + 1), X.dtype),
        np.empty(kernels.n_row_blocks(X.shape[0]), np.float64),
    )
    value = kernels.full_loss_grad(X, y, coef, intercept, kernels.HuberLoss(), 1.0, grad_out, workspace)
    return value, grad_out


@numba.njit
def user_minibatch_epoch(X, y, coef, lr, batch_size):
    """A user's own SGD epoch over in-order mini-batches, using fastgd's kernels."""
    n_samples, n_features = X.shape
    grad_out = np.empty(n_features + 1)
    intercept = 0.0
    for start in range(0, n_samples, batch_size):
        stop = min(start + batch_size, n_samples)
        kernels.slice_loss_grad(X, y, coef, intercept, kernels.L2Loss(), 1.0, start, stop, grad_out)
        for j in range(n_features):
            coef[j] -= lr * grad_out[j]
        intercept -= lr * grad_out[n_features]
    return intercept


@numba.njit(parallel=True)
def user_parallel_losses(X, y, coefs):
    """Evaluate many candidate coefficient vectors in parallel with the serial kernels."""
    out = np.empty(coefs.shape[0])
    for k in numba.prange(coefs.shape[0]):
        grad = np.empty(X.shape[1] + 1)
        rows = np.arange(X.shape[0])
        out[k] = kernels.rows_loss_grad(X, y, coefs[k], 0.0, kernels.L1Loss(), 1.0, rows, grad)
    return out


@numba.njit(parallel=True)
def user_parallel_predict(X, coef):
    out = np.empty(X.shape[0])
    kernels.predict_into(X, coef, 0.5, out)
    total = 0.0
    for i in numba.prange(X.shape[0]):
        total += out[i]
    return out, total


@pytest.fixture
def data():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((300, 5))
    y = X @ np.arange(5.0) + 0.1 * rng.standard_normal(300)
    return X, y


def test_full_loss_grad_from_user_njit(data):
    X, y = data
    coef = np.full(5, 0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value, grad = user_full_gradient(X, y, coef, 0.2)
    ref_value, ref_grad, ref_grad_b = ref_loss_and_grad(X, y, coef, 0.2, "huber")
    assert value == pytest.approx(ref_value, rel=1e-12)
    np.testing.assert_allclose(grad, np.append(ref_grad, ref_grad_b), rtol=1e-11)


def test_slice_loss_grad_drives_a_user_training_loop(data):
    X, y = data
    coef = np.zeros(5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(30):
            intercept = user_minibatch_epoch(X, y, coef, 0.05, 16)
    np.testing.assert_allclose(coef, np.arange(5.0), atol=0.05)
    assert abs(intercept) < 0.05


def test_kernels_from_user_parallel_njit(data):
    X, y = data
    coefs = np.stack([np.zeros(5), np.arange(5.0)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        losses = user_parallel_losses(X, y, coefs)
        pred, total = user_parallel_predict(X, np.arange(5.0))
    assert losses[0] == pytest.approx(np.mean(np.abs(y)), rel=1e-12)
    assert losses[1] == pytest.approx(np.mean(np.abs(X @ np.arange(5.0) - y)), rel=1e-12)
    np.testing.assert_allclose(pred, X @ np.arange(5.0) + 0.5, rtol=1e-12)
    assert total == pytest.approx(pred.sum(), rel=1e-12)


@numba.njit
def log_cosh(r, delta):
    """A user-defined loss kernel with the registry's signature."""
    return np.log(np.cosh(np.float64(r))), np.tanh(r)


def test_user_defined_loss_kernel_in_the_generic_loop(data):
    X, y = data
    coef = np.full(5, 0.3)
    grad = np.empty(6)
    value = kernels.full_loss_grad(X, y, coef, 0.0, log_cosh, 1.0, grad, kernels.gradient_workspace(300, 5))
    r = X @ coef - y
    assert value == pytest.approx(np.mean(np.log(np.cosh(r))), rel=1e-12)
    np.testing.assert_allclose(grad[:-1], X.T @ np.tanh(r) / 300, rtol=1e-11)
