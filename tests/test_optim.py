"""Optimizer kernels (``comp_*``) against plain-NumPy references (``ref_*``) and torch.optim."""

from __future__ import annotations

import dataclasses
import math

import numba
import numpy as np
import pytest

from fastgd.kernels import optim as kopt
from fastgd.kernels.optim import apply_update
from fastgd.optim import OPTIMIZERS, SGD, Adagrad, Adam, AdamW, Optimizer, RMSprop

from .naive import ref_adagrad, ref_adam, ref_adamw, ref_rmsprop, ref_sgd

N_PARAMS = 5
N_STEPS = 50

# (optimizer, its plain-NumPy reference); the reference gets the optimizer's fields.
CASES = [
    (SGD(0.1), ref_sgd),
    (SGD(0.1, momentum=0.9), ref_sgd),
    (SGD(0.1, momentum=0.8, dampening=0.3, weight_decay=0.05), ref_sgd),
    (SGD(0.05, momentum=0.9, nesterov=True), ref_sgd),
    (SGD(0.05, momentum=0.5, nesterov=True, weight_decay=0.2), ref_sgd),
    (Adam(0.05), ref_adam),
    (Adam(0.05, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1), ref_adam),
    (Adam(0.05, amsgrad=True), ref_adam),
    (Adam(0.05, betas=(0.3, 0.9), weight_decay=0.2, amsgrad=True), ref_adam),
    (AdamW(0.05), ref_adamw),
    (AdamW(0.05, weight_decay=0.3, amsgrad=True), ref_adamw),
    (AdamW(0.05, betas=(0.8, 0.99), weight_decay=0.0), ref_adamw),
    (RMSprop(0.01), ref_rmsprop),
    (RMSprop(0.01, centered=True), ref_rmsprop),
    (RMSprop(0.01, alpha=0.3, momentum=0.5, weight_decay=0.1), ref_rmsprop),
    (RMSprop(0.005, alpha=0.9, centered=True, momentum=0.9, weight_decay=0.05), ref_rmsprop),
    (Adagrad(0.1), ref_adagrad),
    (Adagrad(0.1, lr_decay=0.05), ref_adagrad),
    (Adagrad(0.1, weight_decay=0.1, initial_accumulator_value=0.5), ref_adagrad),
    (Adagrad(0.2, lr_decay=0.1, weight_decay=0.05, initial_accumulator_value=0.1, eps=1e-6), ref_adagrad),
]
CASE_IDS = [repr(opt) for opt, _ in CASES]


def make_problem(seed: int = 0):  # type: ignore[no-untyped-def]
    """Random quadratic ``0.5 p'Ap - b'p``: start point and gradient callback ``A p - b``."""
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((N_PARAMS, N_PARAMS)))
    A = q @ np.diag(rng.uniform(0.5, 3.0, N_PARAMS)) @ q.T
    b = rng.standard_normal(N_PARAMS)
    params0 = rng.standard_normal(N_PARAMS) * 2.0

    def grad_fn(params: np.ndarray) -> np.ndarray:
        return A @ np.asarray(params, dtype=np.float64) - b

    return params0, grad_fn


def varying_lrs(base_lr: float, n_steps: int = N_STEPS) -> np.ndarray:
    """A learning rate that changes every step, as a schedule would."""
    return base_lr * (1.0 + 0.5 * np.sin(np.arange(n_steps)))


def ref_kwargs(opt: Optimizer) -> dict:
    """The optimizer's hyper-parameters except ``lr``, as keyword arguments."""
    return {f.name: getattr(opt, f.name) for f in dataclasses.fields(opt) if f.name != "lr"}  # type: ignore[arg-type]


def comp_trajectory(opt, params0, grad_fn, lrs, n_decay, dtype=np.float64):  # type: ignore[no-untyped-def]
    params = np.array(params0, dtype=dtype)
    state, hyper = opt.init(params.size, dtype), opt.hyper(dtype)
    out = []
    for t, lr in enumerate(lrs, start=1):
        grad = grad_fn(params).astype(dtype)
        opt.update_kernel(params, grad, state, hyper, t, float(lr), n_decay)
        out.append(params.copy())
    return np.array(out), params, state


def torch_trajectory(opt, params0, grad_fn, lrs, n_decay):  # type: ignore[no-untyped-def]
    """torch.optim on float64 tensors; ``params[n_decay:]`` in a group with ``weight_decay=0``."""
    torch = pytest.importorskip("torch")
    cls = {
        "sgd": torch.optim.SGD,
        "adam": torch.optim.Adam,
        "adamw": torch.optim.AdamW,
        "rmsprop": torch.optim.RMSprop,
        "adagrad": torch.optim.Adagrad,
    }[opt.name]
    pieces = [params0[:n_decay], params0[n_decay:]]
    tensors = [torch.tensor(piece, dtype=torch.float64, requires_grad=True) for piece in pieces if piece.size]
    groups = [{"params": [tensors[0]]}]
    if len(tensors) == 2:
        groups.append({"params": [tensors[1]], "weight_decay": 0.0})
    torch_opt = cls(groups, lr=float(lrs[0]), foreach=False, **ref_kwargs(opt))
    out = []
    for lr in lrs:
        for group in torch_opt.param_groups:
            group["lr"] = float(lr)
        current = np.concatenate([p.detach().numpy() for p in tensors])
        grad = grad_fn(current)
        start = 0
        for p in tensors:
            p.grad = torch.from_numpy(grad[start : start + p.numel()].copy())
            start += p.numel()
        torch_opt.step()
        out.append(np.concatenate([p.detach().numpy() for p in tensors]))
    return np.array(out)


def max_rel_dev(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1.0)))


# --------------------------------------------------------------------------
# float64 trajectories: kernel vs naive reference vs torch
# --------------------------------------------------------------------------


@pytest.mark.parametrize("n_decay_offset", [0, 1], ids=["decay_all", "no_decay_last"])
@pytest.mark.parametrize(("opt", "ref"), CASES, ids=CASE_IDS)
def test_trajectory_matches_reference(opt, ref, n_decay_offset):  # type: ignore[no-untyped-def]
    params0, grad_fn = make_problem(seed=len(repr(opt)))
    lrs = varying_lrs(opt.lr)
    n_decay = N_PARAMS - n_decay_offset
    comp, _, _ = comp_trajectory(opt, params0, grad_fn, lrs, n_decay)
    expected = ref(params0, grad_fn, lrs, n_decay=n_decay, **ref_kwargs(opt))
    assert np.all(np.isfinite(comp))
    assert np.max(np.abs(comp[-1] - params0)) > 1e-3  # the run really moved
    assert max_rel_dev(comp, expected) < 1e-12


#: torch.optim's state keys for each of fastgd's state fields.
TORCH_STATE_KEYS = {
    "sgd": ("momentum_buffer",),
    "adam": ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"),
    "adamw": ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"),
    "rmsprop": ("square_avg", "grad_avg", "momentum_buffer"),
    "adagrad": ("sum",),
}


def rosenbrock_grad(p: np.ndarray) -> np.ndarray:
    x, y = p
    return np.array([-2.0 * (1.0 - x) - 400.0 * x * (y - x * x), 200.0 * (y - x * x)])


def per_step_deviation_from_torch(opt: Optimizer, n_steps: int = 300) -> float:
    """Run torch.optim on the Rosenbrock function; before each step, copy torch's state into fastgd's and take
    the same step with fastgd's kernel.  Returns the largest deviation of one step, relative to ``max|params|``."""
    torch = pytest.importorskip("torch")
    cls = getattr(torch.optim, type(opt).__name__)
    tensor = torch.tensor([-1.5, 2.0], dtype=torch.float64, requires_grad=True)
    torch_opt = cls([tensor], lr=opt.lr, foreach=False, **ref_kwargs(opt))
    worst = 0.0
    for t in range(1, n_steps + 1):
        params = tensor.detach().numpy().copy()
        grad = rosenbrock_grad(params)
        tensor.grad = torch.from_numpy(grad.copy())
        torch_state = torch_opt.state.get(tensor, {})
        state = opt.init(2)
        for buffer, key in zip(state, TORCH_STATE_KEYS[opt.name], strict=False):
            if buffer.size and torch_state.get(key) is not None:
                buffer[:] = torch_state[key].numpy()
        # torch's SGD starts its momentum buffer at the first gradient, as fastgd does at step 1.
        step = 1 if opt.name == "sgd" and "momentum_buffer" not in torch_state else t
        torch_opt.step()
        opt.update_kernel(params, grad, state, opt.hyper(), step, opt.lr, 2)
        expected = tensor.detach().numpy()
        worst = max(worst, float(np.max(np.abs(params - expected)) / np.max(np.abs(expected))))
    return worst


#: The case of the issue that found it: centred, alpha 0.9, momentum 0.5 (one step deviates by 9.7e-14).
CANCELLING = RMSprop(1e-3, alpha=0.9, momentum=0.5, centered=True)


@pytest.mark.parametrize("opt", [opt for opt, _ in CASES] + [CANCELLING], ids=[*CASE_IDS, "issue-centred"])
def test_each_step_matches_torch_to_a_few_ulps(opt):  # type: ignore[no-untyped-def]
    """The README's claim, per step: from the same state, one update agrees with torch.optim to a few ulps.

    (Rosenbrock, 500 steps at lr=1e-3, so that the run is ill-conditioned but does not diverge.)  Centred
    RMSprop takes ``sqrt(s - a**2)``, which cancels: there a one-ulp difference in ``s`` grows, and the bound is
    1e-12.  Whole runs are compared in ``test_trajectory_matches_torch``.
    """
    opt = dataclasses.replace(opt, lr=1e-3)  # type: ignore[type-var]
    bound = 1e-12 if getattr(opt, "centered", False) else 1e-15
    assert per_step_deviation_from_torch(opt, n_steps=500) < bound


@pytest.mark.parametrize("n_decay_offset", [0, 1], ids=["decay_all", "no_decay_last"])
@pytest.mark.parametrize(("opt", "ref"), CASES, ids=CASE_IDS)
def test_trajectory_matches_torch(opt, ref, n_decay_offset):  # type: ignore[no-untyped-def]
    params0, grad_fn = make_problem(seed=len(repr(opt)))
    lrs = varying_lrs(opt.lr)
    n_decay = N_PARAMS - n_decay_offset
    expected = torch_trajectory(opt, params0, grad_fn, lrs, n_decay)
    comp, _, _ = comp_trajectory(opt, params0, grad_fn, lrs, n_decay)
    assert max_rel_dev(comp, expected) < 1e-14  # the README's claim for well-conditioned runs (measured: 1.9e-15)


def test_intercept_excluded_from_decay_changes_result():
    # Guards the n_decay tests above: excluding the last element must matter.
    params0, grad_fn = make_problem()
    opt = SGD(0.1, weight_decay=0.5)
    full, _, _ = comp_trajectory(opt, params0, grad_fn, varying_lrs(0.1), N_PARAMS)
    partial, _, _ = comp_trajectory(opt, params0, grad_fn, varying_lrs(0.1), N_PARAMS - 1)
    assert np.max(np.abs(full[:, -1] - partial[:, -1])) > 1e-3
    none, _, _ = comp_trajectory(opt, params0, grad_fn, varying_lrs(0.1), 0)
    expected = ref_sgd(params0, grad_fn, varying_lrs(0.1))
    assert max_rel_dev(none, expected) < 1e-12


@numba.njit
def _apply_steps(params, grad_matrix, state, hyper, lrs, n_decay):  # type: ignore[no-untyped-def]
    for t in range(lrs.shape[0]):
        apply_update(params, grad_matrix[t], state, hyper, t + 1, lrs[t], n_decay)


@pytest.mark.parametrize(("opt", "ref"), CASES[::2], ids=CASE_IDS[::2])
def test_apply_update_runs_the_optimizers_kernel(opt, ref):  # type: ignore[no-untyped-def]
    # Fixed gradients, so the three runs see the same inputs.
    rng = np.random.default_rng(5)
    params0, grads, lrs = rng.standard_normal(N_PARAMS), rng.standard_normal((8, N_PARAMS)), varying_lrs(opt.lr, 8)
    runs = []
    for runner in ("kernel", "python", "njit"):
        params, state, hyper = params0.copy(), opt.init(N_PARAMS), opt.hyper()
        if runner == "njit":
            _apply_steps(params, grads, state, hyper, lrs, N_PARAMS - 1)
        else:
            update = opt.update_kernel if runner == "kernel" else apply_update
            for t in range(8):
                update(params, grads[t], state, hyper, t + 1, float(lrs[t]), N_PARAMS - 1)
        runs.append(params)
    np.testing.assert_array_equal(runs[1], runs[0])
    np.testing.assert_array_equal(runs[2], runs[0])
    fixed = iter(grads)
    expected = ref(params0, lambda _params: next(fixed), lrs, n_decay=N_PARAMS - 1, **ref_kwargs(opt))
    assert max_rel_dev(runs[0], expected[-1]) < 1e-12


def test_apply_update_tells_adamw_from_adam():
    assert type(AdamW().hyper()) is kopt.AdamWHyper and type(Adam().hyper()) is kopt.AdamHyper
    params0, grads, lrs = np.ones(3), np.full((4, 3), 0.5), np.full(4, 0.1)
    results = {}
    for opt in (Adam(weight_decay=0.1), AdamW(weight_decay=0.1)):
        params = params0.copy()
        _apply_steps(params, grads, opt.init(3), opt.hyper(), lrs, 3)
        results[opt.name] = params
    assert np.all(results["adam"] != results["adamw"])


def test_adamw_without_weight_decay_is_adam():
    params0, grad_fn = make_problem()
    lrs = varying_lrs(0.05)
    for amsgrad in (False, True):
        adam, _, _ = comp_trajectory(Adam(0.05, amsgrad=amsgrad), params0, grad_fn, lrs, N_PARAMS)
        adamw, _, _ = comp_trajectory(AdamW(0.05, weight_decay=0.0, amsgrad=amsgrad), params0, grad_fn, lrs, N_PARAMS)
        np.testing.assert_array_equal(adamw, adam)


# --------------------------------------------------------------------------
# float32
# --------------------------------------------------------------------------


@pytest.mark.parametrize(("opt", "ref"), CASES, ids=CASE_IDS)
def test_float32_stays_float32_and_is_close(opt, ref):  # type: ignore[no-untyped-def]
    params0, grad_fn = make_problem(seed=3)
    lrs = varying_lrs(opt.lr, 20)
    comp32, params, state = comp_trajectory(opt, params0, grad_fn, lrs, N_PARAMS - 1, dtype=np.float32)
    comp64, _, _ = comp_trajectory(opt, params0, grad_fn, lrs, N_PARAMS - 1)
    assert params.dtype == np.float32
    assert all(buf.dtype == np.float32 for buf in state)
    assert all(h.dtype == np.float32 for h in opt.hyper(np.float32) if not isinstance(h, bool))
    assert max_rel_dev(comp32, comp64) < 5e-5  # measured <= 5.1e-6


# --------------------------------------------------------------------------
# Compile budget and allocation
# --------------------------------------------------------------------------

KERNEL_CONFIGS = {
    kopt.sgd_update: [SGD(0.1), SGD(0.1, momentum=0.9, nesterov=True, weight_decay=0.1)],
    kopt.adam_update: [Adam(), Adam(weight_decay=0.1, amsgrad=True)],
    kopt.adamw_update: [AdamW(), AdamW(amsgrad=True)],
    kopt.rmsprop_update: [RMSprop(), RMSprop(centered=True, momentum=0.5)],
    kopt.adagrad_update: [Adagrad(), Adagrad(lr_decay=0.1, initial_accumulator_value=0.1)],
}


@pytest.mark.parametrize("kernel", list(KERNEL_CONFIGS), ids=lambda k: k.__name__)
def test_compile_budget_one_signature_per_dtype(kernel):  # type: ignore[no-untyped-def]
    for opt in KERNEL_CONFIGS[kernel]:
        assert opt.update_kernel is kernel
        for dtype in (np.float32, np.float64, np.float32, np.float64):
            params = np.linspace(-1, 1, 4).astype(dtype)
            state = opt.init(params.size, dtype)
            opt.step(params, params.copy(), state, 1)
            opt.step(params, params.copy(), state, 2, lr=0.5, n_decay=3)
    assert len(kernel.signatures) == 2
    assert {sig[0].dtype.name for sig in kernel.signatures} == {"float32", "float64"}


@numba.njit
def _run_steps(update, params, grad, state, hyper, n_steps):  # type: ignore[no-untyped-def]
    for t in range(1, n_steps + 1):
        update(params, grad, state, hyper, t, 0.01, params.shape[0])


def test_kernels_allocate_nothing():
    # Passing arrays in from Python costs a fixed number of NRT allocations;
    # a kernel that allocated would add more with every step it runs.
    from numba.core.runtime import _nrt_python, rtsys

    def allocations(kernel, opt, n_steps):  # type: ignore[no-untyped-def]
        params = np.ones(8)
        state, hyper = opt.init(8, np.float64), opt.hyper(np.float64)
        _nrt_python.memsys_enable_stats()
        try:
            before = rtsys.get_allocation_stats().alloc
            _run_steps(kernel, params, params.copy(), state, hyper, n_steps)
            return rtsys.get_allocation_stats().alloc - before
        finally:
            _nrt_python.memsys_disable_stats()

    for kernel, (_, opt) in KERNEL_CONFIGS.items():
        allocations(kernel, opt, 1)  # compile
        assert allocations(kernel, opt, 200) == allocations(kernel, opt, 1), kernel.__name__


# --------------------------------------------------------------------------
# User @njit code drives the step kernels
# --------------------------------------------------------------------------


@numba.njit
def minimise_cubic(update, state, hyper, x0, lr, n_steps):  # type: ignore[no-untyped-def]
    """Minimise f(x) = x**3 - 2x**2 + 2 (f'(x) = 3x**2 - 4x) from x0 with any update kernel."""
    params = np.array([x0])
    grad = np.empty(1)
    for t in range(1, n_steps + 1):
        x = params[0]
        grad[0] = 3.0 * x * x - 4.0 * x
        update(params, grad, state, hyper, t, lr, params.shape[0])
    return params[0]


@numba.njit
def minimise_weighted_squares(update, state, hyper, weights, targets, x0, lr, n_steps):  # type: ignore[no-untyped-def]
    """Minimise sum_i w_i (x - b_i)**2 with any update kernel."""
    params = np.array([x0])
    grad = np.empty(1)
    for t in range(1, n_steps + 1):
        g = 0.0
        for i in range(weights.shape[0]):
            g += 2.0 * weights[i] * (params[0] - targets[i])
        grad[0] = g
        update(params, grad, state, hyper, t, lr, params.shape[0])
    return params[0]


@pytest.mark.parametrize(("opt", "n_steps"), [(SGD(0.1), 200), (Adam(0.1), 2000)], ids=["sgd", "adam"])
def test_user_njit_minimises_cubic(opt, n_steps):  # type: ignore[no-untyped-def]
    x = minimise_cubic(opt.update_kernel, opt.init(1), opt.hyper(), 2.0, opt.lr, n_steps)
    assert abs(x - 4.0 / 3.0) < 1e-8


@pytest.mark.parametrize(
    ("opt", "n_steps"),
    [(SGD(0.02), 300), (SGD(0.01, momentum=0.9, nesterov=True), 300), (Adam(0.1), 3000)],
    ids=["sgd", "nesterov", "adam"],
)
def test_user_njit_finds_weighted_mean(opt, n_steps):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(7)
    weights, targets = rng.uniform(0.5, 2.0, 10), rng.normal(3.0, 2.0, 10)
    x = minimise_weighted_squares(opt.update_kernel, opt.init(1), opt.hyper(), weights, targets, 0.0, opt.lr, n_steps)
    assert abs(x - np.sum(weights * targets) / np.sum(weights)) < 1e-8


# --------------------------------------------------------------------------
# Descriptions: defaults, validation, the checked step()
# --------------------------------------------------------------------------


@pytest.mark.parametrize("cls", list(OPTIMIZERS.values()), ids=list(OPTIMIZERS))
def test_defaults_match_torch(cls):  # type: ignore[no-untyped-def]
    torch = pytest.importorskip("torch")
    torch_cls = getattr(torch.optim, cls.__name__)
    defaults = torch_cls([torch.zeros(1, requires_grad=True)], lr=0.5).defaults
    opt = cls(lr=0.5)
    assert isinstance(opt, Optimizer)
    for field in dataclasses.fields(opt):
        assert getattr(opt, field.name) == pytest.approx(defaults[field.name]), field.name


def test_sgd_requires_lr():
    with pytest.raises(TypeError):
        SGD()  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: SGD(0.0), "lr"),
        (lambda: SGD(-0.1), "lr"),
        (lambda: Adam(lr=math.nan), "lr"),
        (lambda: Adam(lr=math.inf), "lr"),
        (lambda: Adam(lr="0.1"), "lr"),
        (lambda: Adam(betas=(1.0, 0.9)), "betas"),
        (lambda: Adam(betas=(0.9, -0.1)), "betas"),
        (lambda: AdamW(betas=(0.9,)), "betas"),
        (lambda: Adam(betas=0.9), "betas"),
        (lambda: Adam(eps=0.0), "eps"),
        (lambda: RMSprop(eps=-1e-8), "eps"),
        (lambda: Adagrad(eps=math.nan), "eps"),
        (lambda: SGD(0.1, momentum=-0.1), "momentum"),
        (lambda: RMSprop(momentum=-0.5), "momentum"),
        (lambda: SGD(0.1, momentum=0.9, dampening=1.5), "dampening"),
        (lambda: SGD(0.1, dampening=-0.1), "dampening"),
        (lambda: SGD(0.1, weight_decay=-1e-3), "weight_decay"),
        (lambda: AdamW(weight_decay=-0.1), "weight_decay"),
        (lambda: Adagrad(weight_decay=math.inf), "weight_decay"),
        (lambda: RMSprop(alpha=1.0), "alpha"),
        (lambda: RMSprop(alpha=-0.1), "alpha"),
        (lambda: Adagrad(lr_decay=-0.1), "lr_decay"),
        (lambda: Adagrad(initial_accumulator_value=-1.0), "initial_accumulator_value"),
        (lambda: SGD(0.1, nesterov=True), "nesterov"),
        (lambda: SGD(0.1, momentum=0.9, dampening=0.1, nesterov=True), "nesterov"),
        (lambda: Adam(amsgrad="yes"), "amsgrad"),
        (lambda: RMSprop(centered=1), "centered"),
    ],
)
def test_validation_errors_name_the_parameter(make, match):  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=match):
        make()


def test_betas_are_stored_as_a_float_pair():
    assert Adam(betas=[0.5, 0.75]).betas == (0.5, 0.75)


def test_init_buffers_and_hyper():
    assert [b.shape for b in Adam().init(4)] == [(4,), (4,), (0,)]
    assert [b.shape for b in Adam(amsgrad=True).init(4, np.float32)] == [(4,), (4,), (4,)]
    assert [b.shape for b in RMSprop(centered=True).init(3)] == [(3,), (3,), (0,)]
    assert [b.shape for b in SGD(0.1).init(3)] == [(0,)]
    np.testing.assert_array_equal(Adagrad(initial_accumulator_value=0.25).init(3).sum, [0.25] * 3)
    hyper = Adam(betas=(0.5, 0.75), amsgrad=True).hyper(np.float32)
    assert isinstance(hyper, kopt.AdamHyper) and hyper.beta1 == 0.5 and hyper.amsgrad is True
    with pytest.raises(ValueError, match="dtype"):
        Adam().init(3, np.int64)
    with pytest.raises(ValueError, match="dtype"):
        SGD(0.1).hyper(np.float16)


def test_checked_step_matches_kernel_and_rejects_bad_arguments():
    params0, grad_fn = make_problem()
    opt = RMSprop(0.01, centered=True, momentum=0.5, weight_decay=0.1)
    lrs = varying_lrs(0.01, 5)
    comp, _, _ = comp_trajectory(opt, params0, grad_fn, lrs, N_PARAMS - 1)
    params, state = params0.copy(), opt.init(N_PARAMS)
    for t, lr in enumerate(lrs, start=1):
        opt.step(params, grad_fn(params), state, t, lr=lr, n_decay=N_PARAMS - 1)
    np.testing.assert_array_equal(params, comp[-1])

    grad = np.zeros(N_PARAMS)
    with pytest.raises(ValueError, match="step"):
        opt.step(params, grad, state, 0)
    with pytest.raises(ValueError, match="n_decay"):
        opt.step(params, grad, state, 1, n_decay=N_PARAMS + 1)
    with pytest.raises(ValueError, match="lr"):
        opt.step(params, grad, state, 1, lr=-1.0)
    with pytest.raises(ValueError, match="grad"):
        opt.step(params, grad.astype(np.float32), state, 1)
    with pytest.raises(ValueError, match="grad_avg"):
        opt.step(params, grad, RMSprop(0.01, momentum=0.5).init(N_PARAMS), 1)
    with pytest.raises(ValueError, match="state"):
        opt.step(params, grad, Adam().init(N_PARAMS), 1)
