"""The two-thread pipeline for shuffled mini-batches (``fastgd.kernels._pipeline``).

The reference (``ref_*``) is :func:`fastgd.kernels.run_steps`, which reads
each batch's rows straight from ``X`` through the permutation; the pipeline
(``comp_*``) copies them into a ring first, on whichever thread claims them.
The two must agree bit for bit, whatever the thread count, the ring's
geometry, or which thread runs first.
"""

from __future__ import annotations

import numba
import numpy as np
import pytest

import fastgd
from fastgd._rng import stream_key
from fastgd.kernels import (
    LearningRate,
    Problem,
    StepRange,
    UpdateRule,
    get_loss,
    gradient_workspace,
    permutation_into,
    run_steps,
)
from fastgd.kernels._atomics import atomic_cas, atomic_load, atomic_store
from fastgd.kernels._pipeline import (
    MAX_BATCH_BYTES,
    N_SLOTS,
    PipelineWorkspace,
    _take_a_role,
    pipeline_workspace,
    pipelined_steps,
)
from fastgd.schedules import resolve_schedule
from fastgd.trainer import Trainer

TWO_THREADS = numba.config.NUMBA_NUM_THREADS >= 2
#: ``two_threads`` values: the consumer alone, and consumer plus gatherer (needs two Numba threads)
THREAD_MODES = [False, pytest.param(True, marks=pytest.mark.skipif(not TWO_THREADS, reason="one Numba thread"))]


@pytest.fixture
def restore_threads():
    saved = numba.get_num_threads()
    yield
    numba.set_num_threads(saved)


def small_ring(n_features: int, dtype: type, batch_size: int, batches_per_chunk: int, n_slots: int):
    """A ring far smaller than the default, so a short epoch wraps it many times."""
    rows = batch_size * batches_per_chunk
    return PipelineWorkspace(
        rows=np.empty((n_slots, rows, n_features), dtype),
        targets=np.empty((n_slots, rows), dtype),
        identity=np.arange(rows, dtype=np.int64),
        flags=np.zeros((4 + n_slots) * 8, np.int64),
        outcome=np.zeros(3),
    )


def make_problem(n_samples, n_features, dtype, optimizer, seed=0):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features)).astype(dtype)
    y = (X @ rng.standard_normal(n_features) + 0.3).astype(dtype)
    order = np.empty(n_samples, np.int64)
    permutation_into(order, stream_key(seed, 11))
    state = optimizer.init(n_features + 1, np.dtype(dtype))
    return X, y, order, state, optimizer.hyper(np.dtype(dtype))


def bundle(X, y, order, optimizer, state, hyper, loss, batch_size, first_batch, max_batches, step0, schedule,  # type: ignore[no-untyped-def]
           params):  # fmt: skip
    """The leading arguments both loops take: ``(problem, params, rule, rate, steps)`` (epoch 0 of 3)."""
    n_features = X.shape[1]
    return (
        Problem(X, y, get_loss(loss), X.dtype.type(1.0)),
        params,
        UpdateRule(state, hyper, n_features + 1, n_features),
        LearningRate(schedule.params(), float(optimizer.lr), 3),
        StepRange(order, batch_size, 0, first_batch, max_batches, step0),
    )


def ref_steps(X, y, order, optimizer, state, hyper, loss, batch_size, first_batch, max_batches, step0, schedule):  # type: ignore[no-untyped-def]
    n_features = X.shape[1]
    params = np.zeros(n_features + 1, X.dtype)
    out = run_steps(
        *bundle(X, y, order, optimizer, state, hyper, loss, batch_size, first_batch, max_batches, step0, schedule,
                params),
        np.empty(n_features + 1, X.dtype), gradient_workspace(0, n_features, X.dtype),
    )  # fmt: skip
    return params, out


def comp_steps(X, y, order, optimizer, state, hyper, loss, batch_size, first_batch, max_batches, step0, schedule,  # type: ignore[no-untyped-def]
               pipeline, two_threads):  # fmt: skip
    n_features = X.shape[1]
    params = np.zeros(n_features + 1, X.dtype)
    out = pipelined_steps(
        *bundle(X, y, order, optimizer, state, hyper, loss, batch_size, first_batch, max_batches, step0, schedule,
                params),
        np.empty(n_features + 1, X.dtype), pipeline, two_threads,
    )  # fmt: skip
    return params, out


def copy_state(state):  # type: ignore[no-untyped-def]
    return type(state)(*(field.copy() for field in state))


OPTIMIZERS = {
    "sgd": fastgd.SGD(lr=0.01),  # with batch_size 1: run_steps' fused per-sample loop
    "adam": fastgd.Adam(lr=0.01, amsgrad=True, weight_decay=0.01),
    "sgd-momentum": fastgd.SGD(lr=0.01, momentum=0.9, nesterov=True),
    "rmsprop": fastgd.RMSprop(lr=0.001, centered=True),
}


@pytest.mark.parametrize("two_threads", THREAD_MODES)
@pytest.mark.parametrize(
    ("optimizer_name", "loss", "dtype"),  # each loss, dtype and optimizer at least once (each compiles the loop)
    [("adam", "l2", np.float64), ("adam", "l1", np.float32), ("sgd-momentum", "huber", np.float64),
     ("rmsprop", "l2", np.float32), ("sgd", "huber", np.float64), ("sgd", "l2", np.float32)],
)  # fmt: skip
@pytest.mark.parametrize(
    ("batch_size", "batches_per_chunk", "n_slots"),
    [(7, 1, 2), (7, 3, 2), (16, 2, 3), (1, 5, 4), (50, 1, 8)],
)
def test_pipeline_equals_run_steps_bit_for_bit(two_threads, dtype, loss, optimizer_name, batch_size,  # type: ignore[no-untyped-def]
                                               batches_per_chunk, n_slots):  # fmt: skip
    """Every batch size (a last, smaller batch included), ring geometry, loss, dtype and thread mode."""
    optimizer = OPTIMIZERS[optimizer_name]
    X, y, order, state, hyper = make_problem(503, 6, dtype, optimizer)
    schedule = resolve_schedule(fastgd.InverseScaling())
    n_batches = -(-503 // batch_size)
    ref_state, comp_state = copy_state(state), copy_state(state)
    ref_params, ref_out = ref_steps(
        X, y, order, optimizer, ref_state, hyper, loss, batch_size, 0, n_batches, 0, schedule
    )
    ring = small_ring(6, dtype, batch_size, batches_per_chunk, n_slots)
    comp_params, comp_out = comp_steps(
        X, y, order, optimizer, comp_state, hyper, loss, batch_size, 0, n_batches, 0, schedule, ring, two_threads
    )
    assert ref_out == (n_batches, pytest.approx(ref_out[1]), 0)
    assert comp_out[0] == n_batches and comp_out[1] == ref_out[1] and not comp_out[2]
    assert ref_params.tobytes() == comp_params.tobytes()
    for ref_field, comp_field in zip(ref_state, comp_state, strict=True):
        assert ref_field.tobytes() == comp_field.tobytes()
    assert np.isfinite(comp_params).all() and np.any(comp_params != 0)


@pytest.mark.parametrize("two_threads", THREAD_MODES)
def test_part_of_an_epoch(two_threads):
    """``first_batch``/``max_batches`` select the same steps as in ``run_steps`` (steps numbered from ``step0``)."""
    optimizer = fastgd.Adam(lr=0.05)
    X, y, order, state, hyper = make_problem(300, 4, np.float64, optimizer)
    schedule = resolve_schedule(None)
    ref_state, comp_state = copy_state(state), copy_state(state)
    ref = ref_steps(X, y, order, optimizer, ref_state, hyper, "l2", 8, 5, 13, 40, schedule)
    comp = comp_steps(X, y, order, optimizer, comp_state, hyper, "l2", 8, 5, 13, 40, schedule,
                      small_ring(4, np.float64, 8, 2, 2), two_threads)  # fmt: skip
    assert ref[1][0] == comp[1][0] == 13
    assert ref[0].tobytes() == comp[0].tobytes()
    # past the end of the epoch: only the batches that exist
    comp_tail = comp_steps(X, y, order, optimizer, copy_state(state), hyper, "l2", 8, 36, 10, 0, schedule,
                           small_ring(4, np.float64, 8, 2, 2), two_threads)  # fmt: skip
    assert comp_tail[1][0] == 2  # 300 rows -> 38 batches


@pytest.mark.parametrize("two_threads", THREAD_MODES)
@pytest.mark.parametrize("batch_size", [4, 1])
def test_divergence_stops_both_threads_at_the_same_step(two_threads, batch_size):
    optimizer = fastgd.SGD(lr=5.0)
    X, y, order, state, hyper = make_problem(2000, 5, np.float64, optimizer)
    X *= 10.0
    schedule = resolve_schedule(None)
    ref_params, ref_out = ref_steps(
        X, y, order, optimizer, copy_state(state), hyper, "l2", batch_size, 0, 500, 0, schedule
    )
    ring = small_ring(5, np.float64, batch_size, 3, 2)
    comp_params, comp_out = comp_steps(X, y, order, optimizer, copy_state(state), hyper, "l2", batch_size, 0, 500,
                                       0, schedule, ring, two_threads)  # fmt: skip
    assert ref_out[2] == 1 and comp_out[2]  # diverged
    assert 0 < comp_out[0] == ref_out[0] < 500
    assert ref_params.tobytes() == comp_params.tobytes()


def test_both_roles_on_one_thread_one_after_the_other():
    """If both loop iterations run on one thread, the first arrival does the whole epoch; the second finds it done."""
    optimizer = fastgd.Adam(lr=0.01)
    X, y, order, state, hyper = make_problem(400, 3, np.float64, optimizer)
    schedule = resolve_schedule(None)
    ring = small_ring(3, np.float64, 10, 2, 3)
    params = np.zeros(4)
    comp_state = copy_state(state)
    problem, params, rule, rate, steps = bundle(X, y, order, optimizer, comp_state, hyper, "l2", 10, 0, 40, 0, schedule,
                                                params)  # fmt: skip
    arguments = (problem, params, rule, rate, steps, 40, np.empty(4), ring, 0)  # stop_batch 40
    first = _take_a_role(*arguments)  # takes the consumer's role: claims and fills every chunk itself
    assert first == (True, 40, 0.01, False) and ring.flags[0] == 20
    after_first = params.copy()
    second = _take_a_role(*arguments)  # the gatherer's role: the consumer has stopped, nothing to do
    assert not second[0] and params.tobytes() == after_first.tobytes() and ring.flags[0] == 20
    ref_params, ref_out = ref_steps(X, y, order, optimizer, copy_state(state), hyper, "l2", 10, 0, 40, 0, schedule)
    assert ref_out[0] == 40
    assert params.tobytes() == ref_params.tobytes()


@pytest.mark.skipif(not TWO_THREADS, reason="needs at least 2 Numba threads")
@pytest.mark.parametrize("optimizer", [fastgd.Adam(lr=0.01), fastgd.SGD(lr=0.01, momentum=0.5)])
def test_fit_is_identical_for_1_and_2_threads_when_shuffling(restore_threads, optimizer):
    data = fastgd.make_regression(5000, 12, noise=0.5, seed=4)
    results = []
    for threads in (1, 2):
        numba.set_num_threads(threads)
        result = fastgd.fit(data.X, data.y, optimizer=optimizer, batch_size=32, epochs=3, seed=5)
        results.append((result.coef.tobytes(), result.intercept, result.history["loss"].tolist()))
    assert results[0] == results[1]


def test_trainer_uses_the_pipeline_exactly_for_shuffled_batches():
    data = fastgd.make_regression(1000, 5, seed=0)

    def pipeline(**options):  # type: ignore[no-untyped-def]
        return Trainer(data.X, data.y, **options).buffers.pipeline

    assert isinstance(pipeline(batch_size=32, optimizer=fastgd.Adam()), PipelineWorkspace)
    assert isinstance(pipeline(batch_size=1, optimizer=fastgd.Adam()), PipelineWorkspace)
    assert pipeline(batch_size=32, shuffle=False) is None  # in order: rows read in sequence
    assert pipeline(batch_size=None) is None  # full batch: the parallel gradient
    assert isinstance(pipeline(batch_size=1, optimizer=fastgd.SGD(lr=0.01)), PipelineWorkspace)  # fused SGD too


def test_pipeline_workspace_geometry():
    ring = pipeline_workspace(200_000, 100, np.float64, 32)
    assert ring is not None
    n_slots, chunk_rows, n_features = ring.rows.shape
    assert n_slots == N_SLOTS and n_features == 100 and chunk_rows % 32 == 0 and chunk_rows > 32
    assert ring.targets.shape == (N_SLOTS, chunk_rows) and ring.rows.dtype == np.float64
    np.testing.assert_array_equal(ring.identity, np.arange(chunk_rows))
    # a chunk never holds more batches than an epoch has
    assert pipeline_workspace(50, 4, np.float32, 20).rows.shape[1:] == (60, 4)
    # a batch too large for a cache-sized ring is not pipelined
    too_many_rows = MAX_BATCH_BYTES // (100 * 8) + 1
    assert pipeline_workspace(10**6, 100, np.float64, too_many_rows) is None
    assert pipeline_workspace(10**6, 100, np.float32, too_many_rows) is not None


def test_atomics_from_user_njit():
    @numba.njit
    def exercise(flags):  # type: ignore[no-untyped-def]
        atomic_store(flags, 1, 5)
        first = atomic_cas(flags, 1, 5, 9)  # succeeds: 5 -> 9
        second = atomic_cas(flags, 1, 5, 7)  # fails: the value is 9
        return first, second, atomic_load(flags, 1)

    flags = np.zeros(4, np.int64)
    assert exercise(flags) == (True, False, 9)
    assert flags.tolist() == [0, 9, 0, 0]
