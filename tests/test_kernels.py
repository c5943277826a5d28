"""Every loss/gradient kernel (``comp_*``) against the naive reference (``ref_*``)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fastgd import kernels
from fastgd.kernels import LOSSES, ROW_BLOCK

from .naive import ref_loss_and_grad, ref_pointwise, ref_predict

DTYPES = [np.float64, np.float32]
LOSS_NAMES = sorted(LOSSES)
KERNELS = {"l2": kernels.l2, "l1": kernels.l1, "huber": kernels.huber}
# float32 computes in float32 (loss accumulated in float64): compare loosely.
RTOL = {np.float64: 1e-10, np.float32: 2e-4}


def make_problem(n_samples: int, n_features: int, dtype: type, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features)).astype(dtype)
    y = rng.standard_normal(n_samples).astype(dtype)
    coef = rng.standard_normal(n_features).astype(dtype)
    intercept = dtype(rng.standard_normal())
    return X, y, coef, intercept


def assert_close(comp, ref, dtype, scale=1.0):
    np.testing.assert_allclose(comp, ref, rtol=RTOL[dtype], atol=RTOL[dtype] * scale)


@pytest.mark.parametrize("loss", LOSS_NAMES)
@pytest.mark.parametrize(
    "r", [0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 1.5, -1.5, 1e-300, -3.0, 1e10], ids=lambda v: f"r={v:g}"
)
def test_pointwise_loss_table(loss, r):
    for dtype in DTYPES:
        value, slope = KERNELS[loss](dtype(r), dtype(1.0))
        ref_value, ref_slope = ref_pointwise(loss, dtype(r), 1.0)
        np.testing.assert_allclose(value, ref_value, rtol=1e-6 if dtype is np.float32 else 1e-15)
        np.testing.assert_allclose(slope, ref_slope, rtol=1e-6 if dtype is np.float32 else 1e-15)


@pytest.mark.parametrize("loss", LOSS_NAMES)
def test_pointwise_loss_slope_keeps_the_dtype(loss):
    """value is float64 (accumulated in float64), slope stays in the residual's dtype."""
    kernel = KERNELS[loss]
    for dtype in DTYPES:
        kernel(dtype(0.5), dtype(1.0))
    returns = {sig.args[0].name: str(sig.return_type) for sig in kernel.nopython_signatures}
    assert returns["float32"] == "Tuple(float64, float32)"  # a tuple of two different types is never a UniTuple
    assert returns["float64"] == "UniTuple(float64 x 2)"


@pytest.mark.parametrize("delta", [0.5, 1.0, 2.0])
def test_huber_at_exactly_plus_minus_delta(delta):
    for r in (delta, -delta):
        value, slope = kernels.huber(r, delta)
        # Both branches agree at |r| == delta: 0.5*delta**2 and slope r.
        assert value == pytest.approx(0.5 * delta * delta)
        assert slope == r


def test_l1_sign_of_zero_is_zero():
    assert kernels.l1(0.0, 1.0) == (0.0, 0.0)
    assert kernels.l1(np.float32(-0.0), np.float32(1.0))[1] == 0.0


@pytest.mark.parametrize("loss", LOSS_NAMES)
def test_nan_residual_propagates(loss):
    assert kernels.pointwise(LOSSES[loss], 2.0, 1.0) == KERNELS[loss](2.0, 1.0)
    value, slope = KERNELS[loss](np.nan, 1.0)
    assert np.isnan(value) and np.isnan(slope)


shapes = st.tuples(st.integers(1, 40), st.integers(1, 9))


@settings(max_examples=25, deadline=None)
@given(shape=shapes, seed=st.integers(0, 2**16), loss=st.sampled_from(LOSS_NAMES), dtype=st.sampled_from(DTYPES))
def test_full_loss_grad_matches_reference(shape, seed, loss, dtype):
    X, y, coef, b = make_problem(*shape, dtype, seed)
    grad_out = np.empty(shape[1] + 1, dtype)
    workspace = kernels.gradient_workspace(*shape, dtype)
    comp_loss = kernels.full_loss_grad(X, y, coef, b, LOSSES[loss], dtype(1.0), grad_out, workspace)
    ref_loss, ref_grad, ref_grad_b = ref_loss_and_grad(X, y, coef, b, loss)
    assert grad_out.dtype == dtype
    assert_close(comp_loss, ref_loss, dtype)
    assert_close(grad_out[:-1], ref_grad, dtype, scale=np.abs(ref_grad).max() + 1)
    assert_close(grad_out[-1], ref_grad_b, dtype, scale=abs(ref_grad_b) + 1)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("loss", LOSS_NAMES)
def test_full_kernels_over_many_blocks(dtype, loss):
    n_samples = 3 * ROW_BLOCK + 17  # several blocks and a ragged last one
    X, y, coef, b = make_problem(n_samples, 7, dtype, seed=3)
    grad_out = np.empty(8, dtype)
    comp = kernels.full_loss_grad(
        X, y, coef, b, LOSSES[loss], dtype(0.8), grad_out, kernels.gradient_workspace(n_samples, 7, dtype)
    )
    ref_loss, ref_grad, ref_grad_b = ref_loss_and_grad(X, y, coef, b, loss, delta=0.8)
    assert_close(comp, ref_loss, dtype)
    assert_close(grad_out, np.append(ref_grad, ref_grad_b), dtype, scale=2.0)
    block_losses = np.empty(kernels.n_row_blocks(n_samples))
    assert_close(kernels.full_loss(X, y, coef, b, LOSSES[loss], dtype(0.8), block_losses), ref_loss, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("loss", LOSS_NAMES)
@pytest.mark.parametrize("n_features", [3, 31, 33, 65, 100])
def test_block_kernels_on_narrow_and_wide_rows(dtype, loss, n_features):
    """Both row widths of the block kernel (eight rows per step up to 256 bytes a row, else two), with remainders."""
    n_samples = ROW_BLOCK + 13  # a full block, then 13 rows: eight- or two-row steps and single rows
    X, y, coef, b = make_problem(n_samples, n_features, dtype, seed=n_features)
    grad_out = np.empty(n_features + 1, dtype)
    workspace = kernels.gradient_workspace(n_samples, n_features, dtype)
    comp = kernels.full_loss_grad(X, y, coef, b, LOSSES[loss], dtype(0.8), grad_out, workspace)
    ref_loss, ref_grad, ref_grad_b = ref_loss_and_grad(X, y, coef, b, loss, delta=0.8)
    scale = float(np.abs(ref_grad).max()) + 1
    assert_close(comp, ref_loss, dtype, scale=ref_loss)
    assert_close(grad_out, np.append(ref_grad, ref_grad_b), dtype, scale=scale)
    block_losses = np.empty(kernels.n_row_blocks(n_samples))
    full = kernels.full_loss(X, y, coef, b, LOSSES[loss], dtype(0.8), block_losses)
    assert_close(full, ref_loss, dtype, scale=ref_loss)
    for start, stop in ((0, 7), (5, 22), (3, 40)):  # slices shorter and longer than a step
        comp = kernels.slice_loss_grad(X, y, coef, b, LOSSES[loss], dtype(0.8), start, stop, grad_out)
        ref_loss, ref_grad, ref_grad_b = ref_loss_and_grad(X[start:stop], y[start:stop], coef, b, loss, delta=0.8)
        assert_close(comp, ref_loss, dtype, scale=ref_loss)
        assert_close(grad_out, np.append(ref_grad, ref_grad_b), dtype, scale=float(np.abs(ref_grad).max()) + 1)


@settings(max_examples=20, deadline=None)
@given(shape=shapes, seed=st.integers(0, 2**16), loss=st.sampled_from(LOSS_NAMES), dtype=st.sampled_from(DTYPES))
def test_rows_and_slice_loss_grad_match_reference(shape, seed, loss, dtype):
    n_samples, n_features = shape
    X, y, coef, b = make_problem(n_samples, n_features, dtype, seed)
    rng = np.random.default_rng(seed)
    rows = rng.choice(n_samples, size=rng.integers(1, n_samples + 1), replace=False).astype(np.int64)
    grad_out = np.full(n_features + 1, np.nan, dtype)  # stale content must be overwritten
    comp = kernels.rows_loss_grad(X, y, coef, b, LOSSES[loss], dtype(1.0), rows, grad_out)
    ref_loss, ref_grad, ref_grad_b = ref_loss_and_grad(X, y, coef, b, loss, rows=rows)
    assert_close(comp, ref_loss, dtype)
    assert_close(grad_out, np.append(ref_grad, ref_grad_b), dtype, scale=2.0)

    start = int(rng.integers(0, n_samples))
    stop = int(rng.integers(start + 1, n_samples + 1))
    grad_out[:] = np.nan
    comp = kernels.slice_loss_grad(X, y, coef, b, LOSSES[loss], dtype(1.0), start, stop, grad_out)
    ref_loss, ref_grad, ref_grad_b = ref_loss_and_grad(X, y, coef, b, loss, rows=np.arange(start, stop))
    assert_close(comp, ref_loss, dtype)
    assert_close(grad_out, np.append(ref_grad, ref_grad_b), dtype, scale=2.0)


@settings(max_examples=15, deadline=None)
@given(shape=shapes, seed=st.integers(0, 2**16), dtype=st.sampled_from(DTYPES))
def test_predict_into_matches_reference(shape, seed, dtype):
    X, _, coef, b = make_problem(*shape, dtype, seed)
    out = np.empty(shape[0], dtype)
    kernels.predict_into(X, coef, b, out)
    assert_close(out, ref_predict(X, coef, b), dtype, scale=10.0)


def test_block_loss_grad_is_a_sum_not_a_mean():
    X, y, coef, b = make_problem(10, 3, np.float64)
    grad_out = np.empty(4)
    total = kernels.block_loss_grad(X, y, coef, b, kernels.l2, 1.0, 2, 7, grad_out)
    ref_loss, ref_grad, ref_grad_b = ref_loss_and_grad(X, y, coef, b, "l2", rows=np.arange(2, 7))
    np.testing.assert_allclose(total, 5 * ref_loss, rtol=1e-12)
    np.testing.assert_allclose(grad_out, 5 * np.append(ref_grad, ref_grad_b), rtol=1e-12)
