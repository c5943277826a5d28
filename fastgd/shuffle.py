"""The row order of a shuffled epoch, exactly as :func:`fastgd.fit` draws it.

``fit(..., shuffle=True, seed=s)`` visits the rows of its 0-based epoch ``e``
in the Fisher-Yates permutation keyed by ``stream_key(s, SHUFFLE_STREAM + e)``
of the counter-based generator.  :func:`epoch_order` returns that permutation,
so other code (the benchmark's peers, a user's own loop) can visit the same
rows in the same order.
"""

from __future__ import annotations

import numpy as np

from ._rng import stream_key
from ._validation import check_int
from .kernels.training import permutation_into
from .trainer import SHUFFLE_STREAM

__all__ = ["epoch_order"]


def epoch_order(n_samples: int, seed: int, epoch: int) -> np.ndarray:
    """Row permutation that :func:`fastgd.fit` visits in 0-based ``epoch`` with ``seed``.

    Parameters
    ----------
    n_samples : int
        Number of rows (>= 1).
    seed : int
        ``fit``'s ``seed``.
    epoch : int
        0-based epoch index (the first epoch is 0).

    Returns
    -------
    ndarray of int64, shape (n_samples,)
        A permutation of ``range(n_samples)``.

    Examples
    --------
    >>> import fastgd
    >>> order = fastgd.epoch_order(5, seed=0, epoch=0)
    >>> sorted(order.tolist())
    [0, 1, 2, 3, 4]
    """
    n_samples = check_int(n_samples, "n_samples", 1)
    seed = check_int(seed, "seed", 0)
    epoch = check_int(epoch, "epoch", 0)
    order = np.empty(n_samples, dtype=np.int64)
    permutation_into(order, stream_key(seed, SHUFFLE_STREAM + epoch))
    return order
