"""``fastgd.kernels`` as a library for other people's Numba code (in the style of numba-stats).

Every public kernel is called from a user's ``@njit`` function and from a
user's ``@njit(parallel=True)`` function, with every warning an error, and
its results are checked against plain NumPy.  Each user function is written
once with ``numba.prange`` and compiled both ways (``prange`` is ``range``
without ``parallel=True``).  The parallel kernels (``full_loss_grad``,
``full_loss``, ``predict_into``, full-batch ``run_steps``) are called outside
the ``prange`` loops, the serial ones inside them, one independent problem per
iteration.  Finally ``__all__`` is checked to name exactly the public,
documented kernels and types.
"""

from __future__ import annotations

import inspect
import re
import types
import warnings

import numba
import numpy as np
import pytest

import fastgd
from fastgd import kernels
from fastgd._rng import counter_bits

# --------------------------------------------------------------------------
# NumPy references
# --------------------------------------------------------------------------


def np_pointwise(name, r, delta):
    """(value, slope) of the named loss, elementwise."""
    if name == "l2":
        return r**2, 2 * r
    if name == "l1":
        return np.abs(r), np.sign(r)
    small = np.abs(r) <= delta
    return np.where(small, 0.5 * r**2, delta * (np.abs(r) - 0.5 * delta)), np.clip(r, -delta, delta)


def np_loss_grad(name, X, y, coef, intercept, delta, reduce=np.mean):
    """Mean (or summed) loss and gradient ``[grad_coef..., grad_intercept]``."""
    value, slope = np_pointwise(name, X @ coef + intercept - y, delta)
    scale = 1.0 / X.shape[0] if reduce is np.mean else 1.0
    return reduce(value), np.append(X.T @ slope, slope.sum()) * scale


def np_descend(name, hyper, target, lr, n_steps, n_decay, state_init=0.0):
    """The torch.optim rules of ``fastgd.kernels.optim`` in NumPy, on ``f(p) = ||p - target||**2 / 2``."""
    p = np.zeros_like(target)
    m, v, v_max, b = (np.full_like(target, state_init) for _ in range(4))
    s, a = np.zeros_like(target), np.zeros_like(target)
    decay = np.arange(p.size) < n_decay
    for t in range(1, n_steps + 1):
        grad = p - target
        if name == "sgd":
            momentum, dampening, weight_decay, nesterov = hyper
            g = grad + weight_decay * p * decay
            b = g if t == 1 else momentum * b + (1 - dampening) * g
            p = p - lr * (g + momentum * b if nesterov else b)
        elif name in ("adam", "adamw"):
            beta1, beta2, eps, weight_decay, amsgrad = hyper
            if name == "adamw":
                p = np.where(decay, p * (1 - lr * weight_decay), p)
                g = grad
            else:
                g = grad + weight_decay * p * decay
            m = beta1 * m + (1 - beta1) * g
            v = beta2 * v + (1 - beta2) * g**2
            v_max = np.maximum(v_max, v) if amsgrad else v
            p = p - lr / (1 - beta1**t) * m / (np.sqrt(v_max) / np.sqrt(1 - beta2**t) + eps)
        elif name == "rmsprop":
            alpha, eps, weight_decay, momentum, centered = hyper
            g = grad + weight_decay * p * decay
            s = alpha * s + (1 - alpha) * g**2
            a = alpha * a + (1 - alpha) * g
            avg = (np.sqrt(s - a**2) if centered else np.sqrt(s)) + eps
            b = momentum * b + g / avg
            p = p - lr * b
        else:  # adagrad
            lr_decay, weight_decay, eps = hyper
            g = grad + weight_decay * p * decay
            m = m + g**2
            p = p - lr / (1 + (t - 1) * lr_decay) * g / (np.sqrt(m) + eps)
    return p


def np_permutation(n, key):
    """The documented Fisher-Yates: swap ``i`` with ``counter_bits(key, i) % (i + 1)``, ``i = n-1 .. 1``."""
    order = np.arange(n)
    for i in range(n - 1, 0, -1):
        j = int(counter_bits(np.uint64(key), np.uint64(i)) % np.uint64(i + 1))
        order[i], order[j] = order[j], order[i]
    return order


def np_sgd_epoch(X, y, lr, batch_size, order):
    """One epoch of plain mini-batch SGD (L2 loss) over ``order``; full batch when ``batch_size == 0``."""
    params = np.zeros(X.shape[1] + 1)
    batches = [order] if batch_size == 0 else [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    for rows in batches:
        _, grad = np_loss_grad("l2", X[rows], y[rows], params[:-1], params[-1], 1.0)
        params = params - lr * grad
    return params


# --------------------------------------------------------------------------
# User code: each body is compiled serially and in parallel
# --------------------------------------------------------------------------


@numba.njit
def user_logcosh(r, delta):
    """A user's own loss kernel ``(r, delta) -> (value, slope)``."""
    return np.log(np.cosh(r)), np.tanh(r)


def losses_body(residuals, delta, out):
    for i in numba.prange(residuals.shape[0]):
        r = residuals[i]
        results = (
            kernels.l2(r, delta),
            kernels.l1(r, delta),
            kernels.huber(r, delta),
            kernels.pointwise(kernels.L2Loss(), r, delta),
            kernels.pointwise(kernels.L1Loss(), r, delta),
            kernels.pointwise(kernels.HuberLoss(), r, delta),
            kernels.pointwise(user_logcosh, r, delta),
        )
        for m in range(len(results)):
            out[i, m, 0] = results[m][0]
            out[i, m, 1] = results[m][1]


def gradients_body(X, y, coefs, intercept, delta, rows, sums, grads):
    n_samples, n_features = X.shape
    for k in numba.prange(coefs.shape[0]):
        grad = np.empty(n_features + 1)
        sums[k, 0] = kernels.block_loss_grad(X, y, coefs[k], intercept, kernels.HuberLoss(), delta, 5, 90, grad)
        grads[k, 0, :] = grad
        sums[k, 1] = kernels.slice_loss_grad(X, y, coefs[k], intercept, kernels.L2Loss(), delta, 10, 50, grad)
        grads[k, 1, :] = grad
        sums[k, 2] = kernels.rows_loss_grad(X, y, coefs[k], intercept, kernels.L1Loss(), delta, rows, grad)
        grads[k, 2, :] = grad
    n_blocks = kernels.n_row_blocks(n_samples)
    workspace = (np.empty((n_blocks, n_features + 1)), np.empty(n_blocks))
    full_grad = np.empty(n_features + 1)
    full_value = kernels.full_loss_grad(X, y, coefs[0], intercept, kernels.HuberLoss(), delta, full_grad, workspace)
    value_only = kernels.full_loss(X, y, coefs[0], intercept, kernels.L1Loss(), delta, workspace[1])
    prediction = np.empty(n_samples)
    kernels.predict_into(X, coefs[0], intercept, prediction)
    read_total = kernels.stream_read(X, workspace[1])
    return full_value, full_grad, value_only, prediction, n_blocks, read_total


def optimizers_body(targets, h, lr, n_steps, n_decay, out):
    """``out[k, m]``: optimizer ``m`` after ``n_steps`` on target ``k``; m < 5 direct kernels, m >= 5 apply_update.

    ``h[m]`` holds optimizer ``m``'s hyper-parameters as floats.  The hyper
    tuples are built inside the ``prange`` body: Numba cannot pass a
    NamedTuple argument into a parallel loop's body.
    """
    n = targets.shape[1]
    for k in numba.prange(targets.shape[0]):
        sgd_hyper = kernels.SGDHyper(h[0, 0], h[0, 1], h[0, 2], h[0, 3] != 0)
        adam_hyper = kernels.AdamHyper(h[1, 0], h[1, 1], h[1, 2], h[1, 3], h[1, 4] != 0)
        adamw_hyper = kernels.AdamWHyper(h[2, 0], h[2, 1], h[2, 2], h[2, 3], h[2, 4] != 0)
        rmsprop_hyper = kernels.RMSpropHyper(h[3, 0], h[3, 1], h[3, 2], h[3, 3], h[3, 4] != 0)
        adagrad_hyper = kernels.AdagradHyper(h[4, 0], h[4, 1], h[4, 2])
        out[k, :, :] = 0.0
        grad = np.empty(n)
        for via_apply in range(2):
            sgd_state = kernels.SGDState(np.zeros(n))
            adam_state = kernels.AdamState(np.zeros(n), np.zeros(n), np.zeros(n))
            adamw_state = kernels.AdamState(np.zeros(n), np.zeros(n), np.zeros(0))
            rmsprop_state = kernels.RMSpropState(np.zeros(n), np.zeros(n), np.zeros(n))
            adagrad_state = kernels.AdagradState(np.full(n, 0.1))
            base = 5 * via_apply
            for t in range(1, n_steps + 1):
                for m in range(5):
                    params = out[k, base + m]
                    for j in range(n):
                        grad[j] = params[j] - targets[k, j]
                    if via_apply == 1:
                        if m == 0:
                            kernels.apply_update(params, grad, sgd_state, sgd_hyper, t, lr, n_decay)
                        elif m == 1:
                            kernels.apply_update(params, grad, adam_state, adam_hyper, t, lr, n_decay)
                        elif m == 2:
                            kernels.apply_update(params, grad, adamw_state, adamw_hyper, t, lr, n_decay)
                        elif m == 3:
                            kernels.apply_update(params, grad, rmsprop_state, rmsprop_hyper, t, lr, n_decay)
                        else:
                            kernels.apply_update(params, grad, adagrad_state, adagrad_hyper, t, lr, n_decay)
                    elif m == 0:
                        kernels.sgd_update(params, grad, sgd_state, sgd_hyper, t, lr, n_decay)
                    elif m == 1:
                        kernels.adam_update(params, grad, adam_state, adam_hyper, t, lr, n_decay)
                    elif m == 2:
                        kernels.adamw_update(params, grad, adamw_state, adamw_hyper, t, lr, n_decay)
                    elif m == 3:
                        kernels.rmsprop_update(params, grad, rmsprop_state, rmsprop_hyper, t, lr, n_decay)
                    else:
                        kernels.adagrad_update(params, grad, adagrad_state, adagrad_hyper, t, lr, n_decay)


def training_body(X, y, keys, lr, batch_size, orders, params_out):
    """Row ``k``: one shuffled mini-batch SGD epoch with key ``k``; returns the full-batch run."""
    n_samples, n_features = X.shape
    schedule = (0.0, 0.0)  # constant learning rate (fastgd.Constant().params())
    n_steps = kernels.n_batches(n_samples, batch_size)
    for k in numba.prange(keys.shape[0]):
        hyper = kernels.SGDHyper(0.0, 0.0, 0.0, False)  # plain SGD, built in the prange body (see above)
        kernels.permutation_into(orders[k], keys[k])
        no_workspace = (np.empty((0, n_features + 1)), np.empty(0))
        kernels.run_steps(
            kernels.Problem(X, y, kernels.L2Loss(), 1.0), params_out[k],
            kernels.UpdateRule(kernels.SGDState(np.empty(0)), hyper, n_features + 1, n_features),
            kernels.LearningRate(schedule, lr, 1), kernels.StepRange(orders[k], batch_size, 0, 0, n_steps, 0),
            np.empty(n_features + 1), no_workspace,
        )  # fmt: skip
    n_blocks = kernels.n_row_blocks(n_samples)
    workspace = (np.empty((n_blocks, n_features + 1)), np.empty(n_blocks))
    full = np.zeros(n_features + 1)
    steps_done, last_lr, status = kernels.run_steps(
        kernels.Problem(X, y, kernels.L2Loss(), 1.0), full,
        kernels.UpdateRule(kernels.SGDState(np.empty(0)), kernels.SGDHyper(0.0, 0.0, 0.0, False), n_features + 1,
                           n_features),
        kernels.LearningRate(schedule, lr, 1), kernels.StepRange(np.empty(0, np.int64), 0, 0, 0, 1, 0),
        np.empty(n_features + 1), workspace,
    )  # fmt: skip
    scheduled_lr = kernels.learning_rate(schedule, lr, 0, 0, 1)
    return full, steps_done, last_lr, status, kernels.n_batches(n_samples, 0), scheduled_lr


BODIES = {
    "losses": losses_body,
    "gradients": gradients_body,
    "optimizers": optimizers_body,
    "training": training_body,
}

#: Which public kernels each body calls (checked below to cover every njit-callable kernel).
CALLED_BY = {
    "losses": {"l2", "l1", "huber", "pointwise"},
    "gradients": {"block_loss_grad", "slice_loss_grad", "rows_loss_grad", "n_row_blocks", "full_loss_grad",
                  "full_loss", "predict_into", "stream_read"},
    "optimizers": {"sgd_update", "adam_update", "adamw_update", "rmsprop_update", "adagrad_update", "apply_update"},
    "training": {"permutation_into", "run_steps", "n_batches", "n_row_blocks", "learning_rate"},
}  # fmt: skip

#: Public callables that are Python helpers (allocation, lookup by name), not kernels.
PYTHON_HELPERS = {"get_loss", "gradient_workspace"}

_COMPILED: dict[tuple[str, bool], object] = {}


def user_function(name, parallel):
    """The body ``name`` compiled by the user, once per session and mode."""
    if (name, parallel) not in _COMPILED:
        _COMPILED[name, parallel] = numba.njit(parallel=parallel)(BODIES[name])
    return _COMPILED[name, parallel]


def call_strictly(function, *args):
    """Call (and so compile) with every warning an error."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return function(*args)


def readonly(array):
    view = array.view()
    view.flags.writeable = False
    return view


@pytest.fixture(scope="module")
def problem():
    data = fastgd.make_regression(5000, 4, noise=0.5, seed=3)  # more than one ROW_BLOCK
    return readonly(data.X), readonly(data.y)


PARALLEL = pytest.mark.parametrize("parallel", [False, True], ids=["njit", "njit_parallel"])

# --------------------------------------------------------------------------
# The kernels, from user code, against NumPy
# --------------------------------------------------------------------------


@PARALLEL
def test_losses_from_user_code(parallel):
    residuals = np.array([-3.0, -1.0, -0.25, 0.0, 0.5, 1.0, 2.5])
    delta = 1.0
    out = np.empty((residuals.size, 7, 2))
    call_strictly(user_function("losses", parallel), residuals, delta, out)
    expected = [np_pointwise(name, residuals, delta) for name in ("l2", "l1", "huber")] * 2
    expected.append((np.log(np.cosh(residuals)), np.tanh(residuals)))
    for m, (value, slope) in enumerate(expected):
        np.testing.assert_allclose(out[:, m, 0], value, rtol=1e-14)
        np.testing.assert_allclose(out[:, m, 1], slope, rtol=1e-14)


@PARALLEL
def test_gradients_from_user_code(problem, parallel):
    X, y = problem
    coefs = np.random.default_rng(0).standard_normal((3, X.shape[1]))
    rows = np.array([7, 3, 4000, 11, 2999])
    sums, grads = np.empty((3, 3)), np.empty((3, 3, X.shape[1] + 1))
    intercept, delta = 0.3, 1.5
    full_value, full_grad, value_only, prediction, n_blocks, read_total = call_strictly(
        user_function("gradients", parallel), X, y, coefs, intercept, delta, rows, sums, grads
    )
    for k, coef in enumerate(coefs):
        references = [
            np_loss_grad("huber", X[5:90], y[5:90], coef, intercept, delta, reduce=np.sum),
            np_loss_grad("l2", X[10:50], y[10:50], coef, intercept, delta),
            np_loss_grad("l1", X[rows], y[rows], coef, intercept, delta),
        ]
        for m, (value, grad) in enumerate(references):
            assert sums[k, m] == pytest.approx(value, rel=1e-12)
            np.testing.assert_allclose(grads[k, m], grad, rtol=1e-11, atol=1e-13)
    value, grad = np_loss_grad("huber", X, y, coefs[0], intercept, delta)
    assert full_value == pytest.approx(value, rel=1e-12)
    np.testing.assert_allclose(full_grad, grad, rtol=1e-10, atol=1e-13)
    assert value_only == pytest.approx(np_loss_grad("l1", X, y, coefs[0], intercept, delta)[0], rel=1e-12)
    np.testing.assert_allclose(prediction, X @ coefs[0] + intercept, rtol=1e-12, atol=1e-13)
    assert n_blocks == -(-X.shape[0] // kernels.ROW_BLOCK) == 3
    assert read_total == pytest.approx(X.sum(), rel=1e-12)


OPTIMIZERS = {
    "sgd": fastgd.SGD(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
    "adam": fastgd.Adam(lr=0.1, weight_decay=0.01, amsgrad=True),
    "adamw": fastgd.AdamW(lr=0.1, weight_decay=0.1),
    "rmsprop": fastgd.RMSprop(lr=0.1, weight_decay=0.01, momentum=0.5, centered=True),
    "adagrad": fastgd.Adagrad(lr=0.1, lr_decay=0.01, weight_decay=0.01, initial_accumulator_value=0.1),
}


@PARALLEL
def test_optimizer_kernels_and_apply_update_from_user_code(parallel):
    targets = np.arange(12.0).reshape(3, 4) - 5.0
    hypers = [optimizer.hyper(np.float64) for optimizer in OPTIMIZERS.values()]
    hyper_values = np.zeros((5, 5))
    for m, hyper in enumerate(hypers):
        hyper_values[m, : len(hyper)] = [float(value) for value in hyper]
    lr, n_steps, n_decay = 0.1, 7, 3  # the last parameter (an intercept) is not decayed
    out = np.empty((3, 10, 4))
    call_strictly(user_function("optimizers", parallel), targets, hyper_values, lr, n_steps, n_decay, out)
    for k, target in enumerate(targets):
        for m, (name, hyper) in enumerate(zip(OPTIMIZERS, hypers, strict=True)):
            state_init = 0.1 if name == "adagrad" else 0.0
            expected = np_descend(name, tuple(hyper), target, lr, n_steps, n_decay, state_init)
            np.testing.assert_allclose(out[k, m], expected, rtol=1e-12, atol=1e-14, err_msg=name)
            np.testing.assert_array_equal(out[k, 5 + m], out[k, m], err_msg=f"apply_update, {name}")


@PARALLEL
def test_training_kernels_from_user_code(problem, parallel):
    X, y = problem[0][:300], problem[1][:300]
    keys = np.array([1, 2, 3], dtype=np.uint64)
    orders = np.empty((3, 300), dtype=np.int64)
    params_out = np.zeros((3, X.shape[1] + 1))
    lr, batch_size = 0.05, 32
    full, steps_done, last_lr, status, one_batch, scheduled_lr = call_strictly(
        user_function("training", parallel), X, y, keys, lr, batch_size, orders, params_out
    )
    for k, key in enumerate(keys):
        np.testing.assert_array_equal(orders[k], np_permutation(300, key))
        expected = np_sgd_epoch(X, y, lr, batch_size, orders[k])
        np.testing.assert_allclose(params_out[k], expected, rtol=1e-12, atol=1e-14)
    assert not np.array_equal(orders[0], orders[1])
    np.testing.assert_allclose(full, np_sgd_epoch(X, y, lr, 0, np.arange(300)), rtol=1e-12, atol=1e-14)
    assert (steps_done, last_lr, status, one_batch, scheduled_lr) == (1, lr, 0, 1, lr)


def test_every_njit_callable_kernel_is_exercised():
    callables = {name for name in kernels.__all__ if callable(getattr(kernels, name))}
    classes = {name for name in callables if isinstance(getattr(kernels, name), type)}
    covered = set().union(*CALLED_BY.values())
    assert covered | PYTHON_HELPERS == callables - classes


def test_python_helpers():
    assert kernels.get_loss("HUBER") is kernels.LOSSES["huber"]
    with pytest.raises(ValueError, match="loss must be one of"):
        kernels.get_loss("l3")
    block_grads, block_losses = kernels.gradient_workspace(5000, 4, np.float32)
    assert block_grads.shape == (3, 5) and block_grads.dtype == np.float32
    assert block_losses.shape == (3,) and block_losses.dtype == np.float64


# --------------------------------------------------------------------------
# __all__: exactly the public kernels and types, each documented
# --------------------------------------------------------------------------

#: Kernels that write into an argument: their docstring must say so.
WRITERS = {
    "adagrad_update", "adam_update", "adamw_update", "apply_update", "block_loss_grad", "full_loss",
    "full_loss_grad", "permutation_into", "predict_into", "rmsprop_update", "rows_loss_grad", "run_steps",
    "sgd_update", "slice_loss_grad", "stream_read",
}  # fmt: skip
#: Kernels that take arrays: their docstring must give shapes.
ARRAY_KERNELS = WRITERS | {"gradient_workspace"}


def test_all_names_exactly_the_public_api():
    public = {name for name in dir(kernels) if not name.startswith("_")}
    submodules = {name for name in public if isinstance(getattr(kernels, name), types.ModuleType)}
    assert submodules == {"gradients", "losses", "optim", "probe", "schedules", "training"}
    assert sorted(kernels.__all__) == sorted(public - submodules)
    assert len(set(kernels.__all__)) == len(kernels.__all__)
    assert not [name for name in kernels.__all__ if name.startswith("_")]
    namespace: dict[str, object] = {}
    exec("from fastgd.kernels import *", namespace)
    assert set(kernels.__all__) <= set(namespace)


@pytest.mark.parametrize("name", kernels.__all__)
def test_every_public_name_is_documented(name):
    obj = getattr(kernels, name)
    if callable(obj):
        doc = inspect.getdoc(obj) or ""
        assert len(doc) > 20, f"{name} has no docstring"
        if name in WRITERS:
            assert re.search(r"overwrit|in[- ]place", doc, re.IGNORECASE), f"{name}: say what it writes"
        if name in ARRAY_KERNELS:
            assert re.search(r"shape|\(n,|\(d \+ 1,\)", doc), f"{name}: give the shapes"
    else:  # a constant: documented with a ``#:`` comment where it is defined
        module = kernels.gradients if name == "ROW_BLOCK" else kernels.losses
        source = inspect.getsource(module)
        assert re.search(rf"#:.*\n(#:.*\n)*{name} = ", source), f"{name} needs a '#:' comment"


@pytest.mark.parametrize(
    "optimizer",
    [
        fastgd.SGD(lr=0.1, momentum=0.9, weight_decay=0.1),
        fastgd.Adam(lr=0.1, weight_decay=0.1),
        fastgd.Adam(lr=0.1, weight_decay=0.1, amsgrad=True),
        fastgd.AdamW(lr=0.1, weight_decay=0.1),
        fastgd.RMSprop(lr=0.1, weight_decay=0.1, momentum=0.5, centered=True),
        fastgd.Adagrad(lr=0.1, weight_decay=0.1),
    ],
    ids=lambda o: type(o).__name__,
)
def test_n_decay_is_clipped_like_a_slice(optimizer):
    """``params[:n_decay]`` decays: n_decay beyond the vector means all of it, below 0 none of it."""
    rng = np.random.default_rng(3)
    start, grads = rng.standard_normal(6), rng.standard_normal((4, 6))

    def trajectory(n_decay):
        params, hyper = start.copy(), optimizer.hyper(np.float64)
        state = optimizer.init(params.size, np.float64)
        for step, grad in enumerate(grads, start=1):
            kernels.apply_update(params, grad, state, hyper, step, optimizer.lr, n_decay)
        return params

    np.testing.assert_array_equal(trajectory(10**6), trajectory(6))
    np.testing.assert_array_equal(trajectory(-3), trajectory(0))
    assert not np.array_equal(trajectory(6), trajectory(0))
