"""The validated Python API: loss_and_grad, loss_value, predict."""

from __future__ import annotations

import numpy as np
import pytest

import fastgd

from .naive import ref_loss_and_grad, ref_numeric_grad, ref_predict


def problem(n_samples=30, n_features=4, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features)).astype(dtype)
    y = rng.standard_normal(n_samples).astype(dtype)
    coef = rng.standard_normal(n_features).astype(dtype)
    return X, y, coef


@pytest.mark.parametrize("loss", ["l2", "l1", "huber"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_loss_and_grad_matches_reference(loss, dtype):
    X, y, coef = problem(dtype=dtype)
    value, grad, grad_b = fastgd.loss_and_grad(X, y, coef, 0.3, loss=loss, delta=0.7)
    ref_value, ref_grad, ref_grad_b = ref_loss_and_grad(X, y, coef, dtype(0.3), loss, delta=0.7)
    tol = 1e-12 if dtype is np.float64 else 1e-4
    assert isinstance(value, float) and isinstance(grad_b, float)
    assert grad.dtype == dtype and grad.shape == (4,)
    np.testing.assert_allclose(value, ref_value, rtol=tol)
    np.testing.assert_allclose(grad, ref_grad, rtol=tol, atol=tol)
    np.testing.assert_allclose(grad_b, ref_grad_b, rtol=tol, atol=tol)
    assert fastgd.loss_value(X, y, coef, 0.3, loss=loss, delta=0.7) == pytest.approx(value, rel=tol)


@pytest.mark.parametrize("loss", ["l2", "huber"])
def test_gradient_matches_finite_differences(loss):
    """L2 and Huber are differentiable: the analytic gradient equals central differences."""
    X, y, coef = problem(n_samples=40, n_features=3, seed=5)
    params = np.append(coef, -0.2)

    def objective(p):
        return fastgd.loss_value(X, y, p[:-1], p[-1], loss=loss, delta=0.5)

    _, grad, grad_b = fastgd.loss_and_grad(X, y, coef, -0.2, loss=loss, delta=0.5)
    numeric = ref_numeric_grad(objective, params)
    np.testing.assert_allclose(np.append(grad, grad_b), numeric, rtol=1e-6, atol=1e-7)


def test_l2_gradient_is_two_over_n_xt_r():
    X, y, coef = problem()
    _, grad, grad_b = fastgd.loss_and_grad(X, y, coef, 1.5)
    r = X @ coef + 1.5 - y
    np.testing.assert_allclose(grad, 2 / len(y) * X.T @ r, rtol=1e-12)
    np.testing.assert_allclose(grad_b, 2 * r.mean(), rtol=1e-12)


def test_matches_torch_losses():
    torch = pytest.importorskip("torch")
    X, y, coef = problem(seed=2)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    for loss, module in [
        ("l2", torch.nn.MSELoss()),
        ("l1", torch.nn.L1Loss()),
        ("huber", torch.nn.HuberLoss(delta=0.6)),
    ]:
        w = torch.tensor(coef, requires_grad=True)
        b = torch.tensor(0.25, dtype=torch.float64, requires_grad=True)
        value_t = module(Xt @ w + b, yt)
        value_t.backward()
        value, grad, grad_b = fastgd.loss_and_grad(X, y, coef, 0.25, loss=loss, delta=0.6)
        assert value == pytest.approx(value_t.item(), rel=1e-13)
        np.testing.assert_allclose(grad, w.grad.numpy(), rtol=1e-12, atol=1e-14)
        assert grad_b == pytest.approx(b.grad.item(), rel=1e-12, abs=1e-14)


def test_predict():
    X, _, coef = problem(dtype=np.float32)
    out = fastgd.predict(X, coef, 2.0)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, ref_predict(X, coef, 2.0), rtol=1e-5)


def test_integer_input_is_converted_to_float64():
    X = np.arange(12).reshape(6, 2)
    y = np.arange(6)
    value, grad, _ = fastgd.loss_and_grad(X, y, [1, 0])
    assert grad.dtype == np.float64
    assert value == pytest.approx(np.mean((X[:, 0] - y) ** 2))
    assert fastgd.predict(X, [1, 1]).dtype == np.float64


def test_non_contiguous_and_readonly_input():
    X, y, coef = problem(n_samples=20, n_features=6)
    X_fortran = np.asfortranarray(X)
    X_strided = np.ascontiguousarray(np.repeat(X, 2, axis=1))[:, ::2]
    X_readonly = X.copy()
    X_readonly.flags.writeable = False
    expected = fastgd.loss_and_grad(X, y, coef)
    for variant in (X_fortran, X_strided, X_readonly, X.tolist()):
        value, grad, grad_b = fastgd.loss_and_grad(variant, y[::-1][::-1], coef)
        assert value == expected[0]
        np.testing.assert_array_equal(grad, expected[1])
        assert grad_b == expected[2]


def test_float32_x_converts_y_and_coef_to_float32():
    X, y, coef = problem(dtype=np.float32)
    _, grad, _ = fastgd.loss_and_grad(X, y.astype(np.float64), coef.astype(np.float64))
    assert grad.dtype == np.float32


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"X": np.zeros(5)}, "X must be a 2-D"),
        ({"X": np.zeros((2, 3, 1))}, "X must be a 2-D"),
        ({"X": np.zeros((0, 3)), "y": np.zeros(0)}, "X is empty"),
        ({"X": np.zeros((3, 0)), "coef": np.zeros(0)}, "X has 0 features"),
        ({"y": np.zeros(4)}, "y has length 4 but n_samples is 5"),
        ({"y": np.zeros((5, 1))}, "y must be a 1-D"),
        ({"coef": np.zeros(2)}, "coef has length 2 but n_features is 3"),
        ({"y": np.array([0, 1, np.nan, 0, 0])}, "y contains NaN"),
        ({"coef": np.array([0, np.inf, 0])}, "coef contains NaN"),
        ({"intercept": float("nan")}, "intercept must be finite"),
        ({"X": np.array([[0, 0, 0]] * 4 + [[0, np.nan, 0]])}, "X contains NaN"),
        ({"X": np.array([[0, 0, 0]] * 4 + [[0, -np.inf, 0]])}, "X contains NaN"),
        ({"X": np.zeros((5, 3), dtype=complex)}, "X must be a real numeric array"),
        ({"loss": "l3"}, "loss must be one of"),
        ({"delta": 0.0}, "delta must be > 0"),
        ({"delta": -1.0}, "delta must be > 0"),
    ],
)
def test_bad_input_raises_value_error_naming_the_argument(kwargs, match):
    args = {
        "X": np.ones((5, 3)),
        "y": np.zeros(5),
        "coef": np.zeros(3),
        "intercept": 0.0,
        "loss": "huber",
        "delta": 1.0,
    }
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        fastgd.loss_and_grad(
            args["X"], args["y"], args["coef"], args["intercept"], loss=args["loss"], delta=args["delta"]
        )
    if "loss" not in kwargs and "delta" not in kwargs:
        with pytest.raises(ValueError, match=match):
            fastgd.loss_value(args["X"], args["y"], args["coef"], args["intercept"])


def test_overflow_with_finite_input_warns_instead_of_blaming_x():
    X = np.full((3, 2), 1e200)
    with pytest.warns(RuntimeWarning, match="overflow"):
        value = fastgd.loss_value(X, np.zeros(3), np.array([1e200, 1e200]))
    assert value == np.inf
