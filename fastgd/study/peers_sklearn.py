"""The scikit-learn peer: ``SGDRegressor``, one ``partial_fit`` per epoch, as its users run it.

scikit-learn's losses are defined per sample and differ from fastgd's by
constant factors, so the step size is translated to give the *same* update:

=========  ==========================================================  ============
fastgd     ``SGDRegressor``                                            ``eta0``
=========  ==========================================================  ============
``l2``     ``loss="squared_error"`` (value ``r**2 / 2``, slope ``r``)   ``2 * lr``
``l1``     ``loss="epsilon_insensitive", epsilon=0`` (slope sign(r))    ``lr``
``huber``  ``loss="huber", epsilon=delta``                              ``lr``
=========  ==========================================================  ============

with ``penalty=None`` and ``shuffle=True``: each ``partial_fit`` shuffles the
rows with scikit-learn's own generator (a ``RandomState`` seeded once, so
every epoch gets a fresh order, as in ``fit(max_iter=epochs)``) and runs one
epoch of plain per-sample SGD; the shuffle is inside the timed call.
Schedules: ``constant`` and ``invscaling`` are scikit-learn's own
``learning_rate`` options (the same formula, ``eta0 / t**power_t`` with
``t`` from 1); a per-epoch schedule (cosine) sets ``eta0`` before each epoch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["SklearnPeer"]


class SklearnPeer:
    """Per-sample SGD with :class:`sklearn.linear_model.SGDRegressor` (see the module docstring).

    ``shuffle=False`` visits the rows in storage order (for tests against
    :func:`fastgd.fit`); the study always shuffles.
    """

    def __init__(
        self, X: np.ndarray, y: np.ndarray, *, loss: str, delta: float, optimizer: Any, batch_size: int | None,
        schedule: Any, epochs: int, seed: int, shuffle: bool = True,
    ) -> None:  # fmt: skip
        from sklearn.linear_model import SGDRegressor

        if optimizer.name != "sgd" or optimizer.momentum or optimizer.weight_decay or batch_size != 1:
            raise ValueError("the scikit-learn peer runs plain per-sample SGD only")
        self.factor = 2.0 if loss == "l2" else 1.0
        losses: dict[str, dict[str, Any]] = {
            "l2": {"loss": "squared_error"},
            "l1": {"loss": "epsilon_insensitive", "epsilon": 0.0},
            "huber": {"loss": "huber", "epsilon": delta},
        }
        options = losses[loss]
        if schedule.name == "invscaling":
            options |= {"learning_rate": "invscaling", "power_t": schedule.power_t}
        else:
            options |= {"learning_rate": "constant"}
        self.base_lr, self.schedule, self.epochs = float(optimizer.lr), schedule, epochs
        self.model = SGDRegressor(
            penalty=None, eta0=self.factor * self.base_lr, max_iter=1, tol=None, shuffle=shuffle,
            random_state=np.random.RandomState(seed), fit_intercept=True, **options,
        )  # fmt: skip
        self.X, self.y = X, y
        self.n_features = X.shape[1]

    def parameters(self) -> tuple[np.ndarray, float]:
        """Copy of ``(coef, intercept)`` (zeros before the first epoch)."""
        if not hasattr(self.model, "coef_"):
            return np.zeros(self.n_features), 0.0
        return np.array(self.model.coef_, dtype=np.float64), float(self.model.intercept_[0])

    def run_epoch(self, epoch: int) -> None:
        """One ``partial_fit`` pass over the rows, its shuffle included (the timed region)."""
        if self.schedule.name not in ("constant", "invscaling"):
            self.model.eta0 = self.factor * self.schedule.lr_at(self.base_lr, 0, epoch, self.epochs)
        self.model.partial_fit(self.X, self.y)
