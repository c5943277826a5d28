"""Validate plain data (parsed TOML) into a :class:`~fastgd.study.config.Study`, and back.

Every error is a :class:`~fastgd.study.config.StudyConfigError` whose one-line
message starts with the offending key, e.g. ``datasets[0].n_samples: must be
a positive integer, got -5``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import fields
from typing import Any, Literal

from .config import (
    BACKENDS,
    BUILTIN_METHODS,
    DTYPES,
    LOSSES,
    OPTIMIZER_PARAMS,
    DatasetSpec,
    MethodConfig,
    ScalingSweep,
    Study,
    StudyConfigError,
)

__all__ = ["study_from_dict", "study_to_dict", "study_to_toml"]

_STUDY_KEYS = tuple(f.name for f in fields(Study))
_DATASET_KEYS = tuple(f.name for f in fields(DatasetSpec))
_SCALING_KEYS = tuple(f.name for f in fields(ScalingSweep))
_METHOD_KEYS = ("name", "optimizer", "lr", "batch_size", "epochs")


# ----------------------------------------------------------------------------
# scalar checks
# ----------------------------------------------------------------------------


def _fail(key: str, message: str, value: Any) -> StudyConfigError:
    return StudyConfigError(f"{key}: {message}, got {value!r}")


def _check_keys(key: str, data: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    for name in data:
        if name not in allowed:
            where = f"{key}.{name}" if key else name
            raise StudyConfigError(f"{where}: unknown key (allowed: {', '.join(allowed)})")


def _positive_int(key: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _fail(key, "must be a positive integer", value)
    return value


def _nonnegative_int(key: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _fail(key, "must be a non-negative integer", value)
    return value


def _number(key: str, value: Any, *, low: float = -math.inf, high: float = math.inf, open_low: bool = False) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    ok = ok and (value > low if open_low else value >= low) and value <= high
    if not ok:
        bound = f"> {low}" if open_low else f">= {low}"
        rng = f"a number {bound}" + (f" and <= {high}" if math.isfinite(high) else "")
        raise _fail(key, f"must be {rng}", value)
    return float(value)


def _boolean(key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise _fail(key, "must be true or false", value)
    return value


def _choice(key: str, value: Any, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise _fail(key, f"must be one of {', '.join(choices)}", value)
    return value


def _name(key: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip() or not value.replace("_", "").replace("-", "").isalnum():
        raise _fail(key, "must be a non-empty name of letters, digits, '-' or '_'", value)
    return value


def _tuple_of(key: str, value: Any, item: Callable[[str, Any], Any]) -> tuple[Any, ...]:
    if not isinstance(value, list) or not value:
        raise _fail(key, "must be a non-empty list", value)
    items = tuple(item(f"{key}[{index}]", entry) for index, entry in enumerate(value))
    if len(set(map(repr, items))) != len(items):
        raise _fail(key, "must not repeat an entry", value)
    return items


def _batch_size(key: str, value: Any) -> int | Literal["full"]:
    if value == "full":
        return "full"
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _fail(key, 'must be a positive integer or "full"', value)
    return value


# ----------------------------------------------------------------------------
# tables
# ----------------------------------------------------------------------------


def _dataset(key: str, data: Any) -> DatasetSpec:
    if not isinstance(data, dict):
        raise _fail(key, "must be a table", data)
    _check_keys(key, data, _DATASET_KEYS)
    for required in ("n_samples", "n_features"):
        if required not in data:
            raise StudyConfigError(f"{key}.{required}: missing (a dataset needs n_samples and n_features)")
    return DatasetSpec(
        n_samples=_positive_int(f"{key}.n_samples", data["n_samples"]),
        n_features=_positive_int(f"{key}.n_features", data["n_features"]),
        dtype=_choice(f"{key}.dtype", data.get("dtype", "float64"), DTYPES),
        noise=_number(f"{key}.noise", data.get("noise", 1.0), low=0.0),
        outliers=_number(f"{key}.outliers", data.get("outliers", 0.0), low=0.0, high=1.0),
        correlation=_number(f"{key}.correlation", data.get("correlation", 0.0), low=0.0, high=0.999),
        seed=_nonnegative_int(f"{key}.seed", data.get("seed", 0)),
    )


def _optimizer_param(key: str, value: Any) -> Any:
    if key.endswith(".betas"):
        if not isinstance(value, list) or len(value) != 2:
            raise _fail(key, "must be a list of two numbers in [0, 1)", value)
        return tuple(_number(f"{key}[{i}]", beta, low=0.0, high=0.999999) for i, beta in enumerate(value))
    if key.endswith((".nesterov", ".amsgrad", ".centered")):
        return _boolean(key, value)
    return _number(key, value, low=0.0)


def _method(key: str, data: Any) -> MethodConfig:
    if isinstance(data, str):
        data = {"name": data}
    if not isinstance(data, dict):
        raise _fail(key, "must be a method name or a table", data)
    if "name" not in data:
        raise StudyConfigError(f"{key}.name: missing")
    name = _name(f"{key}.name", data["name"])
    builtin = name in BUILTIN_METHODS
    optimizer = data.get("optimizer")
    if builtin:
        _check_keys(key, data, ("name", "lr", "batch_size", "epochs"))
    else:
        if optimizer is None:
            raise StudyConfigError(
                f"{key}.optimizer: missing (method {name!r} is not one of {', '.join(BUILTIN_METHODS)}, "
                f"so it needs an optimizer: {', '.join(OPTIMIZER_PARAMS)})"
            )
        optimizer = _choice(f"{key}.optimizer", optimizer, tuple(OPTIMIZER_PARAMS))
        _check_keys(key, data, _METHOD_KEYS + OPTIMIZER_PARAMS[optimizer])
    params = tuple(
        (param, _optimizer_param(f"{key}.{param}", data[param])) for param in sorted(data) if param not in _METHOD_KEYS
    )
    return MethodConfig(
        name=name,
        optimizer=optimizer,
        lr=None if data.get("lr") is None else _number(f"{key}.lr", data["lr"], low=0.0, open_low=True),
        batch_size=None if "batch_size" not in data else _batch_size(f"{key}.batch_size", data["batch_size"]),
        epochs=None if "epochs" not in data else _positive_int(f"{key}.epochs", data["epochs"]),
        params=params,
    )


def _scaling(data: Any, method_names: tuple[str, ...]) -> ScalingSweep:
    key = "scaling"
    if not isinstance(data, dict):
        raise _fail(key, "must be a table", data)
    _check_keys(key, data, _SCALING_KEYS)
    for required in ("n_samples", "n_features"):
        if required not in data:
            raise StudyConfigError(f"scaling.{required}: missing (the sweep needs n_samples and n_features lists)")
    methods = _tuple_of("scaling.methods", data.get("methods", ["minibatch"]), _name)
    for index, method in enumerate(methods):
        if method not in method_names:
            raise _fail(
                f"scaling.methods[{index}]", f"must name a method of the study ({', '.join(method_names)})", method
            )
    return ScalingSweep(
        n_samples=_tuple_of("scaling.n_samples", data["n_samples"], _positive_int),
        n_features=_tuple_of("scaling.n_features", data["n_features"], _positive_int),
        methods=methods,
        backends=_tuple_of(
            "scaling.backends", data.get("backends", ["fastgd", "numpy"]), lambda k, v: _choice(k, v, BACKENDS)
        ),
        losses=_tuple_of("scaling.losses", data.get("losses", ["l2"]), lambda k, v: _choice(k, v, LOSSES)),
        dtype=_choice("scaling.dtype", data.get("dtype", "float64"), DTYPES),
        epochs=_positive_int("scaling.epochs", data.get("epochs", 3)),
        repetitions=_positive_int("scaling.repetitions", data.get("repetitions", 1)),
    )


def study_from_dict(data: Mapping[str, Any], *, default_name: str = "custom") -> Study:
    """Validate plain data (as parsed from TOML) into a :class:`Study`.

    Raises
    ------
    StudyConfigError
        Unknown key or bad value; the message starts with the key's path.
    """
    if not isinstance(data, Mapping):
        raise _fail("study", "must be a table", data)
    _check_keys("", data, _STUDY_KEYS)
    if "datasets" not in data:
        raise StudyConfigError("datasets: missing (a study needs at least one [[datasets]] table)")
    defaults = Study(name=default_name, datasets=())
    methods = _tuple_of("methods", data.get("methods", list(BUILTIN_METHODS)), _method)
    method_names = tuple(method.name for method in methods)
    if len(set(method_names)) != len(method_names):
        raise _fail("methods", "must not name a method twice", list(method_names))
    return Study(
        name=_name("name", data.get("name", default_name)),
        datasets=_tuple_of("datasets", data["datasets"], _dataset),
        losses=_tuple_of("losses", data.get("losses", list(defaults.losses)), lambda k, v: _choice(k, v, LOSSES)),
        methods=methods,
        backends=_tuple_of(
            "backends", data.get("backends", list(defaults.backends)), lambda k, v: _choice(k, v, BACKENDS)
        ),
        threads=_tuple_of("threads", data.get("threads", list(defaults.threads)), _positive_int),
        repetitions=_positive_int("repetitions", data.get("repetitions", defaults.repetitions)),
        epochs=_positive_int("epochs", data.get("epochs", defaults.epochs)),
        delta=_number("delta", data.get("delta", defaults.delta), low=0.0, open_low=True),
        fit_seed=_nonnegative_int("fit_seed", data.get("fit_seed", defaults.fit_seed)),
        shuffle=_boolean("shuffle", data.get("shuffle", defaults.shuffle)),
        probe_mbytes=_positive_int("probe_mbytes", data.get("probe_mbytes", defaults.probe_mbytes)),
        lp_size_limit=_nonnegative_int("lp_size_limit", data.get("lp_size_limit", defaults.lp_size_limit)),
        settle_s=_number("settle_s", data.get("settle_s", defaults.settle_s), low=0.0),
        scaling=None if "scaling" not in data else _scaling(data["scaling"], method_names),
    )


# ----------------------------------------------------------------------------
# back to plain data and TOML
# ----------------------------------------------------------------------------


def _method_to_dict(method: MethodConfig) -> dict[str, Any]:
    out: dict[str, Any] = {"name": method.name}
    if method.optimizer is not None:
        out["optimizer"] = method.optimizer
    if method.lr is not None:
        out["lr"] = method.lr
    if method.batch_size is not None:
        out["batch_size"] = method.batch_size
    if method.epochs is not None:
        out["epochs"] = method.epochs
    for param, value in method.params:
        out[param] = list(value) if isinstance(value, tuple) else value
    return out


def study_to_dict(study: Study) -> dict[str, Any]:
    """Plain data for ``study`` (only TOML-representable values; ``scaling`` omitted when absent)."""
    out: dict[str, Any] = {}
    for f in fields(Study):
        value = getattr(study, f.name)
        if f.name == "datasets":
            out["datasets"] = [{d.name: getattr(spec, d.name) for d in fields(DatasetSpec)} for spec in value]
        elif f.name == "methods":
            out["methods"] = [_method_to_dict(method) for method in value]
        elif f.name == "scaling":
            if value is not None:
                out["scaling"] = {s.name: _plain(getattr(value, s.name)) for s in fields(ScalingSweep)}
        else:
            out[f.name] = _plain(value)
    return out


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, str)):
        return json.dumps(value)  # JSON numbers and basic strings are valid TOML
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key} = {_toml_value(item)}" for key, item in value.items()) + "}"
    raise TypeError(f"cannot write {value!r} as TOML")


def study_to_toml(study: Study) -> str:
    """TOML text for ``study`` that :func:`~fastgd.study.config.load_study` reads back unchanged."""
    data = study_to_dict(study)
    lines = [f"{key} = {_toml_value(value)}" for key, value in data.items() if key not in ("datasets", "scaling")]
    for spec in data["datasets"]:
        lines += ["", "[[datasets]]"] + [f"{key} = {_toml_value(value)}" for key, value in spec.items()]
    if "scaling" in data:
        lines += ["", "[scaling]"] + [f"{key} = {_toml_value(value)}" for key, value in data["scaling"].items()]
    return "\n".join(lines) + "\n"
