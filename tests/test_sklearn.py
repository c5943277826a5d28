"""``fastgd.sklearn.GDRegressor``: scikit-learn's own checks, equality with ``fastgd.fit``, pipelines."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

import fastgd
from fastgd.sklearn import GDRegressor

# The estimators scikit-learn's suite runs on: the defaults (no expected
# failures), the unstandardised path with a setting that trains on unscaled
# data (Adam, Huber), and the scale-only path of fit_intercept=False.
CHECKED_ESTIMATORS = [
    GDRegressor(),
    GDRegressor(method="adam", loss="huber", random_state=0, standardize=False),
    GDRegressor(optimizer=fastgd.RMSprop(lr=0.02), batch_size=16, loss="l1", fit_intercept=False),
]


@parametrize_with_checks(CHECKED_ESTIMATORS, xfail_strict=True)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def _diabetes_unscaled():
    from sklearn.datasets import load_diabetes

    return load_diabetes(return_X_y=True, scaled=False)


def _mean_100_features():
    rng = np.random.default_rng(0)
    X = rng.normal(100.0, 1.0, size=(200, 5))
    return X, X @ rng.normal(size=5) + rng.normal(size=200)


@pytest.mark.parametrize("random_state", [None, 0, 1])
@pytest.mark.parametrize("problem", [_diabetes_unscaled, _mean_100_features], ids=["diabetes", "mean100"])
def test_defaults_train_on_unscaled_features(problem, random_state):
    """The defaults neither diverge nor raise on unscaled features, and beat predicting the mean."""
    X, y = problem()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = GDRegressor(random_state=random_state).fit(X, y)
    assert model.score(X, y) > 0.0
    # Standardising internally makes them as good as on scaled data: close to the least-squares fit.
    assert model.score(X, y) > LinearRegression().fit(X, y).score(X, y) - 0.02


@pytest.mark.parametrize("problem", [_diabetes_unscaled, _mean_100_features], ids=["diabetes", "mean100"])
def test_defaults_in_a_scaler_pipeline_match_least_squares(problem):
    X, y = problem()
    pipeline = make_pipeline(StandardScaler(), GDRegressor(random_state=0)).fit(X, y)
    assert pipeline.score(X, y) > LinearRegression().fit(X, y).score(X, y) - 0.02


def test_standardize_is_fit_on_standardised_features(data):
    """``standardize=True`` is ``fastgd.fit`` on ``(X - mean) / std`` from the mean of ``y``, mapped back."""
    X = data.X * [1.0, 10.0, 100.0, 0.1] + [5.0, -50.0, 100.0, 0.0]
    mean, scale = X.mean(axis=0), X.std(axis=0)
    expected = fastgd.fit(
        (X - mean) / scale, data.y, optimizer=fastgd.SGD(lr=0.05), batch_size=64, epochs=3, seed=1,
        intercept_init=float(data.y.mean()),
    )  # fmt: skip
    model = GDRegressor(epochs=3, random_state=1).fit(X, data.y)
    np.testing.assert_allclose(model.coef_, expected.coef / scale, rtol=1e-12)
    assert model.intercept_ == pytest.approx(expected.intercept - mean @ (expected.coef / scale), rel=1e-12)
    np.testing.assert_array_equal(model.loss_curve_, expected.history["loss"].to_numpy()[1:])
    np.testing.assert_allclose(model.predict(X), (X - mean) / scale @ expected.coef + expected.intercept, rtol=1e-9)


def test_standardize_partial_fit_keeps_the_first_scaling(data):
    X = data.X * 100.0 + 100.0
    model = GDRegressor(random_state=0)
    for _ in range(3):
        model.partial_fit(X, data.y)
    assert model.n_iter_ == 3
    assert model.score(X, data.y) > 0.99
    second_half = GDRegressor(random_state=0).partial_fit(X[:300], data.y[:300])
    mean_before = second_half._x_scaling[0].copy()
    second_half.partial_fit(X[300:] + 5.0, data.y[300:])
    np.testing.assert_array_equal(second_half._x_scaling[0], mean_before)


def test_array_api_check_passes_when_enabled():
    """scikit-learn skips ``check_array_api_input`` unless SCIPY_ARRAY_API=1 is set before SciPy loads."""
    code = (
        "from sklearn.utils.estimator_checks import check_array_api_input\n"
        "from fastgd.sklearn import GDRegressor\n"
        "check_array_api_input('GDRegressor', GDRegressor(random_state=0), array_namespace='numpy',"
        " expect_only_array_outputs=False)\n"
        "print('passed')\n"
    )
    env = {**os.environ, "SCIPY_ARRAY_API": "1"}
    completed = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip().endswith("passed")


def test_import_fastgd_does_not_import_sklearn():
    code = "import fastgd, sys; assert 'sklearn' not in sys.modules, 'sklearn was imported'"
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr


@pytest.fixture(scope="module")
def data():
    return fastgd.make_regression(600, 4, noise=0.1, bias=1.5, seed=7)


@pytest.mark.parametrize("method_name", fastgd.METHODS)
def test_equals_fastgd_fit_for_each_method(data, method_name):
    optimizer, batch_size = fastgd.method(method_name)
    expected = fastgd.fit(data.X, data.y, optimizer=optimizer, batch_size=batch_size, epochs=4, seed=3)
    model = GDRegressor(method=method_name, epochs=4, random_state=3, standardize=False).fit(data.X, data.y)
    np.testing.assert_array_equal(model.coef_, expected.coef)
    assert model.intercept_ == expected.intercept
    assert model.n_iter_ == expected.n_epochs == 4
    np.testing.assert_array_equal(model.loss_curve_, expected.history["loss"].to_numpy()[1:])
    np.testing.assert_array_equal(model.predict(data.X), fastgd.predict(data.X, expected.coef, expected.intercept))


def test_overrides_equal_fastgd_fit(data):
    """``optimizer``, ``lr`` (via dataclasses.replace), ``batch_size``, loss and schedule pass through."""
    schedule = fastgd.InverseScaling(power_t=0.5)
    model = GDRegressor(
        loss="huber", delta=0.5, optimizer=fastgd.Adam(betas=(0.8, 0.99)), lr=0.03, batch_size=32,
        epochs=3, random_state=11, lr_schedule=schedule, fit_intercept=False, standardize=False,
    ).fit(data.X, data.y)  # fmt: skip
    expected = fastgd.fit(
        data.X, data.y, loss="huber", delta=0.5, optimizer=fastgd.Adam(lr=0.03, betas=(0.8, 0.99)), batch_size=32,
        epochs=3, seed=11, lr_schedule=schedule, fit_intercept=False,
    )  # fmt: skip
    np.testing.assert_array_equal(model.coef_, expected.coef)
    assert model.intercept_ == 0.0


def test_batch_size_above_n_samples_is_clipped(data):
    X, y = data.X[:40], data.y[:40]
    model = GDRegressor(batch_size=1000, epochs=2, random_state=0, standardize=False).fit(X, y)
    expected = fastgd.fit(X, y, optimizer=fastgd.SGD(lr=0.05), batch_size=40, epochs=2, seed=0)
    np.testing.assert_array_equal(model.coef_, expected.coef)


def test_float32_stays_float32(data):
    X32, y32 = data.X.astype(np.float32), data.y.astype(np.float32)
    model = GDRegressor(method="adam", epochs=3, random_state=0, standardize=False).fit(X32, y32)
    assert model.coef_.dtype == np.float32
    assert model.intercept_.dtype == np.float32
    assert model.predict(X32).dtype == np.float32
    expected = fastgd.fit(X32, y32, optimizer=fastgd.Adam(lr=0.01), batch_size=64, epochs=3, seed=0)
    np.testing.assert_array_equal(model.coef_, expected.coef)
    assert GDRegressor(epochs=1).fit(data.X, data.y).coef_.dtype == np.float64
    standardized = GDRegressor(epochs=1).fit(X32, y32)
    assert standardized.coef_.dtype == np.float32 and standardized.intercept_.dtype == np.float32


def test_random_state_semantics(data):
    def coef_of(random_state):
        return GDRegressor(epochs=2, random_state=random_state).fit(data.X, data.y).coef_

    np.testing.assert_array_equal(coef_of(5), coef_of(5))
    assert not np.array_equal(coef_of(5), coef_of(6))
    # None draws a fresh seed from NumPy's global state, as in scikit-learn.
    saved_state = np.random.get_state()  # noqa: NPY002
    try:
        np.random.seed(0)  # noqa: NPY002 -- the legacy global state is what random_state=None reads
        first = coef_of(None)
        second = coef_of(None)
        np.random.seed(0)  # noqa: NPY002
        np.testing.assert_array_equal(coef_of(None), first)
        assert not np.array_equal(first, second)
    finally:
        np.random.set_state(saved_state)  # noqa: NPY002
    np.testing.assert_array_equal(coef_of(np.random.RandomState(1)), coef_of(np.random.RandomState(1)))
    for bad in (-1, 2**63, 2**64, 10**30):  # never reduced to another seed
        with pytest.raises(ValueError, match=r"random_state must be an integer in \[0, 2\*\*63\)"):
            coef_of(bad)
    np.testing.assert_array_equal(coef_of(2**63 - 1), coef_of(2**63 - 1))


def test_partial_fit_continues_from_current_coefficients(data):
    model = GDRegressor(method="adam", random_state=4, standardize=False)
    model.partial_fit(data.X, data.y)
    first = fastgd.fit(data.X, data.y, optimizer=fastgd.Adam(lr=0.01), batch_size=64, epochs=1, seed=4)
    np.testing.assert_array_equal(model.coef_, first.coef)
    model.partial_fit(data.X, data.y)
    second = fastgd.fit(
        data.X, data.y, optimizer=fastgd.Adam(lr=0.01), batch_size=64, epochs=1, seed=5,
        coef_init=first.coef, intercept_init=first.intercept,
    )  # fmt: skip
    np.testing.assert_array_equal(model.coef_, second.coef)
    assert model.intercept_ == second.intercept
    assert model.n_iter_ == 2
    np.testing.assert_array_equal(model.loss_curve_, [first.history["loss"].iloc[-1], second.history["loss"].iloc[-1]])


def test_partial_fit_matches_fit_for_stateless_sgd(data):
    """Plain SGD, constant rate, no shuffling: k calls of partial_fit are k epochs of fit."""
    settings = {"method": "sgd", "shuffle": False, "random_state": 0, "standardize": False}
    incremental = GDRegressor(**settings)
    for _ in range(3):
        incremental.partial_fit(data.X[:200], data.y[:200])
    whole = GDRegressor(epochs=3, **settings).fit(data.X[:200], data.y[:200])
    np.testing.assert_array_equal(incremental.coef_, whole.coef_)
    assert incremental.intercept_ == whole.intercept_
    np.testing.assert_array_equal(incremental.loss_curve_, whole.loss_curve_)


def test_divergence_raises_value_error_and_leaves_estimator_unfitted(data):
    model = GDRegressor(method="batch", lr=50.0, epochs=20)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no DivergenceWarning leaks out
        with pytest.raises(ValueError, match="diverged.*lr"):
            model.fit(data.X, data.y)
    with pytest.raises(NotFittedError):
        model.predict(data.X)


def test_tol_stops_early_and_warns_when_epochs_run_out(data):
    model = GDRegressor(method="batch", epochs=500, tol=1e-3, n_iter_no_change=2).fit(data.X, data.y)
    assert model.n_iter_ < 500
    assert len(model.loss_curve_) == model.n_iter_
    with pytest.warns(ConvergenceWarning, match="epochs"):
        GDRegressor(method="batch", epochs=2, tol=1e-12).fit(data.X, data.y)


def test_pandas_feature_names(data):
    frame = pd.DataFrame(data.X, columns=["a", "b", "c", "d"])
    model = GDRegressor(epochs=2, random_state=0).fit(frame, pd.Series(data.y))
    assert list(model.feature_names_in_) == ["a", "b", "c", "d"]
    assert model.n_features_in_ == 4
    with pytest.warns(UserWarning, match="feature names"):
        from_array = model.predict(data.X)
    np.testing.assert_array_equal(model.predict(frame), from_array)


def test_invalid_parameters_raise_value_error(data):
    for params, name in [
        ({"optimizer": "adam"}, "optimizer"),
        ({"method": "newton"}, "method"),
        ({"loss": "l3"}, "loss"),
        ({"lr": -1.0}, "lr"),
        ({"epochs": 0}, "epochs"),
    ]:
        with pytest.raises(ValueError, match=name):
            GDRegressor(**params).fit(data.X, data.y)


def test_pipeline_and_grid_search(data):
    pipeline = make_pipeline(StandardScaler(), GDRegressor(random_state=0))
    search = GridSearchCV(
        pipeline, {"gdregressor__method": ["minibatch", "adam"], "gdregressor__lr": [1e-4, 0.05]}, cv=3
    )
    search.fit(data.X, data.y)
    assert search.best_params_["gdregressor__lr"] == 0.05  # 1e-4 barely moves in 10 epochs
    assert search.best_score_ > 0.99
    assert search.predict(data.X[:5]).shape == (5,)


def test_clone_and_pickle_round_trip(data):
    model = GDRegressor(optimizer=fastgd.Adam(lr=0.05), epochs=3, random_state=2).fit(data.X, data.y)
    assert model.get_params()["standardize"] is True
    unfitted = clone(model)
    assert unfitted.get_params() == model.get_params()
    assert not hasattr(unfitted, "coef_")
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict(data.X), model.predict(data.X))
    np.testing.assert_array_equal(unfitted.fit(data.X, data.y).coef_, model.coef_)
