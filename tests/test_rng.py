"""Tests for the counter-based random numbers (:mod:`fastgd._rng`) behind ``make_regression``."""

from __future__ import annotations

import math

import numpy as np
import pytest

from fastgd import _rng

MASK64 = (1 << 64) - 1


def splitmix64_reference(seed: int, count: int) -> list[int]:
    """The textbook SplitMix64 generator (state += GAMMA; output mix(state))."""
    state, out = seed, []
    for _ in range(count):
        state = (state + 0x9E3779B97F4A7C15) & MASK64
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        out.append(z ^ (z >> 31))
    return out


def unmix64(z: int) -> int:
    """Inverse of the SplitMix64 finaliser (to build inputs that hit chosen bits)."""

    def unxorshift(value: int, shift: int) -> int:
        result = value
        for _ in range(64 // shift + 1):
            result = value ^ (result >> shift)
        return result

    z = unxorshift(z, 31)
    z = (z * pow(0x94D049BB133111EB, -1, 1 << 64)) & MASK64
    z = unxorshift(z, 27)
    z = (z * pow(0xBF58476D1CE4E5B9, -1, 1 << 64)) & MASK64
    return unxorshift(z, 30)


def bits_for(k: int) -> np.uint64:
    """64-bit word whose 53-bit uniform index ``bits >> 11`` is ``k``."""
    return np.uint64(k << 11)


def exact_quantile_reference(k: int) -> float:
    """Phi^{-1}((2k + 1) / 2**54) from scipy's ndtri on the exact tail probability."""
    special = pytest.importorskip("scipy.special")
    m = 2 * k + 1 - 2**53
    tail = (2**53 - abs(m)) * 2.0**-54  # exact: an integer below 2**53 times a power of two
    value = float(special.ndtri(tail))
    return -value if m > 0 else value


def test_counter_bits_is_splitmix64():
    assert splitmix64_reference(0, 1) == [0xE220A8397B1DCDAF]  # published first output for seed 0
    for key in (0, 1234567, 0xDEADBEEFCAFEF00D):
        expected = splitmix64_reference(key, 6)
        got = [int(_rng.counter_bits(np.uint64(key), np.uint64(c))) for c in range(6)]
        assert got == expected
        assert [_rng.mix64_py(key + (c + 1) * 0x9E3779B97F4A7C15) for c in range(6)] == expected
    assert int(_rng.stream_key(5, 2)) == splitmix64_reference(5, 3)[2]


def test_unmix64_inverts_the_mixer():
    for z in (0, 1, 0x0123456789ABCDEF, MASK64):
        assert _rng.mix64_py(unmix64(z)) == z


@pytest.mark.parametrize(
    "k",
    [
        0,
        1,
        2,
        7,
        1000,
        125_000,
        125_095,
        125_200,
        2**20,
        2**40,
        int(0.075 * 2**53),
        int(0.0751 * 2**53),
        2**52 - 1,
        2**52,
        2**52 + 17,
        int(0.925 * 2**53),
        2**53 - 2**40,
        2**53 - 1001,
        2**53 - 1,
    ],
)
def test_normal_quantile_matches_scipy_ndtri(k):
    value = _rng.normal_quantile(bits_for(k))
    reference = exact_quantile_reference(k)
    assert math.isfinite(value)
    assert abs(value - reference) <= 1e-14 * max(abs(reference), 1e-300)


def test_normal_quantile_random_grid_and_symmetry():
    ks = np.random.default_rng(3).integers(0, 2**53, 3000, dtype=np.int64)
    for k in map(int, ks):
        value = _rng.normal_quantile(bits_for(k))
        reference = exact_quantile_reference(k)
        assert abs(value - reference) <= 1e-14 * abs(reference)
        assert _rng.normal_quantile(bits_for(2**53 - 1 - k)) == -value  # u -> 1 - u is exact
    extreme = _rng.normal_quantile(bits_for(0))
    assert -8.3 < extreme < -8.29  # u = 2**-54, never 0: the largest |z| is finite


def test_uniform01_range():
    assert _rng.uniform01(np.uint64(0)) == 0.0
    assert _rng.uniform01(np.uint64(MASK64)) == 1.0 - 2.0**-53


@pytest.mark.parametrize("tail_k", [0, 3, 250, 2**53 - 1, 2**53 - 5])
def test_fill_standard_normal_equals_scalar_including_far_tail(tail_k):
    # Build a key whose counter 2 yields bits in the far tail (min(u, 1-u) < exp(-25)).
    key = (unmix64(int(bits_for(tail_k))) - 3 * int(_rng.GAMMA)) & MASK64
    out = np.empty(37)
    _rng.fill_standard_normal(np.uint64(key), np.uint64(0), out, *_rng.normal_workspace(37))
    scalar = [_rng.normal_quantile(np.uint64(_rng.counter_bits(np.uint64(key), np.uint64(c)))) for c in range(37)]
    np.testing.assert_array_equal(out, scalar)
    assert out[2] == pytest.approx(exact_quantile_reference(tail_k), rel=1e-14)
    assert abs(out[2]) > 7.0
