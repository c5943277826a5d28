"""Train on a dataset on disk, through a memory map, without loading it into RAM.

``fastgd.make_regression(..., path="data.npy")`` writes ``X`` and ``y`` chunk
by chunk (memory bounded by one chunk, about 64 MiB) and returns read-only
memory maps of the files.  ``fastgd.fit`` uses a C-contiguous float32/float64
memory map in place: it never copies ``X``, and its compiled loop reads each
row once per pass.  The operating system pages the file in as it is read and
may drop those pages again under memory pressure, so a dataset larger than
RAM trains at the speed of the disk.

Memory is reported two ways while ``fit`` runs (sampled every few
milliseconds from ``/proc/self/status``, Linux):

* **anonymous** memory (``RssAnon``): what the process itself allocated.  Its
  growth during training is a few tens of MiB at most (thread stacks, small
  buffers), whatever the file size: 20 MiB for the default 2 GB file.
* **file-backed** resident pages (``RssFile``): the page cache of the memory
  map, reclaimable by the kernel; it grows up to the file size when RAM allows.

Use ``shuffle=False`` (as here) for data that does not fit in RAM: batches
then stream through the file in order, while a shuffled order reads rows at
random.

The default, ``--n-samples 25000000 --n-features 20``, writes a 2 GB file
(float32); the test runs it with a few thousand rows.  Run
``python examples/memmap_training.py --out-dir /some/disk``; add ``--keep`` to
keep the files.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import threading
import time
from pathlib import Path

import numpy as np

import fastgd


def memory_kib() -> dict[str, int]:
    """Resident anonymous and file-backed memory of this process, in KiB (zeros where unavailable)."""
    fields = {"RssAnon": 0, "RssFile": 0}
    try:
        with open("/proc/self/status") as status:
            for line in status:
                name, _, value = line.partition(":")
                if name in fields:
                    fields[name] = int(value.split()[0])
    except OSError:  # not Linux: fall back to the peak resident set size
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # bytes on macOS, KiB elsewhere
        fields["RssAnon"] = peak // 1024 if sys.platform == "darwin" else peak
    return fields


class PeakMemory:
    """Sample :func:`memory_kib` in a background thread; keep the peaks."""

    def __init__(self, interval_s: float = 0.005) -> None:
        self.interval_s = interval_s
        self.peak = memory_kib()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            for name, value in memory_kib().items():
                self.peak[name] = max(self.peak[name], value)
            time.sleep(self.interval_s)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()
        for name, value in memory_kib().items():
            self.peak[name] = max(self.peak[name], value)


def main(
    out_dir: str | Path = ".",
    n_samples: int = 25_000_000,
    n_features: int = 20,
    batch_size: int = 4096,
    keep: bool = False,
) -> dict[str, float]:
    """Write the dataset to ``out_dir``, train on its memory map; return sizes, memory growth and the error."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    x_path = out_dir / "memmap_X.npy"
    start = time.perf_counter()
    data = fastgd.make_regression(n_samples, n_features, noise=0.1, bias=1.0, dtype=np.float32, seed=4, path=x_path)
    generate_s = time.perf_counter() - start
    y_path = out_dir / "memmap_X_y.npy"
    file_bytes = x_path.stat().st_size + y_path.stat().st_size
    assert isinstance(data.X, np.memmap) and not data.X.flags.writeable  # nothing loaded: a view of the file
    settings = {"optimizer": fastgd.Adam(lr=0.02), "batch_size": batch_size, "epochs": 1, "shuffle": False}
    try:
        # Compile (or load from the on-disk cache) first, so that the JIT's memory is not counted.
        fastgd.fit(data.X[:batch_size], data.y[:batch_size], **settings)
        before = memory_kib()
        start = time.perf_counter()
        with PeakMemory() as peak:
            fit = fastgd.fit(data.X, data.y, **settings)
        train_s = time.perf_counter() - start
        results = {
            "file_mb": file_bytes / 2**20,
            "anon_growth_mb": (peak.peak["RssAnon"] - before["RssAnon"]) / 1024,
            "file_pages_growth_mb": (peak.peak["RssFile"] - before["RssFile"]) / 1024,
            "max_coef_error": float(np.abs(fit.coef - data.coef).max()),
            "intercept_error": abs(fit.intercept - data.intercept),
            "generate_s": generate_s,
            "train_s": train_s,
        }
    finally:
        del data
        if not keep:
            for path in (x_path, y_path):
                os.remove(path)
    print(
        f"{n_samples:,} x {n_features} float32 on disk: {results['file_mb']:,.1f} MiB, written in {generate_s:.1f} s\n"
        f"one epoch of mini-batch Adam from the memory map in {train_s:.1f} s\n"
        f"peak growth while training: anonymous memory {results['anon_growth_mb']:,.1f} MiB, "
        f"file-backed pages (page cache) {results['file_pages_growth_mb']:,.1f} MiB\n"
        f"largest coefficient error {results['max_coef_error']:.4f}, intercept error {results['intercept_error']:.4f}"
    )
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", default=".", help="directory for the .npy files (needs the disk space)")
    parser.add_argument("--n-samples", type=int, default=25_000_000)
    parser.add_argument("--n-features", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=4096)
    parser.add_argument("--keep", action="store_true", help="keep the data files")
    arguments = parser.parse_args()
    main(arguments.out_dir, arguments.n_samples, arguments.n_features, arguments.batch_size, arguments.keep)
