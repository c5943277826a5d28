"""Reports of fastgd's benchmark study: tidy tables (CSV), figures (PNG) and ``REPORT.md``.

Two entry points, used by ``fastgd report``:

* :func:`write_report` re-draws everything from a study's saved results
  (``records.jsonl`` and ``study.json``, see :mod:`fastgd.study.records`);
* :func:`write_report_from_benchmark_json` turns a ``pytest --benchmark-json``
  file into the same timing table, its plots and a ``REPORT.md``.

The pieces are importable on their own: :mod:`.tables` (records to tidy
tables), :mod:`.summaries` (epoch time, speed-ups, time to target),
:mod:`.plotdata` (numbers behind each figure), :mod:`.plots` and
:mod:`.seedplots` (drawing), :mod:`.markdown` (``REPORT.md``), :mod:`.style`
(one colour and marker per method and backend).
"""

from __future__ import annotations

from .benchjson import benchmark_timing_table, write_report_from_benchmark_json
from .errors import ReportError, SeedPictureUnavailable
from .summaries import TARGETS, relative_suboptimality, time_to_target
from .tables import (
    CONVERGENCE_COLUMNS,
    TIMING_COLUMNS,
    convergence_table,
    select_optima,
    timing_table,
)
from .writer import write_report

__all__ = [
    "CONVERGENCE_COLUMNS",
    "TARGETS",
    "TIMING_COLUMNS",
    "ReportError",
    "SeedPictureUnavailable",
    "benchmark_timing_table",
    "convergence_table",
    "relative_suboptimality",
    "select_optima",
    "time_to_target",
    "timing_table",
    "write_report",
    "write_report_from_benchmark_json",
]
