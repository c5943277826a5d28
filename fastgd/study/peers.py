"""Which peer runs which method, whether it is installed, and how to build it.

A peer is an object with

``prepare_epoch(order)``
    untimed set-up of the next epoch (``order``: the row permutation, or ``None``);
``run_epoch()``
    one pass over the data: the timed region;
``parameters() -> (coef, intercept)``
    untimed copy of the current model.

Applicability (a backend that does not apply to a method is simply not run):

``numpy``
    every method (full batch, mini-batch and per-sample loops, every optimizer);
``sklearn``
    plain per-sample SGD only (``SGDRegressor``);
``torch``
    every method that updates on more than one sample at a time (full batch,
    mini-batch, Adam, ...); per-sample steps in PyTorch are dominated by the
    Python and autograd overhead of each step and are not run.

A peer whose package is not installed is skipped with a note that the CLI
prints and the report shows; it is never replaced by anything else.
"""

from __future__ import annotations

import importlib.util
from typing import Any, Protocol

import numpy as np

from .peers_sklearn import sklearn_applies

__all__ = ["PEERS", "Peer", "backend_applies", "make_peer", "missing_peer_note"]

#: Peer backend -> the importable module it needs.
PEERS: dict[str, str] = {"numpy": "numpy", "sklearn": "sklearn", "torch": "torch"}
_PACKAGES = {"numpy": "numpy", "sklearn": "scikit-learn", "torch": "torch"}


class Peer(Protocol):
    """What the runner needs from a peer."""

    def prepare_epoch(self, order: np.ndarray | None) -> None:
        """Untimed set-up of the next epoch (``order``: row permutation, or ``None``)."""

    def run_epoch(self) -> None:
        """One pass over the data: the timed region."""

    def parameters(self) -> tuple[np.ndarray, float]:
        """Untimed copy of ``(coef, intercept)``."""


def missing_peer_note(backend: str) -> str | None:
    """``None`` when ``backend`` can run here, else the note saying why it is skipped."""
    if backend == "fastgd":
        return None
    module = PEERS[backend]
    if importlib.util.find_spec(module) is None:
        return f"{backend} peer skipped: {_PACKAGES[backend]} is not installed (pip install 'fastgd[peers]')"
    return None


def backend_applies(backend: str, optimizer: Any, batch_size: int | None) -> bool:
    """Whether ``backend`` implements a method with this optimizer and batch size."""
    if backend in ("fastgd", "numpy"):
        return True
    if backend == "sklearn":
        return sklearn_applies(optimizer, batch_size)
    if backend == "torch":
        return batch_size != 1
    raise ValueError(f"unknown backend {backend!r}")


def make_peer(
    backend: str,
    X: np.ndarray,
    y: np.ndarray,
    *,
    loss: str,
    delta: float,
    optimizer: Any,
    batch_size: int | None,
) -> Peer:
    """Build the peer ``backend`` (``numpy``, ``sklearn`` or ``torch``) on ``X, y``."""
    options = {"loss": loss, "delta": delta, "optimizer": optimizer, "batch_size": batch_size}
    if backend == "numpy":
        from .peers_numpy import NumpyPeer

        return NumpyPeer(X, y, **options)
    if backend == "sklearn":
        from .peers_sklearn import SklearnPeer

        return SklearnPeer(X, y, **options)
    if backend == "torch":
        from .peers_torch import TorchPeer

        return TorchPeer(X, y, **options)
    raise ValueError(f"unknown peer backend {backend!r}")
