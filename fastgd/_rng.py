r"""Counter-based random numbers: SplitMix64 bits and exact normal quantiles.

Every random number fastgd draws is a pure function of a 64-bit *key* and a
64-bit *counter*; there is no generator state to advance.  Any block of numbers
can therefore be produced independently, by any thread, in any order, and the
result never depends on how the work is split.

Bits
    ``counter_bits(key, c) = mix64(key + (c + 1) * GAMMA)  (mod 2**64)``, which
    is exactly output number ``c + 1`` of the SplitMix64 generator (Steele,
    Lea and Flood, 2014) seeded with ``key``; ``mix64`` is its finaliser
    (David Stafford's "Mix13" variant of the MurmurHash3 finaliser) and
    ``GAMMA = 0x9E3779B97F4A7C15``.  Keys come from :func:`stream_key`:
    output number ``stream + 1`` of SplitMix64 seeded with the user's seed, so
    different seeds and different streams start at unrelated points of the
    2**64-long SplitMix64 sequence.

Uniforms
    ``uniform01(b) = (b >> 11) * 2**-53``: 53-bit uniform on ``[0, 1)``, used
    for Bernoulli decisions (``uniform01(b) < p`` has probability ``p`` up to
    2**-53).  For normals the open-interval 53-bit uniform
    ``u = (2 * (b >> 11) + 1) * 2**-54`` in ``(0, 1)`` (never 0 or 1) is used
    through its exactly representable centred form ``q = u - 1/2``
    (:func:`centered_uniform`).

Normals
    ``z = Phi^{-1}(u)`` by inversion with Wichura's algorithm AS 241
    (PPND16; Applied Statistics 37, 477-484, 1988), whose rational
    approximations have relative error about 1e-16 (measured against mpmath,
    as compiled here: within 4 ulp).  One uniform gives one normal, so a
    normal is a function of a single counter.  Inversion was chosen over
    Box-Muller (a pair of normals per log + sin + cos) because, written
    branch-free, it vectorises: :func:`fill_standard_normal` evaluates the
    central formula (85 % of draws, one rational function) for all entries
    with SIMD, compacts the tail entries and evaluates the tail formula on
    those only.  The tail logarithm is a branch-free port of the fdlibm/musl
    ``log`` kernel applied to the integer ``2**53 - |2 (b >> 11) + 1 - 2**53|``
    (so ``min(u, 1 - u)`` is never rounded) instead of a ``libm`` call.  The
    extreme tail (``min(u, 1 - u) < exp(-25)``, one draw in 3.6e10) takes a
    scalar path.  ``|z|`` is at most 8.29 (``u = 2**-54``).
"""

from __future__ import annotations

import math

import numpy as np

from ._jit import jit

__all__ = [
    "GAMMA",
    "centered_uniform",
    "counter_bits",
    "fill_standard_normal",
    "mix64",
    "mix64_py",
    "normal_quantile",
    "normal_workspace",
    "stream_key",
    "uniform01",
]

_MASK64 = (1 << 64) - 1
_U = np.uint64

#: SplitMix64 increment (the odd integer closest to 2**64 / golden ratio).
GAMMA = _U(0x9E3779B97F4A7C15)
_M1 = _U(0xBF58476D1CE4E5B9)
_M2 = _U(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = _U(30), _U(27), _U(31), _U(11)
_ONE = _U(1)
_TWO53 = np.int64(1 << 53)
_TWO_M53 = 2.0**-53
_TWO_M54 = 2.0**-54
_LN2_54 = 54.0 * math.log(2.0)
#: ``r * 2**54`` below this (``r < exp(-25)``, with margin) goes to the scalar
#: far-tail path of AS 241.
_FAR_TAIL_INT = np.int64(int(math.exp(-25.0) * 2.0**54) + 2)
#: ``|q| <= 0.425`` (AS 241's central region) is ``|m| <= 0.425 * 2**54`` exactly.
_CENTRAL_FLOAT = 0.425 * 2.0**54
_CENTRAL_INT = np.int64(math.floor(_CENTRAL_FLOAT))

# AS 241 (PPND16) coefficients, lowest degree first (kept in the paper's compact layout).
# fmt: off
_A = (3.3871328727963666080e0, 1.3314166789178437745e2, 1.9715909503065514427e3, 1.3731693765509461125e4,
      4.5921953931549871457e4, 6.7265770927008700853e4, 3.3430575583588128105e4, 2.5090809287301226727e3)
_B = (1.0, 4.2313330701600911252e1, 6.8718700749205790830e2, 5.3941960214247511077e3,
      2.1213794301586595867e4, 3.9307895800092710610e4, 2.8729085735721942674e4, 5.2264952788528545610e3)
_C = (1.42343711074968357734e0, 4.63033784615654529590e0, 5.76949722146069140550e0, 3.64784832476320460504e0,
      1.27045825245236838258e0, 2.41780725177450611770e-1, 2.27238449892691845833e-2, 7.74545014278341407640e-4)
_D = (1.0, 2.05319162663775882187e0, 1.67638483018380384940e0, 6.89767334985100004550e-1,
      1.48103976427480074590e-1, 1.51986665636164571966e-2, 5.47593808499534494600e-4, 1.05075007164441684324e-9)
_E = (6.65790464350110377720e0, 5.46378491116411436990e0, 1.78482653991729133580e0, 2.96560571828504891230e-1,
      2.65321895265761230930e-2, 1.24266094738807843860e-3, 2.71155556874348757815e-5, 2.01033439929228813265e-7)
_F = (1.0, 5.99832206555887937690e-1, 1.36929880922735805310e-1, 1.48753612908506148525e-2,
      7.86869131145613259100e-4, 1.84631831751005468180e-5, 1.42151175831644588870e-7, 2.04426310338993978564e-15)
# fmt: on

# fdlibm log kernel: ln2 split in two, minimax coefficients of
# (log(1+f) - f + f*f/2) / s with s = f / (2 + f).
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
# fmt: off
_LG = (6.666666666666735130e-01, 3.999999999940941908e-01, 2.857142874366239149e-01, 2.222219843214978396e-01,
       1.818357216161805012e-01, 1.531383769920937332e-01, 1.479819860511658591e-01)
# fmt: on
_SQRT_HALF_BITS = np.int64(0x3FE6A09E667F3BCD)
_ONE_BITS = np.int64(0x3FF0000000000000)
_MANTISSA = np.int64(0x000FFFFFFFFFFFFF)


def mix64_py(z: int) -> int:
    """SplitMix64 finaliser on a Python ``int`` (reference for :func:`mix64`)."""
    z &= _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return z ^ (z >> 31)


def stream_key(seed: int, stream: int) -> np.uint64:
    """Key of random stream ``stream``: output ``stream + 1`` of SplitMix64(``seed``).

    ``seed`` must satisfy ``0 <= seed < 2**64`` (the caller validates).
    """
    return _U(mix64_py(seed + (stream + 1) * int(GAMMA)))


@jit(inline="always")
def mix64(z):  # type: ignore[no-untyped-def]
    """SplitMix64 finaliser of a ``uint64`` (bijective 64-bit mixer)."""
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@jit(inline="always")
def counter_bits(key, counter):  # type: ignore[no-untyped-def]
    """64 random bits for ``counter`` (``uint64``): SplitMix64 output ``counter + 1``."""
    return mix64(key + (counter + _ONE) * GAMMA)


@jit(inline="always")
def uniform01(bits):  # type: ignore[no-untyped-def]
    """53-bit uniform on ``[0, 1)`` from 64 random bits."""
    return np.int64(bits >> _S11) * _TWO_M53


@jit(inline="always")
def _centered_int(bits):  # type: ignore[no-untyped-def]
    """Odd ``m`` in ``(-2**53, 2**53)`` with ``u - 1/2 = m * 2**-54``."""
    return (np.int64(bits >> _S11) << np.int64(1)) + np.int64(1) - _TWO53


@jit(inline="always")
def centered_uniform(bits):  # type: ignore[no-untyped-def]
    """``q = u - 1/2`` (exact) for the open 53-bit uniform ``u`` in ``(0, 1)``."""
    return _centered_int(bits) * _TWO_M54


@jit(inline="always")
def _poly7(c, x):  # type: ignore[no-untyped-def]
    return ((((((c[7] * x + c[6]) * x + c[5]) * x + c[4]) * x + c[3]) * x + c[2]) * x + c[1]) * x + c[0]


@jit(inline="always")
def _log(x):  # type: ignore[no-untyped-def]
    """Natural log of a positive normal float64 (fdlibm kernel, no special cases)."""
    bits = np.float64(x).view(np.int64) + (_ONE_BITS - _SQRT_HALF_BITS)
    k = (bits >> np.int64(52)) - np.int64(1023)
    f = np.int64((bits & _MANTISSA) + _SQRT_HALF_BITS).view(np.float64) - 1.0  # 1+f in [sqrt(1/2), sqrt(2))
    hfsq = 0.5 * f * f
    s = f / (2.0 + f)
    z = s * s
    w = z * z
    t1 = w * (_LG[1] + w * (_LG[3] + w * _LG[5]))
    t2 = z * (_LG[0] + w * (_LG[2] + w * (_LG[4] + w * _LG[6])))
    dk = np.float64(k)
    return s * (hfsq + (t1 + t2)) + dk * _LN2_LO - hfsq + f + dk * _LN2_HI


@jit(inline="always")
def _tail_radius(m):  # type: ignore[no-untyped-def]
    """``sqrt(-log(min(u, 1 - u)))`` for the centred integer ``m`` of ``u``."""
    tail_int = _TWO53 - np.abs(m)  # min(u, 1-u) * 2**54, a positive integer
    return math.sqrt(_LN2_54 - _log(np.float64(tail_int)))


@jit(inline="always")
def _central_quantile(m):  # type: ignore[no-untyped-def]
    """AS 241 for ``|q| <= 0.425``, ``q = m * 2**-54`` (meaningless outside that region)."""
    q = m * _TWO_M54
    r = 0.180625 - q * q
    return q * _poly7(_A, r) / _poly7(_B, r)


@jit(inline="always")
def _near_tail_quantile(m):  # type: ignore[no-untyped-def]
    """AS 241 for ``|q| > 0.425`` and ``radius <= 5``."""
    t = _tail_radius(m) - 1.6
    value = _poly7(_C, t) / _poly7(_D, t)
    return value if m > 0 else -value


@jit(inline="always")
def _far_quantile(m):  # type: ignore[no-untyped-def]
    """AS 241 for ``radius > 5`` (``min(u, 1 - u) < exp(-25)``)."""
    t = _tail_radius(m) - 5.0
    value = _poly7(_E, t) / _poly7(_F, t)
    return value if m > 0 else -value


@jit()
def normal_quantile(bits):  # type: ignore[no-untyped-def]
    """Standard normal ``Phi^{-1}(u)`` of the open 53-bit uniform of ``bits`` (scalar)."""
    m = _centered_int(bits)
    if np.abs(m) <= _CENTRAL_INT:
        return _central_quantile(m)
    if _TWO53 - np.abs(m) < _FAR_TAIL_INT and _tail_radius(m) > 5.0:
        return _far_quantile(m)
    return _near_tail_quantile(m)


def normal_workspace(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Scratch ``(tail_index, tail_value)`` for :func:`fill_standard_normal` of ``size`` numbers."""
    return np.empty(size, dtype=np.int64), np.empty(size, dtype=np.float64)


@jit()
def fill_standard_normal(key, counter0, out, tail_index, tail_value):  # type: ignore[no-untyped-def]
    """``out[k] = Phi^{-1}(u(counter0 + k))`` for ``k < len(out)`` (float64).

    Same values as :func:`normal_quantile` of ``counter_bits(key, counter0 + k)``,
    computed in SIMD-friendly passes: the centred integers ``m`` are stored in
    ``out`` (exactly, as float64); the indices and ``m`` of the tail entries
    (``|u - 1/2| > 0.425``, 15 %) are compacted into the scratch arrays; the
    central formula runs over all of ``out`` and the tail formula over the
    compacted entries, which are then scattered back; the rare far-tail
    entries are finally recomputed by a scalar loop.

    Parameters
    ----------
    key, counter0 : uint64
        Stream key and first counter.
    out : ndarray of float64, contiguous
        **Overwritten** with the normals.
    tail_index : ndarray of int64, ``len >= len(out)``
    tail_value : ndarray of float64, ``len >= len(out)``
        Scratch from :func:`normal_workspace`, **overwritten**.
    """
    n = out.shape[0]
    state = key + (counter0 + _ONE) * GAMMA
    n_far = 0
    for k in range(n):
        m = _centered_int(mix64(state + np.uint64(k) * GAMMA))
        n_far += _TWO53 - np.abs(m) < _FAR_TAIL_INT
        out[k] = np.float64(m)
    n_tail = 0
    for k in range(n):
        tail_index[n_tail] = k
        n_tail += np.abs(out[k]) > _CENTRAL_FLOAT
    for c in range(n_tail):
        tail_value[c] = out[tail_index[c]]
    for k in range(n):
        out[k] = _central_quantile(np.int64(out[k]))
    for c in range(n_tail):
        tail_value[c] = _near_tail_quantile(np.int64(tail_value[c]))
    for c in range(n_tail):
        out[tail_index[c]] = tail_value[c]
    if n_far > 0:
        for k in range(n):
            m = _centered_int(mix64(state + np.uint64(k) * GAMMA))
            if _TWO53 - np.abs(m) < _FAR_TAIL_INT and _tail_radius(m) > 5.0:
                out[k] = _far_quantile(m)
