"""The peers: the same methods written with NumPy, scikit-learn and PyTorch, as their users would.

A peer (:class:`Peer`) is built on ``(X, y)`` with a run's loss, fastgd optimizer and schedule;
``run_epoch(epoch)`` is one pass over the data, **the timed region**, the row permutation included;
``parameters()`` an untimed copy of ``(coef, intercept)``.  The NumPy and PyTorch peers visit each
epoch's rows in :func:`fastgd.epoch_order` (the permutation ``fastgd.fit`` draws), so their
trajectories match fastgd's step for step.  A per-epoch schedule (cosine) sets the rate at the start
of each epoch, a per-step one (invscaling) before every step.  A peer whose package is not
installed is skipped with a note, never replaced.

* **NumPy** (:class:`NumpyPeer`): full batch is a two-pass gradient, ``r = X @ w + b - y`` then
  ``X.T @ slope(r) / n``; mini-batch a Python loop over batches (rows gathered with ``X[rows]``);
  per-sample SGD a Python loop over rows with NumPy dot products.  Every optimizer rule of
  :mod:`fastgd.optim` is transcribed from PyTorch's definitions (weight decay never touches the
  intercept); the parameters are kept in the data's dtype, as fastgd does.
* **PyTorch** (:class:`TorchPeer`): real ``torch.optim`` optimizers and ``nn.MSELoss`` /
  ``L1Loss`` / ``HuberLoss`` (mean reduction) on two leaf tensors in the data's dtype (``X`` shared
  with NumPy, not copied), the intercept in its own parameter group with ``weight_decay=0``.
* **scikit-learn** (:class:`SklearnPeer`): ``SGDRegressor`` (plain per-sample SGD), one
  ``partial_fit`` per epoch, as its users run it: ``shuffle=True`` with its own ``RandomState``
  seeded once (a fresh order every epoch, as ``fit(max_iter=epochs)``), the shuffle inside the
  timed call; ``penalty=None``.  Its losses differ from fastgd's by constant factors, so the step
  is translated to give the same update:

  =========  ==========================================================  ============
  fastgd     ``SGDRegressor``                                            ``eta0``
  =========  ==========================================================  ============
  ``l2``     ``loss="squared_error"`` (value ``r**2 / 2``, slope ``r``)   ``2 * lr``
  ``l1``     ``loss="epsilon_insensitive", epsilon=0`` (slope sign(r))    ``lr``
  ``huber``  ``loss="huber", epsilon=delta``                              ``lr``
  =========  ==========================================================  ============

  ``constant`` and ``invscaling`` are scikit-learn's own ``learning_rate`` options (the same
  formula, ``eta0 / t**power_t`` with ``t`` from 1); a per-epoch schedule sets ``eta0`` per epoch.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import numpy as np

from .. import epoch_order

__all__ = ["PER_STEP_SCHEDULES", "NumpyOptimizer", "NumpyPeer", "Peer", "SklearnPeer", "TorchPeer", "make_peer"]

#: Schedules whose rate changes at every step (the others change once per epoch).
PER_STEP_SCHEDULES = frozenset({"invscaling"})
#: fastgd optimizer name -> ``torch.optim`` class name.
TORCH_OPTIMIZERS = {"sgd": "SGD", "adam": "Adam", "adamw": "AdamW", "rmsprop": "RMSprop", "adagrad": "Adagrad"}


class Peer:
    """A peer's common state; subclasses implement ``run_epoch`` and ``parameters``.

    ``loss`` is ``"l2"``, ``"l1"`` or ``"huber"`` (threshold ``delta``), ``optimizer`` and ``schedule``
    fastgd's objects, ``batch_size`` ``None`` (or >= n_samples) for full batch and 1 for per-sample
    SGD, ``epochs`` the run's (for the schedule), ``seed`` ``fit``'s shuffling seed, and ``shuffle``
    visits the rows in :func:`fastgd.epoch_order` (else in storage order).
    """

    def __init__(
        self, X: np.ndarray, y: np.ndarray, *, loss: str, delta: float, optimizer: Any, batch_size: int | None,
        schedule: Any, epochs: int, seed: int, shuffle: bool = True,
    ) -> None:  # fmt: skip
        self.X: Any = X  # the PyTorch peer holds tensors
        self.y: Any = y
        self.loss, self.delta = loss, delta
        self.n_samples = X.shape[0]
        self.batch_size = None if batch_size is None or batch_size >= self.n_samples else int(batch_size)
        self.base_lr, self.schedule, self.epochs = float(optimizer.lr), schedule, epochs
        self.per_step = schedule.name in PER_STEP_SCHEDULES
        self.seed, self.shuffle = seed, shuffle

    def _lr(self, epoch: int, step: int) -> float:
        return float(self.schedule.lr_at(self.base_lr, step, epoch, self.epochs))

    def _order(self, epoch: int) -> np.ndarray | None:
        """The epoch's row order (``None``: storage order), drawn inside the timed region."""
        return epoch_order(self.n_samples, self.seed, epoch) if self.shuffle else None

    def run_epoch(self, epoch: int) -> None:
        """One pass over the data (0-based ``epoch``): the timed region, its permutation included."""
        raise NotImplementedError

    def parameters(self) -> tuple[np.ndarray, float]:
        """Untimed copy of ``(coef, intercept)``."""
        raise NotImplementedError


def make_peer(backend: str, X: np.ndarray, y: np.ndarray, **options: Any) -> Peer:
    """Build the peer ``backend`` (``numpy``, ``sklearn`` or ``torch``) on ``X, y`` (``options``: see :class:`Peer`)."""
    peers: dict[str, type[Peer]] = {"numpy": NumpyPeer, "sklearn": SklearnPeer, "torch": TorchPeer}
    if backend not in peers:
        raise ValueError(f"unknown peer backend {backend!r}")
    return peers[backend](X, y, **options)


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
    """One of fastgd's optimizer rules (``optimizer.name``; its fields are the hyper-parameters) in NumPy.

    The parameter vector holds ``n_params`` values (coefficients, then intercept); weight decay acts
    on ``params[:n_decay]`` only.
    """

    def __init__(self, optimizer: Any, n_params: int, n_decay: int, dtype: Any) -> None:
        self.rule = optimizer.name
        self.hyper = asdict(optimizer)
        self.n_decay = n_decay
        self.step_count = 0
        self.first, self.second, self.extra = (np.zeros(n_params, dtype=dtype) for _ in range(3))
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


class NumpyPeer(Peer):
    """Train a linear model with NumPy only, one epoch per :meth:`run_epoch` call (see :class:`Peer`)."""

    def __init__(self, X: np.ndarray, y: np.ndarray, **options: Any) -> None:
        super().__init__(X, y, **options)
        n_features = X.shape[1]
        self.params = np.zeros(n_features + 1, dtype=X.dtype)
        self.optimizer = NumpyOptimizer(options["optimizer"], n_features + 1, n_features, X.dtype)

    def parameters(self) -> tuple[np.ndarray, float]:
        """Copy of ``(coef, intercept)``."""
        return self.params[:-1].copy(), float(self.params[-1])

    def _batch_gradient(self, X: np.ndarray, y: np.ndarray) -> np.ndarray:
        residual = X @ self.params[:-1]
        residual += self.params[-1] - y
        slope = numpy_slope(residual, self.loss, self.delta)
        grad = np.empty_like(self.params)
        grad[:-1] = X.T @ slope
        grad[-1] = slope.sum()
        grad /= X.shape[0]
        return grad

    def run_epoch(self, epoch: int) -> None:
        """One pass over the data (the timed region), its permutation included."""
        optimizer = self.optimizer
        if self.batch_size is None:
            optimizer.step(self.params, self._batch_gradient(self.X, self.y), self._lr(epoch, optimizer.step_count))
            return
        n, size = self.n_samples, self.batch_size
        order = self._order(epoch)
        if size == 1:
            self._sample_epoch(epoch, order)
            return
        lr = self._lr(epoch, optimizer.step_count)
        rows: slice | np.ndarray
        for start in range(0, n, size):
            rows = slice(start, min(start + size, n)) if order is None else order[start : start + size]
            if self.per_step:
                lr = self._lr(epoch, optimizer.step_count)
            optimizer.step(self.params, self._batch_gradient(self.X[rows], self.y[rows]), lr)

    def _sample_epoch(self, epoch: int, order: np.ndarray | None) -> None:
        X, y, params, optimizer = self.X, self.y, self.params, self.optimizer
        coef = params[:-1]
        rows = range(X.shape[0]) if order is None else order.tolist()
        loss, delta = self.loss, self.delta
        if optimizer.is_plain_sgd and not self.per_step:
            lr = X.dtype.type(self._lr(epoch, optimizer.step_count))
            optimizer.step_count += X.shape[0]
            for i in rows:
                x = X[i]
                r = x @ coef + params[-1] - y[i]
                s = r + r if loss == "l2" else (np.sign(r) if loss == "l1" else np.clip(r, -delta, delta))
                step = lr * s
                coef -= step * x
                params[-1] -= step
            return
        grad = np.empty_like(params)
        lr = self._lr(epoch, optimizer.step_count)
        for i in rows:
            x = X[i]
            r = x @ coef + params[-1] - y[i]
            s = r + r if loss == "l2" else (np.sign(r) if loss == "l1" else np.clip(r, -delta, delta))
            np.multiply(x, s, out=grad[:-1])
            grad[-1] = s
            if self.per_step:
                lr = self._lr(epoch, optimizer.step_count)
            optimizer.step(params, grad, lr)


class TorchPeer(Peer):
    """Train a linear model with ``torch.optim``, one epoch per :meth:`run_epoch` call (see :class:`Peer`)."""

    def __init__(self, X: np.ndarray, y: np.ndarray, **options: Any) -> None:
        import torch

        super().__init__(X, y, **options)
        self.torch = torch
        self.X = torch.from_numpy(np.ascontiguousarray(X))
        self.y = torch.from_numpy(np.ascontiguousarray(y))
        self.coef = torch.zeros(X.shape[1], dtype=self.X.dtype, requires_grad=True)
        self.intercept = torch.zeros((), dtype=self.X.dtype, requires_grad=True)
        optimizer = options["optimizer"]
        hyper = asdict(optimizer)
        groups: list[dict[str, Any]] = [{"params": [self.coef]}, {"params": [self.intercept]}]
        if "weight_decay" in hyper:
            groups[1]["weight_decay"] = 0.0
        self.optimizer = getattr(torch.optim, TORCH_OPTIMIZERS[optimizer.name])(groups, **hyper)
        criteria = {"l2": torch.nn.MSELoss(), "l1": torch.nn.L1Loss(), "huber": torch.nn.HuberLoss(delta=self.delta)}
        self.criterion = criteria[self.loss]
        self.step_count = 0

    def _set_lr(self, epoch: int) -> None:
        lr = self._lr(epoch, self.step_count)
        for group in self.optimizer.param_groups:
            group["lr"] = lr

    def parameters(self) -> tuple[np.ndarray, float]:
        """Copy of ``(coef, intercept)`` as NumPy."""
        with self.torch.no_grad():
            return self.coef.detach().numpy().copy(), float(self.intercept.item())

    def run_epoch(self, epoch: int) -> None:
        """One pass over the data (the timed region), its permutation included."""
        X, y, size = self.X, self.y, self.batch_size or self.n_samples
        order = None if self.batch_size is None or not self.shuffle else self.torch.from_numpy(self._order(epoch))
        self._set_lr(epoch)
        for start in range(0, self.n_samples, size):
            if self.per_step:
                self._set_lr(epoch)
            if order is None:
                X_batch, y_batch = X[start : start + size], y[start : start + size]
            else:
                rows = order[start : start + size]
                X_batch, y_batch = X.index_select(0, rows), y.index_select(0, rows)
            self.optimizer.zero_grad(set_to_none=True)
            self.criterion(X_batch @ self.coef + self.intercept, y_batch).backward()
            self.optimizer.step()
            self.step_count += 1


class SklearnPeer(Peer):
    """Per-sample SGD with :class:`sklearn.linear_model.SGDRegressor` (see the module docstring)."""

    def __init__(self, X: np.ndarray, y: np.ndarray, **options: Any) -> None:
        from sklearn.linear_model import SGDRegressor

        super().__init__(X, y, **options)
        optimizer = options["optimizer"]
        if optimizer.name != "sgd" or optimizer.momentum or optimizer.weight_decay or options["batch_size"] != 1:
            raise ValueError("the scikit-learn peer runs plain per-sample SGD only")
        self.factor = 2.0 if self.loss == "l2" else 1.0
        losses: dict[str, dict[str, Any]] = {
            "l2": {"loss": "squared_error"},
            "l1": {"loss": "epsilon_insensitive", "epsilon": 0.0},
            "huber": {"loss": "huber", "epsilon": self.delta},
        }
        rate = {"learning_rate": "constant"}
        if self.schedule.name == "invscaling":
            rate = {"learning_rate": "invscaling", "power_t": self.schedule.power_t}
        self.model = SGDRegressor(
            penalty=None, eta0=self.factor * self.base_lr, max_iter=1, tol=None, shuffle=self.shuffle,
            random_state=np.random.RandomState(self.seed), fit_intercept=True, **losses[self.loss], **rate,
        )  # fmt: skip

    def parameters(self) -> tuple[np.ndarray, float]:
        """Copy of ``(coef, intercept)`` (zeros before the first epoch)."""
        if not hasattr(self.model, "coef_"):
            return np.zeros(self.X.shape[1]), 0.0
        return np.array(self.model.coef_, dtype=np.float64), float(self.model.intercept_[0])

    def run_epoch(self, epoch: int) -> None:
        """One ``partial_fit`` pass over the rows, its shuffle included (the timed region)."""
        if self.schedule.name not in ("constant", "invscaling"):
            self.model.eta0 = self.factor * self._lr(epoch, 0)
        self.model.partial_fit(self.X, self.y)
