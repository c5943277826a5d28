"""Measure one case: JIT warm-up, timed epochs, convergence curve, one results record.

Timing discipline (benchopt's):

* compilation happens *before* timing, in a short fit on a tiny slice of the
  same data (same dtype, same batch regime), and its cost is recorded
  separately as ``compile_s``;
* fastgd runs with ``record_every=None`` and the epoch times are the
  differences of ``history.time_s``, which already excludes loss evaluation
  and compilation;
* a peer's epoch is timed with :func:`time.perf_counter` around
  ``run_epoch()`` only; the row permutation, the parameter copy and the loss
  evaluation for the convergence curve happen outside the timed region;
* each repetition's ``epoch_time_s`` is the median over its epochs, with the
  min and max kept; throughput is ``samples_per_s``, ``gbytes_per_s`` (bytes
  of ``X`` per epoch / epoch time, 1e9 bytes) and ``bandwidth_fraction``
  (against the machine's read probe).

Divergence is recorded (``diverged``, ``stop_reason``), never hidden.
"""

from __future__ import annotations

import math
import statistics
import time
import warnings
from datetime import UTC, datetime
from typing import Any

import numpy as np

from .cases import Case
from .optimum import Optimum
from .peers import make_peer

__all__ = ["COEF_PATH_MAX_FEATURES", "WARMUP_ROWS", "epoch_order", "measure_case"]

#: ``coef_path`` is stored only up to this many features (it grows as epochs x features).
COEF_PATH_MAX_FEATURES = 1000
#: A peer whose loss exceeds this multiple of its initial loss has diverged (fastgd's rule).
DIVERGENCE_FACTOR = 1e10
#: Rows of the slice the warm-up fit runs on (at least twice the batch size).
WARMUP_ROWS = 256


def epoch_order(n_samples: int, seed: int, epoch: int, shuffle: bool) -> np.ndarray | None:
    """Row order of 1-based ``epoch``: exactly the permutation :func:`fastgd.fit` draws, or ``None``.

    ``fit`` visits the rows of its 0-based epoch ``e`` in the Fisher-Yates
    permutation keyed by ``stream_key(seed, SHUFFLE_STREAM + e)``; the peers
    get the same order so that their convergence curves are comparable step
    for step.
    """
    if not shuffle:
        return None
    from fastgd._rng import stream_key
    from fastgd.kernels.training import permutation_into
    from fastgd.trainer import SHUFFLE_STREAM

    order = np.empty(n_samples, dtype=np.int64)
    permutation_into(order, stream_key(seed, SHUFFLE_STREAM + epoch - 1))
    return order


def _objective(
    X: np.ndarray, y: np.ndarray, coef: np.ndarray, intercept: float, case: Case, weight_decay: float
) -> float:
    """Full-data objective as :func:`fastgd.fit` records it; ``inf`` once the parameters are not finite.

    The mean loss (:func:`fastgd.loss_value`) plus ``0.5 * weight_decay *
    ||coef||**2`` when the optimizer decays weights (never the intercept).
    """
    from fastgd import loss_value

    if not (math.isfinite(intercept) and np.isfinite(coef).all()):
        return math.inf
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        value = float(loss_value(X, y, coef, intercept, loss=case.loss, delta=case.delta))
    if weight_decay:
        coef64 = np.asarray(coef, dtype=np.float64)
        value += 0.5 * weight_decay * float(coef64 @ coef64)
    return value if math.isfinite(value) else math.inf


def _timing_row(
    case: Case, repetition: int, epoch_times: list[float], compile_s: float, bandwidth: float | None
) -> dict[str, Any]:
    spec = case.dataset
    if epoch_times:
        median = statistics.median(epoch_times)
        low, high = min(epoch_times), max(epoch_times)
    else:
        median = low = high = math.nan
    gbytes = spec.x_bytes / median / 1e9 if median > 0 else math.nan
    return {
        "repetition": repetition,
        "epoch_time_s": median,
        "epoch_time_min_s": low,
        "epoch_time_max_s": high,
        "compile_s": compile_s,
        "samples_per_s": spec.n_samples / median if median > 0 else math.nan,
        "gbytes_per_s": gbytes,
        "bandwidth_fraction": gbytes / bandwidth if bandwidth else None,
    }


def _warmup_slice(case: Case, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, int | None]:
    """A small C-contiguous slice in the same batch regime (full / mini-batch / per-sample)."""
    rows = WARMUP_ROWS if case.batch_size is None else max(WARMUP_ROWS, 2 * case.batch_size + 1)
    rows = min(rows, X.shape[0])
    batch = case.batch_size if case.batch_size is None or case.batch_size < rows else None
    return X[:rows], y[:rows], batch


def _fit(case: Case, X: np.ndarray, y: np.ndarray, batch_size: int | None, epochs: int) -> Any:
    import fastgd

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", getattr(fastgd, "DivergenceWarning", RuntimeWarning))
        return fastgd.fit(
            X,
            y,
            loss=case.loss,
            optimizer=case.build_optimizer(),
            batch_size=batch_size,
            epochs=epochs,
            shuffle=case.shuffle,
            seed=case.fit_seed,
            record_every=None,
            delta=case.delta,
        )


def _measure_fastgd(case: Case, X: np.ndarray, y: np.ndarray, bandwidth: float | None) -> dict[str, Any]:
    X_warm, y_warm, warm_batch = _warmup_slice(case, X, y)
    warm_start = time.perf_counter()
    warm = _fit(case, X_warm, y_warm, warm_batch, 1)
    warm_compile = float(getattr(warm, "compile_s", 0.0) or (time.perf_counter() - warm_start))
    timing, convergence, coef_path, stops = [], [], None, []
    for repetition in range(case.repetitions):
        result = _fit(case, X, y, case.batch_size, case.epochs)
        history = result.history
        times = np.diff(history["time_s"].to_numpy(dtype=np.float64)).tolist()
        compile_s = float(result.compile_s) + (warm_compile if repetition == 0 else 0.0)
        timing.append(_timing_row(case, repetition, times, compile_s, bandwidth))
        for row in history.itertuples(index=False):
            convergence.append(
                {
                    "repetition": repetition,
                    "epoch": int(row.epoch),
                    "step": int(row.step),
                    "samples_seen": int(row.samples_seen),
                    "time_s": float(row.time_s),
                    "loss": float(row.loss),
                }
            )
        if repetition == 0 and case.dataset.n_features <= COEF_PATH_MAX_FEATURES:
            coef_path = np.asarray(result.coef_path, dtype=np.float64).tolist()
        stops.append((bool(result.diverged), str(result.stop_reason)))
    return _assemble(timing, convergence, coef_path, stops)


def _measure_peer(case: Case, X: np.ndarray, y: np.ndarray, bandwidth: float | None) -> dict[str, Any]:
    X_warm, y_warm, warm_batch = _warmup_slice(case, X, y)
    warm_peer = make_peer(
        case.backend,
        X_warm,
        y_warm,
        loss=case.loss,
        delta=case.delta,
        optimizer=case.build_optimizer(),
        batch_size=warm_batch,
    )
    warm_peer.prepare_epoch(epoch_order(X_warm.shape[0], case.fit_seed, 1, case.shuffle))
    warm_peer.run_epoch()
    n_samples = X.shape[0]
    steps_per_epoch = 1 if case.batch_size is None else math.ceil(n_samples / case.batch_size)
    weight_decay = float(getattr(case.build_optimizer(), "weight_decay", 0.0))
    timing, convergence, coef_path, stops = [], [], None, []
    for repetition in range(case.repetitions):
        peer = make_peer(
            case.backend,
            X,
            y,
            loss=case.loss,
            delta=case.delta,
            optimizer=case.build_optimizer(),
            batch_size=case.batch_size,
        )
        coef, intercept = peer.parameters()
        points = [(coef, intercept)]
        initial = _objective(X, y, coef, intercept, case, weight_decay)
        convergence.append(_point(repetition, 0, 0, 0.0, initial, n_samples))
        times: list[float] = []
        stop = (False, "max_epochs")
        for epoch in range(1, case.epochs + 1):
            order = None if case.batch_size is None else epoch_order(n_samples, case.fit_seed, epoch, case.shuffle)
            peer.prepare_epoch(order)
            start = time.perf_counter()
            peer.run_epoch()
            times.append(time.perf_counter() - start)
            coef, intercept = peer.parameters()
            points.append((coef, intercept))
            loss = _objective(X, y, coef, intercept, case, weight_decay)
            convergence.append(_point(repetition, epoch, epoch * steps_per_epoch, sum(times), loss, n_samples))
            reason = _divergence(loss, initial, epoch)
            if reason:
                stop = (True, reason)
                break
        timing.append(_timing_row(case, repetition, times, 0.0, bandwidth))
        if repetition == 0 and case.dataset.n_features <= COEF_PATH_MAX_FEATURES:
            coef_path = [[*map(float, c), float(b)] for c, b in points]
        stops.append(stop)
    return _assemble(timing, convergence, coef_path, stops)


def _divergence(loss: float, initial: float, epoch: int) -> str:
    """Divergence as fastgd defines it: a non-finite loss, or one above ``1e10`` x the initial loss."""
    if not math.isfinite(loss):
        return f"diverged: full-data loss became {loss} after epoch {epoch}"
    if initial > 0 and loss > DIVERGENCE_FACTOR * initial:
        return (
            f"diverged: loss {loss:.3g} exceeds {DIVERGENCE_FACTOR:g} x the initial {initial:.3g} after epoch {epoch}"
        )
    return ""


def _point(repetition: int, epoch: int, step: int, time_s: float, loss: float, n_samples: int) -> dict[str, Any]:
    return {
        "repetition": repetition,
        "epoch": epoch,
        "step": step,
        "samples_seen": epoch * n_samples,
        "time_s": time_s,
        "loss": loss,
    }


def _assemble(timing: list, convergence: list, coef_path: list | None, stops: list[tuple[bool, str]]) -> dict[str, Any]:
    diverged = [reason for flag, reason in stops if flag]
    out: dict[str, Any] = {
        "timing": timing,
        "convergence": convergence,
        "diverged": bool(diverged),
        "stop_reason": diverged[0] if diverged else stops[0][1],
    }
    if coef_path is not None:
        out["coef_path"] = coef_path
    return out


def measure_case(
    case: Case,
    X: np.ndarray,
    y: np.ndarray,
    optimum: Optimum,
    machine: dict[str, Any],
) -> dict[str, Any]:
    """Run every repetition of ``case`` on ``(X, y)`` and return its results record.

    Parameters
    ----------
    case : Case
    X, y : ndarray
        The case's dataset.
    optimum : Optimum
        Certified optimum of the case's (dataset, loss).
    machine : dict
        Machine info (with the probe's bandwidth), copied into the record.

    Returns
    -------
    dict
        A record in the layout of :mod:`fastgd.study.records` (without
        ``schema``/``sha256``, which :func:`~fastgd.study.records.append_record` adds).
    """
    bandwidth = machine.get("bandwidth_gbytes_per_s")
    measure = _measure_fastgd if case.backend == "fastgd" else _measure_peer
    measured = measure(case, X, y, bandwidth)
    return {
        "case_id": case.case_id,
        "case": case.to_dict(),
        **measured,
        "optimum": optimum.to_record(),
        "machine": machine,
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
