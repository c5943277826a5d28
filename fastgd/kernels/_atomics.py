"""Atomic operations on int64 array elements, for compiled code shared by two threads.

Numba has no atomics of its own; these intrinsics emit LLVM's atomic
instructions, all sequentially consistent, so a value published with
:func:`atomic_store` after plain writes to other memory is seen by a thread
that reads it with :func:`atomic_load` only together with those writes.  The
compiler never caches an atomic load in a register, so a loop on
:func:`atomic_load` is a valid spin-wait.  Only the training pipeline
(:mod:`fastgd.kernels._pipeline`) uses them.
"""

from __future__ import annotations

import platform
from typing import Any

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

__all__ = ["atomic_cas", "atomic_load", "atomic_store", "spin_pause"]

_X86 = platform.machine().lower() in {"x86_64", "amd64", "i386", "i686"}


def _element_pointer(context: Any, builder: Any, array_type: Any, array: Any, index: Any) -> Any:
    ary = context.make_array(array_type)(context, builder, array)
    return cgutils.get_item_pointer(context, builder, array_type, ary, [index], wraparound=False)


def _check_flags(flags: Any) -> bool:
    return isinstance(flags, types.Array) and flags.ndim == 1 and flags.dtype == types.int64 and flags.mutable


def _atomic_load(typingctx: Any, flags: Any, index: Any) -> Any:
    """``flags[index]``, read atomically (``flags``: writable 1-d int64 array)."""
    if not (_check_flags(flags) and isinstance(index, types.Integer)):
        return None
    signature = types.int64(flags, types.intp)

    def codegen(context: Any, builder: Any, sig: Any, args: Any) -> Any:
        pointer = _element_pointer(context, builder, sig.args[0], args[0], args[1])
        return builder.load_atomic(pointer, "seq_cst", 8)

    return signature, codegen


def _atomic_store(typingctx: Any, flags: Any, index: Any, value: Any) -> Any:
    """``flags[index] = value``, written atomically after every earlier write of this thread."""
    if not (_check_flags(flags) and isinstance(index, types.Integer) and isinstance(value, types.Integer)):
        return None
    signature = types.void(flags, types.intp, types.int64)

    def codegen(context: Any, builder: Any, sig: Any, args: Any) -> Any:
        pointer = _element_pointer(context, builder, sig.args[0], args[0], args[1])
        builder.store_atomic(args[2], pointer, "seq_cst", 8)
        return context.get_dummy_value()

    return signature, codegen


def _atomic_cas(typingctx: Any, flags: Any, index: Any, expected: Any, desired: Any) -> Any:
    """Compare-and-swap: if ``flags[index] == expected`` set it to ``desired``; return whether it did."""
    integer = types.Integer
    if not (
        _check_flags(flags)
        and isinstance(index, integer)
        and isinstance(expected, integer)
        and isinstance(desired, integer)
    ):
        return None
    signature = types.boolean(flags, types.intp, types.int64, types.int64)

    def codegen(context: Any, builder: Any, sig: Any, args: Any) -> Any:
        pointer = _element_pointer(context, builder, sig.args[0], args[0], args[1])
        result = builder.cmpxchg(pointer, args[2], args[3], "seq_cst", "seq_cst")
        return builder.extract_value(result, 1)

    return signature, codegen


def _spin_pause(typingctx: Any) -> Any:
    """Tell the CPU this is a spin-wait loop (x86 ``pause``; nothing elsewhere)."""
    signature = types.void()

    def codegen(context: Any, builder: Any, sig: Any, args: Any) -> Any:
        if _X86:
            pause = cgutils.get_or_insert_function(
                builder.module, ir.FunctionType(ir.VoidType(), []), "llvm.x86.sse2.pause"
            )
            builder.call(pause, [])
        return context.get_dummy_value()

    return signature, codegen


# ``intrinsic`` returns an object mypy cannot see through; the kernels are typed by Numba.
atomic_load: Any = intrinsic(_atomic_load)
atomic_store: Any = intrinsic(_atomic_store)
atomic_cas: Any = intrinsic(_atomic_cas)
spin_pause: Any = intrinsic(_spin_pause)
