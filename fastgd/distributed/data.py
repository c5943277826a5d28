"""Data on the cluster: generated on the workers, read from zarr, or wrapped from NumPy.

:func:`make_regression` builds ``X`` and ``y`` as dask arrays whose chunks are
generated on the workers by the same counter-based generator as
:func:`fastgd.make_regression`: chunk ``[r0, r1)`` equals rows ``r0:r1`` of the
single-machine arrays bit for bit, whatever the chunking.  Nothing is
generated until the arrays are computed, persisted or written (for data larger
than memory, write them with :func:`save` and fit on the arrays of :func:`load`).

:func:`as_dask_pair` is the input check of :func:`fastgd.distributed.fit`;
:func:`from_array` runs it and persists the result, so that repeated fits on
the same in-memory data ship it to the workers once.
"""

from __future__ import annotations

import os
import warnings
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from ..data import Dataset, _build_spec, _generate_rows, _Spec
from ..kernels import ROW_BLOCK

__all__ = ["as_dask_pair", "from_array", "load", "make_regression", "save"]

#: Default size of one generated chunk of ``X`` (a whole number of row blocks).
CHUNK_BYTES = 64 * 2**20


def _generate_chunk(spec: _Spec, row0: int, n_rows: int) -> tuple[np.ndarray, np.ndarray]:
    X = np.empty((n_rows, spec.n_features), dtype=spec.dtype)
    y = np.empty(n_rows, dtype=spec.dtype)
    _generate_rows(spec, row0, X, y)
    return X, y


def default_chunk_rows(n_features: int, dtype: DTypeLike) -> int:
    """About :data:`CHUNK_BYTES` of ``X``, rounded down to whole row blocks (at least one)."""
    rows = CHUNK_BYTES // (n_features * np.dtype(dtype).itemsize)
    return max(ROW_BLOCK, rows // ROW_BLOCK * ROW_BLOCK)


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
    chunk_rows: int | None = None,
) -> Dataset:
    """:func:`fastgd.make_regression` as dask arrays generated on the workers.

    Parameters
    ----------
    n_samples, n_features, noise, outliers, outlier_scale, correlation, bias, dtype, seed
        As in :func:`fastgd.make_regression`; the values are the same bit for bit.
    chunk_rows : int, optional
        Rows per chunk (default: about 64 MiB of ``X``, a multiple of
        :data:`fastgd.kernels.ROW_BLOCK`).  Keep it a multiple of ``ROW_BLOCK``
        for full-batch results bit-identical to :func:`fastgd.fit`
        (:func:`fastgd.distributed.fit` rechunks otherwise).

    Returns
    -------
    Dataset
        ``X`` (``(n_samples, n_features)``, chunked by rows) and ``y`` are lazy
        dask arrays; ``coef`` (in memory) and ``intercept`` are as in
        :func:`fastgd.make_regression`.

    Examples
    --------
    >>> import fastgd, fastgd.distributed
    >>> data = fastgd.distributed.make_regression(10_000, 4, seed=3, chunk_rows=4096)
    >>> data.X.chunks[0]
    (4096, 4096, 1808)
    """
    import dask
    import dask.array as da

    spec = _build_spec(n_samples, n_features, noise, outliers, outlier_scale, correlation, bias, dtype, seed)
    if chunk_rows is None:
        chunk_rows = default_chunk_rows(spec.n_features, spec.dtype)
    elif isinstance(chunk_rows, bool) or not isinstance(chunk_rows, (int, np.integer)) or chunk_rows < 1:
        raise ValueError(f"chunk_rows must be an integer >= 1, got {chunk_rows!r}")
    X_parts, y_parts = [], []
    for row0 in range(0, spec.n_samples, int(chunk_rows)):
        n_rows = min(int(chunk_rows), spec.n_samples - row0)
        part = dask.delayed(_generate_chunk, pure=True)(spec, row0, n_rows)
        X_parts.append(da.from_delayed(part[0], shape=(n_rows, spec.n_features), dtype=spec.dtype))
        y_parts.append(da.from_delayed(part[1], shape=(n_rows,), dtype=spec.dtype))
    X = da.concatenate(X_parts, axis=0)
    y = da.concatenate(y_parts, axis=0)
    return Dataset(X, y, spec.coef, spec.bias)


def save(data: Dataset, path: str | os.PathLike[str]) -> None:
    """Write a dataset to a zarr store: arrays ``X`` and ``y``, ``coef`` and ``intercept`` as attributes.

    The workers compute and write the chunks in parallel; the data never
    passes through the client, so it may exceed the client's memory.
    """
    import dask.array as da
    import zarr

    X, y = (a if isinstance(a, da.Array) else da.from_array(np.asarray(a)) for a in (data.X, data.y))
    root = zarr.open_group(os.fspath(path), mode="w")
    root.attrs["coef"] = [float(c) for c in np.asarray(data.coef, dtype=np.float64)]
    root.attrs["intercept"] = float(data.intercept)
    da.to_zarr(X, os.fspath(path), component="X", overwrite=True)
    da.to_zarr(y.rechunk(X.chunks[0]), os.fspath(path), component="y", overwrite=True)


def load(path: str | os.PathLike[str]) -> Dataset:
    """Open a store written by :func:`save`: lazy ``X``/``y`` dask arrays read chunk by chunk on the workers."""
    import dask.array as da
    import zarr

    root = zarr.open_group(os.fspath(path), mode="r")
    X = da.from_zarr(os.fspath(path), component="X")
    y = da.from_zarr(os.fspath(path), component="y")
    return Dataset(X, y, np.asarray(root.attrs["coef"], dtype=X.dtype), float(root.attrs["intercept"]))  # type: ignore[arg-type]


def _read_rows(path: str, offset: int, dtype: str, n_features: int, start: int, stop: int) -> np.ndarray:
    """Rows ``start:stop`` of the C-order array at ``path`` (byte ``offset``), read on the worker."""
    shape = (stop - start,) if n_features == 0 else (stop - start, n_features)
    width = max(n_features, 1) * np.dtype(dtype).itemsize
    return np.array(np.memmap(path, dtype=dtype, mode="r", offset=offset + start * width, shape=shape))


def _from_memmap(array: np.memmap, row_chunks: tuple[int, ...]) -> Any:
    """A dask array whose tasks read row ranges from ``array``'s file: paths and offsets, never the data."""
    import dask
    import dask.array as da

    n_features = array.shape[1] if array.ndim == 2 else 0
    parts, start = [], 0
    for n_rows in row_chunks:
        task = dask.delayed(_read_rows, pure=True)(
            os.fspath(str(array.filename)), int(array.offset), array.dtype.str, n_features, start, start + n_rows
        )
        shape = (n_rows, n_features) if n_features else (n_rows,)
        parts.append(da.from_delayed(task, shape=shape, dtype=array.dtype))
        start += n_rows
    return da.concatenate(parts, axis=0)


def _aligned_chunks(n_samples: int, target_rows: int) -> tuple[int, ...]:
    size = max(ROW_BLOCK, -(-target_rows // ROW_BLOCK) * ROW_BLOCK)
    full, rest = divmod(n_samples, size)
    return (size,) * full + ((rest,) if rest else ())


def _is_aligned(row_chunks: tuple[int, ...]) -> bool:
    return all(c % ROW_BLOCK == 0 for c in row_chunks[:-1]) and all(c > 0 for c in row_chunks)


def as_dask_pair(X: Any, y: Any, n_workers: int) -> tuple[Any, Any]:
    """Check ``X``/``y`` and return them as dask arrays with aligned, matching row chunks.

    ``X`` may be a dask array, a NumPy array or a memory map (read by path on
    the workers, never shipped).  Row chunks that are not whole multiples of
    :data:`~fastgd.kernels.ROW_BLOCK` (the last excepted) are rechunked to
    multiples of it; columns are one chunk.  Non-float dtypes become float64.

    Raises
    ------
    ValueError
        On a wrong shape, an empty ``X``, a non-real dtype or a length mismatch, naming the argument.
    """
    import dask.array as da

    if not isinstance(X, da.Array):
        X = X if isinstance(X, np.memmap) else np.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"X must be a 2-D array of shape (n_samples, n_features), got {X.ndim}-D with shape {X.shape}")
    n_samples, n_features = X.shape
    if any(isinstance(s, float) and np.isnan(s) for s in X.shape):
        raise ValueError("X must have known chunk sizes (call X.compute_chunk_sizes() first)")
    if n_samples < 1 or n_features < 1:
        raise ValueError(f"X is empty: shape {X.shape}")
    if X.dtype.kind not in "biuf":
        raise ValueError(f"X must be a real numeric array, got dtype {X.dtype}")
    dtype = X.dtype if X.dtype in (np.float32, np.float64) else np.dtype(np.float64)
    if not isinstance(X, da.Array):
        chunks = _aligned_chunks(n_samples, -(-n_samples // max(1, n_workers)))
        X = (
            _from_memmap(X, chunks)
            if isinstance(X, np.memmap) and X.flags.c_contiguous
            else da.from_array(X, chunks=(chunks, n_features))
        )
    X = X.astype(dtype) if X.dtype != dtype else X
    if len(X.chunks[1]) != 1:
        X = X.rechunk({1: -1})
    if not _is_aligned(X.chunks[0]):
        X = X.rechunk({0: _aligned_chunks(n_samples, int(np.median(X.chunks[0])))})
    if not isinstance(y, da.Array):
        y = y if isinstance(y, np.memmap) else np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"y must be a 1-D array of length n_samples={n_samples}, got shape {y.shape}")
    if y.shape[0] != n_samples:
        raise ValueError(f"y has length {y.shape[0]} but n_samples is {n_samples}")
    if y.dtype.kind not in "biuf":
        raise ValueError(f"y must be a real numeric array, got dtype {y.dtype}")
    if not isinstance(y, da.Array):
        y = _from_memmap(y, X.chunks[0]) if isinstance(y, np.memmap) else da.from_array(y, chunks=(X.chunks[0],))
    y = y.astype(dtype) if y.dtype != dtype else y
    if y.chunks[0] != X.chunks[0]:
        y = y.rechunk({0: X.chunks[0]})
    return X, y


def from_array(X: Any, y: Any, *, client: Any = None) -> tuple[Any, Any]:
    """Ship ``X`` and ``y`` to the workers once: aligned dask arrays persisted there, for many fits.

    :func:`fastgd.distributed.fit` given a NumPy array splits it and sends it
    to the workers on every call; given the arrays this returns, a fit sends
    only the parameters (its fixed cost is then starting one actor per worker
    and a few rounds).  Keep the returned arrays while fitting: the workers
    hold the data as long as they exist.

    Parameters
    ----------
    X : ndarray, memory map or dask.array.Array, shape (n_samples, n_features)
        As :func:`fastgd.distributed.fit` takes it: a NumPy array is split
        into one chunk per worker (whole row blocks); a memory map is read on
        the workers by path and row range.
    y : ndarray, memory map or dask.array.Array, shape (n_samples,)
    client : distributed.Client, optional
        Default: the current default client (``distributed.default_client()``).

    Returns
    -------
    X, y : dask.array.Array
        Persisted, with row chunks that keep full batch bit-identical to
        :func:`fastgd.fit`.  A chunk lost with its worker is recomputed from
        the data the graph holds (or the file it reads).

    Raises
    ------
    ValueError
        As :func:`fastgd.distributed.fit` does for invalid data.
    """
    from distributed import default_client, wait

    client = default_client() if client is None else client
    n_workers = len(client.scheduler_info(n_workers=-1)["workers"]) or 1
    with warnings.catch_warnings():
        # The data go into the graph on purpose, once: it lets the scheduler recompute a chunk lost with its
        # worker (scattered data could not be), so distributed's advice against large graphs does not apply.
        warnings.filterwarnings("ignore", message="Sending large graph", category=UserWarning)
        X_d, y_d = client.persist(list(as_dask_pair(X, y, n_workers)))
    with client.as_current():  # wait() looks up the default client; make it this one
        wait([X_d, y_d])
    return X_d, y_d
