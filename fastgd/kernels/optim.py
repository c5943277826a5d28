r"""Optimizer step kernels: one in-place parameter update per call.

Every optimizer is three things here:

* a **state** ``NamedTuple`` of 1-D arrays (buffers that a configuration does
  not use are length-0 arrays, so the state's Numba type never depends on the
  hyper-parameters' values);
* a **hyper-parameter** ``NamedTuple`` of scalars in the parameters' dtype (and
  Python ``bool`` flags);
* a compiled **update kernel** with the common signature::

      <name>_update(params, grad, state, hyper, step, lr, n_decay) -> None

  ``params`` and ``state`` are updated **in place**; nothing is allocated.

Arguments of every update kernel:

``params`` : ndarray (n,), float32 or float64
    Flat parameter vector, e.g. ``[coef..., intercept]``.  **Overwritten.**
``grad`` : ndarray (n,), same dtype
    Gradient of the loss at ``params``.  Read only.
``state`` : the optimizer's state tuple, same dtype.  **Overwritten.**
``hyper`` : the optimizer's hyper-parameter tuple, values in the same dtype.
``step`` : int
    1-based number of this update (PyTorch's ``state["step"]`` after its
    increment): 1 for the first call.
``lr`` : float
    Learning rate in force for this step (a schedule may change it every step).
``n_decay`` : int
    Weight decay applies to ``params[:n_decay]`` only; every other part of the
    rule applies to all elements.  The training loop passes
    ``n_decay = n_features`` so that the intercept (stored last) is never
    decayed, as in scikit-learn; pass ``len(params)`` to decay everything.

:func:`apply_update` takes the same arguments and runs the kernel that the
class of ``hyper`` belongs to (resolved at compile time inside ``@njit``
code), so a generic loop need not take the kernel as a function argument and
can be cached on disk.

The rules are PyTorch's single-tensor ``torch.optim`` implementations,
transcribed operation by operation (including ``lerp``'s two-branch formula),
so float64 trajectories agree with PyTorch to rounding.  The per-step scalars
(bias corrections, decayed learning rates) are computed in float64 and cast
once to the parameters' dtype, so float32 parameters, gradients and state stay
float32 in the element loops.  The user-facing descriptions, with each rule
written as maths, are in :mod:`fastgd.optim`.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from numba import types
from numba.extending import overload

from .._jit import jit

__all__ = [
    "AdagradHyper",
    "AdagradState",
    "AdamHyper",
    "AdamState",
    "AdamWHyper",
    "RMSpropHyper",
    "RMSpropState",
    "SGDHyper",
    "SGDState",
    "adagrad_update",
    "adam_update",
    "adamw_update",
    "apply_update",
    "rmsprop_update",
    "sgd_update",
]


# --------------------------------------------------------------------------
# State and hyper-parameter tuples
# --------------------------------------------------------------------------


class SGDState(NamedTuple):
    """State of :func:`sgd_update`."""

    #: Momentum buffer ``b``, shape (n,); shape (0,) when ``momentum == 0``.
    momentum_buffer: np.ndarray


class SGDHyper(NamedTuple):
    """Hyper-parameters of :func:`sgd_update` (floats in the params' dtype)."""

    momentum: Any
    dampening: Any
    weight_decay: Any
    nesterov: bool


class AdamState(NamedTuple):
    """State of :func:`adam_update` and :func:`adamw_update`."""

    #: First moment ``m``, shape (n,).
    exp_avg: np.ndarray
    #: Second moment ``v``, shape (n,).
    exp_avg_sq: np.ndarray
    #: Running maximum of ``v``, shape (n,); shape (0,) unless ``amsgrad``.
    max_exp_avg_sq: np.ndarray


class AdamHyper(NamedTuple):
    """Hyper-parameters of :func:`adam_update` / :func:`adamw_update`."""

    beta1: Any
    beta2: Any
    eps: Any
    weight_decay: Any
    amsgrad: bool


class AdamWHyper(NamedTuple):
    """Hyper-parameters of :func:`adamw_update`: :class:`AdamHyper`'s fields.

    A class of its own so that :func:`apply_update` can tell AdamW from Adam.
    """

    beta1: Any
    beta2: Any
    eps: Any
    weight_decay: Any
    amsgrad: bool


class RMSpropState(NamedTuple):
    """State of :func:`rmsprop_update`."""

    #: Running mean of ``g**2``, shape (n,).
    square_avg: np.ndarray
    #: Running mean of ``g``, shape (n,); shape (0,) unless ``centered``.
    grad_avg: np.ndarray
    #: Momentum buffer, shape (n,); shape (0,) when ``momentum == 0``.
    momentum_buffer: np.ndarray


class RMSpropHyper(NamedTuple):
    """Hyper-parameters of :func:`rmsprop_update`."""

    alpha: Any
    eps: Any
    weight_decay: Any
    momentum: Any
    centered: bool


class AdagradState(NamedTuple):
    """State of :func:`adagrad_update`."""

    #: Running sum of ``g**2``, shape (n,) (PyTorch's ``state["sum"]``).
    sum: np.ndarray


class AdagradHyper(NamedTuple):
    """Hyper-parameters of :func:`adagrad_update`."""

    lr_decay: Any
    weight_decay: Any
    eps: Any


# --------------------------------------------------------------------------
# Element helpers
# --------------------------------------------------------------------------


@jit(inline="always")
def _coupled_grad(params, grad, j, n_decay, weight_decay):  # type: ignore[no-untyped-def]
    """``grad[j] + weight_decay * params[j]`` for ``j < n_decay``, else ``grad[j]``."""
    g = grad[j]
    if weight_decay != 0 and j < n_decay:
        g = g + weight_decay * params[j]
    return g


@jit(inline="always")
def _lerp(start, end, weight, complement):  # type: ignore[no-untyped-def]
    """PyTorch's ``start.lerp(end, weight)``; ``complement`` is ``1 - weight``.

    ``start + weight*(end - start)`` for ``|weight| < 0.5``, else
    ``end - (end - start)*(1 - weight)`` (the two are equal in exact arithmetic).
    """
    if abs(weight) < 0.5:
        return start + weight * (end - start)
    return end - (end - start) * complement


# --------------------------------------------------------------------------
# Kernels
# --------------------------------------------------------------------------


@jit()
def sgd_update(params, grad, state, hyper, step, lr, n_decay):  # type: ignore[no-untyped-def]
    """One in-place step of SGD with optional (Nesterov) momentum (``torch.optim.SGD``).

    With ``mu = momentum``, ``tau = dampening``, ``lambda = weight_decay``::

        g = grad + lambda * params          (only params[:n_decay])
        if mu != 0:
            b = g                           at step 1
            b = mu * b + (1 - tau) * g      afterwards
            g = g + mu * b  if nesterov else  b
        params -= lr * g

    ``state.momentum_buffer`` must have shape (n,) when ``momentum != 0``.
    See the module docstring for the arguments.
    """
    momentum, dampening, weight_decay, nesterov = hyper
    lr_ = params.dtype.type(lr)
    if momentum == 0 and weight_decay == 0:
        # Plain SGD, the per-sample hot path: a branch-free loop that vectorises
        # (and no state buffer is touched, which saves reference counting per step).
        for j in range(params.shape[0]):
            params[j] = params[j] - lr_ * grad[j]
        return
    buf = state.momentum_buffer
    keep = params.dtype.type(1.0) - dampening
    use_momentum = momentum != 0
    first = step <= 1
    for j in range(params.shape[0]):
        g = _coupled_grad(params, grad, j, n_decay, weight_decay)
        if use_momentum:
            if first:
                b = g
            else:
                b = momentum * buf[j] + keep * g
            buf[j] = b
            if nesterov:
                g = g + momentum * b
            else:
                g = b
        params[j] = params[j] - lr_ * g


@jit(strict=True, inline="always")
def _adam_step(params, grad, state, hyper, step, lr, n_decay, decoupled):  # type: ignore[no-untyped-def]
    """Adam (``decoupled=False``) or AdamW (``decoupled=True``) step; see the kernels."""
    beta1, beta2, eps, weight_decay, amsgrad = hyper
    exp_avg, exp_avg_sq, max_exp_avg_sq = state
    one = params.dtype.type(1.0)
    t = np.float64(step)
    bias_correction1 = 1.0 - np.float64(beta1) ** t
    bias_correction2 = 1.0 - np.float64(beta2) ** t
    step_size = params.dtype.type(lr / bias_correction1)
    bias_correction2_sqrt = params.dtype.type(np.sqrt(bias_correction2))
    shrink = params.dtype.type(1.0 - lr * np.float64(weight_decay))
    weight1 = one - beta1
    weight2 = one - beta2
    complement1 = one - weight1
    coupled_decay = weight_decay if not decoupled else params.dtype.type(0.0)
    if not amsgrad and abs(weight1) < 0.5:
        # The usual case (beta1 > 0.5, no amsgrad) as a branch-free loop that
        # vectorises (the general loop below does not), with the same formulas
        # element for element.  Compiled strict (no fast-math), so an element
        # gets the same bits in the vector body and in the scalar remainder.
        # The decoupled decay of element j only has to precede its own update.
        if decoupled and weight_decay != 0:
            for j in range(min(n_decay, params.shape[0])):  # params[:n_decay], clipped like a slice
                params[j] = params[j] * shrink
        for j in range(params.shape[0]):
            # A select between two computed values, not a branch (so it vectorises).
            decayed = grad[j] + coupled_decay * params[j]
            g = decayed if j < n_decay and coupled_decay != 0 else grad[j]
            m = exp_avg[j] + weight1 * (g - exp_avg[j])
            v = exp_avg_sq[j] * beta2 + weight2 * g * g
            exp_avg[j] = m
            exp_avg_sq[j] = v
            denom = np.sqrt(v) / bias_correction2_sqrt + eps
            params[j] = params[j] - step_size * (m / denom)
        return
    for j in range(params.shape[0]):
        if decoupled and weight_decay != 0 and j < n_decay:
            params[j] = params[j] * shrink
        g = _coupled_grad(params, grad, j, n_decay, coupled_decay)
        m = _lerp(exp_avg[j], g, weight1, complement1)
        v = exp_avg_sq[j] * beta2 + weight2 * g * g
        exp_avg[j] = m
        exp_avg_sq[j] = v
        if amsgrad:
            v = np.maximum(max_exp_avg_sq[j], v)
            max_exp_avg_sq[j] = v
        denom = np.sqrt(v) / bias_correction2_sqrt + eps
        params[j] = params[j] - step_size * (m / denom)


@jit(strict=True)
def adam_update(params, grad, state, hyper, step, lr, n_decay):  # type: ignore[no-untyped-def]
    """One in-place Adam step (``torch.optim.Adam``, L2 penalty added to the gradient).

    With ``t = step``::

        g = grad + weight_decay * params    (only params[:n_decay])
        m = beta1 * m + (1 - beta1) * g     (as PyTorch's m.lerp_(g, 1 - beta1))
        v = beta2 * v + (1 - beta2) * g**2
        v_hat = max(v_max, v) -> v_max      if amsgrad, else v
        params -= lr / (1 - beta1**t) * m / (sqrt(v_hat) / sqrt(1 - beta2**t) + eps)

    ``state.max_exp_avg_sq`` must have shape (n,) when ``amsgrad``.
    See the module docstring for the arguments.
    """
    _adam_step(params, grad, state, hyper, step, lr, n_decay, False)


@jit(strict=True)
def adamw_update(params, grad, state, hyper, step, lr, n_decay):  # type: ignore[no-untyped-def]
    """One in-place AdamW step (``torch.optim.AdamW``, decoupled weight decay).

    ``params[:n_decay] *= 1 - lr * weight_decay``, then the :func:`adam_update`
    rule with ``weight_decay = 0``.  Same state (shapes) as Adam; hyper-parameters
    :class:`AdamWHyper` (or :class:`AdamHyper`: the fields are the same).
    """
    _adam_step(params, grad, state, hyper, step, lr, n_decay, True)


@jit()
def rmsprop_update(params, grad, state, hyper, step, lr, n_decay):  # type: ignore[no-untyped-def]
    """One in-place RMSprop step (``torch.optim.RMSprop``).

    ::

        g = grad + weight_decay * params    (only params[:n_decay])
        s = alpha * s + (1 - alpha) * g**2
        if centered:
            a = alpha * a + (1 - alpha) * g            (as PyTorch's lerp)
            avg = sqrt(s - a**2) + eps
        else:
            avg = sqrt(s) + eps
        if momentum > 0:
            b = momentum * b + g / avg;  params -= lr * b
        else:
            params -= lr * g / avg

    ``state.grad_avg`` must have shape (n,) when ``centered`` and
    ``state.momentum_buffer`` when ``momentum > 0``.  ``step`` is unused.
    """
    alpha, eps, weight_decay, momentum, centered = hyper
    square_avg, grad_avg, momentum_buffer = state
    lr_ = params.dtype.type(lr)
    one = params.dtype.type(1.0)
    weight = one - alpha
    complement = one - weight
    use_momentum = momentum > 0
    for j in range(params.shape[0]):
        g = _coupled_grad(params, grad, j, n_decay, weight_decay)
        s = square_avg[j] * alpha + weight * g * g
        square_avg[j] = s
        if centered:
            a = _lerp(grad_avg[j], g, weight, complement)
            grad_avg[j] = a
            avg = np.sqrt(s - a * a) + eps
        else:
            avg = np.sqrt(s) + eps
        if use_momentum:
            b = momentum_buffer[j] * momentum + g / avg
            momentum_buffer[j] = b
            params[j] = params[j] - lr_ * b
        else:
            params[j] = params[j] - lr_ * (g / avg)


@jit()
def adagrad_update(params, grad, state, hyper, step, lr, n_decay):  # type: ignore[no-untyped-def]
    """One in-place Adagrad step (``torch.optim.Adagrad``).

    With ``t = step`` and ``state.sum`` of shape (n,)::

        g = grad + weight_decay * params    (only params[:n_decay])
        clr = lr / (1 + (t - 1) * lr_decay)
        sum += g**2
        params -= clr * g / (sqrt(sum) + eps)
    """
    lr_decay, weight_decay, eps = hyper
    accumulator = state.sum
    clr = params.dtype.type(lr / (1.0 + (np.float64(step) - 1.0) * np.float64(lr_decay)))
    for j in range(params.shape[0]):
        g = _coupled_grad(params, grad, j, n_decay, weight_decay)
        s = accumulator[j] + g * g
        accumulator[j] = s
        params[j] = params[j] - clr * (g / (np.sqrt(s) + eps))


# --------------------------------------------------------------------------
# Dispatch by hyper-parameter type
# --------------------------------------------------------------------------

_KERNEL_OF: dict[type, Any] = {
    SGDHyper: sgd_update,
    AdamHyper: adam_update,
    AdamWHyper: adamw_update,
    RMSpropHyper: rmsprop_update,
    AdagradHyper: adagrad_update,
}


def apply_update(params, grad, state, hyper, step, lr, n_decay):  # type: ignore[no-untyped-def]
    """Run, in place, the update kernel that ``hyper``'s class belongs to (same arguments and shapes).

    Callable from Python and from ``@njit`` code, where the kernel is chosen at
    compile time from the hyper-parameter tuple's class.  A loop that calls
    this, instead of taking the kernel function as an argument, is typed by
    classes only, so it can be cached on disk (Numba types a function argument
    by the dispatcher object's identity, which changes in every process).
    """
    _KERNEL_OF[type(hyper)](params, grad, state, hyper, step, lr, n_decay)


@overload(apply_update, inline="always")
def _apply_update_overload(params, grad, state, hyper, step, lr, n_decay):  # type: ignore[no-untyped-def]
    # ``instance_class`` is set on Numba's named-tuple types but missing from their stubs.
    if isinstance(hyper, types.BaseNamedTuple) and hyper.instance_class in _KERNEL_OF:  # type: ignore[attr-defined]
        kernel = _KERNEL_OF[hyper.instance_class]  # type: ignore[attr-defined]

        def impl(params, grad, state, hyper, step, lr, n_decay):  # type: ignore[no-untyped-def]
            kernel(params, grad, state, hyper, step, lr, n_decay)

        return impl
    return None


def is_plain_sgd(hyper):  # type: ignore[no-untyped-def]
    """True when ``hyper`` describes SGD without momentum or weight decay: ``params -= lr * grad``.

    Callable from Python and from ``@njit`` code, where it is ``False`` at
    compile time for every other optimizer.  The training loop uses it to fuse
    the per-sample gradient and update of plain SGD into one pass.
    """
    return isinstance(hyper, SGDHyper) and hyper.momentum == 0 and hyper.weight_decay == 0


@overload(is_plain_sgd, inline="always")
def _is_plain_sgd_overload(hyper):  # type: ignore[no-untyped-def]
    if isinstance(hyper, types.BaseNamedTuple) and hyper.instance_class is SGDHyper:  # type: ignore[attr-defined]
        return lambda hyper: hyper.momentum == 0 and hyper.weight_decay == 0
    return lambda hyper: False
