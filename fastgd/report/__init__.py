"""Reports of fastgd's benchmark study: tidy tables (CSV), figures (PNG) and ``REPORT.md``.

:func:`write_report` re-draws everything from a study's stored results (:func:`write_study_report`
from a points table in memory); :func:`write_report_from_benchmark_json` turns a ``pytest
--benchmark-json`` file into the same timing table, its plots and a ``REPORT.md``.  Modules:
:mod:`.tables`, :mod:`.plotdata` (numbers behind the figures), :mod:`.plots` (drawing only),
:mod:`.markdown` (the verdict and the text), :mod:`.labels` (words, formats, styles) and
:mod:`.writer`; the selection rule and time to target are :mod:`fastgd.study.select`'s.
"""

from __future__ import annotations

from .benchjson import benchmark_timing_table, write_report_from_benchmark_json
from .writer import ReportError, write_report, write_study_report

__all__ = [
    "ReportError",
    "benchmark_timing_table",
    "write_report",
    "write_report_from_benchmark_json",
    "write_study_report",
]
