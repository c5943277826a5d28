"""Run one :class:`~fastgd.study.cases.Case` into tidy rows: one row per recorded point.

Timing discipline (benchopt's):

* JIT compilation and first-call costs are paid *before* timing, in a short warm-up run on a slice
  of the same data in the same batch regime; fastgd's is reported as ``compile_s``;
* fastgd records ``time_s`` itself (:func:`fastgd.fit`'s history excludes loss evaluation and
  compilation), as does ``distributed`` (:func:`fastgd.distributed.fit` on a local Dask cluster of
  ``threads`` single-threaded workers, started once for the study);
* a peer's epoch is timed with :func:`time.perf_counter` around ``run_epoch(epoch)`` only, which
  includes the epoch's row permutation; the parameter copy and the full-data objective are not.

Divergence is recorded (``diverged``, ``stop_reason``), never hidden: a run whose objective becomes
non-finite or exceeds ``1e10`` times the initial one stops there, as :func:`fastgd.fit` does.
"""

from __future__ import annotations

import math
import time
import warnings
from typing import Any

import numpy as np
import pandas as pd

from .. import DIVERGENCE_FACTOR, DivergenceWarning, fit, loss_value
from .cases import Case
from .optimum import Optimum
from .peers import make_peer

__all__ = ["POINT_COLUMNS", "WARMUP_ROWS", "close_clusters", "run_case"]

#: Rows of the slice the warm-up runs on (at least twice the batch size).
WARMUP_ROWS = 256
#: The measured columns of every point row (the keys come from :meth:`Case.columns`).
POINT_COLUMNS = ("epoch", "step", "samples_seen", "time_s", "objective")


def _warmup_slice(case: Case, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, int | None]:
    """A small slice in the same batch regime (full batch / mini-batch / per-sample)."""
    rows = WARMUP_ROWS if case.batch_size is None else max(WARMUP_ROWS, 2 * case.batch_size + 1)
    rows = min(rows, X.shape[0])
    batch = case.batch_size if case.batch_size is None or case.batch_size < rows else None
    return X[:rows], y[:rows], batch


def _run_fastgd(case: Case, X: np.ndarray, y: np.ndarray) -> tuple[list[tuple], float, str]:
    """``fastgd.fit`` after a warm-up, or for ``distributed``, ``fastgd.distributed.fit`` on its cluster."""
    options = {
        "loss": case.loss, "optimizer": case.build_optimizer(), "seed": case.fit_seed,
        "lr_schedule": case.build_schedule(), "delta": case.delta,
    }  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DivergenceWarning)
        if case.backend == "distributed":
            from ..distributed import fit as distributed_fit

            X_d, y_d, client = _shipped(X, y, case.threads)
            result = distributed_fit(X_d, y_d, batch_size=case.batch_size, epochs=case.epochs, client=client, **options)
            compile_s = float(result.compile_s)
        else:
            X_warm, y_warm, warm_batch = _warmup_slice(case, X, y)
            options |= {"shuffle": True, "record_every": None}
            compile_s = float(fit(X_warm, y_warm, batch_size=warm_batch, epochs=1, **options).compile_s)
            result = fit(X, y, batch_size=case.batch_size, epochs=case.epochs, **options)
            compile_s += float(result.compile_s)
    history = result.history[["epoch", "step", "samples_seen", "time_s", "loss"]]
    points = list(history.itertuples(index=False, name=None))
    return points, compile_s, result.stop_reason if result.diverged else ""


_CLUSTERS: dict[int, Any] = {}
_SHIPPED: dict[int, tuple[np.ndarray, Any, Any]] = {}


def _cluster(n_workers: int) -> Any:
    """The process's default Dask client if it has one, else the study's own local cluster of ``n_workers``.

    The study's clusters are never the process default (so a 1- and a 2-worker one never swap); they are
    kept, one per worker count, until :func:`close_clusters`.
    """
    from distributed import default_client

    if n_workers not in _CLUSTERS:
        try:
            return default_client()  # a user's or a test session's cluster, used as it is
        except ValueError:  # no client
            from ..distributed import local_cluster

            _CLUSTERS[n_workers] = local_cluster(n_workers, set_as_default=False)
    return _CLUSTERS[n_workers]


def _shipped(X: np.ndarray, y: np.ndarray, n_workers: int) -> tuple[Any, Any, Any]:
    """``X``, ``y`` persisted on the cluster once per dataset (:func:`fastgd.distributed.from_array`), its client."""
    from ..distributed import from_array

    client = _cluster(n_workers)
    if n_workers not in _SHIPPED or _SHIPPED[n_workers][0] is not X:
        _SHIPPED.pop(n_workers, None)  # release the previous dataset's chunks first
        _SHIPPED[n_workers] = (X, *from_array(X, y, client=client))
    return _SHIPPED[n_workers][1], _SHIPPED[n_workers][2], client


def close_clusters() -> None:
    """Release the shipped data and shut down the clusters the study started (the runner calls it at the end)."""
    _SHIPPED.clear()
    while _CLUSTERS:
        _CLUSTERS.popitem()[1].close()


def _objective(case: Case, X: np.ndarray, y: np.ndarray, coef: np.ndarray, intercept: float, decay: float) -> float:
    """The full-data objective as :func:`fastgd.fit` records it; ``inf`` once the parameters are not finite."""
    if not (math.isfinite(intercept) and np.isfinite(coef).all()):
        return math.inf
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        value = float(loss_value(X, y, coef, intercept, loss=case.loss, delta=case.delta))
        if decay:
            coef64 = np.asarray(coef, dtype=np.float64)
            value += 0.5 * decay * float(coef64 @ coef64)
    return value if math.isfinite(value) else math.inf


def _run_peer(case: Case, X: np.ndarray, y: np.ndarray) -> tuple[list[tuple], float, str]:
    options = {
        "loss": case.loss, "delta": case.delta, "batch_size": case.batch_size, "schedule": case.build_schedule(),
        "epochs": case.epochs, "seed": case.fit_seed,
    }  # fmt: skip
    X_warm, y_warm, warm_batch = _warmup_slice(case, X, y)
    options_warm = options | {"batch_size": warm_batch, "epochs": 1}
    make_peer(case.backend, X_warm, y_warm, optimizer=case.build_optimizer(), **options_warm).run_epoch(0)
    peer = make_peer(case.backend, X, y, optimizer=case.build_optimizer(), **options)
    decay = float(getattr(case.build_optimizer(), "weight_decay", 0.0))
    n_samples = X.shape[0]
    steps_per_epoch = 1 if case.batch_size is None else math.ceil(n_samples / case.batch_size)
    coef, intercept = peer.parameters()
    initial = _objective(case, X, y, coef, intercept, decay)
    points = [(0.0, 0, 0, 0.0, initial)]
    elapsed = 0.0
    for epoch in range(case.epochs):
        start = time.perf_counter()
        peer.run_epoch(epoch)
        elapsed += time.perf_counter() - start
        coef, intercept = peer.parameters()
        value = _objective(case, X, y, coef, intercept, decay)
        done = epoch + 1
        points.append((float(done), done * steps_per_epoch, done * n_samples, elapsed, value))
        if not math.isfinite(value):
            return points, 0.0, f"diverged: full-data loss became {value} after epoch {done}"
        if initial > 0 and value > DIVERGENCE_FACTOR * initial:
            return points, 0.0, f"diverged: loss {value:.3g} > {DIVERGENCE_FACTOR:g} x the initial after epoch {done}"
    return points, 0.0, ""


def run_case(case: Case, X: np.ndarray, y: np.ndarray, optimum: Optimum) -> pd.DataFrame:
    """Run ``case`` on its dataset ``(X, y)``; return its tidy rows (columns: :mod:`fastgd.study.store`).

    ``optimum``, the certified optimum of the case's (dataset, loss), fills ``f_star``,
    ``f_star_kind`` and ``suboptimality``.
    """
    run = _run_fastgd if case.backend in ("fastgd", "distributed") else _run_peer
    points, compile_s, diverged_reason = run(case, X, y)
    frame = pd.DataFrame(points, columns=list(POINT_COLUMNS))
    for key, value in case.columns().items():
        frame[key] = value
    frame["batch_size"] = frame["batch_size"].astype("Int64")  # <NA>: full batch
    f_star = math.nan if optimum.loss is None else float(optimum.loss)
    frame["f_star"] = f_star
    frame["f_star_kind"] = optimum.kind or "none"
    frame["suboptimality"] = (frame["objective"] - f_star) / abs(f_star) if f_star else math.nan
    frame["compile_s"] = compile_s
    frame["diverged"] = bool(diverged_reason)
    frame["stop_reason"] = diverged_reason or "max_epochs"
    return frame
