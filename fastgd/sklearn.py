"""A scikit-learn estimator around :func:`fastgd.fit`.

>>> import fastgd
>>> from fastgd.sklearn import GDRegressor
>>> data = fastgd.make_regression(2_000, 5, noise=0.1, seed=1)
>>> model = GDRegressor(method="adam", lr=0.05, epochs=20, random_state=0).fit(data.X, data.y)
>>> bool(model.score(data.X, data.y) > 0.99)
True

scikit-learn is an optional dependency of fastgd: ``import fastgd`` never
imports it, and this module (which does) is only loaded when imported
explicitly.
"""

from __future__ import annotations

import dataclasses
import numbers
import warnings
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from ._validation import SEED_LIMIT, as_array, check_seed
from .fit import DivergenceWarning, FitResult, fit
from .methods import method as resolve_method
from .optim import OPTIMIZERS
from .regression import predict as linear_predict

__all__ = ["GDRegressor"]

#: Seeds drawn for ``random_state=None`` or a ``RandomState`` lie in ``[0, SEED_BOUND)``.
SEED_BOUND = 2**31 - 1

_FLOAT_DTYPES = [np.float64, np.float32]
_FITTED_ATTRIBUTES = ("coef_", "intercept_", "n_iter_", "loss_curve_", "_x_scaling", "_trained")


class GDRegressor(RegressorMixin, BaseEstimator):
    """Linear regression trained by fastgd's batch, SGD, mini-batch or Adam gradient descent.

    A thin scikit-learn wrapper around :func:`fastgd.fit`.  By default it
    standardises the features internally (``standardize=True``), so that the
    default mini-batch SGD at ``lr=0.05`` trains stably on features of any
    scale; with ``standardize=False`` it returns exactly the coefficients of
    :func:`fastgd.fit` with the same settings.

    Parameters
    ----------
    loss : {"l2", "l1", "huber"}, default "l2"
        Mean squared error, mean absolute error, or Huber with threshold ``delta``.
    method : {"batch", "sgd", "minibatch", "adam"}, default "minibatch"
        Picks the optimizer and batch size of :func:`fastgd.method`.
    optimizer : fastgd optimizer, optional
        An instance of :class:`fastgd.SGD`, :class:`fastgd.Adam`,
        :class:`fastgd.AdamW`, :class:`fastgd.RMSprop` or
        :class:`fastgd.Adagrad`; replaces the method's optimizer (the
        method still supplies the batch size).
    lr : float, optional
        Replaces the optimizer's learning rate.
    batch_size : int, optional
        Replaces the method's batch size (not allowed with ``method="batch"``).
        A batch size above the number of samples is clipped to it.
    epochs : int, default 10
        Passes over the data (the most, when ``tol`` is set).
    shuffle : bool, default True
        Visit the rows in a fresh random order each epoch (mini-batch and SGD).
    fit_intercept : bool, default True
        Train an intercept; if False it stays 0.
    tol : float, optional
        Stop when the full-data loss has not improved by at least ``tol`` for
        ``n_iter_no_change`` epochs in a row (scikit-learn's rule).  If the
        epochs run out first a :class:`~sklearn.exceptions.ConvergenceWarning`
        is emitted, as :class:`~sklearn.linear_model.SGDRegressor` does.
    n_iter_no_change : int, default 5
        See ``tol``.
    random_state : int, RandomState instance or None, default None
        Controls the shuffling.  An int ``r`` with ``0 <= r < 2**63`` is
        passed to :func:`fastgd.fit` as ``seed=r`` and gives reproducible
        results; an int outside that range is rejected (never reduced).
        ``None`` (scikit-learn's meaning) draws a fresh seed from NumPy's
        global random state on every call to ``fit``; a ``RandomState``
        instance draws the seed from that instance.
    delta : float, default 1.0
        Huber threshold.
    lr_schedule : fastgd schedule, optional
        :class:`fastgd.InverseScaling`, :class:`fastgd.ExponentialDecay` or
        :class:`fastgd.CosineAnnealing`; None keeps the learning rate constant.
    standardize : bool, default True
        Train on standardised features, so that the default step sizes work
        whatever the features' scale: ``fit`` computes each feature's mean
        and standard deviation (1 for a constant feature), trains on
        ``Z = (X - mean) / std`` (``X / std`` when ``fit_intercept=False``)
        with the intercept starting at the mean of ``y`` (the median for the
        L1 and Huber losses), and maps the result back: ``coef_`` and
        ``intercept_`` are in the units of ``X`` and ``predict`` takes ``X``
        as given.  This is the same model up to rounding; only the path of
        the descent changes.  It costs one copy of ``X``, and a
        ``weight_decay`` then penalises the standardised coefficients.
        ``False`` trains on ``X`` as given, exactly as :func:`fastgd.fit`.

    Attributes
    ----------
    coef_ : ndarray, shape (n_features,)
        Coefficients, float32 for float32 ``X`` and float64 otherwise.
    intercept_ : float
        Intercept, a NumPy scalar of ``coef_``'s dtype.
    n_iter_ : int
        Epochs run (summed over calls for :meth:`partial_fit`).
    loss_curve_ : ndarray, shape (n_iter_,)
        Full-data training objective after each epoch (float64).
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of str, shape (n_features_in_,)
        Column names, when ``X`` was a DataFrame with string column names.

    Raises
    ------
    ValueError
        From ``fit`` and ``partial_fit`` when an argument is invalid (naming
        it) or when training diverges (the loss became non-finite or grew
        above ``1e10`` times its initial value).  Like
        :class:`~sklearn.linear_model.SGDRegressor` on overflow, the estimator
        raises rather than return a useless model: lower ``lr`` (or, with
        ``standardize=False``, scale the features).  ``random_state`` outside
        ``[0, 2**63)`` raises.  A ``fit`` that raises leaves the estimator
        unfitted; a ``partial_fit`` that raises leaves the previous
        coefficients.  (:func:`fastgd.fit` itself warns with
        :class:`fastgd.DivergenceWarning` instead and returns the last finite
        parameters.)
    TypeError
        For a masked ``X`` or ``y`` (:mod:`numpy.ma`): scikit-learn's
        validation would drop the mask and train on the fill values.

    See Also
    --------
    fastgd.fit : The function this estimator calls.

    Notes
    -----
    :meth:`partial_fit` runs one epoch of :func:`fastgd.fit` that starts
    from the current coefficients (with ``standardize=True``, those of the
    standardised model, whose mean and scale come from the first call and
    are kept).  The optimizer's state
    (momentum, Adam's moments and step count) and the learning-rate schedule
    restart with every call, because :func:`fastgd.fit` takes no optimizer
    state; plain SGD with a constant rate has no state, so for it only the
    visiting order differs from one long ``fit``.  With an int
    ``random_state`` ``r``, a call shuffles with seed ``r + n_iter_`` (the
    epochs run before it), taken modulo ``2**63``.

    scikit-learn's ``check_estimator`` passes in full with the default
    parameters (and, as tested, with Adam and the Huber loss, and RMSprop
    with the L1 loss).  ``check_array_api_input`` is skipped by scikit-learn
    itself unless ``SCIPY_ARRAY_API=1`` is set before SciPy is imported; with
    it, it passes.  ``sample_weight`` is not supported.

    Examples
    --------
    >>> import fastgd
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> data = fastgd.make_regression(500, 3, seed=0)
    >>> pipe = make_pipeline(StandardScaler(), GDRegressor(random_state=0))
    >>> pipe.fit(data.X, data.y).predict(data.X[:2]).shape
    (2,)
    """

    def __init__(
        self,
        loss: str = "l2",
        method: str = "minibatch",
        optimizer: Any = None,
        lr: float | None = None,
        batch_size: int | None = None,
        epochs: int = 10,
        shuffle: bool = True,
        fit_intercept: bool = True,
        tol: float | None = None,
        n_iter_no_change: int = 5,
        random_state: Any = None,
        delta: float = 1.0,
        lr_schedule: Any = None,
        standardize: bool = True,
    ) -> None:
        self.loss = loss
        self.method = method
        self.optimizer = optimizer
        self.lr = lr
        self.batch_size = batch_size
        self.epochs = epochs
        self.shuffle = shuffle
        self.fit_intercept = fit_intercept
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.random_state = random_state
        self.delta = delta
        self.lr_schedule = lr_schedule
        self.standardize = standardize

    # ------------------------------------------------------------------
    # scikit-learn API
    # ------------------------------------------------------------------

    def fit(self, X: Any, y: Any) -> GDRegressor:
        """Train from zero coefficients for ``epochs`` epochs (fewer with ``tol``).

        Parameters
        ----------
        X : array_like, shape (n_samples, n_features)
            float32 data trains in float32; other real dtypes in float64.
        y : array_like, shape (n_samples,)

        Returns
        -------
        self : GDRegressor
            The fitted estimator.
        """
        for name in _FITTED_ATTRIBUTES:  # a fit that fails leaves the estimator unfitted
            self.__dict__.pop(name, None)
        X_checked, y_checked = self._validate(X, y, reset=True)
        scaling = self._scaling(X_checked)
        result = self._run(
            X_checked, y_checked, scaling, epochs=self.epochs, tol=self.tol, seed=self._draw_seed(0), start=None
        )
        if self.tol is not None and not result.converged:
            warnings.warn(
                f"GDRegressor stopped after epochs={self.epochs} before the loss stopped improving by tol={self.tol}; "
                "consider increasing epochs",
                ConvergenceWarning,
                stacklevel=2,
            )
        self._store(result, X_checked.dtype, scaling, previous_epochs=0, previous_curve=None)
        return self

    def partial_fit(self, X: Any, y: Any) -> GDRegressor:
        """Run one epoch starting from the current coefficients (from zero if unfitted).

        The optimizer's state and the schedule restart with every call (see
        the Notes of :class:`GDRegressor`); ``tol`` is ignored.

        Parameters
        ----------
        X : array_like, shape (n_samples, n_features)
        y : array_like, shape (n_samples,)

        Returns
        -------
        self : GDRegressor
            The updated estimator.
        """
        first_call = not hasattr(self, "coef_")
        X_checked, y_checked = self._validate(X, y, reset=first_call)
        if first_call:
            previous_epochs, previous_curve, start = 0, None, None
            scaling = self._scaling(X_checked)
        else:
            previous_epochs, previous_curve = self.n_iter_, self.loss_curve_
            start = self._trained
            scaling = self._x_scaling
        seed = self._draw_seed(previous_epochs)
        result = self._run(X_checked, y_checked, scaling, epochs=1, tol=None, seed=seed, start=start)
        self._store(result, X_checked.dtype, scaling, previous_epochs=previous_epochs, previous_curve=previous_curve)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Predict ``X @ coef_ + intercept_``.

        Parameters
        ----------
        X : array_like, shape (n_samples, n_features)

        Returns
        -------
        ndarray, shape (n_samples,)
            In float32 for float32 ``X``, else float64.
        """
        check_is_fitted(self)
        _reject_masked(X, "X")
        X_checked = validate_data(self, X, dtype=_FLOAT_DTYPES, reset=False)
        return linear_predict(X_checked, self.coef_, self.intercept_)

    def __sklearn_is_fitted__(self) -> bool:
        """Whether ``fit`` or ``partial_fit`` has succeeded (for :func:`~sklearn.utils.validation.check_is_fitted`)."""
        return hasattr(self, "coef_")

    def __sklearn_tags__(self) -> Any:
        """scikit-learn tags: dense float input, one target, no NaN."""
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.input_tags.sparse = False
        tags.target_tags.single_output = True
        tags.target_tags.multi_output = False
        return tags

    # ------------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------------

    def _validate(self, X: Any, y: Any, *, reset: bool) -> tuple[np.ndarray, np.ndarray]:
        """scikit-learn's input validation, after rejecting masked arrays (which it would unmask) and ragged lists."""
        for value, name in ((X, "X"), (y, "y")):
            if isinstance(value, (np.ma.MaskedArray, list, tuple)):
                as_array(value, name)  # masked or ragged input raises, naming the argument
        X_checked, y_checked = validate_data(self, X, y, dtype=_FLOAT_DTYPES, y_numeric=True, reset=reset)
        return X_checked, y_checked

    def _draw_seed(self, offset: int) -> int:
        """The shuffle seed of this call (see ``random_state``).

        An int ``r`` (checked to lie in ``[0, 2**63)``) gives ``r + offset``,
        wrapped into the same range.
        """
        if isinstance(self.random_state, numbers.Integral) and not isinstance(self.random_state, bool):
            return (check_seed(self.random_state, "random_state") + offset) % SEED_LIMIT
        try:
            generator = check_random_state(self.random_state)
        except ValueError:
            raise ValueError(
                f"random_state must be an int in [0, 2**63), a RandomState or None, got {self.random_state!r}"
            ) from None
        return int(generator.randint(SEED_BOUND))

    def _scaling(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """``(mean, scale)`` of the features in float64 for ``standardize=True`` (mean 0 without intercept)."""
        if not isinstance(self.standardize, (bool, np.bool_)):
            raise ValueError(f"standardize must be a bool, got {self.standardize!r}")
        if not self.standardize:
            return None
        # Without an intercept the intercept stays 0 in the units of X, so the features are only scaled (by
        # their root mean square).
        mean = X.mean(axis=0, dtype=np.float64) if self.fit_intercept else np.zeros(X.shape[1])
        with np.errstate(over="ignore", invalid="ignore"):
            if self.fit_intercept:
                scale = np.sqrt(X.var(axis=0, dtype=np.float64))
            else:
                scale = np.sqrt(np.mean(np.square(X, dtype=np.float64), axis=0))
            overflow = ~np.isfinite(scale)
            if overflow.any():  # squares overflow (features of size 1e200): divide by the largest magnitude first
                columns = X[:, overflow].astype(np.float64)
                peak = np.max(np.abs(columns), axis=0)
                relative = (columns - mean[overflow]) / peak
                scale[overflow] = peak * np.sqrt(np.mean(np.square(relative), axis=0))
        scale[~(np.isfinite(scale) & (scale > 0))] = 1.0  # constant features are left as they are
        return mean, scale

    def _settings(self, n_samples: int) -> tuple[Any, int | None]:
        """The optimizer and batch size that ``method``, ``optimizer``, ``lr`` and ``batch_size`` give."""
        overrides = {} if self.batch_size is None else {"batch_size": self.batch_size}
        optimizer, batch_size = resolve_method(self.method, **overrides)
        if self.optimizer is not None:
            if not isinstance(self.optimizer, tuple(OPTIMIZERS.values())):
                names = ", ".join(f"fastgd.{cls.__name__}" for cls in OPTIMIZERS.values())
                raise ValueError(f"optimizer must be None or an instance of {names}, got {self.optimizer!r}")
            optimizer = self.optimizer
        if self.lr is not None:
            optimizer = dataclasses.replace(optimizer, lr=self.lr)
        if isinstance(batch_size, numbers.Integral) and not isinstance(batch_size, bool):
            batch_size = min(int(batch_size), n_samples)
        return optimizer, batch_size

    def _run(
        self, X: np.ndarray, y: np.ndarray, scaling: Any, *, epochs: int, tol: float | None, seed: int, start: Any
    ) -> FitResult:
        """Call :func:`fastgd.fit` (on features standardised with ``scaling``); divergence raises ``ValueError``.

        ``start`` is ``None`` or the ``(coef, intercept)`` of the trained
        (standardised) model to continue from.
        """
        optimizer, batch_size = self._settings(X.shape[0])
        if scaling is not None:
            mean, scale = scaling
            Z = np.subtract(X, mean.astype(X.dtype))
            Z /= scale.astype(X.dtype)
            X = Z
        if start is not None:
            coef_init, intercept_init = start
        elif scaling is not None and self.fit_intercept:  # the optimum's intercept for centred features (L2)
            coef_init, intercept_init = None, float(np.mean(y) if self.loss == "l2" else np.median(y))
        else:
            coef_init, intercept_init = None, 0.0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DivergenceWarning)
            result = fit(
                X, y, loss=self.loss, optimizer=optimizer, batch_size=batch_size, epochs=epochs,
                shuffle=self.shuffle, seed=seed, fit_intercept=self.fit_intercept, coef_init=coef_init,
                intercept_init=float(intercept_init), lr_schedule=self.lr_schedule, tol=tol,
                n_iter_no_change=self.n_iter_no_change, delta=self.delta,
            )  # fmt: skip
        if result.diverged:
            raise ValueError(
                f"GDRegressor: training {result.stop_reason}. Lower the learning rate `lr`"
                + ("" if scaling is not None else ", or scale the features (e.g. with standardize=True or "
                   "sklearn.preprocessing.StandardScaler)")
                + "."
            )  # fmt: skip
        return result

    def _store(
        self, result: FitResult, dtype: np.dtype, scaling: Any, *, previous_epochs: int, previous_curve: Any
    ) -> None:
        """Set the fitted attributes from ``result`` (mapped back to the units of ``X`` with ``scaling``)."""
        epoch_ends = result.history["epoch"].to_numpy() > 0
        curve = result.history["loss"].to_numpy(dtype=np.float64)[epoch_ends]
        self._trained = (result.coef, result.intercept)  # what partial_fit continues from
        self._x_scaling = scaling
        if scaling is None:
            coef, intercept = result.coef, result.intercept
        else:
            mean, scale = scaling
            coef = result.coef.astype(np.float64) / scale
            intercept = result.intercept - float(mean @ coef)
        self.coef_ = coef.astype(dtype, copy=False)
        self.intercept_ = dtype.type(intercept)
        self.n_iter_ = previous_epochs + result.n_epochs
        self.loss_curve_ = curve if previous_curve is None else np.concatenate([previous_curve, curve])


def _reject_masked(value: Any, name: str) -> None:
    """``TypeError`` for a masked array: scikit-learn's validation would drop the mask and train on fill values."""
    if isinstance(value, np.ma.MaskedArray):
        as_array(value, name)  # raises, with fastgd's message
