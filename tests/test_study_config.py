"""Study configuration: a msgspec schema decoded from TOML; errors name the key path."""

from __future__ import annotations

import pytest

import fastgd
from fastgd.study.config import PRESETS, SCHEDULES, LrGrid, StudyConfigError, load_study, preset, study_from_dict
from fastgd.study.machine import last_level_cache_bytes

_MINIMAL = """
[[datasets]]
n_samples = 1000
n_features = 4
"""


def _write(tmp_path, text, name="study.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_presets_round_trip_through_toml(tmp_path, name):
    study = preset(name)
    assert load_study(_write(tmp_path, study.to_toml(), f"{name}.toml")) == study


def test_quick_preset_has_what_the_issue_asks_for():
    quick = preset("quick")
    assert tuple(m.name for m in quick.methods) == fastgd.METHODS
    assert {"fastgd", "numpy", "sklearn", "torch"} <= set(quick.backends)
    assert {"l2", "l1"} <= set(quick.losses)
    assert any(s != "constant" for s in quick.schedules)  # a decaying schedule for the stochastic methods
    assert quick.timing is not None and set(quick.timing.threads) == {1, 2}
    llc = last_level_cache_bytes() or 32 * 2**20
    assert quick.timing.dataset.x_bytes >= 8 * min(llc, 40 * 2**20)  # at least 8x a 32-40 MiB last-level cache


def test_minimal_file_takes_defaults_and_file_stem_as_name(tmp_path):
    study = load_study(_write(tmp_path, _MINIMAL, "mine.toml"))
    assert study.name == "mine"
    assert study.datasets[0].n_samples == 1000 and study.datasets[0].dtype == "float64"
    assert tuple(m.name for m in study.methods) == fastgd.METHODS
    assert study.targets == (1e-1, 1e-2, 1e-3) and study.criterion_target == 1e-2


def test_user_method_with_optimizer_parameters(tmp_path):
    text = 'methods = [{name = "rms", optimizer = "rmsprop", lr = 0.01, batch_size = 64, params = {momentum = 0.5}}]\n'
    study = load_study(_write(tmp_path, text + _MINIMAL))
    optimizer, batch_size = study.methods[0].build()
    assert optimizer == fastgd.RMSprop(lr=0.01, momentum=0.5) and batch_size == 64


def test_user_method_without_batch_size_is_full_batch():
    data = {"datasets": [{"n_samples": 100, "n_features": 2}], "methods": [{"name": "gd", "optimizer": "sgd", "lr": 1}]}
    assert study_from_dict(data).methods[0].build()[1] is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"datasets": [{"n_samples": "x", "n_features": 3}]}, "datasets[0].n_samples: expected int, got str"),
        ({"datasets": [{"n_samples": 0, "n_features": 3}]}, "datasets[0].n_samples: expected int >= 1"),
        ({"datasets": [{"n_samples": 10, "n_features": 3, "seed": 2**63}]}, "datasets[0].seed"),
        ({"datasets": [{"n_samples": 10, "n_features": 3, "dtype": "float16"}]}, "datasets[0].dtype"),
        ({"datasets": [{"n_samples": 10, "n_features": 3}], "losses": ["l3"]}, "losses[0]: unknown name 'l3'"),
        ({"datasets": [{"n_samples": 10, "n_features": 3}], "backends": ["jax"]}, "backends[0]"),
        ({"datasets": [{"n_samples": 10, "n_features": 3}], "schedules": ["step"]}, "schedules[0]"),
        ({"datasets": [{"n_samples": 10, "n_features": 3}], "bogus": 1}, "bogus"),
        ({"datasets": [{"n_samples": 10, "n_features": 3}]}, "methods[2].batch_size: 64 is larger"),
        ({"datasets": [{"n_samples": 99, "n_features": 3}], "methods": [{"name": "x"}]}, "methods[0].name: 'x'"),
        (
            {"datasets": [{"n_samples": 99, "n_features": 3}], "methods": [{"name": "x", "optimizer": "lbfgs"}]},
            "methods[0].optimizer: unknown 'lbfgs'",
        ),
        (
            {"datasets": [{"n_samples": 99, "n_features": 3}], "methods": [{"name": "sgd", "params": {"mu": 1}}]},
            "methods[0]",
        ),
        ({"datasets": [{"n_samples": 99, "n_features": 3}], "lr_grid": {"ratio": 1.0}}, "lr_grid.ratio"),
        ({"datasets": [], "methods": []}, "datasets: at least one"),
    ],
)
def test_bad_values_are_one_line_errors_naming_the_key(data, message):
    with pytest.raises(StudyConfigError) as error:
        study_from_dict(data)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_load_study_names_the_file(tmp_path):
    path = _write(tmp_path, "threads = 'two'\n" + _MINIMAL)
    with pytest.raises(StudyConfigError, match=r"study\.toml: threads: expected int, got str"):
        load_study(path)
    with pytest.raises(StudyConfigError, match="invalid TOML"):
        load_study(_write(tmp_path, "[[datasets]\n"))
    with pytest.raises(StudyConfigError, match="no such study file"):
        load_study(tmp_path / "missing.toml")


def test_lr_grid_is_centred_and_the_schedules_are_the_library_s():
    rates = LrGrid(points=5, ratio=10**0.5).rates(0.01)
    assert rates == pytest.approx([0.001, 0.01 / 10**0.5, 0.01, 0.01 * 10**0.5, 0.1])
    assert set(SCHEDULES) == {"constant", "cosine", "invscaling"}
    assert SCHEDULES["cosine"] is fastgd.CosineAnnealing
