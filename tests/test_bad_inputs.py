"""Bad and unusual calls across the public API: each raises an error naming the argument, or is handled.

Every case runs in-process.  ``REJECTED`` cases assert the exception type and
that the message names the argument (or the parameter and dtype, for a value
that does not survive rounding); ``HANDLED`` cases assert the correct result.
The ids start with the category: ``data``, ``pandas``, ``args``, ``seed``,
``dtype``, ``scale``, ``optim``, ``step``, ``schedule``, ``make_regression``,
``path``, ``loss_api``, ``estimator``.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

import fastgd
from fastgd.sklearn import GDRegressor

Case = Callable[[fastgd.Dataset, fastgd.Dataset, Any], Any]

SEED_RANGE = r"^seed must be an integer in \[0, 2\*\*63\)"


def _fit(d: fastgd.Dataset, **kwargs: Any) -> fastgd.FitResult:
    return fastgd.fit(d.X, d.y, epochs=2, **kwargs)


def _masked(a: np.ndarray) -> np.ndarray:
    return np.ma.array(a, mask=np.abs(a) > 1.0)


def _step(optimizer: Any, dtype: Any = np.float64, **kwargs: Any) -> None:
    params, grad = np.zeros(3, dtype), np.ones(3, dtype)
    args = {"params": params, "grad": grad, "state": optimizer.init(3, dtype), "step": 1, **kwargs}
    optimizer.step(**args)


def _frame(d: fastgd.Dataset, dtype: str, missing: bool = False) -> pd.DataFrame:
    frame = pd.DataFrame(np.round(d.X * 10), columns=["a", "b", "c"]).astype(dtype)
    if missing:
        frame.loc[3, "b"] = pd.NA
    return frame


# (id, call(d, d32, tmp_path), exception type, regex the message must contain)
REJECTED: list[tuple[str, Case, type[Exception], str]] = [
    # data: X and y of fit
    ("data-masked-X", lambda d, d32, p: fastgd.fit(_masked(d.X), d.y), TypeError, r"^X is a masked array"),
    ("data-masked-y", lambda d, d32, p: fastgd.fit(d.X, _masked(d.y)), TypeError, r"^y is a masked array"),
    ("data-ragged-X", lambda d, d32, p: fastgd.fit([[1.0, 2.0], [3.0]], [1.0, 2.0]), ValueError, r"^X .*ragged"),
    ("data-ragged-y", lambda d, d32, p: fastgd.fit(d.X[:2], [[1.0], [2.0, 3.0]]), ValueError, r"^y .*ragged"),
    ("data-1d-X", lambda d, d32, p: fastgd.fit(d.X[:, 0], d.y), ValueError, r"^X must be a 2-D"),
    ("data-3d-X", lambda d, d32, p: fastgd.fit(d.X[None], d.y), ValueError, r"^X must be a 2-D"),
    ("data-empty-X", lambda d, d32, p: fastgd.fit(d.X[:0], d.y[:0]), ValueError, r"^X is empty"),
    ("data-no-features", lambda d, d32, p: fastgd.fit(d.X[:, :0], d.y), ValueError, r"^X has 0 features"),
    ("data-complex-X", lambda d, d32, p: fastgd.fit(d.X + 1j, d.y), ValueError, r"^X must be a real"),
    ("data-string-X", lambda d, d32, p: fastgd.fit(d.X.astype(str), d.y), ValueError, r"^X must be a real"),
    ("data-short-y", lambda d, d32, p: fastgd.fit(d.X, d.y[:-1]), ValueError, r"^y has length 59"),
    ("data-2d-y", lambda d, d32, p: fastgd.fit(d.X, d.y[:, None]), ValueError, r"^y must be a 1-D"),
    ("data-nan-y", lambda d, d32, p: fastgd.fit(d.X, np.r_[np.nan, d.y[1:]]), ValueError, r"^y contains NaN"),
    ("data-inf-X", lambda d, d32, p: fastgd.fit(np.r_[d.X[:1] * np.inf, d.X[1:]], d.y), ValueError, r"^X contains"),
    # pandas: nullable columns with missing values, non-numeric columns
    (
        "pandas-Int64-missing",
        lambda d, d32, p: fastgd.fit(_frame(d, "Int64", missing=True), d.y),
        ValueError,
        r"X column 'b' \(dtype Int64\) has missing values",
    ),
    (
        "pandas-Float64-missing",
        lambda d, d32, p: fastgd.fit(_frame(d, "Float64", missing=True), d.y),
        ValueError,
        r"X column 'b' \(dtype Float64\) has missing values",
    ),
    (
        "pandas-string-column",
        lambda d, d32, p: fastgd.fit(_frame(d, "float64").assign(c="x"), d.y),
        ValueError,
        r"X column 'c' has dtype",
    ),
    (
        "pandas-y-missing",
        lambda d, d32, p: fastgd.fit(d.X, pd.Series(d.y, name="target").astype("Float64").mask(d.y > 0)),
        ValueError,
        r"y \(a pandas Series\) \(dtype Float64\) has missing values",
    ),
    # args of fit
    ("args-batch-size-0", lambda d, d32, p: _fit(d, batch_size=0), ValueError, r"^batch_size must be in"),
    ("args-batch-size-float", lambda d, d32, p: _fit(d, batch_size=2.0), ValueError, r"^batch_size must be an int"),
    ("args-batch-size-bool", lambda d, d32, p: _fit(d, batch_size=True), ValueError, r"^batch_size must be an int"),
    ("args-epochs-0", lambda d, d32, p: fastgd.fit(d.X, d.y, epochs=0), ValueError, r"^epochs must be >= 1"),
    ("args-epochs-float", lambda d, d32, p: fastgd.fit(d.X, d.y, epochs=2.0), ValueError, r"^epochs must be an int"),
    ("args-loss", lambda d, d32, p: _fit(d, loss="l3"), ValueError, r"^loss must be one of"),
    ("args-delta-0", lambda d, d32, p: _fit(d, loss="huber", delta=0.0), ValueError, r"^delta must be > 0"),
    ("args-delta-nan", lambda d, d32, p: _fit(d, loss="huber", delta=np.nan), ValueError, r"^delta must be finite"),
    ("args-tol", lambda d, d32, p: _fit(d, tol=-1.0), ValueError, r"^tol must be >= 0"),
    ("args-n-iter", lambda d, d32, p: _fit(d, n_iter_no_change=0), ValueError, r"^n_iter_no_change must be"),
    ("args-record-every", lambda d, d32, p: _fit(d, record_every=0), ValueError, r"^record_every must be"),
    ("args-coef-init-length", lambda d, d32, p: _fit(d, coef_init=[0.0]), ValueError, r"^coef_init has length 1"),
    ("args-coef-init-nan", lambda d, d32, p: _fit(d, coef_init=[np.nan] * 3), ValueError, r"^coef_init contains"),
    ("args-intercept-init", lambda d, d32, p: _fit(d, intercept_init="0"), ValueError, r"^intercept_init must be"),
    ("args-shuffle", lambda d, d32, p: _fit(d, shuffle="yes"), ValueError, r"^shuffle must be a bool"),
    ("args-fit-intercept", lambda d, d32, p: _fit(d, fit_intercept=1), ValueError, r"^fit_intercept must be a bool"),
    ("args-optimizer-name", lambda d, d32, p: _fit(d, optimizer="adam"), ValueError, r"^optimizer must be one of"),
    ("args-optimizer-class", lambda d, d32, p: _fit(d, optimizer=fastgd.Adam), ValueError, r"^optimizer must be"),
    ("args-schedule", lambda d, d32, p: _fit(d, lr_schedule="cosine"), TypeError, r"^schedule must be"),
    # seed: one range, [0, 2**63), everywhere; nothing is reduced modulo 2**64
    ("seed-fit-negative", lambda d, d32, p: _fit(d, seed=-1), ValueError, SEED_RANGE),
    ("seed-fit-2**63", lambda d, d32, p: _fit(d, seed=2**63), ValueError, SEED_RANGE),
    ("seed-fit-2**64", lambda d, d32, p: _fit(d, seed=2**64), ValueError, SEED_RANGE),
    ("seed-fit-10**30", lambda d, d32, p: _fit(d, seed=10**30), ValueError, r"^seed must be an integer"),
    ("seed-fit-float", lambda d, d32, p: _fit(d, seed=1.0), ValueError, r"^seed must be an integer"),
    ("seed-fit-bool", lambda d, d32, p: _fit(d, seed=True), ValueError, r"^seed must be an integer"),
    ("seed-data-2**64", lambda d, d32, p: fastgd.make_regression(5, 2, seed=2**64), ValueError, r"^seed must be"),
    ("seed-data-2**63", lambda d, d32, p: fastgd.make_regression(5, 2, seed=2**63), ValueError, r"^seed must be"),
    ("seed-data-negative", lambda d, d32, p: fastgd.make_regression(5, 2, seed=-5), ValueError, r"^seed must be"),
    (
        "seed-estimator-2**64",
        lambda d, d32, p: GDRegressor(random_state=2**64).fit(d.X, d.y),
        ValueError,
        r"^random_state must be an integer in \[0, 2\*\*63\)",
    ),
    (
        "seed-estimator-negative",
        lambda d, d32, p: GDRegressor(random_state=-1).fit(d.X, d.y),
        ValueError,
        r"^random_state must be",
    ),
    ("seed-estimator-str", lambda d, d32, p: GDRegressor(random_state="0").fit(d.X, d.y), ValueError, r"random_state"),
    # dtype: hyper-parameters that round to 0 / inf / 1 in float32
    (
        "dtype-huber-delta",
        lambda d, d32, p: fastgd.fit(d32.X, d32.y, loss="huber", delta=1e-50),
        ValueError,
        r"^delta=1e-50 is not representable in float32",
    ),
    (
        "dtype-adam-eps",
        lambda d, d32, p: fastgd.fit(d32.X, d32.y, optimizer=fastgd.Adam(eps=1e-50), batch_size=8),
        ValueError,
        r"^eps=1e-50 is not representable in float32",
    ),
    (
        "dtype-adam-beta2",
        lambda d, d32, p: fastgd.fit(d32.X, d32.y, optimizer=fastgd.Adam(betas=(0.9, 1 - 1e-10))),
        ValueError,
        r"^betas\[1\]=.* rounds to 1 in float32",
    ),
    (
        "dtype-rmsprop-alpha",
        lambda d, d32, p: fastgd.fit(d32.X, d32.y, optimizer=fastgd.RMSprop(alpha=1 - 1e-9)),
        ValueError,
        r"^alpha=.* rounds to 1 in float32",
    ),
    (
        "dtype-lr",
        lambda d, d32, p: fastgd.fit(d32.X, d32.y, optimizer=fastgd.SGD(lr=1e-50)),
        ValueError,
        r"^lr=1e-50 is not representable in float32",
    ),
    (
        "dtype-weight-decay",
        lambda d, d32, p: fastgd.fit(d32.X, d32.y, optimizer=fastgd.AdamW(weight_decay=1e-60)),
        ValueError,
        r"^weight_decay=1e-60 is not representable in float32",
    ),
    (
        "dtype-adagrad-eps",
        lambda d, d32, p: fastgd.fit(d32.X, d32.y, optimizer=fastgd.Adagrad(eps=1e-46)),
        ValueError,
        r"^eps=1e-46 is not representable in float32",
    ),
    (
        "dtype-intercept-init",
        lambda d, d32, p: fastgd.fit(d32.X, d32.y, intercept_init=1e300),
        ValueError,
        r"^intercept_init=1e\+300 is not representable in float32",
    ),
    (
        "dtype-hyper",
        lambda d, d32, p: fastgd.Adam(eps=1e-50).hyper(np.float32),
        ValueError,
        r"^eps=1e-50 is not representable in float32",
    ),
    # scale: a start that cannot be trained from is reported before any step
    (
        "scale-X-1e200-sgd",
        lambda d, d32, p: fastgd.fit(d.X * 1e200, d.y),
        ValueError,
        r"initial loss or gradient is not finite.*check the scale of X, y",
    ),
    (
        "scale-X-1e200-adam",
        lambda d, d32, p: fastgd.fit(d.X * 1e200, d.y, optimizer=fastgd.Adam(), batch_size=8),
        ValueError,
        r"initial loss or gradient is not finite.*check the scale of X, y",
    ),
    (
        "scale-y-1e200",
        lambda d, d32, p: fastgd.fit(d.X, d.y * 1e200),
        ValueError,
        r"initial loss or gradient is not finite.*check the scale of X, y",
    ),
    (
        "scale-X32-1e30",
        lambda d, d32, p: fastgd.fit(d32.X * np.float32(1e30), d32.y),
        ValueError,
        r"overflows float32.*check the scale of X, y",
    ),
    # optim: construction
    ("optim-sgd-lr-0", lambda d, d32, p: fastgd.SGD(lr=0.0), ValueError, r"^lr must be finite and > 0"),
    ("optim-sgd-lr-nan", lambda d, d32, p: fastgd.SGD(lr=np.nan), ValueError, r"^lr must be finite"),
    ("optim-sgd-lr-bool", lambda d, d32, p: fastgd.SGD(lr=True), ValueError, r"^lr must be a real number"),
    ("optim-sgd-lr-str", lambda d, d32, p: fastgd.SGD(lr="0.1"), ValueError, r"^lr must be a real number"),
    ("optim-sgd-momentum", lambda d, d32, p: fastgd.SGD(lr=0.1, momentum=-0.5), ValueError, r"^momentum must be"),
    ("optim-sgd-dampening", lambda d, d32, p: fastgd.SGD(lr=0.1, dampening=2.0), ValueError, r"^dampening must be"),
    ("optim-sgd-nesterov", lambda d, d32, p: fastgd.SGD(lr=0.1, nesterov=True), ValueError, r"^nesterov"),
    ("optim-adam-beta1", lambda d, d32, p: fastgd.Adam(betas=(1.0, 0.9)), ValueError, r"^betas\[0\] must be"),
    ("optim-adam-betas", lambda d, d32, p: fastgd.Adam(betas=0.9), ValueError, r"^betas must be a pair"),
    ("optim-adam-eps", lambda d, d32, p: fastgd.Adam(eps=0.0), ValueError, r"^eps must be finite and > 0"),
    ("optim-adam-amsgrad", lambda d, d32, p: fastgd.Adam(amsgrad=1), ValueError, r"^amsgrad must be a bool"),
    ("optim-rmsprop-alpha", lambda d, d32, p: fastgd.RMSprop(alpha=1.0), ValueError, r"^alpha must be"),
    ("optim-adagrad-decay", lambda d, d32, p: fastgd.Adagrad(lr_decay=-1.0), ValueError, r"^lr_decay must be"),
    ("optim-method-name", lambda d, d32, p: fastgd.method("newton"), ValueError, r"^method must be one of"),
    ("optim-method-override", lambda d, d32, p: fastgd.method("adam", momentum=0.9), ValueError, r"momentum"),
    ("optim-method-batch", lambda d, d32, p: fastgd.method("batch", batch_size=8), ValueError, r"^batch_size"),
    # step: the checked step function of an optimizer
    ("step-float", lambda d, d32, p: _step(fastgd.SGD(lr=0.1), step=2.0), ValueError, r"^step must be an integer"),
    ("step-zero", lambda d, d32, p: _step(fastgd.Adam(), step=0), ValueError, r"^step must be >= 1"),
    ("step-lr", lambda d, d32, p: _step(fastgd.SGD(lr=0.1), lr=-1.0), ValueError, r"^lr must be finite and > 0"),
    (
        "step-lr-float32",
        lambda d, d32, p: _step(fastgd.SGD(lr=0.1), np.float32, lr=1e-50),
        ValueError,
        r"^lr=1e-50 is not representable in float32",
    ),
    ("step-n-decay", lambda d, d32, p: _step(fastgd.SGD(lr=0.1), n_decay=4), ValueError, r"^n_decay must be in"),
    ("step-n-decay-float", lambda d, d32, p: _step(fastgd.SGD(lr=0.1), n_decay=1.0), ValueError, r"^n_decay must be"),
    (
        "step-grad-dtype",
        lambda d, d32, p: _step(fastgd.SGD(lr=0.1), grad=np.ones(3, np.float32)),
        ValueError,
        r"^grad must match params",
    ),
    (
        "step-state",
        lambda d, d32, p: _step(fastgd.Adam(), state=fastgd.SGD(lr=0.1).init(3)),
        ValueError,
        r"^state must be a AdamState",
    ),
    ("step-params-list", lambda d, d32, p: _step(fastgd.SGD(lr=0.1), params=[0.0] * 3), ValueError, r"^params"),
    # schedule
    ("schedule-power-t", lambda d, d32, p: fastgd.InverseScaling(power_t=-1.0), ValueError, r"^power_t must be"),
    ("schedule-gamma", lambda d, d32, p: fastgd.ExponentialDecay(gamma=0.0), ValueError, r"^gamma must be"),
    ("schedule-eta-min", lambda d, d32, p: fastgd.CosineAnnealing(eta_min=np.inf), ValueError, r"^eta_min must be"),
    # make_regression
    ("make_regression-n-samples", lambda d, d32, p: fastgd.make_regression(0, 2), ValueError, r"^n_samples must be"),
    ("make_regression-n-features", lambda d, d32, p: fastgd.make_regression(5, 1.5), ValueError, r"^n_features"),
    ("make_regression-noise", lambda d, d32, p: fastgd.make_regression(5, 2, noise=-1), ValueError, r"^noise must"),
    ("make_regression-outliers", lambda d, d32, p: fastgd.make_regression(5, 2, outliers=2), ValueError, r"^outliers"),
    (
        "make_regression-correlation",
        lambda d, d32, p: fastgd.make_regression(5, 2, correlation=1.0),
        ValueError,
        r"^correlation must be in",
    ),
    ("make_regression-dtype", lambda d, d32, p: fastgd.make_regression(5, 2, dtype=int), ValueError, r"^dtype must"),
    (
        "make_regression-huge",
        lambda d, d32, p: fastgd.make_regression(10**13, 1000),
        MemoryError,
        r"n_samples=10000000000000 .* needs 80,080,000,000,000,000 bytes .* pass path=",
    ),
    # path of make_regression: checked before anything is written
    (
        "path-missing-directory",
        lambda d, d32, p: fastgd.make_regression(5, 2, path=p / "missing" / "x.npy"),
        ValueError,
        r"^path=.*: the directory .*missing' does not exist",
    ),
    (
        "path-is-a-directory",
        lambda d, d32, p: fastgd.make_regression(5, 2, path=_mkdir(p / "x.npy")),
        ValueError,
        r"^path=.*x\.npy' is a directory",
    ),
    (
        "path-y-is-a-directory",
        lambda d, d32, p: fastgd.make_regression(5, 2, path=_mkdir(p / "x_y.npy").with_name("x.npy")),
        ValueError,
        r"^path=.*x_y\.npy' is a directory",
    ),
    (
        "path-parent-is-a-file",
        lambda d, d32, p: fastgd.make_regression(5, 2, path=_touch(p / "file") / "x.npy"),
        ValueError,
        r"^path=.*file' is not a directory",
    ),
    ("path-suffix", lambda d, d32, p: fastgd.make_regression(5, 2, path=p / "x.csv"), ValueError, r"^path must"),
    # loss_api: loss_and_grad, loss_value, predict
    ("loss_api-masked", lambda d, d32, p: fastgd.loss_and_grad(_masked(d.X), d.y, d.coef), TypeError, r"^X is a mask"),
    (
        "loss_api-masked-coef",
        lambda d, d32, p: fastgd.predict(d.X, _masked(d.coef * 10)),
        TypeError,
        r"^coef is a masked",
    ),
    ("loss_api-ragged", lambda d, d32, p: fastgd.loss_value([[1.0], []], [1.0, 2], [0.0]), ValueError, r"^X .*ragged"),
    ("loss_api-coef-length", lambda d, d32, p: fastgd.predict(d.X, [1.0]), ValueError, r"^coef has length 1"),
    ("loss_api-intercept", lambda d, d32, p: fastgd.predict(d.X, d.coef, np.nan), ValueError, r"^intercept must be"),
    (
        "loss_api-delta-float32",
        lambda d, d32, p: fastgd.loss_and_grad(d32.X, d32.y, d32.coef, loss="huber", delta=1e-50),
        ValueError,
        r"^delta=1e-50 is not representable in float32",
    ),
    (
        "loss_api-intercept-float32",
        lambda d, d32, p: fastgd.loss_value(d32.X, d32.y, d32.coef, 1e300),
        ValueError,
        r"^intercept=1e\+300 is not representable in float32",
    ),
    ("loss_api-loss", lambda d, d32, p: fastgd.loss_value(d.X, d.y, d.coef, loss="mse"), ValueError, r"^loss must be"),
    # estimator: GDRegressor's own checks (scikit-learn's validation covers the rest)
    (
        "estimator-masked-X",
        lambda d, d32, p: GDRegressor().fit(_masked(d.X), d.y),
        TypeError,
        r"^X is a masked array",
    ),
    ("estimator-masked-y", lambda d, d32, p: GDRegressor().fit(d.X, _masked(d.y)), TypeError, r"^y is a masked"),
    (
        "estimator-masked-predict",
        lambda d, d32, p: GDRegressor(epochs=1).fit(d.X, d.y).predict(_masked(d.X)),
        TypeError,
        r"^X is a masked array",
    ),
    (
        "estimator-ragged-X",
        lambda d, d32, p: GDRegressor().fit([[1.0, 2.0], [3.0]], [1.0, 2.0]),
        ValueError,
        r"^X .*ragged",
    ),
    ("estimator-standardize", lambda d, d32, p: GDRegressor(standardize="yes").fit(d.X, d.y), ValueError, r"^standard"),
    ("estimator-optimizer", lambda d, d32, p: GDRegressor(optimizer="adam").fit(d.X, d.y), ValueError, r"^optimizer"),
    ("estimator-lr", lambda d, d32, p: GDRegressor(lr=-1.0).fit(d.X, d.y), ValueError, r"^lr must be"),
    (
        "estimator-missing-values",
        lambda d, d32, p: GDRegressor().fit(_frame(d, "Float64", missing=True), d.y),
        ValueError,
        r"Input X contains NaN",
    ),
]


def _mkdir(path: Any) -> Any:
    path.mkdir()
    return path


def _touch(path: Any) -> Any:
    path.touch()
    return path


@pytest.mark.parametrize(("call", "error", "message"), [c[1:] for c in REJECTED], ids=[c[0] for c in REJECTED])
def test_rejected_with_a_message_naming_the_argument(call, error, message, small_data, small_data32, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing may warn on the way to the error (e.g. a DivergenceWarning)
        with pytest.raises(error) as info:
            call(small_data, small_data32, tmp_path)
    assert type(info.value) is error or (error is MemoryError and isinstance(info.value, MemoryError))
    assert re.search(message, str(info.value)), str(info.value)
    if "path" in message:
        assert not [p for p in tmp_path.rglob("*") if p.is_file() and p.name != "file"], "nothing may be written"


def _same_fit_as_float(d: fastgd.Dataset, d32: fastgd.Dataset, tmp_path: Any, dtype: str) -> None:
    frame = _frame(d, dtype)
    expected = fastgd.fit(frame.to_numpy(dtype=np.float64), d.y, batch_size=8, epochs=2)
    result = fastgd.fit(frame, pd.Series(d.y).astype("Float64"), batch_size=8, epochs=2)
    np.testing.assert_array_equal(result.coef, expected.coef)


def _seed_edges_are_distinct(d: fastgd.Dataset, d32: fastgd.Dataset, tmp_path: Any) -> None:
    coefs = [_fit(d, batch_size=4, seed=s).coef for s in (0, 1, 2**32, 2**63 - 1)]
    assert len({c.tobytes() for c in coefs}) == 4
    assert fastgd.make_regression(4, 2, seed=2**63 - 1).X.shape == (4, 2)


def _estimator_frame(d: fastgd.Dataset, d32: fastgd.Dataset, tmp_path: Any) -> None:
    model = GDRegressor(epochs=2, random_state=0).fit(_frame(d, "Int64"), d.y)
    expected = GDRegressor(epochs=2, random_state=0).fit(_frame(d, "float64"), d.y)
    np.testing.assert_array_equal(model.coef_, expected.coef_)


def _estimator_huge_features(d: fastgd.Dataset, d32: fastgd.Dataset, tmp_path: Any) -> None:
    """Standardising first, the estimator trains on features of size 1e200 as on the originals."""
    big = GDRegressor(random_state=0).fit(d.X * 1e200, d.y)
    plain = GDRegressor(random_state=0).fit(d.X, d.y)
    assert big.score(d.X * 1e200, d.y) == pytest.approx(plain.score(d.X, d.y), abs=1e-9)


def _divergence_is_still_divergence(d: fastgd.Dataset, d32: fastgd.Dataset, tmp_path: Any) -> None:
    with pytest.warns(fastgd.DivergenceWarning, match="step 1"):
        result = fastgd.fit(d.X * 1e100, d.y, optimizer=fastgd.SGD(lr=0.1))
    assert result.diverged and result.n_steps == 1


def _integer_X_is_float64(d: fastgd.Dataset, d32: fastgd.Dataset, tmp_path: Any) -> None:
    X_int = np.round(d.X * 10).astype(np.int64)
    expected = fastgd.fit(X_int.astype(np.float64), d.y, epochs=2)
    np.testing.assert_array_equal(fastgd.fit(X_int, d.y, epochs=2).coef, expected.coef)


HANDLED = [
    ("pandas-Int64-converted", lambda d, d32, p: _same_fit_as_float(d, d32, p, "Int64")),
    ("pandas-Float64-converted", lambda d, d32, p: _same_fit_as_float(d, d32, p, "Float64")),
    ("pandas-boolean-converted", lambda d, d32, p: fastgd.fit(_frame(d, "float64") > 0, d.y, epochs=1)),
    ("seed-edges-are-distinct", _seed_edges_are_distinct),
    ("estimator-Int64-frame", _estimator_frame),
    ("estimator-features-1e200", _estimator_huge_features),
    ("scale-1e100-is-divergence", _divergence_is_still_divergence),
    ("data-integer-X-converted", _integer_X_is_float64),
]


@pytest.mark.parametrize("check", [c[1] for c in HANDLED], ids=[c[0] for c in HANDLED])
def test_handled_correctly(check, small_data, small_data32, tmp_path):
    check(small_data, small_data32, tmp_path)


def test_corpus_size():
    """The issue asks for at least 60 cases across the public API."""
    assert len(REJECTED) + len(HANDLED) >= 60
    categories = {case[0].split("-")[0] for case in REJECTED + HANDLED}
    assert categories >= {"data", "pandas", "args", "seed", "dtype", "scale", "optim", "step", "make_regression"}
