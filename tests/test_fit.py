"""fastgd.fit against the naive training loop, equivalences, convergence and divergence."""

from __future__ import annotations

import warnings

import numba
import numpy as np
import pytest

import fastgd
from fastgd._rng import stream_key
from fastgd.kernels.training import permutation_into
from fastgd.trainer import SHUFFLE_STREAM

from . import naive


@pytest.fixture(scope="module")
def small():
    data = fastgd.make_regression(203, 5, noise=0.3, bias=0.7, seed=3)
    return data.X, data.y


def fastgd_orders(n_samples: int, epochs: int, seed: int, shuffle: bool) -> list[np.ndarray]:
    """The row order fastgd uses in each epoch (identity, or the (seed, epoch) permutation)."""
    orders = []
    for epoch in range(epochs):
        order = np.arange(n_samples, dtype=np.int64)
        if shuffle:
            permutation_into(order, stream_key(seed, SHUFFLE_STREAM + epoch))
        orders.append(order)
    return orders


OPTIMIZER_CASES = [
    (fastgd.SGD(lr=0.05), naive.ref_sgd, {}),
    (
        fastgd.SGD(lr=0.02, momentum=0.9, nesterov=True, weight_decay=0.01),
        naive.ref_sgd,
        {"momentum": 0.9, "nesterov": True, "weight_decay": 0.01},
    ),
    (fastgd.SGD(lr=0.02, momentum=0.5, dampening=0.3), naive.ref_sgd, {"momentum": 0.5, "dampening": 0.3}),
    (fastgd.Adam(lr=0.05), naive.ref_adam, {}),
    (fastgd.Adam(lr=0.05, amsgrad=True, weight_decay=0.1), naive.ref_adam, {"amsgrad": True, "weight_decay": 0.1}),
    (fastgd.AdamW(lr=0.05, weight_decay=0.1), naive.ref_adamw, {"weight_decay": 0.1}),
    (fastgd.RMSprop(lr=0.01, momentum=0.5, centered=True), naive.ref_rmsprop, {"momentum": 0.5, "centered": True}),
    (
        fastgd.Adagrad(lr=0.3, lr_decay=0.01, initial_accumulator_value=0.1),
        naive.ref_adagrad,
        {"lr_decay": 0.01, "initial_accumulator_value": 0.1},
    ),
]


@pytest.mark.parametrize("loss", ["l2", "huber", "l1"])
@pytest.mark.parametrize(("optimizer", "ref_optimizer", "hyper"), OPTIMIZER_CASES, ids=lambda v: getattr(v, "name", ""))
@pytest.mark.parametrize("batch_size", [None, 1, 32])
def test_fit_matches_naive_training_loop(small, loss, optimizer, ref_optimizer, hyper, batch_size):
    X, y = small
    epochs = 3
    result = fastgd.fit(X, y, loss=loss, optimizer=optimizer, batch_size=batch_size, epochs=epochs, seed=11, delta=0.5)
    orders = fastgd_orders(len(y), epochs, seed=11, shuffle=batch_size is not None)
    batches = naive.ref_batches(len(y), batch_size, orders)
    lrs = np.full(len(batches), optimizer.lr)
    expected = naive.ref_train(X, y, loss, batches, ref_optimizer, lrs, delta=0.5, **hyper)[-1]
    assert result.n_steps == len(batches)
    np.testing.assert_allclose(np.append(result.coef, result.intercept), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    ("schedule", "ref_lr"),
    [
        (
            fastgd.InverseScaling(power_t=0.5),
            lambda lr, s, e, n: naive.ref_lr_inverse_scaling(lr, s, e, n, power_t=0.5),
        ),
        (fastgd.ExponentialDecay(gamma=0.7), lambda lr, s, e, n: naive.ref_lr_exponential(lr, s, e, n, gamma=0.7)),
        (fastgd.CosineAnnealing(eta_min=0.001), lambda lr, s, e, n: naive.ref_lr_cosine(lr, s, e, n, eta_min=0.001)),
    ],
    ids=["invscaling", "exponential", "cosine"],
)
def test_schedules_in_fit_match_reference_and_are_recorded(small, schedule, ref_lr):
    X, y = small
    epochs, batch_size = 4, 50
    result = fastgd.fit(
        X, y, optimizer=fastgd.SGD(lr=0.1), batch_size=batch_size, epochs=epochs, lr_schedule=schedule, shuffle=False
    )
    steps_per_epoch = -(-len(y) // batch_size)
    lrs = [ref_lr(0.1, s, s // steps_per_epoch, epochs) for s in range(epochs * steps_per_epoch)]
    batches = naive.ref_batches(len(y), batch_size, fastgd_orders(len(y), epochs, 0, shuffle=False))
    expected = naive.ref_train(X, y, "l2", batches, naive.ref_sgd, lrs)[-1]
    np.testing.assert_allclose(np.append(result.coef, result.intercept), expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(
        result.history["lr"].to_numpy()[1:], [lrs[(e + 1) * steps_per_epoch - 1] for e in range(epochs)], rtol=1e-15
    )


def test_minibatch_of_all_rows_in_order_equals_full_batch(small):
    X, y = small
    full = fastgd.fit(X, y, optimizer=fastgd.Adam(lr=0.1), batch_size=None, epochs=6)
    mini = fastgd.fit(X, y, optimizer=fastgd.Adam(lr=0.1), batch_size=len(y), epochs=6, shuffle=False)
    np.testing.assert_allclose(mini.coef, full.coef, rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(mini.history["loss"], full.history["loss"], rtol=1e-13)


def test_adamw_without_decay_equals_adam(small):
    X, y = small
    adam = fastgd.fit(X, y, optimizer=fastgd.Adam(lr=0.05), batch_size=16, epochs=2)
    adamw = fastgd.fit(X, y, optimizer=fastgd.AdamW(lr=0.05, weight_decay=0.0), batch_size=16, epochs=2)
    np.testing.assert_array_equal(adamw.coef, adam.coef)


def test_minibatch_adam_matches_torch(small):
    torch = pytest.importorskip("torch")
    X, y = small
    epochs, batch_size = 2, 32
    result = fastgd.fit(X, y, optimizer=fastgd.Adam(lr=0.05), batch_size=batch_size, epochs=epochs, seed=5)
    weight = torch.zeros(X.shape[1], dtype=torch.float64, requires_grad=True)
    bias = torch.zeros((), dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([weight, bias], lr=0.05, foreach=False)
    X_t, y_t = torch.from_numpy(np.ascontiguousarray(X)), torch.from_numpy(np.ascontiguousarray(y))
    for rows in naive.ref_batches(len(y), batch_size, fastgd_orders(len(y), epochs, 5, True)):
        index = torch.from_numpy(rows)
        opt.zero_grad()
        torch.nn.functional.mse_loss(X_t[index] @ weight + bias, y_t[index]).backward()
        opt.step()
    np.testing.assert_allclose(result.coef, weight.detach().numpy(), rtol=1e-12, atol=1e-13)
    assert result.intercept == pytest.approx(bias.item(), rel=1e-12, abs=1e-13)


def test_full_batch_l2_reaches_least_squares():
    data = fastgd.make_regression(500, 6, noise=0.5, bias=2.0, seed=8)
    result = fastgd.fit(data.X, data.y, optimizer=fastgd.SGD(lr=0.3), epochs=300)
    design = np.column_stack([data.X, np.ones(500)])
    exact, *_ = np.linalg.lstsq(design, data.y, rcond=None)
    fitted = np.append(result.coef, result.intercept)
    assert np.linalg.norm(fitted - exact) <= 1e-6 * np.linalg.norm(exact)


def lad_optimum(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Exact least-absolute-deviations fit (with intercept) as a linear programme."""
    linprog = pytest.importorskip("scipy.optimize").linprog
    n, d = X.shape
    design = np.column_stack([X, np.ones(n)])
    # variables: beta (free, d+1), u >= 0, v >= 0 with design @ beta + u - v = y; minimise sum(u + v)
    cost = np.concatenate([np.zeros(d + 1), np.ones(2 * n)])
    equality = np.hstack([design, np.eye(n), -np.eye(n)])
    bounds = [(None, None)] * (d + 1) + [(0, None)] * (2 * n)
    solution = linprog(cost, A_eq=equality, b_eq=y, bounds=bounds, method="highs")
    assert solution.success
    return solution.x[: d + 1]


def test_l1_reaches_the_least_absolute_deviations_optimum():
    data = fastgd.make_regression(300, 3, noise=1.0, outliers=0.1, seed=4)
    exact = lad_optimum(data.X, data.y)
    best = fastgd.loss_value(data.X, data.y, exact[:-1], exact[-1], loss="l1")
    result = fastgd.fit(
        data.X, data.y, loss="l1", optimizer=fastgd.SGD(lr=0.1), batch_size=None, epochs=3000,
        lr_schedule=fastgd.CosineAnnealing(),
    )  # fmt: skip
    # Full-batch subgradient descent with a cosine-annealed step: the stated tolerance is
    # 1e-8 relative in the loss and 1e-6 in the parameters (measured: 3e-11 and 1.5e-8).
    final = result.history["loss"].iloc[-1]
    assert best - 1e-12 <= final <= best * (1 + 1e-8)
    np.testing.assert_allclose(np.append(result.coef, result.intercept), exact, atol=1e-6)


def test_l1_is_closer_to_the_truth_than_l2_with_outliers():
    data = fastgd.make_regression(2000, 4, noise=0.5, outliers=0.2, outlier_scale=30.0, seed=6)
    l1 = fastgd.fit(data.X, data.y, loss="l1", optimizer=fastgd.Adam(lr=0.02), batch_size=64, epochs=30)
    l2 = fastgd.fit(data.X, data.y, loss="l2", optimizer=fastgd.Adam(lr=0.02), batch_size=64, epochs=30)
    assert np.linalg.norm(l1.coef - data.coef) < 0.5 * np.linalg.norm(l2.coef - data.coef)


def test_divergence_is_flagged_not_returned(small):
    X, y = small
    with pytest.warns(fastgd.DivergenceWarning, match="diverged"):
        result = fastgd.fit(X, y, optimizer=fastgd.SGD(lr=50.0), epochs=50)
    assert result.diverged and not result.converged
    assert result.stop_reason.startswith("diverged")
    assert np.isfinite(result.coef).all() and np.isfinite(result.intercept)
    # the returned parameters are those of the last recorded point with a sane loss
    initial = result.history["loss"].iloc[0]
    assert fastgd.loss_value(X, y, result.coef, result.intercept) <= fastgd.DIVERGENCE_FACTOR * initial


def test_sgd_divergence_mid_epoch_is_caught(small):
    X, y = small
    with pytest.warns(fastgd.DivergenceWarning):
        result = fastgd.fit(X, y, optimizer=fastgd.SGD(lr=5.0), batch_size=1, epochs=5)
    assert result.diverged
    assert np.isfinite(result.coef).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_kept(small, dtype):
    X, y = small
    result = fastgd.fit(X.astype(dtype), y.astype(dtype), optimizer=fastgd.Adam(lr=0.05), batch_size=8, epochs=2)
    assert result.coef.dtype == dtype
    assert result.coef_path.dtype == dtype


def test_float32_close_to_float64(small):
    X, y = small
    r64 = fastgd.fit(X, y, optimizer=fastgd.SGD(lr=0.1), batch_size=16, epochs=3)
    r32 = fastgd.fit(X.astype(np.float32), y.astype(np.float32), optimizer=fastgd.SGD(lr=0.1), batch_size=16, epochs=3)
    np.testing.assert_allclose(r32.coef, r64.coef, rtol=1e-4, atol=1e-4)


def test_history_and_records(small):
    X, y = small
    result = fastgd.fit(X, y, optimizer=fastgd.SGD(lr=0.05), batch_size=20, epochs=3, shuffle=False)
    history = result.history
    assert list(history.columns) == ["epoch", "step", "samples_seen", "time_s", "loss", "lr"]
    assert history["epoch"].tolist() == [0, 1, 2, 3]
    assert history["step"].tolist() == [0, 11, 22, 33]
    assert history["samples_seen"].tolist() == [0, 203, 406, 609]
    assert history["time_s"].is_monotonic_increasing and history["time_s"].iloc[0] == 0
    assert result.coef_path.shape == (4, 6)
    np.testing.assert_array_equal(result.coef_path[-1], np.append(result.coef, result.intercept))
    for row, params in zip(history.itertuples(), result.coef_path, strict=True):
        assert row.loss == pytest.approx(fastgd.loss_value(X, y, params[:-1], params[-1]), rel=1e-12)
    every = fastgd.fit(X, y, optimizer=fastgd.SGD(lr=0.05), batch_size=20, epochs=3, shuffle=False, record_every=4)
    # every 4 steps, plus the final point so the history ends at the returned parameters
    assert every.history["step"].tolist() == [0, 4, 8, 12, 16, 20, 24, 28, 32, 33]
    np.testing.assert_allclose(every.history["epoch"].iloc[1], 4 / 11)
    assert every.history["samples_seen"].iloc[3] == 203 + 20  # step 12 = epoch 1, batch 1
    assert every.history["samples_seen"].iloc[-1] == 3 * 203
    np.testing.assert_array_equal(every.coef, result.coef)
    assert every.n_steps == 33 and every.n_epochs == 3


def test_tol_stops_like_scikit_learn(small):
    X, y = small
    result = fastgd.fit(X, y, optimizer=fastgd.SGD(lr=0.1), batch_size=10, epochs=500, tol=1e-3, n_iter_no_change=3)
    assert result.converged and result.stop_reason == "tol"
    assert result.n_epochs < 500
    losses = result.history["loss"].to_numpy()[1:]
    best_before = losses[:-3].min()
    assert (losses[-3:] > best_before - 1e-3).all()


def test_penalty_is_part_of_the_recorded_objective(small):
    X, y = small
    result = fastgd.fit(X, y, optimizer=fastgd.SGD(lr=0.05, weight_decay=0.5), epochs=2)
    expected = fastgd.loss_value(X, y, result.coef, result.intercept) + 0.25 * float(result.coef @ result.coef)
    assert result.history["loss"].iloc[-1] == pytest.approx(expected, rel=1e-12)


def test_fit_intercept_false_keeps_intercept(small):
    X, y = small
    result = fastgd.fit(X, y, optimizer=fastgd.Adam(lr=0.05), batch_size=32, fit_intercept=False, intercept_init=0.25)
    assert result.intercept == 0.25


def test_coef_init_is_the_starting_point(small):
    X, y = small
    start = np.arange(5.0)
    result = fastgd.fit(X, y, coef_init=start, intercept_init=1.0, epochs=1)
    np.testing.assert_array_equal(result.coef_path[0], np.append(start, 1.0))


def test_reproducible_and_thread_count_independent(small):
    X, y = small
    saved = numba.get_num_threads()
    try:
        results = []
        for threads in (1, numba.config.NUMBA_NUM_THREADS):
            numba.set_num_threads(threads)
            for batch_size in (None, 7):
                r = fastgd.fit(X, y, optimizer=fastgd.Adam(lr=0.01), batch_size=batch_size, epochs=3, seed=2)
                results.append((r.coef.tobytes(), r.intercept, r.history["loss"].tolist()))
    finally:
        numba.set_num_threads(saved)
    assert results[0] == results[2] and results[1] == results[3]


def test_memory_mapped_data_trains_in_place(tmp_path):
    data = fastgd.make_regression(3000, 4, noise=0.1, seed=9, path=tmp_path / "x.npy")
    assert isinstance(data.X, np.memmap)
    from fastgd._validation import as_float_matrix

    assert np.shares_memory(as_float_matrix(data.X), data.X)
    result = fastgd.fit(data.X, data.y, optimizer=fastgd.SGD(lr=0.01), batch_size=16, epochs=2)
    np.testing.assert_allclose(result.coef, data.coef, atol=0.05)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"X": np.zeros((0, 3)), "y": np.zeros(0)}, "X is empty"),
        ({"y": np.zeros(9)}, "y has length 9"),
        ({"y": np.r_[np.nan, np.zeros(9)]}, "y contains NaN"),
        ({"X": np.r_[np.full((1, 3), np.inf), np.ones((9, 3))]}, "X contains NaN"),
        ({"batch_size": 0}, "batch_size must be in"),
        ({"batch_size": 11}, "batch_size must be in"),
        ({"batch_size": 2.5}, "batch_size must be an integer"),
        ({"epochs": 0}, "epochs must be >= 1"),
        ({"loss": "l0"}, "loss must be one of"),
        ({"delta": -1}, "delta must be > 0"),
        ({"optimizer": "adam"}, "optimizer must be one of"),
        ({"tol": -1.0}, "tol must be >= 0"),
        ({"n_iter_no_change": 0}, "n_iter_no_change must be >= 1"),
        ({"record_every": 0}, "record_every must be >= 1"),
        ({"coef_init": np.zeros(2)}, "coef_init has length 2"),
        ({"intercept_init": np.inf}, "intercept_init must be finite"),
        ({"seed": -1}, r"seed must be an integer in \[0, 2\*\*63\)"),
        ({"shuffle": "yes"}, "shuffle must be a bool"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, match):
    args = {"X": np.ones((10, 3)), "y": np.zeros(10)}
    args.update(kwargs)
    X, y = args.pop("X"), args.pop("y")
    with pytest.raises(ValueError, match=match):
        fastgd.fit(X, y, **args)


def test_bad_optimizer_hyper_parameters_raise_at_construction():
    with pytest.raises(ValueError, match="lr"):
        fastgd.SGD(lr=0.0)
    with pytest.raises(ValueError, match="nesterov"):
        fastgd.SGD(lr=0.1, nesterov=True)


def test_methods_by_name():
    assert fastgd.METHODS == ("batch", "sgd", "minibatch", "adam")
    optimizer, batch_size = fastgd.method("minibatch", lr=0.2, batch_size=128)
    assert optimizer == fastgd.SGD(lr=0.2) and batch_size == 128
    assert fastgd.method("batch").batch_size is None
    assert fastgd.method("sgd").batch_size == 1
    assert isinstance(fastgd.method("adam").optimizer, fastgd.Adam)
    with pytest.raises(ValueError, match="method must be one of"):
        fastgd.method("lbfgs")
    with pytest.raises(ValueError, match="momentum"):
        fastgd.method("adam", momentum=0.9)


def test_each_method_learns(small):
    X, y = small
    start = fastgd.loss_value(X, y, np.zeros(5))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for name in fastgd.METHODS:
            optimizer, batch_size = fastgd.method(name)
            result = fastgd.fit(X, y, optimizer=optimizer, batch_size=batch_size, epochs=20)
            assert result.history["loss"].iloc[-1] < 0.5 * start, name


@pytest.mark.parametrize("record_every", [None, 1, 3, 1000])
def test_divergence_detected_whatever_the_recording(small, record_every):
    X, y = small
    with pytest.warns(fastgd.DivergenceWarning):
        result = fastgd.fit(
            X, y * 1e3, optimizer=fastgd.SGD(lr=3.0), batch_size=50, epochs=40, record_every=record_every
        )
    assert result.diverged and np.isfinite(result.coef).all()
    assert np.isfinite(result.history["loss"].iloc[-1]) or result.history["loss"].size > 1


def test_trainer_runs_whole_epochs(small):
    from fastgd.trainer import STATUS_OK, Trainer

    X, y = small
    trainer = Trainer(X, y, optimizer=fastgd.Adam(lr=0.05), batch_size=16, seed=4)
    assert trainer.run_epoch() == STATUS_OK and trainer.run_epoch() == STATUS_OK
    assert (trainer.epoch, trainer.step) == (2, 2 * 13)
    result = fastgd.fit(X, y, optimizer=fastgd.Adam(lr=0.05), batch_size=16, seed=4, epochs=2)
    np.testing.assert_array_equal(trainer.coef, result.coef)
    assert trainer.compile_s >= 0 and trainer.train_time > 0


def test_trainer_steps_before_any_shuffle_use_a_valid_order(small):
    """The row order starts as the identity, so stepping before shuffle_epoch is safe."""
    from fastgd.trainer import STATUS_OK, Trainer

    X, y = small
    trainer = Trainer(X, y, optimizer=fastgd.SGD(lr=0.01), batch_size=1)
    np.testing.assert_array_equal(np.sort(trainer.buffers.order), np.arange(len(y)))
    assert trainer.steps(0, len(y))[2] == STATUS_OK
    in_order = fastgd.fit(X, y, optimizer=fastgd.SGD(lr=0.01), batch_size=1, epochs=1, shuffle=False)
    assert np.isfinite(trainer.coef).all()
    assert fastgd.loss_value(X, y, trainer.coef, trainer.intercept) == pytest.approx(
        fastgd.loss_value(X, y, in_order.coef, in_order.intercept), rel=0.2
    )
