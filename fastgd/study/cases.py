"""A :class:`Case`: one run (one repetition) of one configuration, with a stable id.

A case holds every parameter that changes a measurement; its ``case_id`` (16 hex digits of the
SHA-256 of its canonical JSON) is the same in every run, which lets a rerun skip the cases whose file
exists.  :meth:`Case.columns` are the key columns of the tidy rows the case produces.
"""

from __future__ import annotations

import hashlib
import importlib.util
from typing import Any, Literal

import msgspec

from ..optim import OPTIMIZERS
from .config import SCHEDULES, DatasetSpec

__all__ = ["Case", "backend_applies", "missing_backend_note"]

#: Peer backend -> (module it imports, the package that provides it, the extra to install).
_BACKEND_PACKAGES = {
    "numpy": ("numpy", "numpy", "peers"),
    "sklearn": ("sklearn", "scikit-learn", "peers"),
    "torch": ("torch", "torch", "peers"),
    "distributed": ("distributed", "dask[distributed]", "distributed"),
}


class Case(msgspec.Struct, frozen=True, kw_only=True):
    """One run: a dataset x loss x method x backend x thread count x learning rate x schedule x repetition."""

    phase: Literal["tune", "timing"]
    dataset: DatasetSpec
    loss: str
    delta: float
    method: str
    optimizer: str
    optimizer_params: dict[str, Any]
    batch_size: int | None
    backend: str
    threads: int
    lr: float
    schedule: str
    epochs: int
    repetition: int
    fit_seed: int

    @property
    def case_id(self) -> str:
        """Stable hex id of every parameter of the case."""
        return hashlib.sha256(msgspec.json.encode(self, order="sorted")).hexdigest()[:16]

    @property
    def label(self) -> str:
        """Short description for progress lines."""
        return (
            f"{self.phase} {self.backend}/{self.method} {self.loss} {self.dataset.label} "
            f"lr={self.lr:.3g} {self.schedule} t={self.threads} rep={self.repetition}"
        )

    def build_optimizer(self) -> Any:
        """A fresh fastgd optimizer with exactly this case's hyper-parameters."""
        return OPTIMIZERS[self.optimizer](lr=self.lr, **self.optimizer_params)

    def build_schedule(self) -> Any:
        """The fastgd schedule object of this case."""
        return SCHEDULES[self.schedule]()

    def columns(self) -> dict[str, Any]:
        """The key columns of this case's tidy rows (see :mod:`fastgd.study.store`)."""
        spec = msgspec.structs.asdict(self.dataset)
        dataset = {"data_seed" if key == "seed" else key: value for key, value in spec.items()}
        keys = "loss delta method optimizer batch_size backend threads lr schedule repetition".split()
        return {"case_id": self.case_id, "phase": self.phase, **dataset, **{key: getattr(self, key) for key in keys}}


def missing_backend_note(backend: str) -> str | None:
    """``None`` when ``backend`` can run here, else the note saying why it is skipped."""
    if backend == "fastgd":
        return None
    module, package, extra = _BACKEND_PACKAGES[backend]
    if importlib.util.find_spec(module) is None:
        return f"{backend} backend skipped: {package} is not installed (pip install 'fastgd[{extra}]')"
    return None


def backend_applies(backend: str, optimizer: Any, batch_size: int | None, schedule: str) -> bool:
    """Whether ``backend`` implements this method (optimizer, batch size) with this schedule.

    ``numpy`` runs everything; ``sklearn`` plain per-sample SGD (``SGDRegressor``); ``torch`` every
    method that updates on more than one sample (per-sample steps in PyTorch are all framework
    overhead); ``distributed`` full batch, and the stochastic methods as local SGD.
    """
    if backend in ("fastgd", "numpy", "distributed"):
        return True
    if backend == "sklearn":
        plain = optimizer.name == "sgd" and optimizer.momentum == 0 and optimizer.weight_decay == 0
        return plain and batch_size == 1
    if backend == "torch":
        return batch_size != 1
    raise ValueError(f"unknown backend {backend!r}")
