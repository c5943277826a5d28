"""The benchmark study: configuration, cases, measurement, results store, runner.

* :mod:`~fastgd.study.config`: :class:`Study` (a msgspec schema), presets, :func:`load_study`;
* :mod:`~fastgd.study.cases`: :class:`Case`, one run with a stable id;
* :mod:`~fastgd.study.measure`: run one case into tidy rows;
* :mod:`~fastgd.study.peers`: the NumPy, scikit-learn and PyTorch peers;
* :mod:`~fastgd.study.optimum`: the certified optimum per (dataset, loss);
* :mod:`~fastgd.study.select`: time to target, the lr-selection rule, performance profiles;
* :mod:`~fastgd.study.store`: one Parquet file per finished case, the lock, ``study.json``;
* :mod:`~fastgd.study.runner`: :func:`run_study` (tune phase, then timing phase; resumable);
* :mod:`~fastgd.study.machine`: machine info and the memory-bandwidth probe.

The report (tables, plots, REPORT.md) is drawn from the stored rows by :mod:`fastgd.report`.
"""

from .config import PRESETS, DatasetSpec, LrGrid, MethodSpec, Study, StudyConfigError, TimingSpec, load_study, preset

__all__ = [
    "PRESETS",
    "DatasetSpec",
    "LrGrid",
    "MethodSpec",
    "Study",
    "StudyConfigError",
    "TimingSpec",
    "load_study",
    "preset",
]
