r"""Pointwise regression losses and the registry that names them.

A *loss kernel* is a compiled scalar function ``loss(r, delta) -> (value, slope)``
of one residual ``r = x @ coef + intercept - y``:

* ``value`` is the loss of that sample, as a float64 (so that sums over many
  samples accumulate in float64 whatever the data's dtype);
* ``slope`` is :math:`\partial\,\mathrm{value} / \partial r`, in the dtype of
  ``r`` (float32 data stays float32 in the gradient's inner loops).

``delta`` is only read by the Huber loss; it is passed to every kernel so that
one generic gradient loop can take any loss kernel as an argument (a user's own
``@njit`` loss with the same signature works too).

Conventions (mean reduction, as PyTorch's ``MSELoss``, ``L1Loss`` and
``HuberLoss``):

=========  =====================================================  ==================================
name       value                                                  slope
=========  =====================================================  ==================================
``l2``     :math:`r^2`                                            :math:`2r`
``l1``     :math:`|r|`                                            :math:`\operatorname{sign}(r)`, with sign(0) = 0
``huber``  :math:`r^2/2` if :math:`|r|\le\delta`,                 :math:`r` if :math:`|r|\le\delta`,
           else :math:`\delta(|r| - \delta/2)`                    else :math:`\delta\operatorname{sign}(r)`
=========  =====================================================  ==================================

A NaN residual gives a NaN value and slope, so divergence stays visible.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

import numpy as np

from .._jit import jit

__all__ = ["LOSSES", "huber", "l1", "l2", "get_loss"]


@jit()
def l2(r: Any, delta: Any) -> Any:
    """Squared error: value ``r**2`` (float64), slope ``2*r`` (dtype of ``r``)."""
    r64 = np.float64(r)
    return r64 * r64, r + r


@jit()
def l1(r: Any, delta: Any) -> Any:
    """Absolute error: value ``|r|`` (float64), slope ``sign(r)`` with ``sign(0) = 0``."""
    return np.float64(abs(r)), np.sign(r)


@jit()
def huber(r: Any, delta: Any) -> Any:
    """Huber loss with threshold ``delta``.

    Value ``0.5*r**2`` when ``|r| <= delta`` and ``delta*(|r| - 0.5*delta)``
    otherwise (float64); slope ``r`` or ``delta*sign(r)`` (dtype of ``r``).
    At ``|r| == delta`` both branches agree.
    """
    a = abs(r)
    if a <= delta:
        r64 = np.float64(r)
        return 0.5 * r64 * r64, r
    d64 = np.float64(delta)
    # ``a > delta`` or NaN: NaN propagates through sign().
    return d64 * (np.float64(a) - 0.5 * d64), delta * np.sign(r)


#: Name -> loss kernel.  Read-only; use :func:`get_loss` for a checked lookup.
LOSSES = MappingProxyType({"l2": l2, "l1": l1, "huber": huber})


def get_loss(name: str) -> Any:
    """Return the loss kernel registered under ``name``.

    Parameters
    ----------
    name : {"l2", "l1", "huber"}
        Loss name (case-insensitive).

    Raises
    ------
    ValueError
        If ``name`` is not a registered loss; the message lists the choices.
    """
    if not isinstance(name, str) or name.lower() not in LOSSES:
        raise ValueError(f"loss must be one of {sorted(LOSSES)}, got {name!r}")
    return LOSSES[name.lower()]
