"""Tests for :func:`fastgd.data.make_regression` (its random numbers: ``tests/test_rng.py``)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fastgd.data import (
    ROWS_PER_BLOCK,
    Dataset,
    _build_spec,
    _fill_rows,
    _generate_rows,
    make_regression,
)

DTYPES = [np.float64, np.float32]


@pytest.fixture
def restore_threads():
    saved = numba.get_num_threads()
    yield
    numba.set_num_threads(saved)


# --------------------------------------------------------------------------
# make_regression: structure and reproducibility
# --------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
def test_shapes_dtypes_contiguity(dtype):
    data = make_regression(50, 4, dtype=dtype, bias=1.5, seed=2)
    assert isinstance(data, Dataset)
    X, y, coef, intercept = data
    assert X.shape == (50, 4) and y.shape == (50,) and coef.shape == (4,)
    assert X.dtype == y.dtype == coef.dtype == np.dtype(dtype)
    assert X.flags.c_contiguous and y.flags.c_contiguous
    assert intercept == 1.5
    assert np.isfinite(X).all() and np.isfinite(y).all() and np.isfinite(coef).all()


@pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2, reason="needs at least 2 Numba threads")
@pytest.mark.parametrize("dtype", DTYPES)
def test_identical_for_1_and_2_threads(restore_threads, dtype):
    kwargs = {"correlation": 0.6, "outliers": 0.2, "noise": 0.3, "bias": -1.0, "dtype": dtype, "seed": 11}
    n_samples = 5 * ROWS_PER_BLOCK + 37
    results = []
    for n_threads in (1, 2):
        numba.set_num_threads(n_threads)
        X, y, coef, _ = make_regression(n_samples, 9, **kwargs)
        results.append((X.tobytes(), y.tobytes(), coef.tobytes()))
    assert results[0] == results[1]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("chunk_rows", [1, 7, 300, None])
def test_in_memory_equals_on_disk(tmp_path, dtype, chunk_rows):
    kwargs = {"correlation": -0.4, "outliers": 0.1, "noise": 0.5, "bias": 0.25, "dtype": dtype, "seed": 5}
    X, y, coef, intercept = make_regression(1001, 6, **kwargs)
    path = tmp_path / "train.npy"
    disk = make_regression(1001, 6, path=path, chunk_rows=chunk_rows, **kwargs)
    assert isinstance(disk.X, np.memmap) and isinstance(disk.y, np.memmap)
    assert not disk.X.flags.writeable
    assert disk.X.dtype == np.dtype(dtype) and disk.X.flags.c_contiguous
    np.testing.assert_array_equal(disk.X, X)
    np.testing.assert_array_equal(disk.y, y)
    np.testing.assert_array_equal(disk.coef, coef)
    assert disk.intercept == intercept
    assert sorted(p.name for p in tmp_path.iterdir()) == ["train.npy", "train_y.npy"]  # no temporaries left
    np.testing.assert_array_equal(np.load(tmp_path / "train_y.npy"), y)


def test_path_overwrites_and_accepts_str(tmp_path):
    path = str(tmp_path / "d.npy")
    make_regression(20, 3, seed=1, path=path)
    second = make_regression(30, 2, seed=2, path=path, chunk_rows=4)
    np.testing.assert_array_equal(np.load(path), make_regression(30, 2, seed=2).X)
    assert second.X.shape == (30, 2)


def test_failed_write_leaves_no_temporaries(tmp_path, monkeypatch):
    import fastgd.data as data_module

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(data_module, "_generate_rows", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        make_regression(10, 2, path=tmp_path / "x.npy")
    assert list(tmp_path.iterdir()) == []


def test_seed_controls_all_arrays():
    first, again, other = (make_regression(300, 5, outliers=0.1, seed=s) for s in (3, 3, 4))
    for a, b, c in zip(first[:3], again[:3], other[:3], strict=True):
        np.testing.assert_array_equal(a, b)
        assert not np.array_equal(a, c)


def test_row_blocks_generate_independently():
    spec = _build_spec(1000, 7, 0.5, 0.3, 10.0, 0.5, 1.0, np.float32, 9)
    X, y, _, _ = make_regression(1000, 7, noise=0.5, outliers=0.3, correlation=0.5, bias=1.0, dtype=np.float32, seed=9)
    for start, stop in [(0, 1), (999, 1000), (13, 14), (250, 700), (5, 1000)]:
        X_block = np.empty((stop - start, 7), np.float32)
        y_block = np.empty(stop - start, np.float32)
        _generate_rows(spec, start, X_block, y_block)
        np.testing.assert_array_equal(X_block, X[start:stop])
        np.testing.assert_array_equal(y_block, y[start:stop])


def test_coef_prefix_and_rows_depend_only_on_row_index():
    small = make_regression(3, 4, seed=8)
    large = make_regression(50, 6, seed=8)
    np.testing.assert_array_equal(small.coef, large.coef[:4])  # coef[j] is counter j of its own stream
    np.testing.assert_array_equal(make_regression(50, 4, seed=8).X[:3], small.X)


def test_fill_kernel_holds_one_signature_per_dtype(tmp_path):
    for repeat in range(2):
        for dtype in (np.float32, np.float64, "float32", np.dtype("float64")):
            make_regression(
                np.int32(10),
                np.int64(3),
                noise=np.float32(0.5),
                outliers=1,
                correlation=np.float64(0.1),
                bias=2,
                dtype=dtype,
                seed=np.uint64(2**63 - 1 - repeat),  # a uint64 seed at the top of the range
            )
            make_regression(12, 3, dtype=dtype, path=tmp_path / "k.npy", chunk_rows=5, outlier_scale=np.int16(3))
    dtypes = [signature[0].dtype for signature in _fill_rows.signatures]
    assert sorted(map(str, dtypes)) == ["float32", "float64"], _fill_rows.signatures


# --------------------------------------------------------------------------
# Distributions
# --------------------------------------------------------------------------


def assert_standard_normal(sample: np.ndarray) -> None:
    stats = pytest.importorskip("scipy.stats")
    sample = np.asarray(sample, dtype=np.float64).ravel()
    n = sample.size
    assert abs(sample.mean()) < 5 / math.sqrt(n)
    assert abs(sample.var() - 1) < 5 * math.sqrt(2 / n)
    assert abs(stats.kurtosis(sample)) < 5 * math.sqrt(24 / n)  # excess kurtosis
    assert abs(stats.skew(sample)) < 5 * math.sqrt(6 / n)
    assert stats.kstest(sample, "norm").pvalue > 1e-3
    expected_beyond_3 = 2 * stats.norm.sf(3) * n
    assert abs((np.abs(sample) > 3).sum() - expected_beyond_3) < 5 * math.sqrt(expected_beyond_3)


@pytest.mark.parametrize("dtype", DTYPES)
def test_features_are_standard_normal(dtype):
    X, _, _, _ = make_regression(40_000, 10, dtype=dtype, seed=21)
    assert_standard_normal(X)
    for j in (0, 9):
        assert_standard_normal(X[:, j])
    assert np.abs(np.corrcoef(X.T) - np.eye(10)).max() < 0.03


def test_coef_is_standard_normal():
    assert_standard_normal(make_regression(1, 50_000, seed=4).coef)


@pytest.mark.parametrize("rho", [0.8, -0.5])
def test_correlation_is_ar1(rho):
    X, _, _, _ = make_regression(50_000, 6, correlation=rho, seed=6)
    lags = np.abs(np.subtract.outer(np.arange(6), np.arange(6)))
    np.testing.assert_allclose(np.cov(X.T), rho**lags, atol=0.03)
    for j in range(6):
        assert_standard_normal(X[:, j])


def assert_y_is_linear_model(X: np.ndarray, y: np.ndarray, coef: np.ndarray, intercept: float) -> None:
    """``y == X @ coef + intercept`` (float64 from the rounded X, coef), then rounded to ``y.dtype``.

    Allowed: one correct rounding to ``y.dtype`` plus float64 summation-order error.
    """
    X64, coef64 = X.astype(np.float64), coef.astype(np.float64)
    exact = X64 @ coef64 + intercept
    summation_error = 4 * X.shape[1] * np.finfo(np.float64).eps * (np.abs(X64) @ np.abs(coef64) + abs(intercept))
    rounding = 0.5 * np.spacing(np.abs(exact).astype(y.dtype)).astype(np.float64)
    assert np.all(np.abs(y - exact) <= rounding + summation_error)


@pytest.mark.parametrize("dtype", DTYPES)
def test_y_is_exact_without_noise(dtype):
    X, y, coef, intercept = make_regression(500, 8, noise=0.0, bias=2.5, correlation=0.3, dtype=dtype, seed=1)
    assert_y_is_linear_model(X, y, coef, intercept)


def test_noise_is_gaussian_with_given_scale():
    X, y, coef, intercept = make_regression(40_000, 5, noise=0.5, bias=-3.0, seed=12)
    residual = y - X @ coef - intercept
    assert_standard_normal(residual / 0.5)


def test_outliers_fraction_and_size():
    n_samples, fraction = 40_000, 0.1
    X, y, coef, intercept = make_regression(n_samples, 3, noise=0.0, outliers=fraction, outlier_scale=7.0, seed=13)
    residual = y - X @ coef - intercept
    flagged = np.abs(residual) > 1e-9
    assert abs(flagged.mean() - fraction) < 5 * math.sqrt(fraction * (1 - fraction) / n_samples)
    assert_standard_normal(residual[flagged] / 7.0)
    # The gross error is added on top of the regular noise, to the same rows with the same w_i.
    noisy = make_regression(n_samples, 3, noise=1.0, outliers=fraction, outlier_scale=7.0, seed=13)
    clean = make_regression(n_samples, 3, noise=1.0, outliers=0.0, seed=13)
    np.testing.assert_array_equal(noisy.X, X)
    np.testing.assert_array_equal((noisy.y - clean.y) != 0, flagged)
    np.testing.assert_allclose(noisy.y - clean.y, residual, rtol=1e-12, atol=1e-12)
    # outliers=1 flags every row.
    everyone = make_regression(200, 3, noise=0.0, outliers=1.0, seed=13)
    assert (np.abs(everyone.y - everyone.X @ everyone.coef) > 1e-9).all()


# --------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"n_samples": 0}, "n_samples"),
        ({"n_samples": 2.0}, "n_samples"),
        ({"n_samples": True}, "n_samples"),
        ({"n_samples": "10"}, "n_samples"),
        ({"n_features": 0}, "n_features"),
        ({"n_features": -3}, "n_features"),
        ({"outliers": -0.01}, "outliers"),
        ({"outliers": 1.01}, "outliers"),
        ({"outliers": float("nan")}, "outliers"),
        ({"correlation": 1.0}, "correlation"),
        ({"correlation": -1.0}, "correlation"),
        ({"correlation": float("nan")}, "correlation"),
        ({"dtype": np.int32}, "dtype"),
        ({"dtype": np.float16}, "dtype"),
        ({"dtype": "not a dtype"}, "dtype"),
        ({"dtype": None}, "dtype"),
        ({"noise": -1.0}, "noise"),
        ({"noise": float("inf")}, "noise"),
        ({"noise": float("nan")}, "noise"),
        ({"outlier_scale": -1.0}, "outlier_scale"),
        ({"bias": float("inf")}, "bias"),
        ({"seed": -1}, "seed"),
        ({"seed": 2**64}, "seed"),
        ({"seed": 1.0}, "seed"),
        ({"path": "data.csv"}, "path"),
        ({"path": "data.npy.bak"}, "path"),
        ({"path": 123}, "path"),
        ({"chunk_rows": 0}, "chunk_rows"),
        ({"n_samples": 2**62}, "n_samples"),
    ],
)
def test_bad_arguments_raise_value_error(kwargs, name):
    arguments = {"n_samples": 10, "n_features": 3} | kwargs
    with pytest.raises(ValueError, match=name):
        make_regression(**arguments)


# --------------------------------------------------------------------------
# Memory bound of the on-disk path (fresh process)
# --------------------------------------------------------------------------

MEMORY_SCRIPT = textwrap.dedent(
    """
    import json, os, resource, sys
    from fastgd.data import make_regression

    directory = sys.argv[1]
    make_regression(100, 100, path=os.path.join(directory, "warm.npy"), chunk_rows=10)  # load/compile
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    X, y, _, _ = make_regression(250_000, 100, path=os.path.join(directory, "big.npy"), chunk_rows=2_000)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"growth": after - before, "size": os.path.getsize(X.filename), "shape": list(X.shape),
                      "last": float(y[-1])}))
    """
)


def test_on_disk_peak_memory_is_bounded_by_a_chunk(tmp_path):
    out = subprocess.run(
        [sys.executable, "-c", MEMORY_SCRIPT, str(tmp_path)], capture_output=True, text=True, check=True, timeout=300
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["shape"] == [250_000, 100]
    assert result["size"] > 200e6
    assert result["growth"] < 40e6, result  # a 1.6 MB chunk buffer, not the 200 MB file
    assert math.isfinite(result["last"])


# --------------------------------------------------------------------------
# Property-based: small shapes, including single rows and single features
# --------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(
    n_samples=st.integers(1, 40),
    n_features=st.integers(1, 6),
    dtype=st.sampled_from(DTYPES),
    correlation=st.floats(-0.95, 0.95),
    outliers=st.floats(0.0, 1.0),
    seed=st.integers(0, 2**63 - 1),
    split=st.integers(0, 40),
    chunk_rows=st.integers(1, 50),
)
def test_small_shapes_property(n_samples, n_features, dtype, correlation, outliers, seed, split, chunk_rows):
    kwargs = {"correlation": correlation, "outliers": outliers, "dtype": dtype, "seed": seed, "noise": 0.0}
    X, y, coef, intercept = make_regression(n_samples, n_features, **kwargs)
    assert X.shape == (n_samples, n_features) and y.shape == (n_samples,) and coef.shape == (n_features,)
    assert X.dtype == y.dtype == coef.dtype == np.dtype(dtype) and X.flags.c_contiguous
    assert np.isfinite(X).all() and np.isfinite(y).all()
    # Rows split..n generated on their own equal the tail of the full array.
    split = min(split, n_samples - 1)
    again = make_regression(n_samples, n_features, **kwargs)
    np.testing.assert_array_equal(again.X, X)
    np.testing.assert_array_equal(again.y, y)
    spec = _build_spec(n_samples, n_features, 0.0, outliers, 10.0, correlation, 0.0, dtype, seed)
    X_tail, y_tail = np.empty_like(X[split:]), np.empty_like(y[split:])
    _generate_rows(spec, split, X_tail, y_tail)
    np.testing.assert_array_equal(X_tail, X[split:])
    np.testing.assert_array_equal(y_tail, y[split:])
    with tempfile.TemporaryDirectory() as directory:
        disk = make_regression(n_samples, n_features, path=Path(directory) / "p.npy", chunk_rows=chunk_rows, **kwargs)
        np.testing.assert_array_equal(disk.X, X)
        np.testing.assert_array_equal(disk.y, y)
        del disk
    if outliers == 0.0:
        assert_y_is_linear_model(X, y, coef, intercept)
