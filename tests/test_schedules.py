"""Learning-rate schedule kernels against the formulas (``ref_lr_*``) and torch's schedulers."""

from __future__ import annotations

import math

import numba
import numpy as np
import pytest

from fastgd.kernels.optim import apply_update
from fastgd.optim import Adam, AdamW
from fastgd.schedules import (
    N_PARAMS,
    Constant,
    CosineAnnealing,
    ExponentialDecay,
    InverseScaling,
    Schedule,
    constant_lr,
    cosine_annealing_lr,
    exponential_decay_lr,
    inverse_scaling_lr,
    learning_rate,
    resolve_schedule,
)

from .naive import (
    ref_lr_constant,
    ref_lr_cosine,
    ref_lr_exponential,
    ref_lr_inverse_scaling,
)

N_EPOCHS = 12
STEPS_PER_EPOCH = 7

# (schedule, reference taking (base_lr, step, epoch, n_epochs))
CASES = [
    (Constant(), ref_lr_constant),
    (InverseScaling(), lambda *a: ref_lr_inverse_scaling(*a, power_t=0.25)),
    (InverseScaling(power_t=0.7), lambda *a: ref_lr_inverse_scaling(*a, power_t=0.7)),
    (InverseScaling(power_t=0.0), lambda *a: ref_lr_inverse_scaling(*a, power_t=0.0)),
    (ExponentialDecay(gamma=0.9), lambda *a: ref_lr_exponential(*a, gamma=0.9)),
    (ExponentialDecay(gamma=1.05), lambda *a: ref_lr_exponential(*a, gamma=1.05)),
    (CosineAnnealing(), lambda *a: ref_lr_cosine(*a, eta_min=0.0)),
    (CosineAnnealing(eta_min=0.01), lambda *a: ref_lr_cosine(*a, eta_min=0.01)),
]
CASE_IDS = [repr(s) for s, _ in CASES]


def comp_lrs(schedule: Schedule, base_lr: float) -> np.ndarray:
    """The kernel's rate at every step of a run, shape (N_EPOCHS, STEPS_PER_EPOCH)."""
    out = np.empty((N_EPOCHS, STEPS_PER_EPOCH))
    for epoch in range(N_EPOCHS):
        for k in range(STEPS_PER_EPOCH):
            step = epoch * STEPS_PER_EPOCH + k
            out[epoch, k] = schedule.kernel(base_lr, step, epoch, N_EPOCHS, schedule.params())
    return out


@pytest.mark.parametrize(("schedule", "ref"), CASES, ids=CASE_IDS)
def test_kernel_matches_formula(schedule, ref):  # type: ignore[no-untyped-def]
    base_lr = 0.3
    comp = comp_lrs(schedule, base_lr)
    expected = np.array(
        [[ref(base_lr, e * STEPS_PER_EPOCH + k, e, N_EPOCHS) for k in range(STEPS_PER_EPOCH)] for e in range(N_EPOCHS)]
    )
    np.testing.assert_allclose(comp, expected, rtol=1e-13, atol=0)
    assert comp[0, 0] == pytest.approx(base_lr, rel=1e-15)  # every schedule starts at the base rate
    # The Python convenience gives the same numbers.
    assert schedule.lr_at(base_lr, 9, 1, N_EPOCHS) == comp[1, 2]


def test_schedules_change_when_they_should():
    const, inv, exp, cos = (
        comp_lrs(Constant(), 0.3),
        comp_lrs(InverseScaling(), 0.3),
        comp_lrs(ExponentialDecay(0.9), 0.3),
        comp_lrs(CosineAnnealing(), 0.3),
    )
    assert np.all(const == 0.3)
    assert np.all(np.diff(inv.ravel()) < 0)  # per step
    for per_epoch in (exp, cos):
        assert np.all(per_epoch == per_epoch[:, :1])  # constant within an epoch
        assert np.all(np.diff(per_epoch[:, 0]) < 0)  # decreasing across epochs


@pytest.mark.parametrize("gamma", [0.5, 0.9, 0.999])
def test_exponential_matches_torch(gamma):  # type: ignore[no-untyped-def]
    torch = pytest.importorskip("torch")
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.2)
    sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=gamma)
    schedule = ExponentialDecay(gamma)
    for epoch in range(40):
        torch_lr = opt.param_groups[0]["lr"]
        assert schedule.lr_at(0.2, 0, epoch, 40) == pytest.approx(torch_lr, rel=1e-13, abs=0)
        opt.step()
        sched.step()


@pytest.mark.parametrize(("eta_min", "n_epochs"), [(0.0, 10), (0.01, 10), (0.001, 37)])
def test_cosine_matches_torch(eta_min, n_epochs):  # type: ignore[no-untyped-def]
    torch = pytest.importorskip("torch")
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.2)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=n_epochs, eta_min=eta_min)
    schedule = CosineAnnealing(eta_min)
    for epoch in range(n_epochs):
        torch_lr = opt.param_groups[0]["lr"]
        # torch updates recursively; absolute tolerance relative to the base rate.
        assert schedule.lr_at(0.2, 0, epoch, n_epochs) == pytest.approx(torch_lr, rel=1e-12, abs=1e-14)
        opt.step()
        sched.step()


def test_params_share_one_numba_type():
    schedules = [s for s, _ in CASES]
    types = {numba.typeof(s.params()) for s in schedules}
    assert len(types) == 1
    assert all(len(s.params()) == N_PARAMS for s in schedules)

    def python_call_signatures(kernel):  # type: ignore[no-untyped-def]
        # Calls from other @njit code with constant arguments may add Literal[int]
        # specialisations (other tests do that); the Python calls here must share one.
        return {sig for sig in kernel.signatures if not any(isinstance(t, numba.types.Literal) for t in sig)}

    for kernel in (constant_lr, inverse_scaling_lr, exponential_decay_lr, cosine_annealing_lr):
        for schedule in schedules:
            kernel(0.1, 3, 1, 5, schedule.params())
        assert len(python_call_signatures(kernel)) == 1, kernel
    for schedule in schedules:
        learning_rate(schedule.params(), 0.1, 3, 1, 5)
    assert len(python_call_signatures(learning_rate)) == 1


@pytest.mark.parametrize(("schedule", "ref"), CASES, ids=CASE_IDS)
def test_learning_rate_dispatches_on_the_kind_code(schedule, ref):  # type: ignore[no-untyped-def]
    for step, epoch in [(0, 0), (5, 0), (40, 5), (83, N_EPOCHS - 1)]:
        expected = schedule.kernel(0.3, step, epoch, N_EPOCHS, schedule.params())
        assert learning_rate(schedule.params(), 0.3, step, epoch, N_EPOCHS) == expected
        assert expected == pytest.approx(ref(0.3, step, epoch, N_EPOCHS), rel=1e-13)


def test_learning_rate_of_unknown_kind_is_nan():
    assert math.isnan(learning_rate((7.0, 0.5), 0.3, 1, 0, 3))


@numba.njit
def _train_weighted_mean(  # type: ignore[no-untyped-def]
    update, state, hyper, schedule, schedule_params, weights, targets, lr, n_epochs, per_epoch
):
    """A user's generic loop: any update kernel, any schedule kernel."""
    params = np.zeros(1)
    grad = np.empty(1)
    step = 0
    for epoch in range(n_epochs):
        for _ in range(per_epoch):
            lr_t = schedule(lr, step, epoch, n_epochs, schedule_params)
            grad[0] = 0.0
            for i in range(weights.shape[0]):
                grad[0] += 2.0 * weights[i] * (params[0] - targets[i])
            step += 1
            update(params, grad, state, hyper, step, lr_t, params.shape[0])
    return params[0]


@pytest.mark.parametrize("schedule", [None, ExponentialDecay(0.95), CosineAnnealing(1e-3)], ids=repr)
def test_user_njit_loop_with_schedule(schedule):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(1)
    weights, targets = rng.uniform(0.5, 2.0, 8), rng.normal(-1.0, 3.0, 8)
    sched = resolve_schedule(schedule)
    opt = Adam(0.2)
    x = _train_weighted_mean(
        opt.update_kernel, opt.init(1), opt.hyper(), sched.kernel, sched.params(), weights, targets, opt.lr, 60, 50
    )
    assert abs(x - np.sum(weights * targets) / np.sum(weights)) < 1e-8


@numba.njit
def _train_weighted_mean_by_type(  # type: ignore[no-untyped-def]
    state, hyper, schedule_params, weights, targets, lr, n_epochs, per_epoch
):
    """The same loop with no function arguments: dispatch by the tuples' types and kind code."""
    params = np.zeros(1)
    grad = np.empty(1)
    step = 0
    for epoch in range(n_epochs):
        for _ in range(per_epoch):
            lr_t = learning_rate(schedule_params, lr, step, epoch, n_epochs)
            grad[0] = 0.0
            for i in range(weights.shape[0]):
                grad[0] += 2.0 * weights[i] * (params[0] - targets[i])
            step += 1
            apply_update(params, grad, state, hyper, step, lr_t, params.shape[0])
    return params[0]


@pytest.mark.parametrize("opt", [Adam(0.2), AdamW(0.2, weight_decay=0.0)], ids=repr)
def test_user_njit_loop_without_function_arguments(opt):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(2)
    weights, targets = rng.uniform(0.5, 2.0, 8), rng.normal(1.0, 3.0, 8)
    n_signatures = []
    for schedule in (Constant(), CosineAnnealing(1e-3), InverseScaling(0.1)):
        x = _train_weighted_mean_by_type(opt.init(1), opt.hyper(), schedule.params(), weights, targets, opt.lr, 60, 50)
        assert abs(x - np.sum(weights * targets) / np.sum(weights)) < 1e-8
        by_kernel = _train_weighted_mean(
            opt.update_kernel,
            opt.init(1),
            opt.hyper(),
            schedule.kernel,
            schedule.params(),
            weights,
            targets,
            opt.lr,
            60,
            50,
        )
        assert x == by_kernel  # the same kernels ran
        n_signatures.append(len(_train_weighted_mean_by_type.signatures))
    assert n_signatures[0] == n_signatures[-1]  # compiled once for every schedule


def test_resolve_schedule():
    assert resolve_schedule(None) == Constant()
    cosine = CosineAnnealing(0.1)
    assert resolve_schedule(cosine) is cosine
    assert isinstance(cosine, Schedule)
    with pytest.raises(TypeError, match="schedule"):
        resolve_schedule("cosine")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: InverseScaling(power_t=-0.1), "power_t"),
        (lambda: InverseScaling(power_t=math.nan), "power_t"),
        (lambda: ExponentialDecay(gamma=0.0), "gamma"),
        (lambda: ExponentialDecay(gamma=-0.5), "gamma"),
        (lambda: ExponentialDecay(gamma=math.inf), "gamma"),
        (lambda: ExponentialDecay(gamma="0.9"), "gamma"),
        (lambda: CosineAnnealing(eta_min=-1e-3), "eta_min"),
        (lambda: CosineAnnealing(eta_min=math.inf), "eta_min"),
        (lambda: Constant().lr_at(0.0, 0, 0, 1), "base_lr"),
        (lambda: Constant().lr_at(0.1, 0, 3, 3), "epoch"),
    ],
)
def test_validation_errors_name_the_parameter(make, match):  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=match):
        make()
