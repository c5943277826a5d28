r"""Synthetic linear-regression data, reproducible and generated in parallel.

:func:`make_regression` draws ``X``, ``y`` and the true coefficients from a
*counter-based* generator (see :mod:`fastgd._rng`): every random number is a
pure function of ``(seed, counter)``, so any block of rows can be generated on
its own, by any thread, and the arrays are bit-identical whatever the number
of Numba threads and whether they are built in memory or streamed to disk.

Scheme
------
Two keys are derived from ``seed``: ``data_key = stream_key(seed, 0)`` and
``coef_key = stream_key(seed, 1)`` (SplitMix64 outputs 1 and 2 of ``seed``).
Row ``i`` owns the ``n_features + 3`` counters
``c = i * (n_features + 3) + slot``, all drawn with ``data_key``:

=====================  ==================================================
slot                   use
=====================  ==================================================
``0 .. d-1``           ``z_ij``, standard normals for the features
``d``                  ``e_i``, standard normal noise
``d + 1``              ``w_i``, standard normal gross error (outlier size)
``d + 2``              ``v_i``, uniform on ``[0, 1)`` (outlier decision)
=====================  ==================================================

``coef[j]`` is the standard normal of counter ``j`` under ``coef_key``.
Normals are exact inverse-CDF transforms (AS 241) of open 53-bit uniforms.
Then, with ``rho = correlation``::

    x_i0 = z_i0
    x_ij = rho * x_i(j-1) + sqrt(1 - rho**2) * z_ij     (float64, then rounded)
    y_i  = sum_j X[i, j] * coef[j] + bias + noise * e_i
           + (outlier_scale * w_i  if v_i < outliers else 0)

``X`` holds ``x_ij`` rounded to ``dtype`` and the sum uses those rounded values
and the rounded ``coef`` in float64; ``y_i`` is rounded to ``dtype`` last.
So the features have unit variance and correlation ``rho**|j - k|`` (AR(1)),
and each row is independently an outlier with probability ``outliers``.

One compiled kernel, :func:`_fill_rows`, fills rows ``[row0, row0 + m)`` into
caller-provided buffers; the in-memory path calls it once on the whole output,
the on-disk path once per reused chunk buffer.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any, NamedTuple

import numba
import numpy as np
from numpy.typing import DTypeLike

from ._atomic import atomic_path
from ._jit import jit
from ._rng import (
    counter_bits,
    fill_standard_normal,
    normal_workspace,
    stream_key,
    uniform01,
)
from ._validation import check_finite_scalar, check_int, check_seed

__all__ = ["Dataset", "make_regression"]

#: Rows per parallel work item in :func:`_fill_rows`.  Values never depend on
#: it (every row is generated from its own counters).
ROWS_PER_BLOCK = 256

#: Target size of one chunk buffer when writing to disk.
CHUNK_BYTES = 64 * 2**20

#: Random numbers per row: features, noise, outlier size, outlier decision.
_EXTRA_SLOTS = 3

_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


class Dataset(NamedTuple):
    """Result of :func:`make_regression`."""

    #: Features, ``(n_samples, n_features)``, C-contiguous (memory-mapped with ``path``).
    X: np.ndarray
    #: Targets, ``(n_samples,)`` (memory-mapped with ``path``).
    y: np.ndarray
    #: True coefficients, ``(n_features,)``, in memory.
    coef: np.ndarray
    #: True intercept (the ``bias`` argument).
    intercept: float


class _RowModel(NamedTuple):
    """The float64 parameters of how a row is drawn (see the module docs), passed to the kernels as one argument."""

    rho: float
    noise: float
    outliers: float
    outlier_scale: float
    bias: float


@jit()
def _fill_row_block(X, y, coef64, key, row0, start, stop, model):  # type: ignore[no-untyped-def]
    """Fill buffer rows ``start:stop`` (global rows ``row0 + start ...``); see module docs."""
    rho, noise, outliers, outlier_scale, bias = model
    n_features = X.shape[1]
    n_slots = np.uint64(n_features + _EXTRA_SLOTS)
    innovation = math.sqrt(1.0 - rho * rho)
    normals = np.empty(n_features + 2)  # z_i0 .. z_i(d-1), e_i, w_i
    tail_index = np.empty(n_features + 2, dtype=np.int64)
    tail_value = np.empty(n_features + 2)
    for i in range(start, stop):
        counter0 = np.uint64(row0 + i) * n_slots
        fill_standard_normal(key, counter0, normals, tail_index, tail_value)
        if rho != 0.0:  # AR(1) in place, in float64
            for j in range(1, n_features):
                normals[j] = rho * normals[j - 1] + innovation * normals[j]
        for j in range(n_features):
            X[i, j] = normals[j]
        # A separate loop that only reads: fused with the stores above, LLVM
        # guards the vectorised sum with a runtime overlap check between X and
        # coef64 and falls back to a scalar sum (a different rounding) when
        # the buffers happen to lie within a few hundred bytes of each other,
        # which made y depend on heap addresses.
        dot = 0.0
        for j in range(n_features):
            dot += np.float64(X[i, j]) * coef64[j]
        value = dot + bias + noise * normals[n_features]
        if uniform01(counter_bits(key, counter0 + np.uint64(n_features + 2))) < outliers:
            value += outlier_scale * normals[n_features + 1]
        y[i] = value


@jit(parallel=True)
def _fill_rows(X, y, coef64, key, row0, model):  # type: ignore[no-untyped-def]
    """Fill ``X`` (``(m, d)``) and ``y`` (``(m,)``) with global rows ``row0 .. row0 + m - 1``.

    Parameters
    ----------
    X : ndarray, shape (m, d), float32 or float64, C-contiguous
        **Overwritten** with the features.
    y : ndarray, shape (m,), same dtype
        **Overwritten** with the targets.
    coef64 : ndarray, shape (d,), float64
        The true coefficients, already rounded to ``X.dtype``.
    key : uint64
        ``data_key`` of the seed.
    row0 : int64
        Global index of the first row.
    model : _RowModel
        ``(rho, noise, outliers, outlier_scale, bias)`` as float64, as in
        :func:`make_regression` (``rho`` is ``correlation``).

    Notes
    -----
    Parallel over blocks of :data:`ROWS_PER_BLOCK` rows.  Each row depends only
    on its global index, so the output does not depend on the thread count or
    on how the rows are split into calls.
    """
    n_rows = X.shape[0]
    n_blocks = (n_rows + ROWS_PER_BLOCK - 1) // ROWS_PER_BLOCK
    for b in numba.prange(n_blocks):
        start = b * ROWS_PER_BLOCK
        stop = min(start + ROWS_PER_BLOCK, n_rows)
        _fill_row_block(X, y, coef64, key, row0, start, stop, model)


class _Spec(NamedTuple):
    """Validated arguments of :func:`make_regression`, plus the derived key and ``coef``."""

    n_samples: int
    n_features: int
    dtype: np.dtype[Any]
    data_key: np.uint64
    coef: np.ndarray
    rho: float
    noise: float
    outliers: float
    outlier_scale: float
    bias: float

    @property
    def row_model(self) -> _RowModel:
        """The kernels' bundle of the row parameters, as float64."""
        return _RowModel(
            float(self.rho), float(self.noise), float(self.outliers), float(self.outlier_scale), float(self.bias)
        )


def _generate_rows(spec: _Spec, row0: int, X_out: np.ndarray, y_out: np.ndarray) -> None:
    """Fill ``X_out``/``y_out`` with global rows ``row0 .. row0 + len(y_out) - 1``.

    The buffers must be C-contiguous arrays of ``spec.dtype`` with
    ``spec.n_features`` columns.  Both :func:`make_regression` paths go through
    here, so they run the same compiled kernel with the same argument types.
    """
    _fill_rows(
        X_out,
        y_out,
        spec.coef.astype(np.float64),
        spec.data_key,
        np.int64(row0),
        spec.row_model,
    )


def _build_spec(
    n_samples: Any,
    n_features: Any,
    noise: Any,
    outliers: Any,
    outlier_scale: Any,
    correlation: Any,
    bias: Any,
    dtype: Any,
    seed: Any,
) -> _Spec:
    n_samples = check_int(n_samples, "n_samples", 1)
    n_features = check_int(n_features, "n_features", 1)
    if n_samples * (n_features + _EXTRA_SLOTS) >= 2**63:
        raise ValueError("n_samples * (n_features + 3) must be below 2**63 (counter space)")
    noise = check_finite_scalar(noise, "noise")
    if noise < 0:
        raise ValueError(f"noise must be >= 0, got {noise!r}")
    outliers = check_finite_scalar(outliers, "outliers")
    if not 0.0 <= outliers <= 1.0:
        raise ValueError(f"outliers must be in [0, 1], got {outliers!r}")
    outlier_scale = check_finite_scalar(outlier_scale, "outlier_scale")
    if outlier_scale < 0:
        raise ValueError(f"outlier_scale must be >= 0, got {outlier_scale!r}")
    correlation = check_finite_scalar(correlation, "correlation")
    if not -1.0 < correlation < 1.0:
        raise ValueError(f"correlation must be in (-1, 1), got {correlation!r}")
    bias = check_finite_scalar(bias, "bias")
    try:
        np_dtype = np.dtype(dtype) if dtype is not None else None
    except TypeError:
        np_dtype = None
    if np_dtype is None or np_dtype not in _DTYPES:
        raise ValueError(f"dtype must be float32 or float64, got {dtype!r}")
    seed = check_seed(seed, "seed")
    coef64 = np.empty(n_features)
    fill_standard_normal(stream_key(int(seed), 1), np.uint64(0), coef64, *normal_workspace(n_features))
    return _Spec(
        n_samples=n_samples,
        n_features=n_features,
        dtype=np_dtype,
        data_key=stream_key(int(seed), 0),
        coef=coef64.astype(np_dtype),
        rho=correlation,
        noise=noise,
        outliers=outliers,
        outlier_scale=outlier_scale,
        bias=bias,
    )


def _target_path(path: Any) -> tuple[Path, Path]:
    """``(x_path, y_path)`` for ``path``; ``y`` goes to ``<stem>_y.npy``.

    Checked before anything is written: the directory must exist and neither
    target may be a directory (``ValueError`` naming ``path``).
    """
    if not isinstance(path, (str, os.PathLike)) or not os.fspath(path).endswith(".npy"):
        raise ValueError(f"path must be a str or os.PathLike ending in '.npy', got {path!r}")
    x_path = Path(os.fspath(path))
    y_path = x_path.with_name(x_path.stem + "_y.npy")
    directory = x_path.parent
    if not directory.is_dir():
        what = "is not a directory" if directory.exists() else "does not exist"
        raise ValueError(f"path={os.fspath(path)!r}: the directory {os.fspath(directory)!r} {what}")
    for target in (x_path, y_path):
        if target.is_dir():
            raise ValueError(f"path={os.fspath(path)!r}: {os.fspath(target)!r} is a directory, not a file")
    return x_path, y_path


def _write_npy_pair(spec: _Spec, x_path: Path, y_path: Path, chunk_rows: int) -> None:
    """Stream ``X`` and ``y`` to ``x_path``/``y_path`` one chunk at a time (atomic)."""
    n_samples, n_features, dtype = spec.n_samples, spec.n_features, spec.dtype
    descr = np.lib.format.dtype_to_descr(dtype)
    X_chunk = np.empty((chunk_rows, n_features), dtype=dtype)
    y_chunk = np.empty(chunk_rows, dtype=dtype)
    # y is moved into place before X (the reverse order of the contexts' exits), so a complete X implies a y.
    with (
        atomic_path(x_path) as x_tmp,
        atomic_path(y_path) as y_tmp,
        open(x_tmp, "wb") as x_file,
        open(y_tmp, "wb") as y_file,
    ):
        header = {"descr": descr, "fortran_order": False}
        np.lib.format.write_array_header_1_0(x_file, {**header, "shape": (n_samples, n_features)})
        np.lib.format.write_array_header_1_0(y_file, {**header, "shape": (n_samples,)})
        for row0 in range(0, n_samples, chunk_rows):
            n_rows = min(chunk_rows, n_samples - row0)
            _generate_rows(spec, row0, X_chunk[:n_rows], y_chunk[:n_rows])
            x_file.write(X_chunk[:n_rows].data)
            y_file.write(y_chunk[:n_rows].data)


def _allocate(spec: _Spec) -> tuple[np.ndarray, np.ndarray]:
    """Empty ``X`` and ``y`` for the in-memory path; ``MemoryError`` with the size and a remedy."""
    n_bytes = spec.n_samples * (spec.n_features + 1) * spec.dtype.itemsize
    try:
        return np.empty((spec.n_samples, spec.n_features), dtype=spec.dtype), np.empty(spec.n_samples, spec.dtype)
    except MemoryError:
        raise MemoryError(
            f"make_regression: n_samples={spec.n_samples} x n_features={spec.n_features} in {spec.dtype} needs "
            f"{n_bytes:,} bytes ({n_bytes / 2**30:.3g} GiB) for X and y, which could not be allocated; "
            "pass path='data.npy' to write them to disk chunk by chunk (returned as memory maps), "
            "or ask for fewer samples"
        ) from None


def make_regression(
    n_samples: int,
    n_features: int,
    *,
    noise: float = 1.0,
    outliers: float = 0.0,
    outlier_scale: float = 10.0,
    correlation: float = 0.0,
    bias: float = 0.0,
    dtype: DTypeLike = np.float64,
    seed: int = 0,
    path: str | os.PathLike[str] | None = None,
    chunk_rows: int | None = None,
) -> Dataset:
    """Generate a linear-regression problem ``y = X @ coef + bias + noise``.

    Parameters
    ----------
    n_samples, n_features : int
        Shape of ``X``; both at least 1.
    noise : float, default 1.0
        Standard deviation of the Gaussian noise added to ``y``; ``>= 0``.
    outliers : float, default 0.0
        Probability, in ``[0, 1]``, that a row is an outlier.  Each row decides
        independently (its own uniform ``v_i < outliers``), so the outlier
        fraction is ``outliers`` in expectation.
    outlier_scale : float, default 10.0
        An outlier row gets the extra error ``outlier_scale * w_i`` with
        ``w_i`` standard normal, on top of the regular noise.  ``>= 0``.
    correlation : float, default 0.0
        ``rho`` in ``(-1, 1)``: features are AR(1) across columns,
        ``corr(X[:, j], X[:, k]) = rho**|j - k|``, each with unit variance.
    bias : float, default 0.0
        True intercept, added to every ``y``.
    dtype : {float64, float32}, default float64
        dtype of ``X``, ``y`` and ``coef``.
    seed : int, default 0
        Integer in ``[0, 2**63)`` (the range every seed of fastgd shares;
        a seed outside it is rejected, never reduced).  Same arguments give bit-identical arrays,
        whatever the thread count and whether ``path`` is given.
    path : str or os.PathLike, optional
        If given (must end in ``.npy``), ``X`` is written to ``path`` and ``y``
        to the sibling ``<stem>_y.npy`` (``data.npy`` -> ``data_y.npy``),
        replacing existing files.  Rows are generated and written chunk by
        chunk, so memory use is bounded by one chunk and the data may exceed
        RAM; each file is written to a temporary name in the same directory
        and moved into place with :func:`os.replace`.  The returned ``X`` and
        ``y`` are then read-only memory maps of the files.
    chunk_rows : int, optional
        Rows per chunk when writing to ``path`` (default: about 64 MiB of
        ``X``).  Ignored without ``path``.

    Returns
    -------
    Dataset
        Named tuple ``(X, y, coef, intercept)``: ``X`` C-contiguous
        ``(n_samples, n_features)``, ``y`` ``(n_samples,)``, ``coef``
        ``(n_features,)`` (all ``dtype``) and ``intercept == bias``.

    Raises
    ------
    ValueError
        If an argument is out of range or of the wrong kind, or ``path`` lies
        in a missing directory or names a directory; the message names the
        argument.
    MemoryError
        If ``X`` and ``y`` do not fit in memory (the message gives the size
        in bytes and suggests ``path``).

    Notes
    -----
    ``X`` is standard normal (AR(1) when ``correlation != 0``), ``coef`` is
    standard normal and ``y`` is computed in float64 from the rounded ``X``
    and ``coef``, then rounded to ``dtype``.  The random numbers come from a
    counter-based SplitMix64 scheme with exact inverse-CDF normals; see
    :mod:`fastgd.data` and :mod:`fastgd._rng` for the exact definition.
    Generation runs in parallel over rows on ``numba.get_num_threads()``
    threads.

    Examples
    --------
    >>> from fastgd.data import make_regression
    >>> X, y, coef, intercept = make_regression(1000, 5, noise=0.1, seed=1)
    >>> X.shape, y.shape, coef.shape
    ((1000, 5), (1000,), (5,))
    """
    spec = _build_spec(n_samples, n_features, noise, outliers, outlier_scale, correlation, bias, dtype, seed)
    if chunk_rows is not None:
        chunk_rows = check_int(chunk_rows, "chunk_rows", 1)
    if path is None:
        X, y = _allocate(spec)
        _generate_rows(spec, 0, X, y)
        return Dataset(X, y, spec.coef, spec.bias)
    x_path, y_path = _target_path(path)
    if chunk_rows is None:
        chunk_rows = max(1, CHUNK_BYTES // (spec.n_features * spec.dtype.itemsize))
    _write_npy_pair(spec, x_path, y_path, min(chunk_rows, spec.n_samples))
    return Dataset(np.load(x_path, mmap_mode="r"), np.load(y_path, mmap_mode="r"), spec.coef, spec.bias)
