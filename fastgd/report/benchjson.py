"""Turn a ``pytest --benchmark-json=FILE`` result into the report's timing table, plots and REPORT.md.

One row of :data:`fastgd.report.tables.TIMING_COLUMNS` per benchmark, plus :data:`BENCHMARK_COLUMNS`.
The case columns (``n_samples``, ``method``, ``backend``, ``threads``, ...), ``samples_per_s`` and
``gbytes_per_s`` come from the benchmark's ``extra_info``, else its ``params`` (``implementation``
names the backend; a ``size`` ``[n_samples, n_features]`` fills those two).  ``epoch_time_s``,
``epoch_time_min_s``, ``epoch_time_max_s`` are the median, min and max time of one call (one epoch
for the epoch benchmarks), ``repetitions`` the rounds.  Anything missing stays empty.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fastgd._atomic import atomic_write_text

from .labels import method_style
from .markdown import machine_table, speedup_markdown, timing_markdown
from .plotdata import bars, speedup_bars
from .plots import draw_bars
from .tables import MATCH_KEYS, TIMING_COLUMNS, speedup_table
from .writer import FigureWriter, ReportError, remove_stale, write_csv

__all__ = ["BENCHMARK_COLUMNS", "benchmark_timing_table", "load_benchmark_json"]

BENCHMARK_COLUMNS: tuple[str, ...] = ("benchmark_name", "benchmark_group", "q1_s", "q3_s")
_MEASURED = ("repetitions", "epoch_time_s", "epoch_time_min_s", "epoch_time_max_s", "spread")


def load_benchmark_json(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a pytest-benchmark JSON file; :class:`ReportError` if missing, not JSON or without benchmarks."""
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
    names = (column, "implementation") if column == "backend" else (column,)
    return next(
        (source[name] for source in (extra_info, params) for name in names if source.get(name) is not None), None
    )


def benchmark_timing_table(data: Mapping[str, Any]) -> pd.DataFrame:
    """One row per benchmark: :data:`TIMING_COLUMNS` plus :data:`BENCHMARK_COLUMNS` (module docstring)."""
    rows = []
    for benchmark in data["benchmarks"]:
        stats = benchmark.get("stats") or {}
        extra_info, params = benchmark.get("extra_info") or {}, benchmark.get("params") or {}
        row = {column: _lookup(column, extra_info, params) for column in TIMING_COLUMNS if column not in _MEASURED}
        size = params.get("size")
        if isinstance(size, list | tuple) and len(size) == 2:
            row["n_samples"] = row["n_samples"] if row["n_samples"] is not None else size[0]
            row["n_features"] = row["n_features"] if row["n_features"] is not None else size[1]
        median = stats.get("median")
        row.update(
            repetitions=stats.get("rounds"),
            epoch_time_s=median,
            epoch_time_min_s=stats.get("min"),
            epoch_time_max_s=stats.get("max"),
            spread=(stats["max"] - stats["min"]) / median if median and "max" in stats and "min" in stats else None,
            benchmark_name=benchmark.get("name"),
            benchmark_group=benchmark.get("group"),
            q1_s=stats.get("q1", median),
            q3_s=stats.get("q3", median),
        )
        rows.append(row)
    table = pd.DataFrame(rows, columns=list(TIMING_COLUMNS + BENCHMARK_COLUMNS))
    return table.astype({"batch_size": "Int64"})


def benchmark_bars(table: pd.DataFrame) -> pd.DataFrame:
    """Bar data (:data:`.plotdata.BAR_COLUMNS`): a panel per group, interquartile error bars.

    A bar is named by its test id without the ``-`` parts every id of its group
    shares (``fastgd-1thread``, ``numpy-gemv``; the backend when only it differs).
    """
    series = table["backend"].fillna("benchmark").astype(str)
    for _, group in table.groupby(table["benchmark_group"].fillna(""), sort=False):
        tokens = [str(name).split("[", 1)[-1].rstrip("]").split("-") for name in group["benchmark_name"]]
        shared = set.intersection(*(set(parts) for parts in tokens))
        for index, parts in zip(group.index, tokens, strict=True):
            series[index] = "-".join(part for part in parts if part not in shared) or series[index]
    tests = table["benchmark_name"].str.replace(r"\[.*\]$", "", regex=True)
    category = pd.Series([method_style(name).label for name in table["method"].fillna(tests)], index=table.index)
    values = table.assign(value=table["epoch_time_s"], lower=table["q1_s"], upper=table["q3_s"])
    return bars(values, table["benchmark_group"].fillna("benchmarks").astype(str), category, series)


def _machine(data: Mapping[str, Any]) -> dict[str, Any]:
    machine, commit = data.get("machine_info") or {}, data.get("commit_info") or {}
    cpu = machine.get("cpu") or {}
    return {
        "cpu_model": cpu.get("brand_raw") or machine.get("processor"),
        "cores": cpu.get("count"),
        "platform": " ".join(str(machine[key]) for key in ("system", "release", "machine") if machine.get(key)),
        "python": machine.get("python_version"),
        "pytest-benchmark": data.get("version"),
        "run at": data.get("datetime"),
        "commit": " ".join(str(part) for part in (commit.get("id"), commit.get("branch")) if part)
        + (" (dirty)" if commit.get("dirty") else ""),
    }


def write_report_from_benchmark_json(json_path: str | os.PathLike[str], out_dir: str | os.PathLike[str]) -> list[Path]:
    """Write ``timing.csv``, ``speedup.csv``, the timing figures and ``REPORT.md`` from a pytest-benchmark JSON.

    Parameters
    ----------
    json_path : path-like
        The file written by ``pytest --benchmark-json=FILE``.
    out_dir : path-like
        Output directory, created if needed.

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
    comparable = table[table["method"].notna() & table["backend"].notna()]
    keys = [key for key in MATCH_KEYS if key in comparable] + ["backend"]
    medians = comparable.groupby(keys, dropna=False, sort=False)["epoch_time_s"].median().reset_index()
    speedup = speedup_table(medians, pd.DataFrame()) if not medians.empty else pd.DataFrame()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = [write_csv(out / "timing.csv", table), write_csv(out / "speedup.csv", speedup)]
    figures = FigureWriter(out)
    figures.draw(
        "benchmark_epoch_time.png", benchmark_bars(table), "no benchmark.", draw_bars,
        title="pytest-benchmark: time per call (median, interquartile bars)", ylabel="time per call (s, log scale)",
    )  # fmt: skip
    figures.draw(
        "benchmark_speedup.png", speedup_bars(speedup, np.nan), "no peer ran the benchmarks fastgd ran.", draw_bars,
        title="Speed-up of fastgd over each peer (above 1×: fastgd is faster)", ylabel="peer time / fastgd time",
        reference=1.0, annotate=True,
    )  # fmt: skip
    written += figures.written
    links = {
        section: "".join(f"![{section}]({name})\n\n" for name in names) for section, names in figures.by_section.items()
    }
    names = [f"`{name}`" for name in table["benchmark_name"]]
    text = "\n".join(
        [
            "# fastgd benchmark report (pytest-benchmark)\n",
            f"Timings read from `{json_path}`: one row per benchmark, the time of one call (one epoch for the "
            "epoch benchmarks).  The same table is in `timing.csv`; columns the JSON does not provide are empty.\n",
            "## Machine\n",
            machine_table(_machine(data)),
            "## Timings\n",
            timing_markdown(table, {"group": list(table["benchmark_group"].fillna("—")), "benchmark": names}),
            links.get("benchmark_epoch_time", ""),
            "## Speed-up of fastgd over each peer (per call)\n",
            speedup_markdown(speedup),
            links.get("benchmark_speedup", ""),
            "## Reproduce\n",
            "```sh\npython -m pytest bench --benchmark-only --benchmark-json=benchmark.json\n"
            "fastgd report --benchmark-json benchmark.json\n```\n",
        ]
    )
    written.append(atomic_write_text(out / "REPORT.md", text))
    remove_stale(out, written)
    return written
