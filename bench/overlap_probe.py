"""How much in-core work hides under a one-thread streaming read of ``X`` on this machine.

Usage (from the repository root)::

    flock /tmp/fastgd-cpu.lock python bench/overlap_probe.py [--repeats N] [--rows N]

A fused gradient reads each row of ``X`` from memory and then works on it in
the core (a residual, then a second, cached pass for the gradient).  If that
work overlapped the memory stream perfectly, the kernel would run at the
read's speed.  This probe measures how much of it does.  One thread reads every
row of a float64 ``(rows, 100)`` array, prefetching 1.6 KiB ahead as the
full-pass kernels do, and after each row does ``K`` units of filler work:

* ``register``: ``8 * K`` multiply-adds on values held in registers;
* ``l1-loads``: a vectorised sum of ``8 * K`` elements of a small array that
  stays in the L1 cache;
* ``l1-loads-dependent``: the same, but its window depends on the row just
  read, so it waits for the row's data (as a gradient pass waits for the
  residual);
* ``l1-updates``: ``work[j] += x * work[j + 8]`` over ``8 * K`` elements of
  the small array (loads and stores, as a gradient pass does);
* ``fastgd-l2-gradient``: no filler, but fastgd's own serial fused L2
  loss+gradient (:func:`fastgd.kernels.block_loss_grad`) in place of the read.

For each it prints the read alone; the filler alone (the same kernel over a
2,048-row slice that stays in cache, minus the read of that slice, scaled to
the same number of rows); both together; and the share of the filler's time
hidden under the read, ``(read + filler - together) / filler``: 1 means fully
hidden, 0 added in full, below 0 that the stream itself slowed down.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from functools import partial

import numba
import numpy as np

from fastgd._jit import jit
from fastgd.kernels import LOSSES, block_loss_grad
from fastgd.kernels._prefetch import BLOCK_PREFETCH_BYTES, prefetch_rows, rows_ahead
from fastgd.kernels.probe import _span_sum  # the floor's own vectorised sum of a span

N_FEATURES = 100
CACHED_ROWS = 2048


@jit()
def paced_read(X, filler, k, work):  # type: ignore[no-untyped-def]
    """Read every row of ``X``; after each, ``k`` units of ``filler`` work (0: none; 1-4: see the module doc)."""
    ahead = rows_ahead(X, BLOCK_PREFETCH_BYTES)
    total = 0.0
    a, b = 0.999999, 1e-9
    z0, z1, z2, z3, z4, z5, z6, z7 = 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0
    span = 8 * k
    for i in range(X.shape[0]):
        prefetch_rows(X, i + ahead, i + ahead + 1)
        total += _span_sum(X[i])
        if filler == 1:
            for _ in range(k):  # eight independent multiply-add chains
                z0 = z0 * a + b
                z1 = z1 * a + b
                z2 = z2 * a + b
                z3 = z3 * a + b
                z4 = z4 * a + b
                z5 = z5 * a + b
                z6 = z6 * a + b
                z7 = z7 * a + b
        elif filler == 2:
            start = i & 7  # a row-dependent window, so the sum cannot be hoisted out of the loop
            total += _span_sum(work[start : start + span])
        elif filler == 3:
            start = int(total) & 7  # as 2, but waiting for this row's data, as a gradient pass does
            total += _span_sum(work[start : start + span])
        elif filler == 4:
            scale = X[i, 0]
            for j in range(span):  # read-modify-write of an L1-resident array
                work[j] += scale * work[j + 8]
    return total + ((z0 + z1) + (z2 + z3)) + ((z4 + z5) + (z6 + z7))


def median_seconds(function: Callable[[], object], repeats: int) -> float:
    """Median time of ``repeats`` calls of ``function`` after one untimed call."""
    function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _laps(function, laps, *args):  # type: ignore[no-untyped-def]
    for _ in range(laps):
        function(*args)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    numba.set_num_threads(1)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((args.rows, N_FEATURES))
    y = rng.standard_normal(args.rows)
    coef = 0.1 * rng.standard_normal(N_FEATURES)
    grad_out = np.empty(N_FEATURES + 1)
    cached, y_cached = X[:CACHED_ROWS].copy(), y[:CACHED_ROWS].copy()
    scale = args.rows / CACHED_ROWS
    laps = 50  # in-cache calls per timing, so that each timing lasts milliseconds
    repeats = args.repeats

    def seconds(function, *call_args):  # type: ignore[no-untyped-def]
        return median_seconds(partial(function, *call_args), repeats)

    print(f"one thread, {args.rows} x {N_FEATURES} float64, prefetch {BLOCK_PREFETCH_BYTES} B ahead")
    print("| filler | K | read ms | filler ms | together ms | hidden |")
    print("|---|---|---|---|---|---|")
    cases: list[tuple[str, int, int]] = [("register", 1, k) for k in (8, 16, 32)]
    cases += [("l1-loads", 2, k) for k in (25, 50)] + [("l1-loads-dependent", 3, k) for k in (25, 50)]
    cases += [("l1-updates", 4, k) for k in (12, 25)] + [("fastgd-l2-gradient", -1, 0)]
    loss, zero, one = LOSSES["l2"], np.float64(0.0), np.float64(1.0)
    for name, filler, k in cases:
        work = np.ones(8 * k + 8)
        read = seconds(paced_read, X, 0, 0, work)
        read_cached = seconds(_laps, paced_read, laps, cached, 0, 0, work) * scale / laps
        if filler < 0:
            together = seconds(block_loss_grad, X, y, coef, zero, loss, one, 0, args.rows, grad_out)
            with_cached = seconds(
                _laps, block_loss_grad, laps, cached, y_cached, coef, zero, loss, one, 0, CACHED_ROWS, grad_out
            )
        else:
            together = seconds(paced_read, X, filler, k, work)
            with_cached = seconds(_laps, paced_read, laps, cached, filler, k, work)
        filler_s = max(with_cached * scale / laps - read_cached, 1e-12)
        hidden = (read + filler_s - together) / filler_s
        print(
            f"| {name} | {k or '-'} | {read * 1e3:.1f} | {filler_s * 1e3:.1f} | {together * 1e3:.1f} | {hidden:.2f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
