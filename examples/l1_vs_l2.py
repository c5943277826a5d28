"""L1 against L2 regression on data with outliers, both trained by ``fastgd.fit``.

A fifth of the targets get an extra error of standard deviation 30
(``fastgd.make_regression(..., outliers=0.2, outlier_scale=30)``).  The L2 loss
(mean squared error) lets those rows pull every coefficient; the L1 loss
(mean absolute error, a median regression) mostly ignores them.  Both fits
use mini-batch Adam with a cosine-annealed learning rate, so the last epochs
take small steps and the L1 subgradient noise settles.

Run ``python examples/l1_vs_l2.py --out-dir out`` to print the coefficient
errors and write ``l1_vs_l2.png``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # headless: the figure goes to a file
import matplotlib.pyplot as plt
import numpy as np

import fastgd


def main(
    out_dir: str | Path | None = None, n_samples: int = 50_000, n_features: int = 8, epochs: int = 15
) -> dict[str, float]:
    """Fit both losses; return the RMS and largest coefficient error of each."""
    data = fastgd.make_regression(n_samples, n_features, noise=1.0, outliers=0.2, outlier_scale=30.0, seed=2)
    optimizer, batch_size = fastgd.method("adam", lr=0.05)
    fits = {
        loss: fastgd.fit(
            data.X, data.y, loss=loss, optimizer=optimizer, batch_size=batch_size, epochs=epochs,
            lr_schedule=fastgd.CosineAnnealing(), seed=0,
        )
        for loss in ("l1", "l2")
    }  # fmt: skip
    results: dict[str, float] = {}
    for loss, fit in fits.items():
        error = fit.coef - data.coef
        results[f"{loss}_rms_error"] = float(np.sqrt(np.mean(error**2)))
        results[f"{loss}_max_error"] = float(np.abs(error).max())
        print(
            f"{loss.upper()}: RMS coefficient error {results[f'{loss}_rms_error']:.4f}, "
            f"largest {results[f'{loss}_max_error']:.4f} ({fit.n_epochs} epochs, {fit.n_steps} steps)"
        )
    if out_dir is not None:
        results["figure"] = str(plot(fits, data.coef, Path(out_dir)))
    return results


def plot(fits, true_coef, out_dir: Path) -> Path:
    """Estimated against true coefficients, and the error of each."""
    out_dir.mkdir(parents=True, exist_ok=True)
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    bounds = [true_coef.min() - 0.3, true_coef.max() + 0.3]
    left.plot(bounds, bounds, color="grey", lw=1, ls=":", label="estimate = truth")
    positions = np.arange(true_coef.size)
    for offset, (loss, fit) in zip((-0.2, 0.2), fits.items(), strict=True):
        left.plot(true_coef, fit.coef, "o", label=loss.upper())
        right.bar(positions + offset, np.abs(fit.coef - true_coef), width=0.4, label=loss.upper())
    left.set(title="Coefficients", xlabel="true", ylabel="estimated")
    right.set(title="|estimate − truth| (20% outliers)", xlabel="feature", yscale="log")
    left.legend()
    right.legend()
    fig.tight_layout()
    path = out_dir / "l1_vs_l2.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", default=".", help="where to write l1_vs_l2.png")
    parser.add_argument("--n-samples", type=int, default=50_000)
    parser.add_argument("--epochs", type=int, default=15)
    arguments = parser.parse_args()
    main(arguments.out_dir, n_samples=arguments.n_samples, epochs=arguments.epochs)
