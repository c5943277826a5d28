"""The NumPy peer: the same updates as fastgd, written the way one would in NumPy.

* full batch: a two-pass gradient, ``r = X @ w + b - y`` then ``X.T @ slope(r) / n``;
* mini-batch: a Python loop over batches (rows gathered with ``X[rows]``);
* per-sample SGD: a Python loop over rows with NumPy dot products;
* every optimizer rule of :mod:`fastgd.optim` transcribed in NumPy from
  PyTorch's definitions (weight decay never touches the intercept);
* the epoch's row permutation is :func:`fastgd.epoch_order`, drawn inside
  the timed :meth:`NumpyPeer.run_epoch`.

The parameters are kept in the data's dtype, as fastgd does.  This module is
a *peer* for the benchmark, not an implementation used by :func:`fastgd.fit`.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import numpy as np

from .. import epoch_order
from .peers import PER_STEP_SCHEDULES

__all__ = ["NumpyOptimizer", "NumpyPeer", "numpy_slope"]


def numpy_slope(residual: np.ndarray, loss: str, delta: float) -> np.ndarray:
    """d(loss)/d(residual) per sample: ``2r``, ``sign(r)`` (sign(0) = 0) or ``clip(r, -delta, delta)``."""
    slope: np.ndarray
    if loss == "l2":
        slope = residual + residual
    elif loss == "l1":
        slope = np.sign(residual)
    elif loss == "huber":
        slope = np.clip(residual, -delta, delta)
    else:
        raise ValueError(f"unknown loss {loss!r}")
    return slope


class NumpyOptimizer:
    """One of fastgd's optimizer rules on a flat NumPy parameter vector.

    Parameters
    ----------
    optimizer : fastgd optimizer
        Its ``name`` selects the rule; its fields are the hyper-parameters.
    n_params : int
        Length of the parameter vector (coefficients then intercept).
    n_decay : int
        Weight decay acts on ``params[:n_decay]`` only.
    dtype : numpy dtype
    """

    def __init__(self, optimizer: Any, n_params: int, n_decay: int, dtype: Any) -> None:
        self.rule = optimizer.name
        self.hyper = {key: value for key, value in asdict(optimizer).items()}
        self.n_decay = n_decay
        self.step_count = 0
        zeros = np.zeros(n_params, dtype=dtype)
        self.first = zeros.copy()
        self.second = zeros.copy()
        self.extra = zeros.copy()
        self.has_buffer = False
        if self.rule == "adagrad":
            self.second[:] = self.hyper["initial_accumulator_value"]

    @property
    def is_plain_sgd(self) -> bool:
        """True for SGD without momentum or weight decay (``params -= lr * grad``)."""
        return bool(self.rule == "sgd" and self.hyper["momentum"] == 0 and self.hyper["weight_decay"] == 0)

    def step(self, params: np.ndarray, grad: np.ndarray, lr: float) -> None:
        """Update ``params`` in place from ``grad`` at rate ``lr`` (``grad`` may be overwritten)."""
        self.step_count += 1
        h, t, nd = self.hyper, self.step_count, self.n_decay
        decay = h.get("weight_decay", 0.0)
        if decay and self.rule != "adamw":
            grad[:nd] += decay * params[:nd]
        if self.rule == "sgd":
            mu = h["momentum"]
            if mu:
                if self.has_buffer:
                    self.first *= mu
                    self.first += (1.0 - h["dampening"]) * grad
                else:
                    self.first[:] = grad
                    self.has_buffer = True
                direction = grad + mu * self.first if h["nesterov"] else self.first
            else:
                direction = grad
            params -= lr * direction
        elif self.rule in ("adam", "adamw"):
            if self.rule == "adamw" and decay:
                params[:nd] *= 1.0 - lr * decay
            beta1, beta2 = h["betas"]
            self.first *= beta1
            self.first += (1.0 - beta1) * grad
            self.second *= beta2
            self.second += (1.0 - beta2) * grad * grad
            second = self.second
            if h["amsgrad"]:
                np.maximum(self.extra, self.second, out=self.extra)
                second = self.extra
            denom = np.sqrt(second) / np.sqrt(1.0 - beta2**t) + h["eps"]
            params -= (lr / (1.0 - beta1**t)) * self.first / denom
        elif self.rule == "rmsprop":
            alpha = h["alpha"]
            self.second *= alpha
            self.second += (1.0 - alpha) * grad * grad
            if h["centered"]:
                self.extra *= alpha
                self.extra += (1.0 - alpha) * grad
                denom = np.sqrt(self.second - self.extra * self.extra) + h["eps"]
            else:
                denom = np.sqrt(self.second) + h["eps"]
            if h["momentum"] > 0:
                self.first *= h["momentum"]
                self.first += grad / denom
                params -= lr * self.first
            else:
                params -= lr * grad / denom
        elif self.rule == "adagrad":
            clr = lr / (1.0 + (t - 1) * h["lr_decay"])
            self.second += grad * grad
            params -= clr * grad / (np.sqrt(self.second) + h["eps"])
        else:
            raise ValueError(f"the NumPy peer has no rule for optimizer {self.rule!r}")


class NumpyPeer:
    """Train a linear model with NumPy only, one epoch per :meth:`run_epoch` call.

    Parameters
    ----------
    X : ndarray (n_samples, n_features), y : ndarray (n_samples,)
    loss : {"l2", "l1", "huber"}
    delta : float
    optimizer : fastgd optimizer
    batch_size : int or None
        ``None`` (or >= n_samples) for full batch, 1 for per-sample SGD.
    schedule : fastgd schedule
    epochs : int
        The run's number of epochs (for the schedule).
    seed : int
        ``fit``'s shuffling seed.
    shuffle : bool
        Visit the rows in :func:`fastgd.epoch_order` (else in storage order).
    """

    def __init__(
        self, X: np.ndarray, y: np.ndarray, *, loss: str, delta: float, optimizer: Any, batch_size: int | None,
        schedule: Any, epochs: int, seed: int, shuffle: bool = True,
    ) -> None:  # fmt: skip
        self.X, self.y = X, y
        n_samples, n_features = X.shape
        self.loss, self.delta = loss, delta
        self.batch_size = None if batch_size is None or batch_size >= n_samples else int(batch_size)
        self.params = np.zeros(n_features + 1, dtype=X.dtype)
        self.optimizer = NumpyOptimizer(optimizer, n_features + 1, n_features, X.dtype)
        self.base_lr, self.schedule, self.epochs = float(optimizer.lr), schedule, epochs
        self.per_step = schedule.name in PER_STEP_SCHEDULES
        self.seed, self.shuffle = seed, shuffle

    def parameters(self) -> tuple[np.ndarray, float]:
        """Copy of ``(coef, intercept)``."""
        return self.params[:-1].copy(), float(self.params[-1])

    def _lr(self, epoch: int) -> float:
        return float(self.schedule.lr_at(self.base_lr, self.optimizer.step_count, epoch, self.epochs))

    def _batch_gradient(self, X: np.ndarray, y: np.ndarray) -> np.ndarray:
        coef = self.params[:-1]
        residual = X @ coef
        residual += self.params[-1] - y
        slope = numpy_slope(residual, self.loss, self.delta)
        grad = np.empty_like(self.params)
        grad[:-1] = X.T @ slope
        grad[-1] = slope.sum()
        grad /= X.shape[0]
        return grad

    def run_epoch(self, epoch: int) -> None:
        """One pass over the data (the timed region), its permutation included."""
        if self.batch_size is None:
            self.optimizer.step(self.params, self._batch_gradient(self.X, self.y), self._lr(epoch))
            return
        n, size = self.X.shape[0], self.batch_size
        order = epoch_order(n, self.seed, epoch) if self.shuffle else None
        if size == 1:
            self._sample_epoch(epoch, order)
            return
        lr = self._lr(epoch)
        rows: slice | np.ndarray
        for start in range(0, n, size):
            rows = slice(start, min(start + size, n)) if order is None else order[start : start + size]
            if self.per_step:
                lr = self._lr(epoch)
            self.optimizer.step(self.params, self._batch_gradient(self.X[rows], self.y[rows]), lr)

    def _sample_epoch(self, epoch: int, order: np.ndarray | None) -> None:
        X, y, params = self.X, self.y, self.params
        coef = params[:-1]
        rows = range(X.shape[0]) if order is None else order.tolist()
        loss, delta = self.loss, self.delta
        if self.optimizer.is_plain_sgd and not self.per_step:
            lr = X.dtype.type(self._lr(epoch))
            self.optimizer.step_count += X.shape[0]
            for i in rows:
                x = X[i]
                r = x @ coef + params[-1] - y[i]
                s = r + r if loss == "l2" else (np.sign(r) if loss == "l1" else np.clip(r, -delta, delta))
                step = lr * s
                coef -= step * x
                params[-1] -= step
            return
        grad = np.empty_like(params)
        lr = self._lr(epoch)
        for i in rows:
            x = X[i]
            r = x @ coef + params[-1] - y[i]
            s = r + r if loss == "l2" else (np.sign(r) if loss == "l1" else np.clip(r, -delta, delta))
            np.multiply(x, s, out=grad[:-1])
            grad[-1] = s
            if self.per_step:
                lr = self._lr(epoch)
            self.optimizer.step(params, grad, lr)
