"""Obviously-correct references for every fastgd kernel (plain NumPy and loops).

Nothing here is fast or clever on purpose: each function transcribes the
documented formula directly, in float64, so that the compiled kernels
(``comp_*`` in the tests) can be compared against it (``ref_*``).
"""

from __future__ import annotations

import math

import numpy as np

# --------------------------------------------------------------------------
# Losses and gradients
# --------------------------------------------------------------------------


def ref_pointwise(loss: str, r: float, delta: float = 1.0) -> tuple[float, float]:
    """Loss value and d(value)/dr of one residual, straight from the definitions."""
    r = float(r)
    if loss == "l2":
        return r * r, 2.0 * r
    if loss == "l1":
        sign = 1.0 if r > 0 else (-1.0 if r < 0 else 0.0)
        return abs(r), sign
    if loss == "huber":
        if abs(r) <= delta:
            return 0.5 * r * r, r
        sign = 1.0 if r > 0 else -1.0
        return delta * (abs(r) - 0.5 * delta), delta * sign
    raise ValueError(loss)


def ref_residuals(X: np.ndarray, y: np.ndarray, coef: np.ndarray, intercept: float) -> np.ndarray:
    """``r_i = sum_j X[i, j] * coef[j] + intercept - y[i]`` with an explicit loop."""
    X = np.asarray(X, dtype=np.float64)
    out = np.empty(X.shape[0])
    for i in range(X.shape[0]):
        acc = 0.0
        for j in range(X.shape[1]):
            acc += X[i, j] * float(coef[j])
        out[i] = acc + float(intercept) - float(y[i])
    return out


def ref_loss_and_grad(
    X: np.ndarray,
    y: np.ndarray,
    coef: np.ndarray,
    intercept: float,
    loss: str = "l2",
    delta: float = 1.0,
    rows: np.ndarray | None = None,
) -> tuple[float, np.ndarray, float]:
    """Mean loss, mean gradient w.r.t. coef and w.r.t. intercept, over ``rows`` (default all)."""
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if rows is not None:
        X, y = X[rows], y[rows]
    r = ref_residuals(X, y, coef, intercept)
    n = X.shape[0]
    total = 0.0
    grad = np.zeros(X.shape[1])
    grad_b = 0.0
    for i in range(n):
        value, slope = ref_pointwise(loss, r[i], delta)
        total += value
        grad += slope * X[i]
        grad_b += slope
    return total / n, grad / n, grad_b / n


def ref_predict(X: np.ndarray, coef: np.ndarray, intercept: float) -> np.ndarray:
    """``X @ coef + intercept`` by loops."""
    return ref_residuals(X, np.zeros(np.asarray(X).shape[0]), coef, intercept)


def ref_numeric_grad(
    f: callable[[np.ndarray], float],  # type: ignore[valid-type]
    params: np.ndarray,
    step: float = 1e-6,
) -> np.ndarray:
    """Central finite differences of ``f`` at ``params``."""
    params = np.asarray(params, dtype=np.float64)
    grad = np.empty_like(params)
    for k in range(params.size):
        h = step * max(1.0, math.fabs(params[k]))
        up, down = params.copy(), params.copy()
        up[k] += h
        down[k] -= h
        grad[k] = (f(up) - f(down)) / (2 * h)
    return grad


# --------------------------------------------------------------------------
# Optimizers and schedules
# --------------------------------------------------------------------------
#
# Each ``ref_<optimizer>`` runs ``len(lrs)`` steps from ``params0``: at step
# ``t = 1, 2, ...`` it evaluates ``grad_fn(params)`` at the current parameters
# and applies the rule with learning rate ``lrs[t - 1]``, decaying only
# ``params[:n_decay]`` (default all).  It returns the trajectory, shape
# ``(len(lrs), n)``: row ``t - 1`` holds the parameters after step ``t``.


def _ref_run(params0, grad_fn, lrs, n_decay, weight_decay, rule):  # type: ignore[no-untyped-def]
    """Shared driver: element ``k`` becomes ``rule(t, lr, g[k], p[k], wd_k, k)``."""
    params = np.array(params0, dtype=np.float64)
    n = params.size
    n_decay = n if n_decay is None else n_decay
    out = []
    for t, lr in enumerate(lrs, start=1):
        grad = np.asarray(grad_fn(params.copy()), dtype=np.float64)
        new = params.copy()
        for k in range(n):
            wd = weight_decay if k < n_decay else 0.0
            new[k] = rule(t, float(lr), float(grad[k]), float(params[k]), wd, k)
        params = new
        out.append(params.copy())
    return np.array(out)


def ref_sgd(params0, grad_fn, lrs, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0, n_decay=None):  # type: ignore[no-untyped-def]
    """SGD: ``g += wd*p``; ``b_1 = g``, ``b_t = mu*b + (1-tau)*g``; ``g = g + mu*b`` (Nesterov) or ``b``.

    Then ``p -= lr*g``.
    """
    buf = np.zeros(np.size(params0))

    def rule(t, lr, g, p, wd, k):  # type: ignore[no-untyped-def]
        g = g + wd * p
        if momentum != 0:
            buf[k] = g if t == 1 else momentum * buf[k] + (1.0 - dampening) * g
            g = g + momentum * buf[k] if nesterov else buf[k]
        return p - lr * g

    return _ref_run(params0, grad_fn, lrs, n_decay, weight_decay, rule)


def ref_adam(
    params0, grad_fn, lrs, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, n_decay=None, decoupled=False
):  # type: ignore[no-untyped-def]
    """Adam (``decoupled=False``) or AdamW (``decoupled=True``), transcribed from the maths.

    ``m = b1*m + (1-b1)*g``, ``v = b2*v + (1-b2)*g**2``, ``vhat = max(vhat, v)``
    (AMSGrad) or ``v``; ``p -= lr/(1-b1**t) * m / (sqrt(vhat)/sqrt(1-b2**t) + eps)``.
    Coupled decay adds ``wd*p`` to ``g``; decoupled decay first sets ``p *= 1 - lr*wd``.
    """
    beta1, beta2 = betas
    n = np.size(params0)
    m, v, vmax = np.zeros(n), np.zeros(n), np.zeros(n)

    def rule(t, lr, g, p, wd, k):  # type: ignore[no-untyped-def]
        if decoupled:
            p = p * (1.0 - lr * wd)
        else:
            g = g + wd * p
        m[k] = beta1 * m[k] + (1.0 - beta1) * g
        v[k] = beta2 * v[k] + (1.0 - beta2) * g * g
        vmax[k] = max(vmax[k], v[k])
        vhat = vmax[k] if amsgrad else v[k]
        denom = math.sqrt(vhat) / math.sqrt(1.0 - beta2**t) + eps
        return p - lr / (1.0 - beta1**t) * m[k] / denom

    return _ref_run(params0, grad_fn, lrs, n_decay, weight_decay, rule)


def ref_adamw(params0, grad_fn, lrs, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, n_decay=None):  # type: ignore[no-untyped-def]
    """AdamW: ``p *= 1 - lr*wd`` (decayed part), then Adam without the penalty term."""
    return ref_adam(params0, grad_fn, lrs, betas, eps, weight_decay, amsgrad, n_decay, decoupled=True)


def ref_rmsprop(
    params0, grad_fn, lrs, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False, n_decay=None
):  # type: ignore[no-untyped-def]
    """RMSprop: ``s = a*s + (1-a)*g**2``; centred ``ga = a*ga + (1-a)*g``,
    ``avg = sqrt(s - ga**2) + eps`` else ``sqrt(s) + eps``; momentum
    ``b = mu*b + g/avg``, ``p -= lr*b``, else ``p -= lr*g/avg``."""
    n = np.size(params0)
    s, ga, buf = np.zeros(n), np.zeros(n), np.zeros(n)

    def rule(t, lr, g, p, wd, k):  # type: ignore[no-untyped-def]
        g = g + wd * p
        s[k] = alpha * s[k] + (1.0 - alpha) * g * g
        if centered:
            ga[k] = alpha * ga[k] + (1.0 - alpha) * g
            avg = math.sqrt(s[k] - ga[k] ** 2) + eps
        else:
            avg = math.sqrt(s[k]) + eps
        if momentum > 0:
            buf[k] = momentum * buf[k] + g / avg
            return p - lr * buf[k]
        return p - lr * g / avg

    return _ref_run(params0, grad_fn, lrs, n_decay, weight_decay, rule)


def ref_adagrad(
    params0, grad_fn, lrs, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10, n_decay=None
):  # type: ignore[no-untyped-def]
    """Adagrad: ``clr = lr/(1 + (t-1)*lr_decay)``; ``S += g**2``; ``p -= clr*g/(sqrt(S) + eps)``."""
    acc = np.full(np.size(params0), float(initial_accumulator_value))

    def rule(t, lr, g, p, wd, k):  # type: ignore[no-untyped-def]
        g = g + wd * p
        clr = lr / (1.0 + (t - 1) * lr_decay)
        acc[k] += g * g
        return p - clr * g / (math.sqrt(acc[k]) + eps)

    return _ref_run(params0, grad_fn, lrs, n_decay, weight_decay, rule)


def ref_lr_constant(base_lr: float, step: int, epoch: int, n_epochs: int) -> float:
    """Constant schedule: ``base_lr``."""
    return float(base_lr)


def ref_lr_inverse_scaling(base_lr: float, step: int, epoch: int, n_epochs: int, power_t: float = 0.25) -> float:
    """scikit-learn's invscaling with a 0-based step index: ``base_lr / (step + 1) ** power_t``."""
    return base_lr / (step + 1) ** power_t


def ref_lr_exponential(base_lr: float, step: int, epoch: int, n_epochs: int, gamma: float) -> float:
    """``base_lr`` multiplied by ``gamma`` once per completed epoch."""
    lr = float(base_lr)
    for _ in range(epoch):
        lr *= gamma
    return lr


def ref_lr_cosine(base_lr: float, step: int, epoch: int, n_epochs: int, eta_min: float = 0.0) -> float:
    """Cosine annealing over ``n_epochs``: ``eta_min + (base_lr - eta_min)(1 + cos(pi*epoch/n_epochs))/2``."""
    return eta_min + (base_lr - eta_min) * (1.0 + math.cos(math.pi * epoch / n_epochs)) / 2.0


# --------------------------------------------------------------------------
# Training loop
# --------------------------------------------------------------------------


def ref_batches(n_samples: int, batch_size: int | None, orders: list[np.ndarray]) -> list[np.ndarray]:
    """Row indices of every batch, epoch after epoch.

    Batches are consecutive slices of each epoch's order (the last one may be
    smaller); ``batch_size=None`` is one batch of all rows per epoch.
    """
    size = n_samples if batch_size is None else batch_size
    return [order[start : start + size] for order in orders for start in range(0, n_samples, size)]


def ref_train(X, y, loss, batches, ref_optimizer, lrs, delta=1.0, **hyper):  # type: ignore[no-untyped-def]
    """Train ``[coef..., intercept]`` from zero with ``ref_optimizer`` over ``batches``.

    Step ``t`` uses the mean gradient of batch ``t`` (from
    :func:`ref_loss_and_grad`) and learning rate ``lrs[t]``; weight decay acts
    on the coefficients only.  Returns the parameter trajectory.
    """
    n_features = X.shape[1]
    batch_iter = iter(batches)

    def grad_fn(params):  # type: ignore[no-untyped-def]
        rows = next(batch_iter)
        _, grad, grad_b = ref_loss_and_grad(X, y, params[:n_features], params[n_features], loss, delta, rows=rows)
        return np.append(grad, grad_b)

    return ref_optimizer(np.zeros(n_features + 1), grad_fn, lrs, n_decay=n_features, **hyper)
