"""The scikit-learn peer: ``SGDRegressor`` driven one epoch at a time with ``partial_fit``.

scikit-learn's losses are defined per sample and differ from fastgd's by
constant factors, so the step size is translated to give the *same* update:

=========  ==========================================================  ============
fastgd     ``SGDRegressor``                                            ``eta0``
=========  ==========================================================  ============
``l2``     ``loss="squared_error"`` (value ``r**2 / 2``, slope ``r``)   ``2 * lr``
``l1``     ``loss="epsilon_insensitive", epsilon=0`` (slope sign(r))    ``lr``
``huber``  ``loss="huber", epsilon=delta``                              ``lr``
=========  ==========================================================  ============

with ``penalty=None, learning_rate="constant", shuffle=False`` so that one
``partial_fit`` is exactly one epoch of plain per-sample SGD over the rows in
the order given.  The rows are permuted into fastgd's order *before* the timed
call (``partial_fit`` has no way to take an order), so that gather is not timed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["SklearnPeer", "sklearn_applies"]


def sklearn_applies(optimizer: Any, batch_size: int | None) -> bool:
    """True when ``SGDRegressor`` can reproduce the method: plain SGD, one sample per step."""
    return (
        optimizer.name == "sgd"
        and getattr(optimizer, "momentum", 0.0) == 0
        and getattr(optimizer, "weight_decay", 0.0) == 0
        and batch_size == 1
    )


class SklearnPeer:
    """Per-sample SGD with :class:`sklearn.linear_model.SGDRegressor`.

    Parameters
    ----------
    X : ndarray (n_samples, n_features), y : ndarray (n_samples,)
    loss : {"l2", "l1", "huber"}
    delta : float
    optimizer : fastgd ``SGD`` without momentum or weight decay
    batch_size : 1
    """

    def __init__(
        self, X: np.ndarray, y: np.ndarray, *, loss: str, delta: float, optimizer: Any, batch_size: int | None
    ) -> None:
        from sklearn.linear_model import SGDRegressor

        if not sklearn_applies(optimizer, batch_size):
            raise ValueError("the scikit-learn peer runs plain per-sample SGD only")
        lr = optimizer.lr
        if loss == "l2":
            options: dict[str, Any] = {"loss": "squared_error", "eta0": 2.0 * lr}
        elif loss == "l1":
            options = {"loss": "epsilon_insensitive", "epsilon": 0.0, "eta0": lr}
        elif loss == "huber":
            options = {"loss": "huber", "epsilon": delta, "eta0": lr}
        else:
            raise ValueError(f"unknown loss {loss!r}")
        self.model = SGDRegressor(
            penalty=None, learning_rate="constant", max_iter=1, tol=None, shuffle=False, fit_intercept=True, **options
        )
        self.X, self.y = X, y
        self.X_epoch, self.y_epoch = X, y
        self.n_features = X.shape[1]

    def prepare_epoch(self, order: np.ndarray | None) -> None:
        """Gather the rows into the next epoch's order (``None``: natural order).  Not timed."""
        if order is None:
            self.X_epoch, self.y_epoch = self.X, self.y
        else:
            self.X_epoch, self.y_epoch = self.X[order], self.y[order]

    def parameters(self) -> tuple[np.ndarray, float]:
        """Copy of ``(coef, intercept)`` (zeros before the first epoch)."""
        if not hasattr(self.model, "coef_"):
            return np.zeros(self.n_features), 0.0
        return np.array(self.model.coef_, dtype=np.float64), float(self.model.intercept_[0])

    def run_epoch(self) -> None:
        """One ``partial_fit`` pass over the rows (the timed region)."""
        self.model.partial_fit(self.X_epoch, self.y_epoch)
