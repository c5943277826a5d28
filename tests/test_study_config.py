"""Study configuration: presets, TOML round trip, one-line errors naming the key."""

from __future__ import annotations

import dataclasses

import pytest

from fastgd.study.config import PRESETS, StudyConfigError, load_study, preset
from fastgd.study.config_io import study_from_dict

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


def test_presets_have_what_the_issue_asks_for():
    quick, full = preset("quick"), preset("full")
    assert {m.name for m in quick.methods} == {"batch", "sgd", "minibatch", "adam"}
    assert set(quick.backends) == {"fastgd", "numpy", "sklearn", "torch"}
    assert {"l2", "l1"} <= set(quick.losses)
    assert max(d.n_samples * d.n_features for d in full.datasets) >= 1_000_000 * 100
    assert full.scaling is not None and len(full.scaling.n_samples) > 1 and len(full.scaling.n_features) > 1


def test_minimal_file_takes_defaults_and_file_stem_as_name(tmp_path):
    study = load_study(_write(tmp_path, _MINIMAL, "mine.toml"))
    assert study.name == "mine"
    assert study.datasets[0].n_samples == 1000 and study.datasets[0].dtype == "float64"
    assert [m.name for m in study.methods] == ["batch", "sgd", "minibatch", "adam"]


def test_user_named_optimizer_method(tmp_path):
    text = 'methods = ["sgd", {name = "rmsprop", optimizer = "RMSprop", lr = 0.01, batch_size = 64, momentum = 0.5}]\n'
    study = load_study(_write(tmp_path, text + _MINIMAL))
    custom = study.methods[1]
    assert (custom.name, custom.optimizer, custom.lr, custom.batch_size) == ("rmsprop", "RMSprop", 0.01, 64)
    assert custom.params == (("momentum", 0.5),)
    assert load_study(_write(tmp_path, study.to_toml(), "again.toml")) == study


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("colour = 3\n" + _MINIMAL, "colour"),
        ('losses = ["l3"]\n' + _MINIMAL, "losses[0]"),
        ("repetitions = 0\n" + _MINIMAL, "repetitions"),
        ("epochs = 2.5\n" + _MINIMAL, "epochs"),
        ("settle_s = -0.1\n" + _MINIMAL, "settle_s"),
        ('settle_s = "long"\n' + _MINIMAL, "settle_s"),
        ("threads = []\n" + _MINIMAL, "threads"),
        ('backends = ["fastgd", "jax"]\n' + _MINIMAL, "backends[1]"),
        ("[[datasets]]\nn_samples = -5\nn_features = 3\n", "datasets[0].n_samples"),
        ("[[datasets]]\nn_samples = 5\nn_features = 3\nwidth = 2\n", "datasets[0].width"),
        ('[[datasets]]\nn_samples = 5\nn_features = 3\ndtype = "float16"\n', "datasets[0].dtype"),
        ("[[datasets]]\nn_samples = 5\n", "datasets[0].n_features"),
        ('methods = [{name = "mine"}]\n' + _MINIMAL, "methods[0].optimizer"),
        ('methods = [{name = "m", optimizer = "LBFGS"}]\n' + _MINIMAL, "methods[0].optimizer"),
        ('methods = [{name = "sgd", momentum = 0.9}]\n' + _MINIMAL, "methods[0].momentum"),
        ('methods = [{name = "m", optimizer = "Adam", momentum = 0.9}]\n' + _MINIMAL, "methods[0].momentum"),
        ('methods = [{name = "adam", lr = -1}]\n' + _MINIMAL, "methods[0].lr"),
        ('methods = [{name = "sgd", batch_size = "half"}]\n' + _MINIMAL, "methods[0].batch_size"),
        ("repetitions = 2\n", "datasets"),
        (_MINIMAL + '[scaling]\nn_samples = [10]\nn_features = [2]\nmethods = ["lbfgs"]\n', "scaling.methods[0]"),
    ],
)
def test_bad_study_names_the_key_in_one_line(tmp_path, text, key):
    path = _write(tmp_path, text)
    with pytest.raises(StudyConfigError) as info:
        load_study(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: {key}:")
    assert isinstance(info.value, ValueError)


def test_invalid_toml_and_missing_file(tmp_path):
    with pytest.raises(StudyConfigError, match="invalid TOML"):
        load_study(_write(tmp_path, "this is = = not toml"))
    with pytest.raises(StudyConfigError, match="no such study file"):
        load_study(tmp_path / "absent.toml")


def test_unknown_preset():
    with pytest.raises(StudyConfigError, match="preset: unknown preset 'huge'"):
        preset("huge")


def test_study_is_frozen_and_hashable():
    study = preset("tiny")
    with pytest.raises(dataclasses.FrozenInstanceError):
        study.epochs = 3  # type: ignore[misc]
    assert hash(study) == hash(study_from_dict(study.to_dict()))


def test_the_documented_example_study_is_valid(tmp_path):
    """The TOML shown in ``fastgd bench --help`` and the config docstring loads as is."""
    from fastgd.study.config import EXAMPLE_STUDY_TOML, load_study

    path = tmp_path / "study.toml"
    path.write_text(EXAMPLE_STUDY_TOML)
    study = load_study(path)
    assert study.name == "my-study"
    assert len(study.datasets) == 1 and study.datasets[0].n_samples == 50000
