"""Results must not depend on where the arrays happen to lie in memory.

When LLVM vectorises a loop that stores to one array while reading another it
cannot prove distinct, it versions the loop: a runtime check sends the
vectorised body through only when the two address ranges are far enough apart
(a few hundred bytes), and otherwise runs the scalar loop.  Under fastmath a
vectorised *sum* rounds differently from the scalar one, so a reduction in such
a loop gives results that depend on heap addresses -- a flaky 1-ulp difference.
``make_regression`` had exactly that (``y`` differed between the in-memory and
the chunked on-disk paths about one run in ten).

These tests lay the arrays out back to back in one buffer, in every order and
at small gaps, and require bit-identical results to separately allocated
arrays.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from fastgd import kernels
from fastgd.data import _build_spec, _fill_rows, make_regression

DTYPES = [np.float64, np.float32]


def carve(sizes: dict[str, int], order: tuple[str, ...], gap: int, dtype: type) -> dict[str, np.ndarray]:
    """Views of one zeroed buffer: the arrays of ``sizes`` in ``order``, ``gap`` elements apart."""
    buffer = np.zeros(sum(sizes.values()) + gap * (len(sizes) + 1), dtype=dtype)
    views, position = {}, gap
    for name in order:
        views[name] = buffer[position : position + sizes[name]]
        position += sizes[name] + gap
    return views


def separate(sizes: dict[str, int], dtype: type) -> dict[str, np.ndarray]:
    return {name: np.zeros(size, dtype=dtype) for name, size in sizes.items()}


def back_to_back(first: tuple[type, int], second: tuple[type, int], gap_bytes: int) -> tuple[np.ndarray, np.ndarray]:
    """Two arrays ``(dtype, size)`` in one buffer, the second ``gap_bytes`` (a multiple of 8) after the first."""
    (first_dtype, first_size), (second_dtype, second_size) = first, second
    first_bytes = -(-first_size * np.dtype(first_dtype).itemsize // 8) * 8  # rounded up to 8 bytes
    second_bytes = second_size * np.dtype(second_dtype).itemsize
    as_bytes = np.zeros(-(-(first_bytes + gap_bytes + second_bytes) // 8), dtype=np.float64).view(np.uint8)
    head = as_bytes[: first_size * np.dtype(first_dtype).itemsize].view(first_dtype)
    tail = as_bytes[first_bytes + gap_bytes : first_bytes + gap_bytes + second_bytes].view(second_dtype)
    return head, tail


@pytest.mark.parametrize("dtype", DTYPES)
def test_generated_rows_do_not_depend_on_buffer_placement(dtype):
    n_features, n_rows = 6, 60
    kwargs = {"noise": 0.5, "outliers": 0.1, "outlier_scale": 10.0, "correlation": -0.4, "bias": 0.25}
    X, y, _, _ = make_regression(n_rows, n_features, dtype=dtype, seed=5, **kwargs)
    spec = _build_spec(n_rows, n_features, dtype=dtype, seed=5, **kwargs)
    y_row = np.empty(1, dtype=dtype)
    # The one-row buffer directly before the float64 coefficients, as the
    # chunked writer's small buffers can be; up to 320 bytes apart covers the
    # vectoriser's overlap check.
    for gap_bytes in range(0, 320, 8):
        x_row, coef64 = back_to_back((dtype, n_features), (np.float64, n_features), gap_bytes)
        coef64[:] = spec.coef
        for row in range(n_rows):
            _fill_rows(
                x_row.reshape(1, n_features),
                y_row,
                coef64,
                spec.data_key,
                np.int64(row),
                spec.row_model,
            )
            np.testing.assert_array_equal(x_row, X[row])
            assert y_row[0] == y[row], f"row {row}, coefficients {gap_bytes} bytes after the row buffer"


def layouts(sizes: dict[str, int]):
    """Every order of the arrays, back to back and 3 elements apart."""
    return itertools.product(itertools.permutations(sizes), (0, 3))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("loss_name", ["l2", "l1", "huber"])
@pytest.mark.parametrize("n_features", [1, 6, 17])
def test_gradient_kernels_do_not_depend_on_array_placement(dtype, loss_name, n_features):
    rng = np.random.default_rng(n_features)
    n_samples = 37
    X_values = rng.standard_normal((n_samples, n_features)).astype(dtype)
    y_values = rng.standard_normal(n_samples).astype(dtype)
    coef_values = rng.standard_normal(n_features).astype(dtype)
    rows = rng.permutation(n_samples)[:23]
    loss, intercept, delta = kernels.LOSSES[loss_name], dtype(0.3), dtype(1.0)

    def results(arrays):
        X, y, coef, grad_out = arrays["X"].reshape(n_samples, n_features), arrays["y"], arrays["coef"], arrays["grad"]
        X[:], y[:], coef[:] = X_values, y_values, coef_values
        out = []
        for value in (
            kernels.rows_loss_grad(X, y, coef, intercept, loss, delta, rows, grad_out),
            kernels.slice_loss_grad(X, y, coef, intercept, loss, delta, 3, 30, grad_out),
            kernels.block_loss_grad(X, y, coef, intercept, loss, delta, 2, 35, grad_out),
        ):
            out.append((value, grad_out.copy()))
        return out

    sizes = {"X": n_samples * n_features, "y": n_samples, "coef": n_features, "grad": n_features + 1}
    expected = results(separate(sizes, dtype))
    for order, gap in layouts(sizes):
        for (value, grad), (want_value, want_grad) in zip(
            results(carve(sizes, order, gap, dtype)), expected, strict=True
        ):
            assert value == want_value, (order, gap)
            np.testing.assert_array_equal(grad, want_grad, err_msg=f"{order}, gap {gap}")


def optimizer_cases(dtype: type):
    """``(hyper, state buffer names, state from buffers)`` for each optimizer, with every option on."""
    t = dtype
    return {
        "sgd_nesterov": (kernels.SGDHyper(t(0.9), t(0.0), t(0.01), True), ["b"], lambda a: kernels.SGDState(a["b"])),
        "sgd_dampened": (kernels.SGDHyper(t(0.9), t(0.1), t(0.01), False), ["b"], lambda a: kernels.SGDState(a["b"])),
        "adam_amsgrad": (
            kernels.AdamHyper(t(0.9), t(0.999), t(1e-8), t(0.01), True),
            ["m", "v", "v_max"],
            lambda a: kernels.AdamState(a["m"], a["v"], a["v_max"]),
        ),
        "adamw": (
            kernels.AdamWHyper(t(0.9), t(0.999), t(1e-8), t(0.01), False),
            ["m", "v"],
            lambda a: kernels.AdamState(a["m"], a["v"], np.zeros(0, t)),
        ),
        "rmsprop_centered_momentum": (
            kernels.RMSpropHyper(t(0.99), t(1e-8), t(0.01), t(0.9), True),
            ["s", "g_avg", "b"],
            lambda a: kernels.RMSpropState(a["s"], a["g_avg"], a["b"]),
        ),
        "adagrad": (
            kernels.AdagradHyper(t(0.01), t(0.01), t(1e-10)),
            ["sum"],
            lambda a: kernels.AdagradState(a["sum"]),
        ),
    }


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n_params", [1, 5, 18])
def test_optimizer_kernels_do_not_depend_on_array_placement(dtype, n_params):
    rng = np.random.default_rng(n_params)
    start = rng.standard_normal(n_params).astype(dtype)
    grads = rng.standard_normal((6, n_params)).astype(dtype)
    for name, (hyper, state_names, make_state) in optimizer_cases(dtype).items():

        def trajectory(arrays, hyper=hyper, state_names=state_names, make_state=make_state):
            arrays["params"][:] = start
            for state_name in state_names:
                arrays[state_name][:] = 0
            state = make_state(arrays)
            for step, grad in enumerate(grads, start=1):
                arrays["grad"][:] = grad
                kernels.apply_update(arrays["params"], arrays["grad"], state, hyper, step, 0.01, n_params - 1)
            return arrays["params"].copy()

        sizes = {"params": n_params, "grad": n_params, **dict.fromkeys(state_names, n_params)}
        expected = trajectory(separate(sizes, dtype))
        for order, gap in layouts(sizes):
            np.testing.assert_array_equal(
                trajectory(carve(sizes, order, gap, dtype)), expected, err_msg=f"{name} {order}"
            )


@pytest.mark.parametrize("dtype", DTYPES)
def test_optimizer_elements_do_not_depend_on_vector_length(dtype):
    """Element ``j`` of a long vector gets the bits it gets alone: vector body and scalar remainder agree."""
    n_params = 37
    rng = np.random.default_rng(7)
    start = rng.standard_normal(n_params).astype(dtype)
    grads = rng.standard_normal((6, n_params)).astype(dtype)
    for name, (hyper, state_names, make_state) in optimizer_cases(dtype).items():

        def trajectory(columns, hyper=hyper, state_names=state_names, make_state=make_state):
            arrays = separate(
                {"params": len(columns), "grad": len(columns), **dict.fromkeys(state_names, len(columns))}, dtype
            )
            arrays["params"][:] = start[columns]
            state = make_state(arrays)
            for step, grad in enumerate(grads, start=1):
                arrays["grad"][:] = grad[columns]
                kernels.apply_update(arrays["params"], arrays["grad"], state, hyper, step, 0.01, len(columns))
            return arrays["params"]

        whole = trajectory(np.arange(n_params))
        alone = np.concatenate([trajectory(np.array([j])) for j in range(n_params)])
        np.testing.assert_array_equal(whole, alone, err_msg=name)
