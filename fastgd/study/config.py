"""What a study runs: datasets x losses x methods x backends x threads, and its presets.

A :class:`Study` is a frozen description; :func:`load_study` reads one from a
TOML file and validates it, :data:`PRESETS` holds the built-in ones
(``tiny`` for tests, ``quick`` the default, ``full``).  Expanding a study into
runnable cases is :mod:`fastgd.study.cases`' job.

A study file looks like :data:`EXAMPLE_STUDY_TOML` (every key but ``datasets``
is optional; ``fastgd bench --help`` prints it).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

__all__ = [
    "BACKENDS",
    "EXAMPLE_STUDY_TOML",
    "BUILTIN_METHODS",
    "DTYPES",
    "LOSSES",
    "OPTIMIZER_PARAMS",
    "PRESETS",
    "DatasetSpec",
    "MethodConfig",
    "ScalingSweep",
    "Study",
    "StudyConfigError",
    "load_study",
    "preset",
]

#: A complete study file, for documentation and ``fastgd bench --help``.
EXAMPLE_STUDY_TOML = """\
name = "my-study"
losses = ["l2", "l1"]                # l2, l1, huber
backends = ["fastgd", "numpy", "sklearn", "torch"]
threads = [1, 2]
repetitions = 3
epochs = 5
settle_s = 0.25                      # pause before each case (BLAS threads go idle)
methods = ["batch", "sgd", "minibatch", "adam",
           {name = "rmsprop", optimizer = "RMSprop", lr = 0.01, batch_size = 64}]

[[datasets]]
n_samples = 50000
n_features = 50
dtype = "float64"                    # or float32
noise = 1.0
outliers = 0.05                      # fraction of corrupted targets
correlation = 0.0
seed = 0

[scaling]                            # optional n_samples x n_features sweep
n_samples = [10000, 100000]
n_features = [10, 100]
methods = ["minibatch"]
backends = ["fastgd", "numpy"]
"""

#: Every backend a study can compare.
BACKENDS: tuple[str, ...] = ("fastgd", "numpy", "sklearn", "torch")
#: Losses a study can use.
LOSSES: tuple[str, ...] = ("l2", "l1", "huber")
#: Method names that :func:`fastgd.method` builds.
BUILTIN_METHODS: tuple[str, ...] = ("batch", "sgd", "minibatch", "adam")
#: Data types of the generated design matrix.
DTYPES: tuple[str, ...] = ("float64", "float32")
#: Optimizer class name -> the extra hyper-parameters a study may set (torch.optim names).
OPTIMIZER_PARAMS: dict[str, tuple[str, ...]] = {
    "SGD": ("momentum", "dampening", "weight_decay", "nesterov"),
    "Adam": ("betas", "eps", "weight_decay", "amsgrad"),
    "AdamW": ("betas", "eps", "weight_decay", "amsgrad"),
    "RMSprop": ("alpha", "eps", "weight_decay", "momentum", "centered"),
    "Adagrad": ("lr_decay", "weight_decay", "initial_accumulator_value", "eps"),
}

BatchSize = int | Literal["full"] | None


class StudyConfigError(ValueError):
    """A study description has an unknown key or a bad value; the message names the key."""


@dataclass(frozen=True)
class DatasetSpec:
    """Parameters of one synthetic regression dataset (see :func:`fastgd.make_regression`)."""

    n_samples: int
    n_features: int
    dtype: str = "float64"
    noise: float = 1.0
    outliers: float = 0.0
    correlation: float = 0.0
    seed: int = 0

    @property
    def x_bytes(self) -> int:
        """Size of the design matrix in bytes."""
        itemsize = 4 if self.dtype == "float32" else 8
        return self.n_samples * self.n_features * itemsize


@dataclass(frozen=True)
class MethodConfig:
    """One method of a study.

    Attributes
    ----------
    name : str
        ``batch``, ``sgd``, ``minibatch``, ``adam`` (built with
        :func:`fastgd.method`) or any other name for a user-defined method,
        which then needs ``optimizer``.
    optimizer : str or None
        Optimizer class (``SGD``, ``Adam``, ``AdamW``, ``RMSprop``,
        ``Adagrad``) of a user-defined method; ``None`` for a built-in one.
    lr : float or None
        Learning rate; ``None`` keeps the method's / optimizer's default.
    batch_size : int, "full" or None
        Rows per update; ``"full"`` is full-batch gradient descent; ``None``
        keeps the built-in method's default (full batch for user methods).
    epochs : int or None
        Epochs for this method; ``None`` uses the study's ``epochs``.
    params : tuple of (str, value)
        Extra optimizer hyper-parameters (see :data:`OPTIMIZER_PARAMS`).
    """

    name: str
    optimizer: str | None = None
    lr: float | None = None
    batch_size: BatchSize = None
    epochs: int | None = None
    params: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class ScalingSweep:
    """An n_samples x n_features grid run with a few methods, for the scaling plot."""

    n_samples: tuple[int, ...]
    n_features: tuple[int, ...]
    methods: tuple[str, ...] = ("minibatch",)
    backends: tuple[str, ...] = ("fastgd", "numpy")
    losses: tuple[str, ...] = ("l2",)
    dtype: str = "float64"
    epochs: int = 3
    repetitions: int = 1


@dataclass(frozen=True)
class Study:
    """A complete benchmark study: the grid of cases and how each is measured.

    Attributes
    ----------
    name : str
        Preset or study name (shown in the report).
    datasets : tuple of DatasetSpec
    losses : tuple of str
    methods : tuple of MethodConfig
    backends : tuple of str
        Backends to compare; each runs only the methods it implements.
    threads : tuple of int
        Thread counts (Numba, PyTorch and BLAS) each case runs at.
    repetitions : int
        Timed repetitions of every case.
    epochs : int
        Epochs per run unless a method sets its own.
    delta : float
        Huber threshold.
    fit_seed : int
        Seed of the per-epoch shuffling (the same for every repetition).
    shuffle : bool
        Shuffle the rows every epoch.
    probe_mbytes : int
        Size of the buffer the memory-bandwidth probe reads.
    lp_size_limit : int
        Largest ``n_samples * (n_features + 1)`` for which the exact L1
        optimum is computed with HiGHS.
    settle_s : float
        Seconds the runner pauses before each case, so that BLAS worker
        threads left spinning by the previous case or by the optimum's
        least-squares solve have gone idle before anything is timed (OpenBLAS
        threads busy-wait after a call; measured here, fastgd's 2-thread
        full-batch epoch on 100,000 x 100 took 5.6-6.3 ms instead of 2.2-2.5 ms
        right after ``np.linalg.lstsq``).  0 disables the pause.
    scaling : ScalingSweep or None
        Optional scaling sweep.
    """

    name: str
    datasets: tuple[DatasetSpec, ...]
    losses: tuple[str, ...] = ("l2", "l1")
    methods: tuple[MethodConfig, ...] = tuple(MethodConfig(name) for name in BUILTIN_METHODS)
    backends: tuple[str, ...] = BACKENDS
    threads: tuple[int, ...] = (1,)
    repetitions: int = 3
    epochs: int = 5
    delta: float = 1.0
    fit_seed: int = 0
    shuffle: bool = True
    probe_mbytes: int = 512
    lp_size_limit: int = 6_000_000
    settle_s: float = 0.25
    scaling: ScalingSweep | None = field(default=None)

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form (JSON/TOML-ready); :func:`study_from_dict` inverts it."""
        from .config_io import study_to_dict

        return study_to_dict(self)

    def to_toml(self) -> str:
        """TOML text that :func:`load_study` reads back into an equal study."""
        from .config_io import study_to_toml

        return study_to_toml(self)


_QUICK_METHODS = (
    MethodConfig("batch", epochs=30),
    MethodConfig("sgd"),
    MethodConfig("minibatch"),
    MethodConfig("adam"),
)

#: Built-in studies by name.
PRESETS: dict[str, Study] = {
    "tiny": Study(
        name="tiny",
        datasets=(DatasetSpec(n_samples=600, n_features=5, outliers=0.05),),
        losses=("l2", "l1"),
        methods=(MethodConfig("batch", epochs=8), MethodConfig("sgd"), MethodConfig("minibatch"), MethodConfig("adam")),
        threads=(1,),
        repetitions=2,
        epochs=3,
        probe_mbytes=16,
        settle_s=0.0,  # timings of the test-sized preset mean nothing; do not wait
    ),
    "quick": Study(
        name="quick",
        datasets=(DatasetSpec(n_samples=50_000, n_features=100, outliers=0.02),),
        losses=("l2", "l1"),
        methods=_QUICK_METHODS,
        threads=(1, 2),
        repetitions=3,
        epochs=5,
    ),
    "full": Study(
        name="full",
        datasets=(
            DatasetSpec(n_samples=100_000, n_features=100, outliers=0.02),
            DatasetSpec(n_samples=100_000, n_features=100, dtype="float32", outliers=0.02),
            DatasetSpec(n_samples=1_000_000, n_features=100, outliers=0.02, correlation=0.5),
        ),
        losses=("l2", "l1", "huber"),
        methods=_QUICK_METHODS,
        threads=(1, 2),
        repetitions=3,
        epochs=5,
        probe_mbytes=1024,
        lp_size_limit=12_000_000,
        scaling=ScalingSweep(
            n_samples=(10_000, 100_000, 1_000_000),
            n_features=(10, 30, 100),
            methods=("batch", "minibatch"),
            backends=("fastgd", "numpy", "torch"),
        ),
    ),
}


def preset(name: str) -> Study:
    """The built-in study called ``name`` (``tiny``, ``quick`` or ``full``)."""
    try:
        return PRESETS[name]
    except KeyError:
        raise StudyConfigError(f"preset: unknown preset {name!r} (choose from {', '.join(PRESETS)})") from None


def load_study(path: str | Path) -> Study:
    """Read and validate a TOML study file.

    Raises
    ------
    StudyConfigError
        The file cannot be read or parsed, has an unknown key or a bad
        value; the one-line message names the file and the key.
    """
    from .config_io import study_from_dict

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
        return study_from_dict(data, default_name=source.stem)
    except StudyConfigError as error:
        raise StudyConfigError(f"{source}: {error}") from None
