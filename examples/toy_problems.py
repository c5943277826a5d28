"""The seed's two toy problems, minimised by fastgd's optimizer kernels from your own Numba code.

1. ``f(x) = x**3 - 2*x**2 + 2`` from ``x0 = 2``: the local minimum is at ``x = 4/3``
   (``f'(x) = 3*x**2 - 4*x = 0``).
2. ``g(x) = sum_i w_i * (x - b_i)**2``: the minimum is the weighted mean
   ``sum_i w_i * b_i / sum_i w_i``.

The descent loops are plain ``@numba.njit`` functions written here; each step
calls :func:`fastgd.kernels.apply_update`, which runs the update kernel of the
optimizer whose hyper-parameter tuple it is given (``sgd_update`` for
``fastgd.SGD``, ``adam_update`` for ``fastgd.Adam``), in place, allocating
nothing.  Run ``python examples/toy_problems.py --out-dir out`` to write
``toy_problems.png``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # headless: the figure goes to a file
import matplotlib.pyplot as plt
import numba
import numpy as np

import fastgd
from fastgd import kernels


@numba.njit
def cubic(x):
    return x**3 - 2 * x**2 + 2


@numba.njit
def descend_cubic(x0, state, hyper, lr, n_steps):
    """Minimise ``cubic`` from ``x0``; return the iterates ``x_0 .. x_n_steps``."""
    params = np.array([x0])
    grad = np.empty(1)
    path = np.empty(n_steps + 1)
    path[0] = x0
    for step in range(1, n_steps + 1):
        x = params[0]
        grad[0] = 3 * x**2 - 4 * x
        kernels.apply_update(params, grad, state, hyper, step, lr, 1)
        path[step] = params[0]
    return path


@numba.njit
def descend_weighted(weights, targets, x0, state, hyper, lr, n_steps):
    """Minimise ``sum_i w_i (x - b_i)**2`` from ``x0``; return the iterates."""
    params = np.array([x0])
    grad = np.empty(1)
    path = np.empty(n_steps + 1)
    path[0] = x0
    for step in range(1, n_steps + 1):
        total = 0.0
        for i in range(weights.shape[0]):
            total += 2 * weights[i] * (params[0] - targets[i])
        grad[0] = total
        kernels.apply_update(params, grad, state, hyper, step, lr, 1)
        path[step] = params[0]
    return path


def run(optimizer, descend, *args, n_steps):
    """Fresh state and hyper-parameters from the fastgd optimizer, then the user's loop."""
    state = optimizer.init(1)
    return descend(*args, state, optimizer.hyper(), optimizer.lr, n_steps)


def main(out_dir: str | Path | None = None, n_steps: int = 300) -> dict[str, float]:
    """Solve both problems with SGD and Adam; return the final iterates (and plot them if ``out_dir``)."""
    weights = np.array([1.0, 2.0, 3.0, 4.0])
    targets = np.array([-1.0, 0.5, 2.0, 3.0])
    weighted_mean = float(weights @ targets / weights.sum())
    optimizers = {"SGD": fastgd.SGD(lr=0.1), "Adam": fastgd.Adam(lr=0.05)}
    weighted_optimizers = {"SGD": fastgd.SGD(lr=0.02), "Adam": fastgd.Adam(lr=0.1)}
    cubic_paths = {name: run(opt, descend_cubic, 2.0, n_steps=n_steps) for name, opt in optimizers.items()}
    weighted_paths = {
        name: run(opt, descend_weighted, weights, targets, 0.0, n_steps=n_steps)
        for name, opt in weighted_optimizers.items()
    }
    results = {f"cubic_{name.lower()}": float(path[-1]) for name, path in cubic_paths.items()}
    results |= {f"weighted_{name.lower()}": float(path[-1]) for name, path in weighted_paths.items()}
    results["weighted_mean"] = weighted_mean
    for name in optimizers:
        print(
            f"{name:>4}: x^3 - 2x^2 + 2 -> x = {cubic_paths[name][-1]:.6f} (4/3 = {4 / 3:.6f}); "
            f"weighted -> x = {weighted_paths[name][-1]:.6f} (weighted mean = {weighted_mean:.6f})"
        )
    if out_dir is not None:
        results["figure"] = str(plot(cubic_paths, weighted_paths, weights, targets, Path(out_dir)))
    return results


def plot(cubic_paths, weighted_paths, weights, targets, out_dir: Path) -> Path:
    """The iterates on each objective's curve."""
    out_dir.mkdir(parents=True, exist_ok=True)
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    xs = np.linspace(-0.6, 2.3, 300)
    left.plot(xs, cubic(xs), color="black", lw=1, label="f(x) = x³ − 2x² + 2")
    ws = np.linspace(-1.2, 3.2, 300)
    right.plot(ws, ((ws[:, None] - targets) ** 2) @ weights, color="black", lw=1, label="Σ wᵢ (x − bᵢ)²")
    styles = {"SGD": {"marker": "o", "ms": 8, "mfc": "none"}, "Adam": {"marker": "s", "ms": 3}}
    for name, path in cubic_paths.items():
        shown = path[:25]  # the first steps; later ones pile up on the minimum
        left.plot(shown, cubic(shown), ls="none", label=f"{name} iterates", **styles[name])
        shown = weighted_paths[name][:25]
        weighted_values = ((shown[:, None] - targets) ** 2) @ weights
        right.plot(shown, weighted_values, ls="none", label=f"{name} iterates", **styles[name])
    left.axvline(4 / 3, ls=":", color="grey")
    right.axvline(weights @ targets / weights.sum(), ls=":", color="grey")
    left.set(title="Local minimum at x = 4/3", xlabel="x")
    right.set(title="Minimum at the weighted mean", xlabel="x")
    left.legend()
    right.legend()
    fig.tight_layout()
    path = out_dir / "toy_problems.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", default=".", help="where to write toy_problems.png")
    parser.add_argument("--n-steps", type=int, default=300)
    arguments = parser.parse_args()
    main(arguments.out_dir, arguments.n_steps)
