"""What a study runs, as a declarative schema: :class:`Study` and its presets.

A study has a tune phase on ``datasets`` and a timing phase on ``timing.dataset`` (see
:mod:`fastgd.study.runner`).  The schema is a tree of :class:`msgspec.Struct` types decoded from TOML
(:func:`load_study`), so a wrong value is reported with its key path
(``datasets[0].n_samples: expected int, got str``).  Names come from the
library: losses from :data:`fastgd.kernels.LOSSES`, methods from
:data:`fastgd.METHODS`, optimizers from :data:`fastgd.OPTIMIZERS`.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec

from .. import METHODS, OPTIMIZERS, method
from ..kernels import LOSSES
from ..schedules import Constant, CosineAnnealing, InverseScaling

__all__ = [
    "BACKENDS",
    "PRESETS",
    "SCHEDULES",
    "DatasetSpec",
    "LrGrid",
    "MethodSpec",
    "Study",
    "StudyConfigError",
    "TimingSpec",
    "load_study",
    "preset",
]

#: Every backend a study can compare.
BACKENDS: tuple[str, ...] = ("fastgd", "numpy", "sklearn", "torch", "distributed")
#: Schedule name -> the fastgd schedule a study builds (default parameters).
SCHEDULES: dict[str, Any] = {cls.name: cls for cls in (Constant, CosineAnnealing, InverseScaling)}

PositiveInt = Annotated[int, msgspec.Meta(ge=1)]
NonNegativeInt = Annotated[int, msgspec.Meta(ge=0)]
PositiveFloat = Annotated[float, msgspec.Meta(gt=0)]
NonNegativeFloat = Annotated[float, msgspec.Meta(ge=0)]
Seed = Annotated[int, msgspec.Meta(ge=0, le=2**63 - 1)]


class StudyConfigError(ValueError):
    """A study description has an unknown key or a bad value; the message names the key."""


class _Spec(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True, omit_defaults=True):
    """Base of the schema: keyword-only, immutable, unknown keys rejected."""


class DatasetSpec(_Spec, kw_only=True, frozen=True):
    """Parameters of one synthetic regression dataset (see :func:`fastgd.make_regression`)."""

    n_samples: PositiveInt
    n_features: PositiveInt
    dtype: Literal["float64", "float32"] = "float64"
    noise: NonNegativeFloat = 1.0
    outliers: Annotated[float, msgspec.Meta(ge=0, le=1)] = 0.0
    correlation: Annotated[float, msgspec.Meta(gt=-1, lt=1)] = 0.0
    seed: Seed = 0

    @property
    def x_bytes(self) -> int:
        """Size of the design matrix in bytes."""
        return self.n_samples * self.n_features * (4 if self.dtype == "float32" else 8)

    @property
    def label(self) -> str:
        """``50000x100 float64``."""
        return f"{self.n_samples}x{self.n_features} {self.dtype}"


class MethodSpec(_Spec, kw_only=True, frozen=True):
    """One method of a study.

    ``name`` is one of :data:`fastgd.METHODS` (built with :func:`fastgd.method`) or any other name,
    which then needs ``optimizer`` (a key of :data:`fastgd.OPTIMIZERS`).  ``batch_size`` absent is full
    batch for a user method (as ``fit(batch_size=None)``), the default for a built-in one.  ``lr`` is
    the grid centre (default: the method's rate); ``schedules`` overrides the study's; ``params`` are
    extra optimizer hyper-parameters (torch.optim names).
    """

    name: str
    optimizer: str | None = None
    batch_size: PositiveInt | None = None
    lr: PositiveFloat | None = None
    epochs: PositiveInt | None = None
    schedules: tuple[str, ...] | None = None
    params: dict[str, Any] = {}

    def build(self) -> tuple[Any, int | None]:
        """The fastgd optimizer (at the grid centre) and batch size (``None``: full batch)."""
        overrides = dict(self.params) | ({} if self.lr is None else {"lr": self.lr})
        if self.optimizer is None:
            if self.batch_size is not None:
                overrides["batch_size"] = self.batch_size
            return method(self.name, **overrides)
        return OPTIMIZERS[self.optimizer](**overrides), self.batch_size


class LrGrid(_Spec, kw_only=True, frozen=True):
    """The learning-rate grid: ``points`` rates ``centre * ratio**k`` around each method's centre.

    A winner on an edge adds rates beyond it, one at a time, up to ``max_widen``; one still on the edge
    is flagged in the report.
    """

    points: PositiveInt = 5
    ratio: Annotated[float, msgspec.Meta(gt=1)] = 10**0.5
    max_widen: NonNegativeInt = 2

    def rates(self, centre: float) -> list[float]:
        """The initial grid around ``centre``, ascending."""
        low = -((self.points - 1) // 2)
        return [float(centre * self.ratio**k) for k in range(low, low + self.points)]


class TimingSpec(_Spec, kw_only=True, frozen=True):
    """The timing phase: epoch times on one large dataset at the tuned learning rates."""

    dataset: DatasetSpec
    losses: tuple[str, ...] = ("l2",)
    threads: tuple[PositiveInt, ...] = (1,)
    epochs: PositiveInt = 3
    repetitions: PositiveInt = 3


def _default_methods() -> tuple[MethodSpec, ...]:
    return tuple(MethodSpec(name=name) for name in METHODS)


class Study(_Spec, kw_only=True, frozen=True):
    """A complete benchmark study (see the module docstring for the two phases).

    ``datasets`` are the tune phase's problems (one per dataset x loss), on which ``losses``,
    ``methods`` and ``backends`` are compared (a backend runs only the methods it implements), at
    ``threads`` threads (Numba, PyTorch and BLAS) and ``epochs`` per run unless a method sets its own.
    Each tuned winner runs ``repetitions`` times (the grid's other rates once).  ``schedules`` (keys
    of :data:`SCHEDULES`) are tried for the stochastic methods; full batch runs ``constant``.
    ``targets`` are relative suboptimalities ``(f - f*) / |f*|``; ``criterion_target`` decides the
    winner of a grid.  ``delta`` is the Huber threshold, ``fit_seed`` the seed of every run's row
    shuffling, ``probe_mbytes`` the size of the memory-bandwidth probe's read, ``lp_size_limit`` the
    largest ``n_samples * (n_features + 1)`` whose L1 optimum is certified by LP, ``settle_s`` a pause
    after each dataset's set-up (OpenBLAS threads left spinning by the optimum's solve slowed the next
    timed runs 2-3x).
    """

    datasets: tuple[DatasetSpec, ...]
    name: str = "custom"
    losses: tuple[str, ...] = ("l2", "l1")
    methods: tuple[MethodSpec, ...] = msgspec.field(default_factory=_default_methods)
    backends: tuple[str, ...] = ("fastgd", "numpy", "sklearn", "torch")
    threads: PositiveInt = 1
    repetitions: PositiveInt = 3
    epochs: PositiveInt = 10
    schedules: tuple[str, ...] = ("constant",)
    lr_grid: LrGrid = LrGrid()
    targets: tuple[Annotated[float, msgspec.Meta(gt=0)], ...] = (1e-1, 1e-2, 1e-3)
    criterion_target: PositiveFloat = 1e-2
    delta: PositiveFloat = 1.0
    fit_seed: Seed = 0
    probe_mbytes: PositiveInt = 256
    lp_size_limit: PositiveInt = 6_000_000
    settle_s: NonNegativeFloat = 0.25
    timing: TimingSpec | None = None

    def method_schedules(self, spec: MethodSpec, batch_size: int | None) -> tuple[str, ...]:
        """Schedules tried for ``spec``: its own, else ``constant`` for full batch, else the study's."""
        if spec.schedules is not None:
            return spec.schedules
        return ("constant",) if batch_size is None else self.schedules

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON-ready); ``msgspec.convert(d, Study)`` inverts it."""
        return msgspec.to_builtins(self)  # type: ignore[no-any-return]

    def to_toml(self) -> str:
        """TOML text that :func:`load_study` reads back into an equal study."""
        return msgspec.toml.encode(self).decode()


def _check(study: Study) -> Study:
    """Checks across keys that a schema cannot express; raises :class:`StudyConfigError`."""

    def unknown(key: str, names: tuple[str, ...], allowed: Any) -> None:
        for index, name in enumerate(names):
            if name not in allowed:
                raise StudyConfigError(f"{key}[{index}]: unknown name {name!r} (choose from {', '.join(allowed)})")

    unknown("losses", study.losses, tuple(LOSSES))
    unknown("backends", study.backends, BACKENDS)
    unknown("schedules", study.schedules, tuple(SCHEDULES))
    if study.timing is not None:
        unknown("timing.losses", study.timing.losses, tuple(LOSSES))
    if not study.datasets:
        raise StudyConfigError("datasets: at least one dataset is needed")
    smallest = min(spec.n_samples for spec in study.datasets + ((study.timing.dataset,) if study.timing else ()))
    for index, spec in enumerate(study.methods):
        key = f"methods[{index}]"
        if spec.optimizer is None and spec.name not in METHODS:
            raise StudyConfigError(f"{key}.name: {spec.name!r} is not one of {list(METHODS)}; add optimizer = ...")
        if spec.optimizer is not None and spec.optimizer not in OPTIMIZERS:
            raise StudyConfigError(f"{key}.optimizer: unknown {spec.optimizer!r} (choose from {', '.join(OPTIMIZERS)})")
        if spec.schedules is not None:
            unknown(f"{key}.schedules", spec.schedules, tuple(SCHEDULES))
        try:
            _, batch_size = spec.build()
        except (TypeError, ValueError) as error:
            raise StudyConfigError(f"{key}: {error}") from None
        if batch_size is not None and batch_size > smallest:
            raise StudyConfigError(
                f"{key}.batch_size: {batch_size} is larger than the smallest dataset's n_samples ({smallest})"
            )
    return study


_AT_PATH = re.compile(r"^(?P<message>.*) - at `\$\.?(?P<path>.*)`$")


def study_from_dict(data: Any, name: str = "custom") -> Study:
    """Validate plain data (e.g. parsed TOML) into a :class:`Study`."""
    if isinstance(data, dict) and "name" not in data:
        data = {"name": name, **data}
    try:
        study = msgspec.convert(data, Study)
    except msgspec.ValidationError as error:
        match = _AT_PATH.match(str(error))
        if match is None:
            raise StudyConfigError("study: " + str(error).replace("`", "").lower()) from None
        message = match["message"].replace("`", "")
        raise StudyConfigError(f"{match['path'] or 'study'}: {message[:1].lower()}{message[1:]}") from None
    return _check(study)


def load_study(path: str | Path) -> Study:
    """Read and validate a TOML study file; errors name the file and the key."""
    source = Path(path)
    try:
        data = tomllib.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise StudyConfigError(f"{source}: no such study file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise StudyConfigError(f"{source}: cannot read study file ({error})") from None
    except tomllib.TOMLDecodeError as error:
        raise StudyConfigError(f"{source}: invalid TOML ({error})") from None
    try:
        return study_from_dict(data, source.stem)
    except StudyConfigError as error:
        raise StudyConfigError(f"{source}: {error}") from None


_STOCHASTIC = ("constant", "cosine")

#: Built-in studies by name.
PRESETS: dict[str, Study] = {
    "tiny": Study(
        name="tiny",
        datasets=(DatasetSpec(n_samples=400, n_features=4, outliers=0.05),),
        methods=(
            MethodSpec(name="batch", epochs=8),
            MethodSpec(name="sgd", schedules=_STOCHASTIC),  # one decaying schedule keeps the test-sized study short
            MethodSpec(name="minibatch"),
            MethodSpec(name="adam"),
        ),
        repetitions=2,
        epochs=3,
        lr_grid=LrGrid(points=3, max_widen=1),
        probe_mbytes=16,
        settle_s=0.0,
        timing=TimingSpec(dataset=DatasetSpec(n_samples=1_000, n_features=4), epochs=2, repetitions=2),
    ),
    "quick": Study(
        name="quick",
        datasets=(DatasetSpec(n_samples=20_000, n_features=100, outliers=0.02),),
        methods=(MethodSpec(name="batch", epochs=40), *(MethodSpec(name=m) for m in METHODS[1:])),
        backends=("fastgd", "numpy", "sklearn", "torch", "distributed"),
        threads=2,
        repetitions=3,
        epochs=8,
        schedules=_STOCHASTIC,
        timing=TimingSpec(
            dataset=DatasetSpec(n_samples=420_000, n_features=100, outliers=0.02), threads=(1, 2), epochs=2
        ),
    ),
    "full": Study(
        name="full",
        datasets=(
            DatasetSpec(n_samples=50_000, n_features=100, outliers=0.02),
            DatasetSpec(n_samples=50_000, n_features=100, outliers=0.02, correlation=0.7, seed=1),
        ),
        losses=("l2", "l1", "huber"),
        backends=("fastgd", "numpy", "sklearn", "torch", "distributed"),
        methods=(MethodSpec(name="batch", epochs=100), *(MethodSpec(name=m) for m in METHODS[1:])),
        threads=2,
        repetitions=5,
        epochs=20,
        schedules=("constant", "cosine", "invscaling"),
        probe_mbytes=1024,
        timing=TimingSpec(
            dataset=DatasetSpec(n_samples=2_000_000, n_features=100, outliers=0.02),
            losses=("l2", "l1"),
            threads=(1, 2),
            epochs=3,
            repetitions=5,
        ),
    ),
}


def preset(name: str) -> Study:
    """The built-in study called ``name`` (``tiny``, ``quick`` or ``full``)."""
    try:
        return PRESETS[name]
    except KeyError:
        raise StudyConfigError(f"preset: unknown preset {name!r} (choose from {', '.join(PRESETS)})") from None
