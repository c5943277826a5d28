"""The one Numba policy every fastgd kernel is compiled under.

Every kernel in fastgd is decorated with :func:`jit`, so the compilation policy
lives here and nowhere else:

``cache=True``
    Compiled machine code is written next to the sources (``__pycache__``) and
    reloaded by later processes in a fraction of a second; it is invalidated
    when any fastgd source file changes (:mod:`fastgd._cache`).
``error_model="numpy"``
    Division by zero gives ``inf``/``nan`` as in NumPy instead of raising, and
    divisions compile without a zero check.
``fastmath=FASTMATH``
    ``reassoc`` and ``contract`` let LLVM vectorise reductions (float32
    reductions do not vectorise without them) and fuse multiply-adds; ``nsz``
    and ``arcp`` are harmless for this code.  The flags ``nnan`` and ``ninf``
    are deliberately **absent**: with them LLVM may assume no value is ever NaN
    or infinite and fold away the very checks that detect divergence.
``strict=True`` (opt-in)
    No fast-math flags at all, for element-wise update kernels: their loops
    vectorise without them, and every element is then computed exactly as
    the formula is written -- the same bits in the vectorised body and in the
    scalar remainder, and no ``x / y`` turned into ``x * (1 / y)``.
``parallel``
    Off by default.  Only kernels whose outer loop runs over row blocks with
    ``numba.prange`` ask for it.

Kernels never set the number of threads; they use whatever
``numba.get_num_threads()`` is in force in the caller.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, TypeVar, cast

import numba

from ._cache import install_package_cache_locator

__all__ = ["FASTMATH", "jit"]

# Cached kernels inline code from other fastgd modules: key the cache on all of them.
install_package_cache_locator()

# numba/numba#8578: a serial kernel loaded from the cache that calls a parallel
# one (the training loop calls the full-batch gradient) does not start Numba's
# thread pool, and the first parallel region then segfaults.  Reading the
# thread count starts the pool; it does not change it.
numba.get_num_threads()

#: LLVM fast-math flags used by every kernel: everything except ``nnan``,
#: ``ninf`` (which would hide NaN/inf) and ``afn`` (approximate functions).
FASTMATH: frozenset[str] = frozenset({"reassoc", "contract", "nsz", "arcp"})

F = TypeVar("F", bound=Callable[..., Any])


def jit(
    *, parallel: bool = False, inline: Literal["never", "always"] = "never", strict: bool = False
) -> Callable[[F], F]:
    """Return a decorator that compiles a function under fastgd's Numba policy.

    Parameters
    ----------
    parallel : bool, default False
        Compile with ``parallel=True``.  Use it only for kernels whose outer
        loop is a ``numba.prange`` over rows or row blocks.
    inline : {"never", "always"}, default "never"
        Numba-level inlining, for tiny scalar helpers.
    strict : bool, default False
        Compile without fast-math flags (IEEE arithmetic in source order), for
        element-wise kernels whose results must not depend on vectorisation.

    Returns
    -------
    decorator : callable
        ``numba.njit`` configured with ``cache=True``,
        ``error_model="numpy"`` and :data:`FASTMATH` (none if ``strict``).
    """
    decorator = numba.njit(
        cache=True,
        error_model="numpy",
        fastmath=set() if strict else set(FASTMATH),
        parallel=parallel,
        inline=inline,
        nogil=True,
    )
    # The decorated function is a Numba dispatcher, called like the original.
    return cast("Callable[[F], F]", decorator)
