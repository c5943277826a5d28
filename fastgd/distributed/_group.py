"""The driver side of the shards: place them, call them all, notice a lost worker.

:class:`ShardGroup` persists ``X`` and ``y`` once, groups the chunks by the
worker that holds them and starts one :class:`~fastgd.distributed._shard.Shard`
actor per worker with those chunks (no data moves).  :meth:`ShardGroup.call`
sends one method call to every actor and returns their results in global
chunk order, or raises :class:`WorkerLostError` naming the workers that did
not answer; :meth:`ShardGroup.rebuild` waits until the scheduler has
recomputed the lost chunks (from the graph they came from) and starts the
actors again.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from .. import kernels
from ._shard import Shard

__all__ = ["ShardGroup", "WorkerLostError"]


class WorkerLostError(RuntimeError):
    """A worker holding part of the data died (or stopped answering) during a fit.

    Attributes
    ----------
    workers : list of str
        Addresses of the workers lost, each with the rows it held.
    """

    def __init__(self, message: str, workers: list[str]) -> None:
        super().__init__(message)
        self.workers = workers


class _Member:
    """One actor and what it holds."""

    def __init__(self, address: str, actor: Any, chunks: list[int], rows: list[tuple[int, int]]) -> None:
        self.address = address
        self.actor = actor
        self.chunks = chunks
        self.rows = rows

    def describe(self) -> str:
        spans = ", ".join(f"{a}:{b}" for a, b in self.rows)
        return f"{self.address} (rows {spans})"


class ShardGroup:
    """Persisted, aligned ``X``/``y`` and one actor per worker holding them.

    Parameters
    ----------
    client : distributed.Client
    X, y : dask.array.Array
        Row chunks whole multiples of :data:`~fastgd.kernels.ROW_BLOCK` (the
        last may be shorter), one column chunk, same row chunks.
    loss : str
    delta : float
    """

    def __init__(self, client: Any, X: Any, y: Any, loss: str, delta: float) -> None:
        from distributed import wait

        self.client = client
        self.X, self.y = client.persist([X, y])
        wait([self.X, self.y])
        self.loss, self.delta = loss, float(delta)
        rows = np.cumsum((0,) + X.chunks[0])
        self.row_spans = [(int(a), int(b)) for a, b in zip(rows[:-1], rows[1:], strict=True)]
        self.first_blocks = np.cumsum([0] + [int(kernels.n_row_blocks(b - a)) for a, b in self.row_spans]).tolist()
        self.n_blocks = int(self.first_blocks[-1])
        self.members: list[_Member] = []
        self.warm_s: list[float] = []
        self._start()

    def _chunk_futures(self) -> tuple[list[Any], list[Any]]:
        from distributed import futures_of

        x_by_key = {f.key: f for f in futures_of(self.X)}
        y_by_key = {f.key: f for f in futures_of(self.y)}
        x_keys = [row[0] for row in self.X.__dask_keys__()]
        y_keys = list(self.y.__dask_keys__())
        return [x_by_key[k] for k in x_keys], [y_by_key[k] for k in y_keys]

    def _start(self) -> None:
        xs, ys = self._chunk_futures()
        who = self._who_has(xs)
        by_worker: dict[str, list[int]] = {}
        for i, future in enumerate(xs):
            by_worker.setdefault(who[future.key], []).append(i)
        placed = sorted(by_worker.items(), key=lambda item: item[1][0])
        # Every actor is started before any is waited for: one round trip, not one per worker.
        futures = [self._submit_shard(address, chunks, xs, ys) for address, chunks in placed]
        self.members = [
            _Member(address, future.result(), chunks, [self.row_spans[i] for i in chunks])
            for (address, chunks), future in zip(placed, futures, strict=True)
        ]
        self.warm_s = self.call("warm")

    def _submit_shard(self, address: str, chunks: list[int], xs: list[Any], ys: list[Any]) -> Any:
        return self.client.submit(
            Shard, [xs[i] for i in chunks], [ys[i] for i in chunks], [self.first_blocks[i] for i in chunks],
            self.loss, self.delta, actor=True, workers=[address], allow_other_workers=False, pure=False,
        )  # fmt: skip

    def _who_has(self, futures: list[Any], timeout: float = 120.0) -> dict[str, str]:
        """Key -> the one worker holding it, once every chunk is in memory on a live worker."""
        from distributed import wait

        deadline = time.monotonic() + timeout
        while True:
            wait(futures, timeout=max(1.0, deadline - time.monotonic()))
            alive = set(self.client.scheduler_info(n_workers=-1)["workers"])
            who = self.client.who_has(futures)
            holders = {key: [w for w in who.get(key, ()) if w in alive] for key in (f.key for f in futures)}
            if all(holders.values()):
                return {key: sorted(ws)[0] for key, ws in holders.items()}
            if time.monotonic() > deadline:
                raise TimeoutError("the data's chunks did not come back into memory after a worker was lost")
            time.sleep(0.05)

    @property
    def addresses(self) -> list[str]:
        """Worker addresses, in the order of the chunks they hold."""
        return [m.address for m in self.members]

    @property
    def shard_rows(self) -> list[int]:
        """Rows held by each member."""
        return [sum(b - a for a, b in m.rows) for m in self.members]

    def call(self, method: str, *args: Any) -> list[Any]:
        """Call ``method(*args)`` on every actor at once; results in member order.

        Raises
        ------
        WorkerLostError
            Naming every worker whose actor could not be reached.
        """
        futures = [getattr(m.actor, method)(*args) for m in self.members]
        results, lost = [], []
        for member, future in zip(self.members, futures, strict=True):
            try:
                results.append(future.result())
            except OSError as error:  # distributed's CommClosedError is an OSError
                lost.append(f"{member.describe()}: {error}")
        if lost:
            raise WorkerLostError("lost worker(s) during the fit: " + "; ".join(lost), lost)
        return results

    def gather_blocks(self, parts: list[np.ndarray], out: np.ndarray) -> None:
        """Copy each member's per-block arrays into ``out``'s rows for its chunks (global block order)."""
        for member, part in zip(self.members, parts, strict=True):
            lo = 0
            for i in member.chunks:
                a, b = self.first_blocks[i], self.first_blocks[i + 1]
                out[a:b] = part[lo : lo + b - a]
                lo += b - a

    def rebuild(self) -> None:
        """Start the actors again on the live workers, once lost chunks have been recomputed."""
        self._start()

    def close(self) -> None:
        """Drop the actors and the persisted chunks."""
        self.members = []
        self.X = self.y = None
