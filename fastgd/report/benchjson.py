"""Turn a ``pytest --benchmark-json=FILE`` result into the report's timing table, plots and REPORT.md.

The pytest-benchmark JSON holds ``machine_info`` (``python_version``,
``cpu: {brand_raw, count, ...}``, ``system``, ``release``), ``commit_info``,
``datetime``, ``version`` and ``benchmarks[]``, each with ``name``, ``group``,
``params`` (the test's parametrization, or null), ``param``, ``extra_info``
(what the benchmark stored in ``benchmark.extra_info``) and ``stats``
(``min``, ``max``, ``median``, ``rounds``, ... in seconds per call).

Mapping to :data:`fastgd.report.tables.TIMING_COLUMNS` (one row per benchmark):

* the case columns (``n_samples``, ``n_features``, ``dtype``, ``noise``,
  ``outliers``, ``correlation``, ``loss``, ``method``, ``backend``,
  ``optimizer``, ``lr``, ``batch_size``, ``threads``) and ``samples_per_s``,
  ``gbytes_per_s``, ``bandwidth_fraction``, ``compile_s`` and the version
  columns come from ``extra_info``, else from ``params``, under their own names
  or the aliases in :data:`ALIASES`;
* ``epoch_time_s``, ``epoch_time_min_s``, ``epoch_time_max_s`` are the
  ``median``, ``min`` and ``max`` time of one call (one epoch for the epoch
  benchmarks of ``bench/``; for kernel benchmarks, one kernel call);
  ``repetition`` is 0;
* a ``size`` parameter ``[n_samples, n_features]`` (as in ``bench/``) fills
  those two columns when they are not given on their own;
* ``cpu_model``, ``cores`` and ``python`` come from ``machine_info``;
* anything missing is left empty (NaN, an empty CSV cell): nothing is
  guessed.  Three columns are added: ``benchmark_name``, ``benchmark_group``,
  ``rounds``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from .convention import CONVENTION_CARD
from .errors import ReportError
from .labels import (
    dataset_label,
    format_number,
    format_rate,
    format_seconds,
    format_speedup,
    is_missing,
)
from .mdtable import markdown_table
from .plotdata import bar_panels, speedup_panels
from .style import backend_style, method_style
from .summaries import epoch_time_summary, speedup_table
from .tables import DATASET_COLUMNS, RUN_COLUMNS, TIMING_COLUMNS, tidy_frame
from .writer import FigureWriter, remove_stale_figures, write_csv, write_text

__all__ = [
    "ALIASES",
    "BENCHMARK_COLUMNS",
    "benchmark_timing_table",
    "load_benchmark_json",
    "write_report_from_benchmark_json",
]

BENCHMARK_COLUMNS: tuple[str, ...] = ("benchmark_name", "benchmark_group", "rounds")
ALIASES: dict[str, tuple[str, ...]] = {
    "threads": ("n_threads", "num_threads"),
    "samples_per_s": ("samples_per_second", "samples/s"),
    "gbytes_per_s": ("gbytes_per_second", "gb_per_s", "GB/s"),
    "lr": ("learning_rate",),
    "backend": ("implementation",),
}
_FROM_INFO: tuple[str, ...] = (
    DATASET_COLUMNS
    + ("loss",)
    + RUN_COLUMNS
    + ("samples_per_s", "gbytes_per_s", "bandwidth_fraction", "compile_s")
    + ("numpy", "numba", "pandas", "torch", "sklearn")
)


def load_benchmark_json(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a pytest-benchmark JSON file and check it has a ``benchmarks`` list.

    Raises
    ------
    ReportError
        The file is missing, not JSON, or not a pytest-benchmark result.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReportError(f"{path}: no such benchmark JSON file") from None
    except ValueError as error:
        raise ReportError(f"{path}: not valid JSON ({error})") from None
    if not isinstance(data, dict) or not isinstance(data.get("benchmarks"), list):
        raise ReportError(f"{path}: not a pytest-benchmark JSON file (no 'benchmarks' list)")
    if not data["benchmarks"]:
        raise ReportError(f"{path}: holds no benchmark (were they run with --benchmark-disable?)")
    return data


def _lookup(column: str, extra_info: Mapping[str, Any], params: Mapping[str, Any]) -> Any:
    for source in (extra_info, params):
        for name in (column,) + ALIASES.get(column, ()):
            if name in source and source[name] is not None:
                return source[name]
    return None


def benchmark_timing_table(data: Mapping[str, Any]) -> pd.DataFrame:
    """One row per benchmark with :data:`TIMING_COLUMNS` plus :data:`BENCHMARK_COLUMNS`.

    Parameters
    ----------
    data : dict
        A parsed pytest-benchmark JSON (:func:`load_benchmark_json`).

    Returns
    -------
    pandas.DataFrame
        Columns the JSON does not provide are empty (module docstring).
    """
    machine = data.get("machine_info") or {}
    cpu = machine.get("cpu") or {}
    rows = []
    for benchmark in data["benchmarks"]:
        stats = benchmark.get("stats") or {}
        extra_info, params = benchmark.get("extra_info") or {}, benchmark.get("params") or {}
        row: dict[str, Any] = {column: None for column in TIMING_COLUMNS}
        row.update({column: _lookup(column, extra_info, params) for column in _FROM_INFO})
        size = params.get("size")
        if isinstance(size, list | tuple) and len(size) == 2:
            row["n_samples"] = row["n_samples"] if row["n_samples"] is not None else size[0]
            row["n_features"] = row["n_features"] if row["n_features"] is not None else size[1]
        row.update(
            repetition=0,
            epoch_time_s=stats.get("median"),
            epoch_time_min_s=stats.get("min"),
            epoch_time_max_s=stats.get("max"),
            cpu_model=cpu.get("brand_raw") or machine.get("processor") or None,
            cores=cpu.get("count"),
            python=machine.get("python_version"),
            benchmark_name=benchmark.get("name"),
            benchmark_group=benchmark.get("group"),
            rounds=stats.get("rounds"),
        )
        rows.append(row)
    return tidy_frame(rows, TIMING_COLUMNS + BENCHMARK_COLUMNS)


def _variant_labels(params: pd.Series) -> pd.Series:
    """The parametrization ids of one panel without the tokens they all share (``fastgd-1thread``)."""
    tokens = [str(param).split("-") if not is_missing(param) else [] for param in params]
    shared = set.intersection(*(set(parts) for parts in tokens)) if tokens else set()
    labels = ["-".join(part for part in parts if part not in shared) for parts in tokens]
    return pd.Series(labels, index=params.index)


def _plot_frame(table: pd.DataFrame, data: Mapping[str, Any]) -> pd.DataFrame:
    """Bars of the benchmark figure: one panel per group, grouped by method (else the test's name).

    Within a group, one bar per backend when that names each bar uniquely, else per
    parametrization (its id without the parts every benchmark of the group shares).
    Error bars span the interquartile range (``q1``-``q3``): pytest-benchmark's min
    and max are dominated by single outlying rounds.
    """
    frame = table.copy()
    stats = [benchmark.get("stats") or {} for benchmark in data["benchmarks"]]
    frame["q1_s"] = [entry.get("q1", entry.get("median")) for entry in stats]
    frame["q3_s"] = [entry.get("q3", entry.get("median")) for entry in stats]
    frame["param"] = [benchmark.get("param") for benchmark in data["benchmarks"]]
    base_names = frame["benchmark_name"].astype(str).str.replace(r"\[.*\]$", "", regex=True)
    frame["category"] = frame["method"].where(frame["method"].notna(), base_names).astype(str)
    frame["panel"] = frame["benchmark_group"].where(frame["benchmark_group"].notna(), "benchmarks").astype(str)
    frame["series"] = "benchmark"
    for _, panel in frame.groupby("panel", sort=False):
        backends = panel["backend"]
        if backends.notna().all() and not panel.duplicated(["category", "backend"]).any():
            frame.loc[panel.index, "series"] = backends.astype(str)
            continue
        variants = _variant_labels(panel["param"])
        fallback = backends.where(backends.notna(), "benchmark").astype(str)
        frame.loc[panel.index, "series"] = variants.where(variants != "", fallback)
    return frame


def _machine_table(data: Mapping[str, Any]) -> str:
    machine, cpu = data.get("machine_info") or {}, (data.get("machine_info") or {}).get("cpu") or {}
    commit = data.get("commit_info") or {}
    rows = [
        ("cpu_model", cpu.get("brand_raw") or machine.get("processor")),
        ("cores", cpu.get("count")),
        (
            "platform",
            " ".join(str(machine[key]) for key in ("system", "release", "machine") if machine.get(key)),
        ),
        ("python", machine.get("python_version")),
        ("pytest-benchmark", data.get("version")),
        ("run at", data.get("datetime")),
        (
            "commit",
            " ".join(
                str(part)
                for part in (commit.get("id"), commit.get("branch"), "(dirty)" if commit.get("dirty") else "")
                if part
            ),
        ),
    ]
    return markdown_table(
        ["", ""],
        [[key, "—" if is_missing(value) or value == "" else value] for key, value in rows],
        ["l", "l"],
    )


def _timing_rows(table: pd.DataFrame) -> list[list[str]]:
    return [
        [
            row["benchmark_group"] or "—",
            f"`{row['benchmark_name']}`",
            "—" if is_missing(row["method"]) else method_style(row["method"]).label,
            "—" if is_missing(row["backend"]) else backend_style(row["backend"]).label,
            dataset_label(row) or "—",
            format_seconds(row["epoch_time_s"]),
            format_seconds(row["epoch_time_min_s"]),
            format_seconds(row["epoch_time_max_s"]),
            format_number(row["rounds"]),
            format_rate(row["samples_per_s"]),
            format_number(row["gbytes_per_s"], 3),
            format_number(row["threads"]),
        ]
        for _, row in table.iterrows()
    ]


def _speedup_rows(speedups: pd.DataFrame) -> tuple[list[str], list[list[str]]]:
    peers = [column for column in speedups.columns if column.startswith("speedup_vs_")]
    headers = ["dataset", "method", "threads"] + [f"fastgd vs {backend_style(p[11:]).label}" for p in peers]
    rows = [
        [dataset_label(row) or "—", method_style(row["method"]).label, format_number(row["threads"])]
        + [format_speedup(row[peer]) for peer in peers]
        for _, row in speedups.iterrows()
    ]
    return headers, rows


def render_benchmark_report(
    data: Mapping[str, Any],
    json_path: str,
    table: pd.DataFrame,
    speedups: pd.DataFrame,
    figures: dict[str, list[str]],
) -> str:
    """The text of ``REPORT.md`` for a pytest-benchmark result."""
    headers = [
        "group",
        "benchmark",
        "method",
        "backend",
        "dataset",
        "median",
        "min",
        "max",
        "rounds",
        "samples/s",
        "GB/s",
        "threads",
    ]
    parts = [
        "# fastgd benchmark report (pytest-benchmark)\n",
        (
            f"Timings read from `{json_path}`: one row per benchmark, the time of one call (one epoch for the "
            "epoch benchmarks).  The same table is in `timing.csv`; columns the JSON does not provide are empty.\n"
        ),
        "## Machine\n",
        _machine_table(data),
        "## Timings\n",
        markdown_table(headers, _timing_rows(table), ["l"] * 5 + ["r"] * 7),
        "",
        "".join(f"![Benchmark timings]({name})\n\n" for name in figures.get("timing", [])),
    ]
    if any(column.startswith("speedup_vs_") for column in speedups.columns):
        speedup_headers, speedup_rows = _speedup_rows(speedups)
        parts += [
            "## Speed-up of fastgd against each peer\n",
            markdown_table(speedup_headers, speedup_rows, ["l", "l", "r"] + ["r"] * (len(speedup_headers) - 3)),
            "",
            "".join(f"![Speed-up of fastgd]({name})\n\n" for name in figures.get("speedup", [])),
        ]
    parts += [
        CONVENTION_CARD,
        "## Reproduce\n",
        (
            "```sh\npython -m pytest --benchmark-only --benchmark-json=benchmarks.json\n"
            "fastgd report --benchmark-json benchmarks.json\n```\n"
        ),
    ]
    return "\n".join(parts)


def write_report_from_benchmark_json(json_path: str | os.PathLike[str], out_dir: str | os.PathLike[str]) -> list[Path]:
    """Write ``timing.csv``, the timing figures and ``REPORT.md`` from a pytest-benchmark JSON.

    Parameters
    ----------
    json_path : path-like
        The file written by ``pytest --benchmark-json=FILE``.
    out_dir : path-like
        Output directory (created if needed); files are written atomically.

    Returns
    -------
    list of pathlib.Path
        The files written, ``REPORT.md`` last.

    Raises
    ------
    ReportError
        The file is missing, not a pytest-benchmark JSON, or holds no benchmark.
    """
    data = load_benchmark_json(json_path)
    table = benchmark_timing_table(data)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = [write_csv(out / "timing.csv", table)]
    frame = _plot_frame(table, data)
    timing = bar_panels(
        frame,
        panel_columns=["panel"],
        title_of=lambda values: f"group: {values['panel']}",
        category_column="category",
        series_column="series",
        value_column="epoch_time_s",
        lower_column="q1_s",
        upper_column="q3_s",
    )
    comparable = table[table["method"].notna() & table["backend"].notna()]
    speedups = speedup_table(epoch_time_summary(comparable)) if not comparable.empty else pd.DataFrame()
    figures = FigureWriter(out)
    figures.write_timing(
        timing,
        speedup_panels(speedups) if not speedups.empty else [],
        prefix="benchmark_",
        timing_title="pytest-benchmark: time per call (median, interquartile bars)",
        timing_ylabel="time per call (s, log scale)",
    )
    written += figures.written
    report = render_benchmark_report(data, str(json_path), table, speedups, figures.by_section)
    written.append(write_text(out / "REPORT.md", report))
    remove_stale_figures(out, written)
    return written
