r"""Shuffled mini-batch epochs on two threads: one gathers rows while the other trains.

A shuffled epoch reads whole rows of ``X`` in random order.  Measured on the
project's machine (200,000 x 100 float64), one core reads rows in random
order at about half the rate it reads them in sequence (19–23 ms against
6–11 ms per pass), and software prefetching does not help: the single-thread
loop is bound by how fast one core can gather rows, not by arithmetic.  The
optimizer steps themselves cannot be split between threads (each one needs
the parameters the previous one wrote), but the *reading* can, because which
rows a batch uses is known from the permutation before the epoch starts.

:func:`pipelined_steps` therefore runs a producer/consumer pipeline inside one
parallel region:

* the **consumer** (one thread) takes the epoch's batches in order from a ring
  of ``n_slots`` slots, each holding the rows of a few whole batches copied
  contiguously (a *chunk*, small enough to stay in cache), and runs exactly the
  steps :func:`~fastgd.kernels.run_steps` would (per-sample plain SGD
  included, with the same fused loop);
* the **gatherer** (the other thread) claims the next chunk, copies its rows
  and targets into the chunk's slot, and publishes it;
* whenever the consumer would wait, it claims and copies a chunk itself, so
  both cores read ``X`` and neither idles.

Chunks are claimed with an atomic compare-and-swap on one counter, so each is
copied exactly once, by whichever thread claimed it; a slot is reused only
after the consumer has finished the chunk it held.  The roles are not tied to
loop iterations: the first thread to arrive becomes the consumer (another
compare-and-swap), so the consumer never waits for a thread to start, and the
gatherer only ever waits for a consumer that is already running.  If both
iterations run one after the other on one thread, the first does the whole
epoch alone (it claims every chunk it finds unclaimed) and the second finds
the work done.

Every batch's loss and gradient are computed by the same function on the same
values in the same order whatever thread copied the rows, so results are
bit-identical for any thread count.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numba
import numpy as np

from .._jit import jit
from ._atomics import atomic_cas, atomic_load, atomic_store, spin_pause
from .gradients import rows_loss_grad
from .optim import apply_update, is_plain_sgd
from .training import LearningRate, Problem, StepRange, UpdateRule, _plain_sgd_sample, step_learning_rate

__all__ = ["PipelineWorkspace", "pipeline_workspace", "pipelined_steps"]

#: Aim for chunks of about this many bytes of rows (a few per core's L2 cache).
CHUNK_BYTES = 192 * 1024
#: Slots in the ring (how far the gatherer may run ahead of the consumer, in chunks).
N_SLOTS = 8
#: Batches larger than this are not pipelined (the ring would not stay in cache).
MAX_BATCH_BYTES = 1024 * 1024

# Flag indices; each flag has its own 64-byte cache line (8 int64) to avoid false sharing.
_LINE = 8
_NEXT = 0 * _LINE  # next chunk to claim
_CONSUMED = 1 * _LINE  # chunks the consumer has finished
_STOP = 2 * _LINE  # the consumer has returned
_ROLE = 3 * _LINE  # 1 once a thread has taken the consumer's role
_READY = 4 * _LINE  # + slot * _LINE: 1 + the chunk the slot holds


class PipelineWorkspace(NamedTuple):
    """Scratch space of :func:`pipelined_steps`, from :func:`pipeline_workspace`."""

    rows: np.ndarray  # (n_slots, chunk_rows, n_features), data dtype: copied rows of X
    targets: np.ndarray  # (n_slots, chunk_rows), data dtype: the matching y
    identity: np.ndarray  # (chunk_rows,) int64: 0, 1, ..., chunk_rows - 1
    flags: np.ndarray  # ((4 + n_slots) * 8,) int64: the synchronisation counters
    outcome: np.ndarray  # (3,) float64: steps done, the last learning rate, diverged (0 or 1)


def pipeline_workspace(n_samples: int, n_features: int, dtype: Any, batch_size: int) -> PipelineWorkspace | None:
    """Allocate the ring for shuffled batches of ``batch_size`` rows, or ``None`` if they are too large.

    Parameters
    ----------
    n_samples, n_features : int
        Shape of ``X``.
    dtype : float32 or float64
        The data's dtype.
    batch_size : int
        Rows per batch (at least 1).

    Returns
    -------
    PipelineWorkspace or None
        Chunks of ``max(1, CHUNK_BYTES // batch_bytes)`` whole batches (no more
        than an epoch holds) and :data:`N_SLOTS` slots; ``None`` when one batch
        is over :data:`MAX_BATCH_BYTES`.
    """
    itemsize = np.dtype(dtype).itemsize
    batch_bytes = batch_size * n_features * itemsize
    if batch_bytes > MAX_BATCH_BYTES:
        return None
    batches = -(-n_samples // batch_size)
    chunk_rows = batch_size * max(1, min(batches, CHUNK_BYTES // max(batch_bytes, 1)))
    return PipelineWorkspace(
        rows=np.empty((N_SLOTS, chunk_rows, n_features), dtype=dtype),
        targets=np.empty((N_SLOTS, chunk_rows), dtype=dtype),
        identity=np.arange(chunk_rows, dtype=np.int64),
        flags=np.zeros((4 + N_SLOTS) * _LINE, dtype=np.int64),
        outcome=np.zeros(3, dtype=np.float64),
    )


@jit()
def _n_chunks(batch_size, first_batch, stop_batch, chunk_rows):  # type: ignore[no-untyped-def]
    per_chunk = chunk_rows // batch_size
    return (stop_batch - first_batch + per_chunk - 1) // per_chunk


@jit()
def _reset_flags(flags):  # type: ignore[no-untyped-def]
    for i in range(flags.shape[0]):
        flags[i] = 0


@jit()
def _fill_slot(X, y, order, batch_size, first_batch, stop_batch, chunk, pipeline):  # type: ignore[no-untyped-def]
    """Copy chunk ``chunk``'s rows (in the epoch's order) into its slot, then publish it."""
    rows, targets, _, flags, _ = pipeline
    n_slots, chunk_rows = rows.shape[0], rows.shape[1]
    per_chunk = chunk_rows // batch_size
    first_row = (first_batch + chunk * per_chunk) * batch_size
    stop_row = min(min(first_batch + (chunk + 1) * per_chunk, stop_batch) * batch_size, X.shape[0])
    slot = chunk % n_slots
    slot_rows = rows[slot]
    slot_targets = targets[slot]
    for k in range(first_row, stop_row):
        i = order[k]
        for j in range(X.shape[1]):
            slot_rows[k - first_row, j] = X[i, j]
        slot_targets[k - first_row] = y[i]
    atomic_store(flags, _READY + slot * _LINE, chunk + 1)


@jit()
def _gather_ahead(X, y, order, batch_size, first_batch, stop_batch, pipeline):  # type: ignore[no-untyped-def]
    """The gatherer: claim and fill chunks while the ring has room, until the consumer stops."""
    rows, _, _, flags, _ = pipeline
    n_slots = rows.shape[0]
    n_chunks = _n_chunks(batch_size, first_batch, stop_batch, rows.shape[1])
    while atomic_load(flags, _STOP) == 0:
        chunk = atomic_load(flags, _NEXT)
        if chunk >= n_chunks:
            return
        if chunk >= atomic_load(flags, _CONSUMED) + n_slots:  # the ring is full: the consumer is running
            spin_pause()
        elif atomic_cas(flags, _NEXT, chunk, chunk + 1):
            _fill_slot(X, y, order, batch_size, first_batch, stop_batch, chunk, pipeline)


@jit()
def _wait_for_chunk(X, y, order, batch_size, first_batch, stop_batch, chunk, pipeline):  # type: ignore[no-untyped-def]
    """The consumer's wait for ``chunk``: fill it, or other chunks the ring has room for, meanwhile."""
    rows, _, _, flags, _ = pipeline
    n_slots = rows.shape[0]
    n_chunks = _n_chunks(batch_size, first_batch, stop_batch, rows.shape[1])
    ready = _READY + (chunk % n_slots) * _LINE
    while atomic_load(flags, ready) != chunk + 1:
        claim = atomic_load(flags, _NEXT)  # >= chunk: every earlier chunk was claimed
        if claim < n_chunks and claim < chunk + n_slots and atomic_cas(flags, _NEXT, claim, claim + 1):
            _fill_slot(X, y, order, batch_size, first_batch, stop_batch, claim, pipeline)
        else:
            spin_pause()


@jit()
def _consume(problem, params, rule, rate, steps, stop_batch, grad_out, pipeline):  # type: ignore[no-untyped-def]
    """The consumer: the steps of :func:`~fastgd.kernels.run_steps`, reading each batch from the ring.

    Returns ``(steps_done, last_lr, diverged)``.
    """
    X, y, loss, delta = problem
    state, hyper, n_params, n_decay = rule
    order, batch_size, epoch, first_batch, _, step0 = steps
    rows, targets, identity, flags, _ = pipeline
    n_slots, chunk_rows = rows.shape[0], rows.shape[1]
    per_chunk = chunk_rows // batch_size
    n_samples, n_features = X.shape
    coef = params[:n_features]
    train = params[:n_params]
    grad = grad_out[:n_params]
    lr = rate.base_lr
    for chunk in range(_n_chunks(batch_size, first_batch, stop_batch, chunk_rows)):
        _wait_for_chunk(X, y, order, batch_size, first_batch, stop_batch, chunk, pipeline)
        slot_rows = rows[chunk % n_slots]
        slot_targets = targets[chunk % n_slots]
        chunk_first = first_batch + chunk * per_chunk
        first_row = chunk_first * batch_size
        for k in range(chunk_first, min(chunk_first + per_chunk, stop_batch)):
            step = step0 + (k - first_batch) + 1
            lr = step_learning_rate(rate, step, epoch)
            if batch_size == 1 and is_plain_sgd(hyper):  # run_steps' fused per-sample loop
                if not _plain_sgd_sample(slot_rows, slot_targets, params, n_params, loss, delta, k - first_row, lr):
                    atomic_store(flags, _STOP, 1)
                    return k - first_batch, lr, True
                continue
            start = k * batch_size - first_row
            stop = min(k * batch_size + batch_size, n_samples) - first_row
            value = rows_loss_grad(
                slot_rows, slot_targets, coef, params[n_features], loss, delta, identity[start:stop], grad_out
            )
            if not np.isfinite(value):
                atomic_store(flags, _STOP, 1)
                return k - first_batch, lr, True
            apply_update(train, grad, state, hyper, step, lr, n_decay)
        atomic_store(flags, _CONSUMED, chunk + 1)
    atomic_store(flags, _STOP, 1)
    return stop_batch - first_batch, lr, False


@jit()
def pipelined_steps(problem, params, rule, rate, steps, grad_out, pipeline, two_threads):  # type: ignore[no-untyped-def]
    """:func:`~fastgd.kernels.run_steps` for shuffled mini-batches, with rows gathered on a second thread.

    Arguments as in ``run_steps`` (``steps.order`` a permutation,
    ``steps.batch_size >= 1``), except ``pipeline``, a
    :class:`PipelineWorkspace` for this batch size (**overwritten**), and
    ``two_threads``: whether the caller has at least two Numba threads
    (``numba.get_num_threads() >= 2``; reading it here would make the kernel
    uncachable); if not, the consumer runs alone.  Returns
    ``(steps_done, last_lr, diverged)``.
    """
    batch_size, first_batch, max_batches = steps.batch_size, steps.first_batch, steps.max_batches
    stop_batch = min((problem.X.shape[0] + batch_size - 1) // batch_size, first_batch + max_batches)
    _reset_flags(pipeline.flags)
    if not two_threads:
        return _consume(problem, params, rule, rate, steps, stop_batch, grad_out, pipeline)
    fields = _Fields(
        problem.X, problem.y, problem.delta, params, grad_out, steps.order,
        rule.n_params, rule.n_decay, rate.base_lr, rate.n_epochs,
        batch_size, steps.epoch, first_batch, max_batches, steps.step0, stop_batch,
    )  # fmt: skip
    return _both_roles(fields, problem.loss, rule.state, rule.hyper, rate.schedule, pipeline)


class _Fields(NamedTuple):
    """The arrays and numbers of ``pipelined_steps``' arguments, flat (see :func:`_both_roles`)."""

    X: Any
    y: Any
    delta: Any
    params: Any
    grad_out: Any
    order: Any
    n_params: int
    n_decay: int
    base_lr: float
    n_epochs: int
    batch_size: int
    epoch: int
    first_batch: int
    max_batches: int
    step0: int
    stop_batch: int


@jit(parallel=True)
def _both_roles(fields, loss, state, hyper, schedule, pipeline):  # type: ignore[no-untyped-def]
    """Run the consumer and the gatherer as the two iterations of one parallel loop.

    Numba hands a parallel loop's body only arguments it can flatten one level:
    a NamedTuple of arrays and numbers (``fields``, ``state``, ``hyper``,
    ``schedule``, ``pipeline``) or an empty one (``loss``), not the nested
    bundles ``run_steps`` takes.  So they travel flat and are rebuilt inside
    the body.  Returns ``(steps_done, last_lr, diverged)``.
    """
    outcome = pipeline.outcome
    for task in numba.prange(2):
        f = fields
        consumed, done, lr, failed = _take_a_role(
            Problem(f.X, f.y, loss, f.delta),
            f.params,
            UpdateRule(state, hyper, f.n_params, f.n_decay),
            LearningRate(schedule, f.base_lr, f.n_epochs),
            StepRange(f.order, f.batch_size, f.epoch, f.first_batch, f.max_batches, f.step0),
            f.stop_batch,
            f.grad_out,
            pipeline,
            task,
        )
        # Written here, in the loop body, so that Numba sees the loop writes ``outcome``
        # and cannot move the reads below ahead of it.
        if consumed:
            outcome[0] = done
            outcome[1] = lr
            outcome[2] = 1.0 if failed else 0.0
    return np.int64(outcome[0]), outcome[1], outcome[2] != 0.0


@jit()
def _take_a_role(problem, params, rule, rate, steps, stop_batch, grad_out, pipeline, task):  # type: ignore[no-untyped-def]
    """The first thread to arrive consumes, the second gathers.

    Returns ``(consumed, steps_done, last_lr, diverged)``; ``consumed`` says
    whether this call took the consumer's role (the rest is then its result).
    ``task`` (the loop index, 0 or 1) does not choose the role; it is passed so
    that the call depends on the loop index and Numba keeps it inside the loop.
    """
    if atomic_cas(pipeline.flags, _ROLE, 0, 1):
        done, lr, failed = _consume(problem, params, rule, rate, steps, stop_batch, grad_out, pipeline)
        return True, done, lr, failed
    X, y, _, _ = problem
    _gather_ahead(X, y, steps.order, steps.batch_size, steps.first_batch, stop_batch, pipeline)
    return False, 0, rate.base_lr, False
