"""fastgd.distributed on a LocalCluster of 2 worker processes, shared by the whole file.

Full batch must be bit-identical to fastgd.fit (float64 and float32, one or two
workers); generated chunks must equal fastgd.make_regression; a worker killed
mid-fit must be recovered from (full batch) or named in a clear error (local
SGD).  Skipped when dask or distributed is not installed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("dask.array")
pytest.importorskip("distributed")

import dask.array as da  # noqa: E402
from distributed import futures_of  # noqa: E402

import fastgd  # noqa: E402
import fastgd.distributed as fd  # noqa: E402
from fastgd.distributed import training as dfit  # noqa: E402
from fastgd.distributed._group import ShardGroup  # noqa: E402
from fastgd.distributed.cluster import usable_cpus  # noqa: E402
from fastgd.kernels import ROW_BLOCK  # noqa: E402

N_WORKERS = 2


@pytest.fixture(scope="session")
def client():
    """One LocalCluster (2 single-threaded workers) for the whole session, closed at its end."""
    with fd.local_cluster(N_WORKERS) as c:
        c.wait_for_workers(N_WORKERS)
        yield c


@pytest.fixture
def cluster(client):
    """The shared client, with both workers up (a test may have killed one)."""
    client.wait_for_workers(N_WORKERS, timeout=60)
    return client


def assert_same_fit(ref: fastgd.FitResult, res: fastgd.FitResult, full_batch: bool = True) -> None:
    """Parameters at every recorded point bit for bit; the recorded loss to the last bits.

    ``res.history`` has ``ref.history``'s columns and then ``round`` (one per
    step in full batch).

    The loss is evaluated by the same kernel on both sides, but right after an
    edit of fastgd (cold Numba cache) the copy compiled in this process and the
    copy the workers load from the cache were seen to differ in the last bit of
    some loss values (never in a parameter).
    """
    np.testing.assert_array_equal(res.coef, ref.coef)
    assert res.intercept == ref.intercept
    np.testing.assert_array_equal(res.coef_path, ref.coef_path)
    assert res.n_steps == ref.n_steps and res.stop_reason == ref.stop_reason
    assert list(res.history.columns) == [*ref.history.columns, "round"]
    if full_batch:
        np.testing.assert_array_equal(res.history["round"], res.history["step"])
    for column in ("epoch", "step", "samples_seen", "lr"):
        np.testing.assert_array_equal(res.history[column], ref.history[column])
    np.testing.assert_allclose(res.history["loss"], ref.history["loss"], rtol=1e-12)


def test_workers_run_kernels_on_their_share_of_the_cores(cluster):
    """NUMBA_NUM_THREADS reaches the Nanny's workers late (after Numba's import): the actors apply it."""
    data = fd.make_regression(2 * ROW_BLOCK, 2, seed=0, chunk_rows=ROW_BLOCK)
    group = ShardGroup(cluster, data.X, data.y, "l2", 1.0)
    assert group.call("threads") == [max(1, usable_cpus() // N_WORKERS)] * N_WORKERS
    group.close()


def test_import_fastgd_does_not_import_dask():
    code = "import sys, fastgd; assert not [m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')]"
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_generated_chunks_equal_make_regression(cluster, dtype):
    kwargs = dict(noise=0.5, outliers=0.1, correlation=0.3, bias=1.5, dtype=dtype, seed=7)
    ref = fastgd.make_regression(10_000, 6, **kwargs)
    data = fd.make_regression(10_000, 6, chunk_rows=3_000, **kwargs)
    assert data.X.chunks[0] == (3_000, 3_000, 3_000, 1_000)
    X, y = cluster.compute([data.X, data.y], sync=True)
    assert X.dtype == dtype and y.dtype == dtype
    np.testing.assert_array_equal(X, ref.X)
    np.testing.assert_array_equal(y, ref.y)
    np.testing.assert_array_equal(data.coef, ref.coef)
    assert data.intercept == ref.intercept


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("workers", [1, 2])
def test_full_batch_is_bit_identical_to_fit(cluster, dtype, workers):
    n = 5 * ROW_BLOCK + 123
    ref_data = fastgd.make_regression(n, 9, noise=0.3, bias=0.5, dtype=dtype, seed=1)
    data = fd.make_regression(n, 9, noise=0.3, bias=0.5, dtype=dtype, seed=1, chunk_rows=2 * ROW_BLOCK)
    targets = sorted(cluster.scheduler_info()["workers"])[:workers]
    X, y = cluster.persist([data.X, data.y], workers=targets)
    opt = fastgd.Adam(lr=0.05, weight_decay=0.01)
    ref = fastgd.fit(ref_data.X, ref_data.y, optimizer=opt, epochs=6, lr_schedule=fastgd.ExponentialDecay(gamma=0.9))
    res = fd.fit(X, y, optimizer=opt, epochs=6, lr_schedule=fastgd.ExponentialDecay(gamma=0.9), client=cluster)
    assert_same_fit(ref, res)
    assert (res.history["time_s"].diff().iloc[1:] > 0).all()


def test_numpy_input_unaligned_chunks_and_huber(cluster):
    data = fastgd.make_regression(3 * ROW_BLOCK + 7, 4, outliers=0.2, seed=5)
    ref = fastgd.fit(data.X, data.y, loss="huber", delta=0.7, optimizer=fastgd.SGD(lr=0.3, momentum=0.9), epochs=4)
    res = fd.fit(data.X, data.y, loss="huber", delta=0.7, optimizer=fastgd.SGD(lr=0.3, momentum=0.9), epochs=4,
                 client=cluster)  # fmt: skip
    assert_same_fit(ref, res)
    X = da.from_array(data.X, chunks=(1000, 2))  # rows not whole blocks, columns split: rechunked
    y = da.from_array(data.y, chunks=700)
    res = fd.fit(X, y, loss="huber", delta=0.7, optimizer=fastgd.SGD(lr=0.3, momentum=0.9), epochs=4, client=cluster)
    assert_same_fit(ref, res)
    X, y = fd.from_array(data.X, data.y, client=cluster)  # shipped once, persisted on the workers
    held = cluster.who_has(futures_of(X) + futures_of(y))
    assert len(held) == len(X.chunks[0]) + len(y.chunks[0]) and all(held.values())
    assert all(c % ROW_BLOCK == 0 for c in X.chunks[0][:-1]) and y.chunks[0] == X.chunks[0]
    for _ in range(2):  # the same persisted arrays serve fit after fit
        res = fd.fit(X, y, loss="huber", delta=0.7, optimizer=fastgd.SGD(lr=0.3, momentum=0.9), epochs=4,
                     client=cluster)  # fmt: skip
        assert_same_fit(ref, res)


def test_a_client_given_is_used_when_it_is_not_the_default(cluster, monkeypatch):
    """``client=`` must be enough: nothing inside may fall back to ``distributed.default_client()``."""
    import contextvars
    import weakref

    import distributed.client

    data = fastgd.make_regression(2 * ROW_BLOCK, 3, seed=2)
    ref = fastgd.fit(data.X, data.y, optimizer=fastgd.SGD(lr=0.1), epochs=2)
    monkeypatch.setattr(distributed.client, "_global_clients", weakref.WeakValueDictionary())
    monkeypatch.setattr(distributed.client, "_current_client", contextvars.ContextVar("none", default=None))
    with pytest.raises(ValueError, match="No clients found"):
        distributed.default_client()  # no default client from here on
    X, y = fd.from_array(data.X, data.y, client=cluster)
    assert_same_fit(ref, fd.fit(X, y, optimizer=fastgd.SGD(lr=0.1), epochs=2, client=cluster))


def test_memmap_is_read_by_path(cluster, tmp_path):
    data = fastgd.make_regression(2 * ROW_BLOCK + 5, 3, seed=2, path=tmp_path / "d.npy")
    X, y = fd.data.as_dask_pair(data.X, data.y, 2)
    assert not any(isinstance(v, np.ndarray) for v in dict(X.__dask_graph__()).values())
    ref = fastgd.fit(data.X, data.y, optimizer=fastgd.SGD(lr=0.1), epochs=3)
    assert_same_fit(ref, fd.fit(data.X, data.y, optimizer=fastgd.SGD(lr=0.1), epochs=3, client=cluster))


def test_zarr_round_trip(cluster, tmp_path):
    pytest.importorskip("zarr")
    data = fd.make_regression(3 * ROW_BLOCK, 5, seed=4, chunk_rows=ROW_BLOCK)
    fd.save(data, tmp_path / "data.zarr")
    back = fd.load(tmp_path / "data.zarr")
    ref = fastgd.make_regression(3 * ROW_BLOCK, 5, seed=4)
    assert back.X.chunks == data.X.chunks
    np.testing.assert_array_equal(back.X.compute(), ref.X)
    np.testing.assert_array_equal(back.y.compute(), ref.y)
    np.testing.assert_array_equal(back.coef, ref.coef)
    assert back.intercept == ref.intercept
    result = fd.fit(back.X, back.y, optimizer=fastgd.SGD(lr=0.1), epochs=2, client=cluster)
    assert_same_fit(fastgd.fit(ref.X, ref.y, optimizer=fastgd.SGD(lr=0.1), epochs=2), result)


def test_bad_input(cluster):
    X = np.zeros((10, 3))
    with pytest.raises(ValueError, match="X must be a 2-D array"):
        fd.fit(np.zeros(10), np.zeros(10), client=cluster)
    with pytest.raises(ValueError, match="y has length 9"):
        fd.fit(X, np.zeros(9), client=cluster)
    with pytest.raises(ValueError, match="X is empty"):
        fd.fit(np.zeros((0, 3)), np.zeros(0), client=cluster)
    with pytest.raises(ValueError, match="sync"):
        fd.fit(X, np.zeros(10), batch_size=2, sync=0, client=cluster)
    with pytest.raises(ValueError, match="loss"):
        fd.fit(X, np.zeros(10), loss="l3", client=cluster)
    with pytest.raises(ValueError, match="chunk_rows"):
        fd.make_regression(10, 2, chunk_rows=0)
    bad = X.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="X contains NaN"):
        fd.fit(bad, np.zeros(10), client=cluster)


def test_local_sgd_one_worker_in_order_is_fit(cluster):
    data = fastgd.make_regression(ROW_BLOCK + 100, 4, seed=6)
    target = sorted(cluster.scheduler_info()["workers"])[:1]
    X, y = cluster.persist([da.from_array(data.X, chunks=(ROW_BLOCK, 4)), da.from_array(data.y, chunks=ROW_BLOCK)],
                           workers=target)  # fmt: skip
    kwargs = dict(optimizer=fastgd.Adam(lr=0.01), batch_size=32, shuffle=False, epochs=2, record_every=20)
    ref = fastgd.fit(data.X, data.y, **kwargs)
    res = fd.fit(X, y, sync=7, client=cluster, **kwargs)
    assert_same_fit(ref, res, full_batch=False)
    rounds, steps = res.history["round"].to_numpy(), res.history["step"].to_numpy()
    assert rounds[0] == 0 and (np.diff(rounds) > 0).all()
    assert (rounds >= np.ceil(steps / 7)).all()  # rounds of up to 7 steps, some cut short at a record


def test_local_sgd_converges_like_minibatch(cluster):
    data = fd.make_regression(8 * ROW_BLOCK, 5, noise=0.1, seed=8, chunk_rows=4 * ROW_BLOCK)
    res = fd.fit(data.X, data.y, optimizer=fastgd.SGD(lr=0.05), batch_size=16, epochs=3, sync=64, client=cluster)
    assert (4 * ROW_BLOCK // 16) % 64 == 0  # each worker's epoch is whole rounds
    np.testing.assert_array_equal(res.history["round"], res.history["step"] // 64)
    np.testing.assert_array_equal(res.history["epoch"], np.arange(4))
    losses = res.history["loss"].to_numpy()
    assert losses[-1] < 0.02 < losses[0]
    np.testing.assert_allclose(res.coef, data.coef, atol=0.02)
    assert res.history["samples_seen"].iloc[-1] == 3 * 8 * ROW_BLOCK


def _kill_first_worker_at(monkeypatch, trainer_class, at_step):
    original = trainer_class.steps
    killed = []

    def steps(self, first_batch, max_batches):
        if self.step >= at_step and not killed:
            member = self.group.members[0]
            _, pid, _ = member.actor.identity().result()
            os.kill(pid, signal.SIGKILL)
            killed.append(member.address)
        return original(self, first_batch, max_batches)

    monkeypatch.setattr(trainer_class, "steps", steps)
    return killed


@pytest.mark.parametrize("source", ["generated", "from_array"])
def test_worker_killed_in_full_batch_recovers_exactly(cluster, monkeypatch, source):
    ref_data = fastgd.make_regression(4 * ROW_BLOCK, 3, seed=9)
    if source == "generated":
        data = fd.make_regression(4 * ROW_BLOCK, 3, seed=9, chunk_rows=ROW_BLOCK)
        X, y = data.X, data.y
    else:  # persisted from memory: the lost chunks come back from the data the graph holds
        X, y = fd.from_array(ref_data.X, ref_data.y, client=cluster)
    killed = _kill_first_worker_at(monkeypatch, dfit.FullBatchTrainer, 3)
    res = fd.fit(X, y, optimizer=fastgd.SGD(lr=0.2), epochs=6, client=cluster)
    assert killed
    assert_same_fit(fastgd.fit(ref_data.X, ref_data.y, optimizer=fastgd.SGD(lr=0.2), epochs=6), res)


def test_worker_killed_in_local_sgd_is_named(cluster, monkeypatch):
    data = fd.make_regression(4 * ROW_BLOCK, 3, seed=9, chunk_rows=ROW_BLOCK)
    killed = _kill_first_worker_at(monkeypatch, dfit.LocalSGDTrainer, 1)
    with pytest.raises(fd.WorkerLostError, match="lost worker") as info:
        fd.fit(data.X, data.y, batch_size=8, epochs=3, sync=10, client=cluster)
    assert killed and killed[0] in str(info.value)
    assert info.value.workers and killed[0] in info.value.workers[0]
