"""Expand a :class:`~fastgd.study.config.Study` into runnable cases with stable ids.

A *case* is one dataset x loss x method x backend x thread count, with all its
repetitions.  Its ``case_id`` is the first 20 hex digits of the SHA-256 of the
canonical JSON of its parameters: the record's ``case`` dict plus what else
changes the measurement (every optimizer hyper-parameter, the repetitions,
the shuffle seed).  The same parameters give the same id in every run, which
is what lets a rerun skip finished cases.

Order: cases are grouped by dataset (so one dataset is in memory at a time),
then thread count, loss, method and backend (fastgd first).  The scaling
sweep's cases come last; a sweep case identical to a main one is run once.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from typing import Any

from .config import DatasetSpec, MethodConfig, Study, StudyConfigError
from .peers import backend_applies, missing_peer_note
from .records import canonical_json

__all__ = ["Case", "build_method", "expand_cases"]


@dataclass(frozen=True)
class Case:
    """One unit of work: every parameter a results record's ``case`` holds, and a few more."""

    dataset: DatasetSpec
    loss: str
    delta: float
    method: str
    backend: str
    optimizer: str
    lr: float
    batch_size: int | None
    epochs: int
    threads: int
    optimizer_params: tuple[tuple[str, Any], ...]
    repetitions: int
    fit_seed: int
    shuffle: bool

    def to_dict(self) -> dict[str, Any]:
        """The ``case`` entry of a results record (the schema's keys, in order)."""
        spec = self.dataset
        return {
            "n_samples": spec.n_samples,
            "n_features": spec.n_features,
            "dtype": spec.dtype,
            "noise": spec.noise,
            "outliers": spec.outliers,
            "correlation": spec.correlation,
            "data_seed": spec.seed,
            "loss": self.loss,
            "delta": self.delta,
            "method": self.method,
            "backend": self.backend,
            "optimizer": self.optimizer,
            "lr": self.lr,
            "batch_size": self.batch_size,
            "epochs": self.epochs,
            "threads": self.threads,
        }

    @property
    def case_id(self) -> str:
        """Stable hex id of every parameter that changes the measurement."""
        identity = self.to_dict() | {
            "optimizer_params": [[key, list(v) if isinstance(v, tuple) else v] for key, v in self.optimizer_params],
            "repetitions": self.repetitions,
            "fit_seed": self.fit_seed,
            "shuffle": self.shuffle,
        }
        return hashlib.sha256(canonical_json(identity).encode("ascii")).hexdigest()[:20]

    @property
    def label(self) -> str:
        """Short human description for progress bars and logs."""
        spec = self.dataset
        return (
            f"{self.backend}/{self.method} {self.loss} {spec.n_samples}x{spec.n_features} {spec.dtype} t={self.threads}"
        )

    def build_optimizer(self) -> Any:
        """A fresh fastgd optimizer with exactly this case's hyper-parameters."""
        from fastgd.optim import OPTIMIZERS

        return OPTIMIZERS[self.optimizer](lr=self.lr, **dict(self.optimizer_params))


def build_method(method: MethodConfig) -> tuple[Any, int | None]:
    """The fastgd optimizer and batch size of a study method.

    Built-in names go through :func:`fastgd.method` (with ``lr`` and
    ``batch_size`` overrides); user-named ones construct ``optimizer`` from
    :mod:`fastgd.optim` with ``lr`` and the extra hyper-parameters.

    Returns
    -------
    optimizer, batch_size
        ``batch_size`` is ``None`` for full batch.
    """
    import fastgd
    from fastgd import optim

    batch_size: Any = method.batch_size
    if method.optimizer is None:
        overrides: dict[str, Any] = {}
        if method.lr is not None:
            overrides["lr"] = method.lr
        if batch_size is not None:
            overrides["batch_size"] = None if batch_size == "full" else batch_size
        optimizer, batch_size = fastgd.method(method.name, **overrides)
        return optimizer, batch_size
    cls = getattr(optim, method.optimizer)
    options = dict(method.params)
    if method.lr is not None:
        options["lr"] = method.lr
    try:
        optimizer = cls(**options)
    except (TypeError, ValueError) as error:
        raise StudyConfigError(f"methods.{method.name}: {error}") from None
    return optimizer, None if batch_size in (None, "full") else int(batch_size)


def _optimizer_fields(optimizer: Any) -> tuple[tuple[str, Any], ...]:
    """Every hyper-parameter of ``optimizer`` but ``lr``, sorted by name."""
    return tuple(sorted((key, value) for key, value in asdict(optimizer).items() if key != "lr"))


def expand_cases(study: Study) -> tuple[list[Case], list[str]]:
    """All cases of ``study`` in run order, and the notes about what is skipped.

    A backend that is not installed is left out with a note (never faked); a
    backend that does not implement a method is simply not paired with it.

    Returns
    -------
    cases : list of Case
    notes : list of str
    """
    notes = []
    installed = []
    for backend in dict.fromkeys(study.backends + (study.scaling.backends if study.scaling else ())):
        note = missing_peer_note(backend)
        if note is None:
            installed.append(backend)
        else:
            notes.append(note)
    built = {method.name: (method, *build_method(method)) for method in study.methods}

    def cases_for(
        datasets: Any, losses: Any, methods: Any, backends: Any, threads: Any, epochs: Any, repetitions: int
    ) -> list[Case]:
        out = []
        for dataset in datasets:
            for thread_count in threads:
                for loss in losses:
                    for name in methods:
                        config, optimizer, batch_size = built[name]
                        for backend in backends:
                            if backend not in installed or not backend_applies(backend, optimizer, batch_size):
                                continue
                            out.append(
                                Case(
                                    dataset=dataset,
                                    loss=loss,
                                    delta=study.delta,
                                    method=name,
                                    backend=backend,
                                    optimizer=optimizer.name,
                                    lr=float(optimizer.lr),
                                    batch_size=batch_size,
                                    epochs=epochs if epochs is not None else (config.epochs or study.epochs),
                                    threads=thread_count,
                                    optimizer_params=_optimizer_fields(optimizer),
                                    repetitions=repetitions,
                                    fit_seed=study.fit_seed,
                                    shuffle=study.shuffle,
                                )
                            )
        return out

    cases = cases_for(study.datasets, study.losses, built, study.backends, study.threads, None, study.repetitions)
    if study.scaling is not None:
        sweep = study.scaling
        grid = [
            DatasetSpec(n_samples=n, n_features=d, dtype=sweep.dtype) for n in sweep.n_samples for d in sweep.n_features
        ]
        cases += cases_for(
            grid, sweep.losses, sweep.methods, sweep.backends, (max(study.threads),), sweep.epochs, sweep.repetitions
        )
    unique = {case.case_id: case for case in reversed(cases)}
    return [case for case in cases if unique.get(case.case_id) is case], notes
