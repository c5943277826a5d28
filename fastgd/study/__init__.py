"""The benchmark study: configuration, cases, measurement, results store.

* :mod:`~fastgd.study.config`: :class:`Study`, presets, :func:`load_study`;
* :mod:`~fastgd.study.cases`: :func:`expand_cases` and stable case ids;
* :mod:`~fastgd.study.runner`: :func:`run_study` (resumable, persisted per case);
* :mod:`~fastgd.study.records`: the append-only, checksummed results store;
* :mod:`~fastgd.study.optimum`: the certified optimum per (dataset, loss);
* :mod:`~fastgd.study.machine`: machine info and the memory-bandwidth probe;
* :mod:`~fastgd.study.peers`: the NumPy, scikit-learn and PyTorch peers.

The report (tables, plots, REPORT.md) is drawn from the records by
:mod:`fastgd.report`.
"""

from .config import PRESETS, DatasetSpec, MethodConfig, ScalingSweep, Study, StudyConfigError, load_study, preset
from .records import CorruptRecordError, append_record, finished_case_ids, load_records

__all__ = [
    "PRESETS",
    "CorruptRecordError",
    "DatasetSpec",
    "MethodConfig",
    "ScalingSweep",
    "Study",
    "StudyConfigError",
    "append_record",
    "expand_cases",
    "finished_case_ids",
    "load_records",
    "load_study",
    "preset",
    "run_study",
]


def __getattr__(name: str) -> object:
    """Import the heavier entry points lazily (they pull in Numba kernels and peers)."""
    if name == "run_study":
        from .runner import run_study

        return run_study
    if name == "expand_cases":
        from .cases import expand_cases

        return expand_cases
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
