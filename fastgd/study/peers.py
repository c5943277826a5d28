"""The peers: the same methods written with NumPy, scikit-learn and PyTorch, as their users would.

A peer is built on ``(X, y)`` with a loss, a fastgd optimizer (its rule and
hyper-parameters), a batch size (``None``: full batch), a fastgd schedule,
the run's number of epochs, the shuffling seed and ``shuffle``; then

``run_epoch(epoch)``
    one pass over the data: **the timed region**.  It includes everything the
    epoch costs, the row permutation too;
``parameters() -> (coef, intercept)``
    an untimed copy of the current model.

Row order: the NumPy and PyTorch peers visit the rows of each epoch in
:func:`fastgd.epoch_order` (the permutation ``fastgd.fit`` draws, computed
inside the timed region), so their trajectories can be compared with
fastgd's step for step.  scikit-learn's ``SGDRegressor`` is run as its users
run it: ``shuffle=True`` with its own generator, one ``partial_fit`` per epoch.

Learning-rate schedules: a per-epoch schedule (cosine) sets the rate at the
start of each epoch; a per-step one (invscaling) sets it before every step
(scikit-learn's own ``learning_rate="invscaling"`` is the same formula).
A peer whose package is not installed is skipped with a note, never replaced.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

__all__ = ["PER_STEP_SCHEDULES", "Peer", "make_peer"]

#: Schedules whose rate changes at every step (the others change once per epoch).
PER_STEP_SCHEDULES = frozenset({"invscaling"})


class Peer(Protocol):
    """What the runner needs from a peer."""

    def run_epoch(self, epoch: int) -> None:
        """One pass over the data (0-based ``epoch``): the timed region."""

    def parameters(self) -> tuple[np.ndarray, float]:
        """Untimed copy of ``(coef, intercept)``."""


def make_peer(backend: str, X: np.ndarray, y: np.ndarray, **options: Any) -> Peer:
    """Build the peer ``backend`` (``numpy``, ``sklearn`` or ``torch``) on ``X, y``.

    ``options``: ``loss``, ``delta``, ``optimizer``, ``batch_size``,
    ``schedule``, ``epochs``, ``seed``, ``shuffle`` (see the module docstring).
    """
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
