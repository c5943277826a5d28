"""Learning-rate schedule kernels: the rate in force at each step, from a schedule's parameters.

The public, validated schedule classes live in :mod:`fastgd.schedules`; this
module holds only what the compiled training loop calls.  A schedule is
described by a fixed-length tuple of :data:`N_PARAMS` floats ``(kind,
constant)``: the kind code (:data:`CONSTANT`, :data:`INVERSE_SCALING`,
:data:`EXPONENTIAL_DECAY`, :data:`COSINE_ANNEALING`) and its one constant (0 if
none).  Every ``*_lr`` kernel has the signature ``lr_at(base_lr, step, epoch,
n_epochs, params) -> float`` (float64), ``step`` the 0-based update index over
the whole run, ``epoch`` the 0-based epoch and ``n_epochs`` the run's epochs.

:func:`learning_rate` ``(params, base_lr, step, epoch, n_epochs)`` evaluates
any built-in schedule from its tuple alone (it branches on the kind code), so a
compiled training loop takes no function argument, is compiled once for all
schedules and can be cached on disk.
"""

from __future__ import annotations

import numpy as np

from .._jit import jit

__all__ = [
    "CONSTANT",
    "COSINE_ANNEALING",
    "EXPONENTIAL_DECAY",
    "INVERSE_SCALING",
    "N_PARAMS",
    "constant_lr",
    "cosine_annealing_lr",
    "exponential_decay_lr",
    "inverse_scaling_lr",
    "learning_rate",
]

#: Length of the tuple returned by every schedule's ``params()``.
N_PARAMS = 2

#: Kind codes, ``params()[0]`` of each schedule.
CONSTANT = 0.0
INVERSE_SCALING = 1.0
EXPONENTIAL_DECAY = 2.0
COSINE_ANNEALING = 3.0


@jit()
def constant_lr(base_lr, step, epoch, n_epochs, params):  # type: ignore[no-untyped-def]
    """``base_lr`` at every step."""
    return np.float64(base_lr)


@jit()
def inverse_scaling_lr(base_lr, step, epoch, n_epochs, params):  # type: ignore[no-untyped-def]
    """``base_lr / (step + 1) ** power_t`` with ``power_t = params[1]``."""
    return np.float64(base_lr) / (np.float64(step) + 1.0) ** params[1]


@jit()
def exponential_decay_lr(base_lr, step, epoch, n_epochs, params):  # type: ignore[no-untyped-def]
    """``base_lr * gamma ** epoch`` with ``gamma = params[1]``."""
    return np.float64(base_lr) * params[1] ** np.float64(epoch)


@jit()
def cosine_annealing_lr(base_lr, step, epoch, n_epochs, params):  # type: ignore[no-untyped-def]
    """``eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / n_epochs)) / 2``, ``eta_min = params[1]``."""
    eta_min = params[1]
    return eta_min + (np.float64(base_lr) - eta_min) * (1.0 + np.cos(np.pi * np.float64(epoch) / n_epochs)) / 2.0


@jit()
def learning_rate(params, base_lr, step, epoch, n_epochs):  # type: ignore[no-untyped-def]
    """The rate of the built-in schedule described by ``params`` (its ``params()``).

    Same arguments as the kernels, ``params`` first.  Branches on the kind
    code ``params[0]``; an unknown code gives NaN (so a run diverges visibly).
    """
    kind = params[0]
    if kind == CONSTANT:
        return constant_lr(base_lr, step, epoch, n_epochs, params)
    if kind == INVERSE_SCALING:
        return inverse_scaling_lr(base_lr, step, epoch, n_epochs, params)
    if kind == EXPONENTIAL_DECAY:
        return exponential_decay_lr(base_lr, step, epoch, n_epochs, params)
    if kind == COSINE_ANNEALING:
        return cosine_annealing_lr(base_lr, step, epoch, n_epochs, params)
    return np.nan
