"""The certified optimum: exact least squares and exact least absolute deviations."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from fastgd import loss_value
from fastgd.study.optimum import certified_optimum, least_absolute_deviations, least_squares


def _problem(n, d, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = X @ rng.standard_normal(d) + 0.7 + rng.standard_normal(n)
    y[: max(1, n // 20)] += 25.0  # outliers
    return X.astype(dtype), y.astype(dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_least_squares_matches_lstsq_with_intercept(dtype):
    X, y = _problem(300, 6, dtype=dtype)
    coef, intercept = least_squares(X, y)
    augmented = np.column_stack([X.astype(np.float64), np.ones(len(y))])
    reference = np.linalg.lstsq(augmented, y.astype(np.float64), rcond=None)[0]
    np.testing.assert_allclose(coef, reference[:-1], rtol=0, atol=1e-12)
    assert intercept == pytest.approx(reference[-1], abs=1e-12)


def test_least_squares_accumulates_over_chunks(monkeypatch):
    from fastgd.study import optimum

    X, y = _problem(1000, 3)
    whole = least_squares(X, y)
    monkeypatch.setattr(optimum, "_CHUNK_ROWS", 7)
    chunked = least_squares(X, y)
    np.testing.assert_allclose(chunked[0], whole[0], atol=1e-12)


def test_l2_optimum_record():
    X, y = _problem(200, 4)
    optimum = certified_optimum(X, y, "l2")
    assert optimum.kind == "normal_equations"
    assert optimum.loss == pytest.approx(loss_value(X, y, optimum.coef, optimum.intercept, loss="l2"))
    assert optimum.coef.shape == (4,)


def _brute_force_lad(X, y):
    """Best mean |residual| over every model interpolating d+1 points (an LAD optimum is one of them)."""
    n, d = X.shape
    augmented = np.column_stack([X, np.ones(n)])
    best = np.inf
    for rows in itertools.combinations(range(n), d + 1):
        try:
            theta = np.linalg.solve(augmented[list(rows)], y[list(rows)])
        except np.linalg.LinAlgError:
            continue
        best = min(best, float(np.mean(np.abs(augmented @ theta - y))))
    return best


@pytest.mark.parametrize("d", [1, 2])
def test_l1_lp_matches_brute_force_on_a_tiny_problem(d):
    X, y = _problem(14, d, seed=3)
    optimum = certified_optimum(X, y, "l1")
    assert optimum.kind == "highs_lp"
    assert optimum.loss == pytest.approx(_brute_force_lad(X, y), rel=1e-9, abs=1e-12)


def test_l1_optimum_beats_least_squares_and_perturbations():
    X, y = _problem(500, 5, seed=1)
    optimum = certified_optimum(X, y, "l1")
    coef_l2, intercept_l2 = least_squares(X, y)
    assert optimum.loss <= loss_value(X, y, coef_l2, intercept_l2, loss="l1")
    rng = np.random.default_rng(0)
    for _ in range(20):
        step = 1e-3 * rng.standard_normal(6)
        assert optimum.loss <= loss_value(X, y, optimum.coef + step[:5], optimum.intercept + step[5], loss="l1") + 1e-12


def test_l1_dual_objective_certifies_the_primal():
    X, y = _problem(400, 3, seed=2)
    coef, intercept, lower_bound = least_absolute_deviations(X, y)
    primal = float(np.mean(np.abs(X @ coef + intercept - y)))
    assert lower_bound <= primal + 1e-12
    assert primal - lower_bound < 1e-9


def test_no_certified_optimum_above_the_size_limit_or_for_huber():
    X, y = _problem(100, 4)
    assert certified_optimum(X, y, "l1", size_limit=100 * 5 - 1).kind is None
    assert certified_optimum(X, y, "huber").loss is None
    with pytest.raises(ValueError, match="unknown loss"):
        certified_optimum(X, y, "l3")
