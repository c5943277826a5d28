"""The seed tutorial's four ways to update the weights, by name.

========== ================================ ============ =============================================
name       optimizer (default)              batch_size   what it is
========== ================================ ============ =============================================
batch      ``SGD(lr=0.1)``                  None (all)   mean gradient of all data, one update a pass
sgd        ``SGD(lr=0.001)``                1            one update per sample
minibatch  ``SGD(lr=0.05)``                 64           mean gradient of each part of the data
adam       ``Adam(lr=0.01)``                64           adaptive steps with momentum, on mini-batches
========== ================================ ============ =============================================

The defaults are stable for standardised features with up to a few hundred
columns (SGD's step must shrink as ``||x||**2`` grows); override them with
``method(name, lr=..., batch_size=..., <optimizer parameter>=...)``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from .optim import SGD, Adam

__all__ = ["METHODS", "MethodSpec", "method"]

#: The four method names, in the seed's order.
METHODS = ("batch", "sgd", "minibatch", "adam")

_DEFAULTS: dict[str, tuple[type, dict[str, Any], int | None]] = {
    "batch": (SGD, {"lr": 0.1}, None),
    "sgd": (SGD, {"lr": 0.001}, 1),
    "minibatch": (SGD, {"lr": 0.05}, 64),
    "adam": (Adam, {"lr": 0.01}, 64),
}


class MethodSpec(NamedTuple):
    """An optimizer and a batch size (``None`` = full batch); unpacks as a pair."""

    optimizer: Any
    batch_size: int | None


def method(name: str, **overrides: Any) -> MethodSpec:
    """Return the optimizer and batch size that a method name stands for.

    Parameters
    ----------
    name : {"batch", "sgd", "minibatch", "adam"}
    **overrides
        ``batch_size=...`` and any parameter of the method's optimizer
        (``lr``, ``momentum``, ``betas``, ...).

    Returns
    -------
    MethodSpec
        ``(optimizer, batch_size)``, ready for ``fastgd.fit(X, y, optimizer=..., batch_size=...)``.

    Raises
    ------
    ValueError
        For an unknown name, a bad override or one the optimizer does not take.

    Examples
    --------
    >>> import fastgd
    >>> fastgd.method("adam", lr=0.05)
    MethodSpec(optimizer=Adam(lr=0.05, betas=(0.9, 0.999), eps=1e-08, weight_decay=0.0, amsgrad=False), batch_size=64)
    """
    if name not in _DEFAULTS:
        raise ValueError(f"method must be one of {list(METHODS)}, got {name!r}")
    optimizer_class, defaults, batch_size = _DEFAULTS[name]
    batch_size = overrides.pop("batch_size", batch_size)
    if name == "batch" and batch_size is not None:
        raise ValueError("batch_size: the 'batch' method always uses all rows (batch_size=None)")
    try:
        optimizer = optimizer_class(**{**defaults, **overrides})
    except TypeError as error:
        raise ValueError(f"method {name!r}: {error}") from None
    return MethodSpec(optimizer, batch_size)
