r"""Learning-rate schedules: the rate in force at each step of a run.

A schedule is a frozen dataclass (validated on construction) that exposes, for
the training loop:

``kernel``
    A compiled function ``lr_at(base_lr, step, epoch, n_epochs, params) -> float``
    (float64), where ``step`` is the 0-based index of the update about to be
    taken (counted over the whole run), ``epoch`` the 0-based epoch and
    ``n_epochs`` the run's number of epochs.  Every kernel has this same
    signature, so a compiled loop can take any of them (or a user's own
    ``@njit`` function) as an argument.
``params()``
    A fixed-length tuple of :data:`N_PARAMS` floats, ``(kind, constant)``:
    the schedule's code (:data:`CONSTANT`, :data:`INVERSE_SCALING`,
    :data:`EXPONENTIAL_DECAY`, :data:`COSINE_ANNEALING`) and its one constant
    (0 if none).  All schedules share this one Numba type.
``name``
    A short lower-case name.

* :class:`Constant` -- :math:`\eta_0` (never changes);
* :class:`InverseScaling` -- :math:`\eta_0 / (s + 1)^{p}` (per step);
* :class:`ExponentialDecay` -- :math:`\eta_0\,\gamma^{e}` (per epoch);
* :class:`CosineAnnealing` --
  :math:`\eta_{\min} + (\eta_0 - \eta_{\min})\,(1 + \cos(\pi e / E))/2` (per epoch)

(:math:`s` step index, :math:`e` epoch index, :math:`E` number of epochs.)
``None`` means constant; :func:`resolve_schedule` maps it to :class:`Constant`.

:func:`learning_rate` ``(params, base_lr, step, epoch, n_epochs)`` evaluates
any built-in schedule from its ``params()`` tuple alone (it branches on the
kind code), so a compiled training loop takes no function argument, is
compiled once for all schedules and can be cached on disk.  The kernels live
in the kernel layer (:mod:`fastgd.kernels.schedules`) and are re-exported here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, runtime_checkable

from ._validation import check_real
from .kernels.schedules import (
    CONSTANT,
    COSINE_ANNEALING,
    EXPONENTIAL_DECAY,
    INVERSE_SCALING,
    N_PARAMS,
    constant_lr,
    cosine_annealing_lr,
    exponential_decay_lr,
    inverse_scaling_lr,
    learning_rate,
)

__all__ = [
    "CONSTANT",
    "COSINE_ANNEALING",
    "EXPONENTIAL_DECAY",
    "INVERSE_SCALING",
    "N_PARAMS",
    "Constant",
    "CosineAnnealing",
    "ExponentialDecay",
    "InverseScaling",
    "Schedule",
    "constant_lr",
    "cosine_annealing_lr",
    "exponential_decay_lr",
    "inverse_scaling_lr",
    "learning_rate",
    "resolve_schedule",
]


# --------------------------------------------------------------------------
# Descriptions
# --------------------------------------------------------------------------


@runtime_checkable
class Schedule(Protocol):
    """What the training loop needs from a learning-rate schedule."""

    name: ClassVar[str]

    @property
    def kernel(self) -> Any:
        """Compiled ``lr_at(base_lr, step, epoch, n_epochs, params) -> float``."""
        ...

    def params(self) -> tuple[float, float]:
        """``(kind, constant)``: :data:`N_PARAMS` floats, passed to :attr:`kernel`."""
        ...

    def lr_at(self, base_lr: float, step: int, epoch: int, n_epochs: int) -> float:
        """The rate at 0-based ``step`` of 0-based ``epoch`` in a run of ``n_epochs``."""
        ...


class _Described:
    """``kernel`` property and a checked Python ``lr_at`` for the schedules below."""

    name: ClassVar[str]

    @property
    def kernel(self) -> Any:
        """The compiled schedule kernel."""
        return self._kernel  # type: ignore[attr-defined]

    def params(self) -> tuple[float, float]:
        raise NotImplementedError

    def lr_at(self, base_lr: float, step: int, epoch: int, n_epochs: int) -> float:
        """The learning rate for 0-based ``step`` in 0-based ``epoch`` of ``n_epochs``.

        A Python convenience that calls :attr:`kernel`.
        """
        base_lr = check_real("base_lr", base_lr, lambda x: x > 0, "> 0")
        if n_epochs < 1 or not 0 <= epoch < n_epochs or step < 0:
            raise ValueError(f"need step >= 0 and 0 <= epoch < n_epochs, got {step=}, {epoch=}, {n_epochs=}")
        return float(self.kernel(base_lr, int(step), int(epoch), int(n_epochs), self.params()))


@dataclass(frozen=True)
class Constant(_Described):
    r""":math:`\eta_s = \eta_0`: the base learning rate at every step (what ``None`` means)."""

    name: ClassVar[str] = "constant"
    _kernel = staticmethod(constant_lr)

    def params(self) -> tuple[float, float]:
        """``(CONSTANT, 0.0)``."""
        return (CONSTANT, 0.0)


@dataclass(frozen=True)
class InverseScaling(_Described):
    r"""Per step: :math:`\eta_s = \eta_0 / (s + 1)^{p}`, :math:`s` the 0-based step index.

    scikit-learn's ``learning_rate="invscaling"`` (whose step counter starts
    at 1), with :math:`p` = ``power_t`` (default 0.25, must be >= 0).
    """

    power_t: float = 0.25

    name: ClassVar[str] = "invscaling"
    _kernel = staticmethod(inverse_scaling_lr)

    def __post_init__(self) -> None:
        object.__setattr__(self, "power_t", check_real("power_t", self.power_t, lambda x: x >= 0, ">= 0"))

    def params(self) -> tuple[float, float]:
        """``(INVERSE_SCALING, power_t)``."""
        return (INVERSE_SCALING, self.power_t)


@dataclass(frozen=True)
class ExponentialDecay(_Described):
    r"""Per epoch: :math:`\eta_e = \eta_0\,\gamma^{e}`, :math:`e` the 0-based epoch.

    PyTorch's ``ExponentialLR`` stepped once per epoch, in closed form.
    ``gamma`` must be > 0 (values above 1 grow the rate).
    """

    gamma: float

    name: ClassVar[str] = "exponential"
    _kernel = staticmethod(exponential_decay_lr)

    def __post_init__(self) -> None:
        object.__setattr__(self, "gamma", check_real("gamma", self.gamma, lambda x: x > 0, "> 0"))

    def params(self) -> tuple[float, float]:
        """``(EXPONENTIAL_DECAY, gamma)``."""
        return (EXPONENTIAL_DECAY, self.gamma)


@dataclass(frozen=True)
class CosineAnnealing(_Described):
    r"""Cosine annealing, per epoch over the run's :math:`E` epochs (PyTorch's ``CosineAnnealingLR``).

    With ``T_max = E``:

    .. math::

        \eta_e = \eta_{\min} + (\eta_0 - \eta_{\min})\,\frac{1 + \cos(\pi e / E)}{2},
        \qquad e = 0, \dots, E - 1

    so the first epoch runs at :math:`\eta_0` and the rate falls towards
    ``eta_min`` (default 0, must be >= 0), which it would reach at :math:`e = E`.
    """

    eta_min: float = 0.0

    name: ClassVar[str] = "cosine"
    _kernel = staticmethod(cosine_annealing_lr)

    def __post_init__(self) -> None:
        object.__setattr__(self, "eta_min", check_real("eta_min", self.eta_min, lambda x: x >= 0, ">= 0"))

    def params(self) -> tuple[float, float]:
        """``(COSINE_ANNEALING, eta_min)``."""
        return (COSINE_ANNEALING, self.eta_min)


def resolve_schedule(schedule: Schedule | None) -> Schedule:
    """Return ``schedule``, or :class:`Constant` for ``None``.

    Raises
    ------
    TypeError
        If ``schedule`` is neither ``None`` nor one of the built-in schedules
        (:func:`learning_rate` evaluates those only).
    """
    if schedule is None:
        return Constant()
    if not isinstance(schedule, (Constant, InverseScaling, ExponentialDecay, CosineAnnealing)):
        raise TypeError(f"schedule must be None or a schedule such as InverseScaling(), got {schedule!r}")
    return schedule
