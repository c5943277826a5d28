"""Every kernel target of issue 11 against the streaming read of ``X``, in one process.

Usage (from the repository root)::

    flock /tmp/fastgd-cpu.lock python bench/floor_table.py [--repeats N] [--quick]

Prints a Markdown table: for 1,000,000 x 100 and 1,000,000 x 10 (200,000 with
``--quick``), float64 and float32, 2 and 1 threads, the medians of the floor
(:func:`fastgd.kernels.stream_read`), the fused L2/L1/Huber loss+gradient,
``full_loss`` and a full-batch epoch; and the in-order Adam epoch with batch 32
on 200,000 x 100 against the 1-thread floor.  The kernels are timed in
interleaved rounds, so the ratios are taken within one run.  It runs on a tree
without ``stream_read`` too (a copy of the same kernel is used), to produce the
"before" column of a comparison.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numba
import numpy as np

import fastgd
from fastgd import kernels
from fastgd.trainer import Trainer

ROW_BLOCK = kernels.ROW_BLOCK
FLAGS = {"reassoc", "contract", "nsz", "arcp"}  # fastgd._jit.FASTMATH


@numba.njit(fastmath=FLAGS, error_model="numpy")
def _span_sum(values):
    total = values.dtype.type(0)
    for k in range(values.shape[0]):
        total += values[k]
    return total


@numba.njit(parallel=True, fastmath=FLAGS, error_model="numpy")
def _stream_read_copy(X, block_sums):
    n, d = X.shape
    flat = X.reshape(n * d)
    for b in numba.prange(block_sums.shape[0]):
        start = b * ROW_BLOCK
        block_sums[b] = _span_sum(flat[start * d : min(start + ROW_BLOCK, n) * d])
    total = 0.0
    for b in range(block_sums.shape[0]):
        total += block_sums[b]
    return total


floor_read = getattr(kernels, "stream_read", _stream_read_copy)


def data(n, d, dtype):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, d)).astype(dtype, copy=False)
    coef = rng.standard_normal(d).astype(dtype)
    y = (X @ coef + rng.standard_normal(n).astype(dtype)).astype(dtype)
    return X, y, coef


def timed(fns, repeats):
    for f in fns.values():
        f()
    times = {k: [] for k in fns}
    for _ in range(repeats):
        for k, f in fns.items():
            t = time.perf_counter()
            f()
            times[k].append(time.perf_counter() - t)
    return {k: statistics.median(v) for k, v in times.items()}


def gradient_cases(n, d, dtype, repeats, rows):
    X, y, coef = data(n, d, dtype)
    cast = np.dtype(dtype).type
    nb = (n + ROW_BLOCK - 1) // ROW_BLOCK
    sums = np.empty(nb)
    grad = np.empty(d + 1, dtype)
    ws = kernels.gradient_workspace(n, d, dtype)
    fns = {"floor": lambda: floor_read(X, sums)}
    for loss in ("l2", "l1", "huber"):
        lo = kernels.LOSSES[loss]
        fns[f"grad-{loss}"] = lambda lo=lo: kernels.full_loss_grad(X, y, coef, cast(0.5), lo, cast(1.0), grad, ws)
    fns["full_loss-l2"] = lambda: kernels.full_loss(X, y, coef, cast(0.5), kernels.LOSSES["l2"], cast(1.0), sums)
    trainer = Trainer(X, y, optimizer=fastgd.SGD(lr=0.01), batch_size=None, shuffle=False, epochs=10**6)
    fns["epoch-full-batch"] = trainer.run_epoch
    for threads in (2, 1):
        numba.set_num_threads(threads)
        med = timed(fns, repeats)
        fl = med["floor"]
        for k, v in med.items():
            ref = f"{v / fl:5.2f}x floor"
            if k == "epoch-full-batch":
                ref += f"  {v / med['grad-l2']:5.2f}x grad-l2"
            rows.append(f"| {n}x{d} | {dtype} | {threads} | {k} | {fl * 1e3:7.2f} | {v * 1e3:7.2f} | {ref} |")
            print(rows[-1], flush=True)


def minibatch_cases(n, d, dtype, repeats, rows):
    X, y, _ = data(n, d, dtype)
    nb = (n + ROW_BLOCK - 1) // ROW_BLOCK
    sums = np.empty(nb)
    trainer = Trainer(X, y, optimizer=fastgd.Adam(lr=0.001), batch_size=32, shuffle=False, epochs=10**6)
    for threads in (2, 1):

        def floor_one_thread(threads=threads):
            numba.set_num_threads(1)
            floor_read(X, sums)
            numba.set_num_threads(threads)

        numba.set_num_threads(threads)
        med = timed({"floor": floor_one_thread, "epoch": trainer.run_epoch}, repeats)
        fl1, v = med["floor"], med["epoch"]
        label, shape = "epoch-adam-b32-inorder", f"{n}x{d}"
        rows.append(
            f"| {shape} | {dtype} | {threads} | {label} | {fl1 * 1e3:7.2f} (1t) | {v * 1e3:7.2f} "
            f"| {v / fl1:5.2f}x 1t floor |"
        )
        print(rows[-1], flush=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--repeats", type=int, default=9)
    p.add_argument("--quick", action="store_true")
    a = p.parse_args()
    rows = ["| shape | dtype | threads | kernel | floor ms | fastgd ms | ratio |", "|---|---|---|---|---|---|---|"]
    print("\n".join(rows))
    big = 200_000 if a.quick else 1_000_000
    for dtype in ("float64", "float32"):
        for d in (100, 10):
            gradient_cases(big, d, dtype, a.repeats, rows)
        minibatch_cases(200_000, 100, dtype, a.repeats, rows)
    print("\n".join(rows))


if __name__ == "__main__":
    main()
