r"""Optimizers: small, validated descriptions of ``torch.optim`` update rules.

An optimizer here is pure data (a frozen dataclass with ``torch.optim``'s
parameter names and defaults) plus an ``init``/``update`` pair in the style of
optax:

>>> import numpy as np
>>> from fastgd.optim import Adam
>>> opt = Adam(lr=0.1)
>>> params = np.array([2.0])
>>> state = opt.init(params.size, params.dtype)
>>> hyper = opt.hyper(params.dtype)
>>> for t in range(1, 4):
...     grad = 3 * params**2 - 4 * params
...     opt.update_kernel(params, grad, state, hyper, t, opt.lr, params.size)

``update_kernel`` is a compiled Numba function, callable from Python and from
your own ``@njit`` code (pass it, ``state`` and ``hyper`` as arguments); its
contract is in :mod:`fastgd.kernels.optim`.  :meth:`step` is a checked Python
convenience around it.

Conventions shared by every rule (PyTorch's): ``t`` is the 1-based step count;
``lr`` may change every step (see :mod:`fastgd.schedules`); weight decay acts
on ``params[:n_decay]`` only, so a regression's intercept (stored last) is not
decayed when ``n_decay = n_features``.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, fields
from types import MappingProxyType
from typing import Any, ClassVar, NamedTuple, Protocol, runtime_checkable

import numpy as np
from numpy.typing import DTypeLike

from ._validation import NON_NEGATIVE, POSITIVE, UNIT_HALF_OPEN, check_int, check_real, check_representable
from .kernels import optim as _k

__all__ = ["OPTIMIZERS", "SGD", "Adagrad", "Adam", "AdamW", "Optimizer", "RMSprop"]


@runtime_checkable
class Optimizer(Protocol):
    """What the training loop needs from an optimizer description."""

    #: Short lower-case name, e.g. ``"adam"``.
    name: ClassVar[str]
    #: Base learning rate (a schedule may scale it per step or epoch).
    lr: float

    @property
    def update_kernel(self) -> Any:
        """Compiled ``update(params, grad, state, hyper, step, lr, n_decay)``."""
        ...

    def init(self, n_params: int, dtype: DTypeLike = np.float64) -> NamedTuple:
        """Fresh state for ``n_params`` parameters of ``dtype``."""
        ...

    def hyper(self, dtype: DTypeLike = np.float64) -> NamedTuple:
        """Hyper-parameter tuple with its values cast to ``dtype``."""
        ...


# --------------------------------------------------------------------------
# Validation helpers
# --------------------------------------------------------------------------


def _check_lr(lr: Any) -> float:
    return check_real("lr", lr, *POSITIVE)


def _check_flag(name: str, value: Any) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be a bool, got {value!r}")
    return bool(value)


def _float_dtype(dtype: DTypeLike) -> np.dtype:
    dt = np.dtype(dtype)
    if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ValueError(f"dtype must be float32 or float64, got {dt}")
    return dt


#: Hyper-parameters in ``[0, 1)`` whose rounding to 1 would change the rule (``1 - beta`` becomes 0).
_BELOW_ONE = ("alpha",)


def _check_representable(optimizer: Any, dt: np.dtype) -> None:
    """Raise ``ValueError`` if a non-zero hyper-parameter rounds to 0 or inf (or a beta to 1) in ``dt``."""
    for field in fields(optimizer):
        value = getattr(optimizer, field.name)
        if field.name == "betas":
            for i, beta in enumerate(value):
                check_representable(beta, f"betas[{i}]", dt, below_one=True)
        elif isinstance(value, float):
            check_representable(value, field.name, dt, below_one=field.name in _BELOW_ONE)


def _set(obj: Any, **values: Any) -> None:
    """Assign validated values on a frozen dataclass."""
    for key, value in values.items():
        object.__setattr__(obj, key, value)


class _Described:
    """Shared ``init``/``step`` machinery; subclasses set ``_kernel``, ``_state``."""

    name: ClassVar[str]
    lr: float
    _state: ClassVar[type]

    @property
    def update_kernel(self) -> Any:
        """The compiled update kernel (see :mod:`fastgd.kernels.optim`)."""
        return self._kernel  # type: ignore[attr-defined]

    def _buffer_sizes(self, n_params: int) -> tuple[int, ...]:
        raise NotImplementedError

    def _fill_value(self) -> float:
        return 0.0

    def hyper(self, dtype: DTypeLike = np.float64) -> NamedTuple:
        raise NotImplementedError

    def _cast(self, dtype: DTypeLike) -> Any:
        """The scalar type of ``dtype``, after checking every hyper-parameter survives rounding to it.

        Raises ``ValueError`` naming the parameter and the dtype when a
        non-zero value rounds to 0 or infinity (``eps=1e-50`` in float32) or
        a beta or ``alpha`` rounds to 1.
        """
        dt = _float_dtype(dtype)
        _check_representable(self, dt)
        return dt.type

    def init(self, n_params: int, dtype: DTypeLike = np.float64) -> NamedTuple:
        """Fresh state for ``n_params`` parameters of ``dtype`` (float32 or float64).

        One buffer per state field, of length ``n_params`` (length 0 where unused).
        """
        n_params = operator.index(n_params)
        if n_params < 0:
            raise ValueError(f"n_params must be >= 0, got {n_params}")
        dt = _float_dtype(dtype)
        buffers = (np.full(size, self._fill_value(), dtype=dt) for size in self._buffer_sizes(n_params))
        state: NamedTuple = self._state(*buffers)
        return state

    def step(
        self,
        params: np.ndarray,
        grad: np.ndarray,
        state: NamedTuple,
        step: int,
        lr: float | None = None,
        n_decay: int | None = None,
    ) -> None:
        """Check the arguments, then run one in-place update of ``params`` and ``state``.

        Parameters
        ----------
        params, grad : ndarray, shape (n,), float32 or float64
            ``params`` is **overwritten**.
        state : from :meth:`init` with the same ``n`` and dtype; **overwritten**.
        step : int
            1-based number of this update (an integer; ``2.0`` is rejected).
        lr : float, optional
            Learning rate for this step; default ``self.lr``.
        n_decay : int, optional
            Weight decay acts on ``params[:n_decay]``; default ``n`` (all).
        """
        if not isinstance(params, np.ndarray) or not isinstance(grad, np.ndarray):
            raise ValueError("params and grad must be NumPy arrays")
        dt = _float_dtype(params.dtype)
        if params.ndim != 1 or grad.shape != params.shape or grad.dtype != dt:
            raise ValueError(f"grad must match params (1-D {dt}), got {grad.shape} {grad.dtype} and {params.shape}")
        if not params.flags.writeable:
            raise ValueError("params must be writeable")
        n = params.shape[0]
        if type(state) is not self._state:
            raise ValueError(f"state must be a {self._state.__name__}, got {type(state).__name__}")
        for field, buf, size in zip(state._fields, state, self._buffer_sizes(n), strict=True):
            if not isinstance(buf, np.ndarray) or buf.shape != (size,) or buf.dtype != dt:
                raise ValueError(f"state.{field} must be a ({size},) {dt} array")
        step = check_int(step, "step", 1)  # 1-based; a float step is rejected, not truncated
        hyper = self.hyper(dt)
        if lr is not None:
            lr = _check_lr(lr)
            check_representable(lr, "lr", dt)
        lr = self.lr if lr is None else lr
        n_decay = n if n_decay is None else check_int(n_decay, "n_decay", 0, n)
        self.update_kernel(params, grad, state, hyper, step, float(lr), n_decay)


# --------------------------------------------------------------------------
# Optimizers
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class SGD(_Described):
    r"""Stochastic gradient descent with optional (Nesterov) momentum (``torch.optim.SGD``).

    With :math:`\mu` = ``momentum``, :math:`\tau` = ``dampening`` and
    :math:`\lambda` = ``weight_decay``, step :math:`t` is

    .. math::

        g_t &= \nabla f(\theta_{t-1}) + \lambda\,\theta_{t-1}\\
        b_1 &= g_1, \qquad b_t = \mu\, b_{t-1} + (1-\tau)\, g_t \quad (t > 1)\\
        \theta_t &= \theta_{t-1} - \eta_t\,(g_t + \mu\, b_t) \ \text{(Nesterov)},
        \quad \theta_{t-1} - \eta_t\, b_t \ \text{(otherwise)}

    and plain :math:`\theta_t = \theta_{t-1} - \eta_t g_t` when :math:`\mu = 0`.
    As in PyTorch the buffer starts as the first gradient (not zero), so
    dampening does not act on step 1.  ``nesterov`` needs ``momentum > 0`` and
    ``dampening == 0``.  ``lr`` is required.
    """

    lr: float
    momentum: float = 0.0
    dampening: float = 0.0
    nesterov: bool = False
    weight_decay: float = 0.0

    name: ClassVar[str] = "sgd"
    _state: ClassVar[type] = _k.SGDState
    _kernel = staticmethod(_k.sgd_update)

    def __post_init__(self) -> None:
        _set(
            self,
            lr=_check_lr(self.lr),
            momentum=check_real("momentum", self.momentum, *NON_NEGATIVE),
            dampening=check_real("dampening", self.dampening, lambda x: 0 <= x <= 1, "in [0, 1]"),
            nesterov=_check_flag("nesterov", self.nesterov),
            weight_decay=check_real("weight_decay", self.weight_decay, *NON_NEGATIVE),
        )
        if self.nesterov and (self.momentum <= 0 or self.dampening != 0):
            raise ValueError("nesterov momentum requires momentum > 0 and dampening == 0")

    def _buffer_sizes(self, n_params: int) -> tuple[int, ...]:
        return (n_params if self.momentum != 0 else 0,)

    def hyper(self, dtype: DTypeLike = np.float64) -> _k.SGDHyper:
        """:class:`~fastgd.kernels.optim.SGDHyper` with values cast to ``dtype`` (checked: see ``_cast``)."""
        cast = self._cast(dtype)
        return _k.SGDHyper(cast(self.momentum), cast(self.dampening), cast(self.weight_decay), self.nesterov)


def _check_betas(betas: Any) -> tuple[float, float]:
    try:
        beta1, beta2 = betas
    except (TypeError, ValueError):
        raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}") from None
    return check_real("betas[0]", beta1, *UNIT_HALF_OPEN), check_real("betas[1]", beta2, *UNIT_HALF_OPEN)


@dataclass(frozen=True)
class Adam(_Described):
    r"""Adam, with optional AMSGrad (``torch.optim.Adam``).

    With :math:`\beta_1, \beta_2` = ``betas``, :math:`\epsilon` = ``eps`` and
    :math:`\lambda` = ``weight_decay`` (an L2 penalty added to the gradient),
    from :math:`m_0 = v_0 = \hat v_0 = 0`:

    .. math::

        g_t &= \nabla f(\theta_{t-1}) + \lambda\,\theta_{t-1}\\
        m_t &= \beta_1 m_{t-1} + (1-\beta_1)\, g_t, \qquad
        v_t = \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2\\
        \hat v_t &= \max(\hat v_{t-1}, v_t) \ \text{(AMSGrad)}, \quad v_t \ \text{(otherwise)}\\
        \theta_t &= \theta_{t-1} - \frac{\eta_t}{1-\beta_1^t}\,
        \frac{m_t}{\sqrt{\hat v_t}\,/\sqrt{1-\beta_2^t} + \epsilon}

    PyTorch's conventions: :math:`\epsilon` is added *outside* the square root
    and after the bias correction of :math:`v`; AMSGrad keeps the maximum of
    the raw (uncorrected) second moment.
    """

    lr: float = 1e-3
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    weight_decay: float = 0.0
    amsgrad: bool = False

    name: ClassVar[str] = "adam"
    _state: ClassVar[type] = _k.AdamState
    _kernel = staticmethod(_k.adam_update)
    _hyper_type: ClassVar[type] = _k.AdamHyper

    def __post_init__(self) -> None:
        _set(
            self,
            lr=_check_lr(self.lr),
            betas=_check_betas(self.betas),
            eps=check_real("eps", self.eps, *POSITIVE),
            weight_decay=check_real("weight_decay", self.weight_decay, *NON_NEGATIVE),
            amsgrad=_check_flag("amsgrad", self.amsgrad),
        )

    def _buffer_sizes(self, n_params: int) -> tuple[int, ...]:
        return (n_params, n_params, n_params if self.amsgrad else 0)

    def hyper(self, dtype: DTypeLike = np.float64) -> _k.AdamHyper | _k.AdamWHyper:
        """:class:`~fastgd.kernels.optim.AdamHyper` (``AdamWHyper`` for AdamW), values cast to ``dtype``."""
        cast = self._cast(dtype)
        beta1, beta2 = self.betas
        values = (cast(beta1), cast(beta2), cast(self.eps), cast(self.weight_decay), self.amsgrad)
        return self._hyper_type(*values)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class AdamW(Adam):
    r"""Adam with decoupled weight decay (``torch.optim.AdamW``).

    The parameters are first shrunk, :math:`\theta \leftarrow (1 - \eta_t\lambda)\,\theta`
    (decayed part only), then the :class:`Adam` step is taken with
    :math:`\lambda = 0` (the gradient carries no penalty term).  With
    ``weight_decay=0`` it is exactly :class:`Adam`.  Note the default
    ``weight_decay=1e-2``.
    """

    weight_decay: float = 1e-2

    name: ClassVar[str] = "adamw"
    _kernel = staticmethod(_k.adamw_update)
    _hyper_type: ClassVar[type] = _k.AdamWHyper


@dataclass(frozen=True)
class RMSprop(_Described):
    r"""RMSprop, optionally centred and with momentum (``torch.optim.RMSprop``).

    With :math:`\alpha` = ``alpha``, :math:`\mu` = ``momentum``, from
    :math:`s_0 = a_0 = b_0 = 0`:

    .. math::

        g_t &= \nabla f(\theta_{t-1}) + \lambda\,\theta_{t-1}, \qquad
        s_t = \alpha s_{t-1} + (1-\alpha)\, g_t^2\\
        a_t &= \alpha a_{t-1} + (1-\alpha)\, g_t, \qquad
        d_t = \sqrt{s_t - a_t^2} + \epsilon \ \text{(centred)}, \quad
        \sqrt{s_t} + \epsilon \ \text{(otherwise)}\\
        b_t &= \mu b_{t-1} + g_t / d_t, \qquad
        \theta_t = \theta_{t-1} - \eta_t\, b_t \quad (\mu > 0)

    and :math:`\theta_t = \theta_{t-1} - \eta_t\, g_t / d_t` when :math:`\mu = 0`.
    There is no bias correction; the momentum buffer starts at zero.
    """

    lr: float = 1e-2
    alpha: float = 0.99
    eps: float = 1e-8
    weight_decay: float = 0.0
    momentum: float = 0.0
    centered: bool = False

    name: ClassVar[str] = "rmsprop"
    _state: ClassVar[type] = _k.RMSpropState
    _kernel = staticmethod(_k.rmsprop_update)

    def __post_init__(self) -> None:
        _set(
            self,
            lr=_check_lr(self.lr),
            alpha=check_real("alpha", self.alpha, *UNIT_HALF_OPEN),
            eps=check_real("eps", self.eps, *POSITIVE),
            weight_decay=check_real("weight_decay", self.weight_decay, *NON_NEGATIVE),
            momentum=check_real("momentum", self.momentum, *NON_NEGATIVE),
            centered=_check_flag("centered", self.centered),
        )

    def _buffer_sizes(self, n_params: int) -> tuple[int, ...]:
        return (n_params, n_params if self.centered else 0, n_params if self.momentum > 0 else 0)

    def hyper(self, dtype: DTypeLike = np.float64) -> _k.RMSpropHyper:
        """:class:`~fastgd.kernels.optim.RMSpropHyper` with values cast to ``dtype``."""
        cast = self._cast(dtype)
        wd, momentum = cast(self.weight_decay), cast(self.momentum)
        return _k.RMSpropHyper(cast(self.alpha), cast(self.eps), wd, momentum, self.centered)


@dataclass(frozen=True)
class Adagrad(_Described):
    r"""Adagrad with learning-rate decay (``torch.optim.Adagrad``).

    From :math:`S_0` = ``initial_accumulator_value`` (every element):

    .. math::

        g_t &= \nabla f(\theta_{t-1}) + \lambda\,\theta_{t-1}, \qquad
        \tilde\eta_t = \frac{\eta_t}{1 + (t-1)\,\gamma}\\
        S_t &= S_{t-1} + g_t^2, \qquad
        \theta_t = \theta_{t-1} - \tilde\eta_t\, \frac{g_t}{\sqrt{S_t} + \epsilon}

    with :math:`\gamma` = ``lr_decay``.
    """

    lr: float = 1e-2
    lr_decay: float = 0.0
    weight_decay: float = 0.0
    initial_accumulator_value: float = 0.0
    eps: float = 1e-10

    name: ClassVar[str] = "adagrad"
    _state: ClassVar[type] = _k.AdagradState
    _kernel = staticmethod(_k.adagrad_update)

    def __post_init__(self) -> None:
        _set(
            self,
            lr=_check_lr(self.lr),
            lr_decay=check_real("lr_decay", self.lr_decay, *NON_NEGATIVE),
            weight_decay=check_real("weight_decay", self.weight_decay, *NON_NEGATIVE),
            initial_accumulator_value=check_real(
                "initial_accumulator_value", self.initial_accumulator_value, *NON_NEGATIVE
            ),
            eps=check_real("eps", self.eps, *POSITIVE),
        )

    def _buffer_sizes(self, n_params: int) -> tuple[int, ...]:
        return (n_params,)

    def _fill_value(self) -> float:
        return self.initial_accumulator_value

    def hyper(self, dtype: DTypeLike = np.float64) -> _k.AdagradHyper:
        """:class:`~fastgd.kernels.optim.AdagradHyper` with values cast to ``dtype``."""
        cast = self._cast(dtype)
        return _k.AdagradHyper(cast(self.lr_decay), cast(self.weight_decay), cast(self.eps))


#: Name -> optimizer class.  Read-only.
OPTIMIZERS = MappingProxyType({cls.name: cls for cls in (SGD, Adam, AdamW, RMSprop, Adagrad)})
