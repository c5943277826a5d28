"""A software prefetch of rows of ``X``, for kernels that stream through ``X`` with work in between.

The hardware prefetcher follows a sequential read, but a kernel that stops
reading while it computes (an optimizer update between two mini-batches, the
gradient pass of a row block) lets the stream run dry; asking for rows a little
ahead keeps memory busy during that work.  A prefetch is only a hint: it never
faults and never changes a result.
"""

from __future__ import annotations

from typing import Any

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from .._jit import jit

__all__ = ["BLOCK_PREFETCH_BYTES", "PREFETCH_BYTES", "prefetch_rows", "rows_ahead"]

#: Bytes per cache line (every x86-64 and ARMv8 server CPU fastgd runs on).
LINE_BYTES = 64


def _prefetch_address(typingctx: Any, array: Any, offset: Any) -> Any:
    """Prefetch (for reading, into every cache level) the line at byte ``offset`` of ``array``'s data."""
    if not (isinstance(array, types.Array) and isinstance(offset, types.Integer)):
        return None
    signature = types.void(array, types.intp)

    def codegen(context: Any, builder: Any, sig: Any, args: Any) -> Any:
        data = context.make_array(sig.args[0])(context, builder, args[0]).data
        # Plain integer arithmetic (no in-bounds GEP): the caller keeps the offset inside the array.
        address = builder.add(builder.ptrtoint(data, cgutils.intp_t), args[1])
        pointer = builder.inttoptr(address, cgutils.voidptr_t)
        i32 = ir.IntType(32)
        function = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [cgutils.voidptr_t, i32, i32, i32]), "llvm.prefetch.p0i8"
        )
        # rw = 0 (read), locality = 3 (keep in all levels), cache type = 1 (data).
        builder.call(function, [pointer, ir.Constant(i32, 0), ir.Constant(i32, 3), ir.Constant(i32, 1)])
        return context.get_dummy_value()

    return signature, codegen


prefetch_address: Any = intrinsic(_prefetch_address)


@jit(inline="always")
def prefetch_rows(X, start, stop):  # type: ignore[no-untyped-def]
    """Ask for the cache lines of rows ``start:stop`` of the C-contiguous ``X`` (clipped to its rows)."""
    n_samples, n_features = X.shape
    start = max(start, 0)
    stop = min(stop, n_samples)
    row_bytes = n_features * X.itemsize
    for offset in range(start * row_bytes, stop * row_bytes, LINE_BYTES):
        prefetch_address(X, offset)


#: How far ahead the serial mini-batch kernels ask for rows of ``X``, in bytes
#: (3 rows of 100 float64, 7 of 100 float32).  Measured on the in-order Adam
#: epoch (batch 32, 200,000 x 100), as a multiple of the 1-thread read: 1.6 KiB
#: gave 2.0x against 1.8x in float32 and 1.53x against 1.58x in float64 (within
#: run-to-run noise); 4.8 and 8 KiB were slower in both dtypes, and so was
#: asking for many rows at once (a whole batch ahead).
PREFETCH_BYTES = 3072

#: How far ahead the full-pass kernels (two wide rows a step, the loss one
#: row a step) ask for rows of ``X``, in bytes: 2 rows of 100 float64, 4 of
#: 100 float32.  On 1,000,000 x 100 the fused gradient took 1.2-1.3x the read
#: with it against 1.32-1.40x at 2.4-3 KiB and 1.5-1.8x with no prefetch (one
#: run, both dtypes and thread counts); 6 KiB and more was slower still.
BLOCK_PREFETCH_BYTES = 1600


@jit(inline="always")
def rows_ahead(X, distance_bytes):  # type: ignore[no-untyped-def]
    """How many rows of ``X`` make ``distance_bytes`` (at least 1): the prefetch distance in rows."""
    return max(1, distance_bytes // max(1, X.shape[1] * X.itemsize))
