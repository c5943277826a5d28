"""The PyTorch peer: real ``torch.optim`` optimizers and ``torch.nn`` losses.

Coefficients and intercept are two leaf tensors in the data's dtype (float64
data gives ``torch.float64``), the intercept in its own parameter group with
``weight_decay=0`` (fastgd's convention: weight decay never touches the
intercept).  Each step is ``zero_grad``, ``criterion(X_b @ w + b, y_b)``
with ``nn.MSELoss``/``L1Loss``/``HuberLoss`` (mean reduction),
``backward`` and ``optimizer.step()``, over mini-batches of the same size and
order as fastgd's (:func:`fastgd.epoch_order`, drawn inside the timed epoch).
A schedule sets each parameter group's ``lr`` at the start of every epoch
(cosine) or before every step (invscaling), as a ``LambdaLR`` would.
``X`` is shared with NumPy (``torch.from_numpy``), not copied.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import numpy as np

from .. import epoch_order
from .peers import PER_STEP_SCHEDULES

__all__ = ["TORCH_OPTIMIZERS", "TorchPeer"]

#: fastgd optimizer name -> ``torch.optim`` class name.
TORCH_OPTIMIZERS = {"sgd": "SGD", "adam": "Adam", "adamw": "AdamW", "rmsprop": "RMSprop", "adagrad": "Adagrad"}


class TorchPeer:
    """Train a linear model with ``torch.optim``, one epoch per :meth:`run_epoch` call.

    Parameters
    ----------
    X : ndarray (n_samples, n_features), y : ndarray (n_samples,)
    loss : {"l2", "l1", "huber"}
    delta : float
    optimizer : fastgd optimizer
        Rule and hyper-parameters, passed to the ``torch.optim`` class of the same name.
    batch_size : int or None
        ``None`` (or >= n_samples) for full batch.
    schedule : fastgd schedule
    epochs : int
    seed : int
    shuffle : bool
        Visit the rows in :func:`fastgd.epoch_order` (else in storage order).
    """

    def __init__(
        self, X: np.ndarray, y: np.ndarray, *, loss: str, delta: float, optimizer: Any, batch_size: int | None,
        schedule: Any, epochs: int, seed: int, shuffle: bool = True,
    ) -> None:  # fmt: skip
        import torch

        self.torch = torch
        self.X = torch.from_numpy(np.ascontiguousarray(X))
        self.y = torch.from_numpy(np.ascontiguousarray(y))
        n_samples, n_features = X.shape
        self.n_samples = n_samples
        self.batch_size = n_samples if batch_size is None else min(int(batch_size), n_samples)
        self.coef = torch.zeros(n_features, dtype=self.X.dtype, requires_grad=True)
        self.intercept = torch.zeros((), dtype=self.X.dtype, requires_grad=True)
        hyper = asdict(optimizer)
        groups: list[dict[str, Any]] = [{"params": [self.coef]}, {"params": [self.intercept]}]
        if "weight_decay" in hyper:
            groups[1]["weight_decay"] = 0.0
        optimizer_class = getattr(torch.optim, TORCH_OPTIMIZERS[optimizer.name])
        self.optimizer = optimizer_class(groups, **hyper)
        self.criterion: torch.nn.Module
        if loss == "l2":
            self.criterion = torch.nn.MSELoss()
        elif loss == "l1":
            self.criterion = torch.nn.L1Loss()
        elif loss == "huber":
            self.criterion = torch.nn.HuberLoss(delta=delta)
        else:
            raise ValueError(f"unknown loss {loss!r}")
        self.base_lr, self.schedule, self.epochs = float(optimizer.lr), schedule, epochs
        self.per_step = schedule.name in PER_STEP_SCHEDULES
        self.seed, self.shuffle, self.step_count = seed, shuffle, 0

    def _set_lr(self, epoch: int) -> None:
        lr = self.schedule.lr_at(self.base_lr, self.step_count, epoch, self.epochs)
        for group in self.optimizer.param_groups:
            group["lr"] = lr

    def parameters(self) -> tuple[np.ndarray, float]:
        """Copy of ``(coef, intercept)`` as NumPy."""
        with self.torch.no_grad():
            return self.coef.detach().numpy().copy(), float(self.intercept.item())

    def run_epoch(self, epoch: int) -> None:
        """One pass over the data (the timed region), its permutation included."""
        X, y, size = self.X, self.y, self.batch_size
        full = size >= self.n_samples
        order = None
        if self.shuffle and not full:
            order = self.torch.from_numpy(epoch_order(self.n_samples, self.seed, epoch))
        self._set_lr(epoch)
        for start in range(0, self.n_samples, size):
            if self.per_step:
                self._set_lr(epoch)
            if full or order is None:
                X_batch, y_batch = X[start : start + size], y[start : start + size]
            else:
                rows = order[start : start + size]
                X_batch, y_batch = X.index_select(0, rows), y.index_select(0, rows)
            self.optimizer.zero_grad(set_to_none=True)
            objective = self.criterion(X_batch @ self.coef + self.intercept, y_batch)
            objective.backward()
            self.optimizer.step()
            self.step_count += 1
