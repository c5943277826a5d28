"""Compose the study's ``REPORT.md`` from the summary tables and the written figures."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from .convention import CONVENTION_CARD
from .labels import (
    Row,
    dataset_label,
    format_number,
    format_rate,
    format_seconds,
    format_speedup,
    is_missing,
    loss_label,
    optimum_kind_label,
)
from .mdtable import markdown_table
from .plotdata import LOSS_ORDER
from .style import BACKEND_ORDER, METHOD_ORDER, backend_style, method_style, ordered
from .summaries import REFERENCE_BACKEND, SPEEDUP_KEYS, TARGETS, target_column
from .tables import DATASET_COLUMNS

__all__ = ["StudyReport", "figure_links", "render_study_report"]

NOT_REACHED = "not reached"


@dataclass
class StudyReport:
    """Everything ``REPORT.md`` shows; built by :func:`fastgd.report.write_report`.

    ``figures`` maps a section (``"timing"``, ``"speedup"``, ``"convergence"``,
    ``"scaling"``, ``"seed"``) to the file names written for it, relative to the
    report; ``figure_notes`` says why a section has no figure.
    """

    study: Mapping[str, Any]
    results_dir: str
    out_dir: str
    n_records: int
    summary: pd.DataFrame
    speedups: pd.DataFrame
    time_to_target: pd.DataFrame
    finals: pd.DataFrame
    optima: pd.DataFrame
    machine: list[tuple[str, str]]
    figures: dict[str, list[str]] = field(default_factory=dict)
    figure_notes: dict[str, str] = field(default_factory=dict)


def _key(row: Row, columns: Sequence[str]) -> tuple[Any, ...]:
    return tuple(None if is_missing(row.get(column)) else row.get(column) for column in columns)


def _loss_of(row: Row) -> str:
    name = row.get("loss_name", row.get("loss"))
    return "—" if is_missing(name) else loss_label(name)


def _unique(values: Any) -> str:
    shown = [format_number(value) for value in pd.unique(pd.Series(values).dropna())]
    return ", ".join(shown) if shown else "—"


def _names(values: pd.Series, order: tuple[str, ...], label: Callable[[str], str]) -> str:
    return ", ".join(label(name) for name in ordered(values.dropna().unique(), order))


def _table(headers: list[str], rows: list[list[str]], align: list[str]) -> str:
    """A table whose first column is the dataset; with a single dataset, it is named once above instead."""
    datasets = {row[0] for row in rows}
    if len(datasets) != 1:
        return markdown_table(headers, rows, align)
    only = datasets.pop() or "—"
    return f"Dataset: {only}.\n\n" + markdown_table(headers[1:], [row[1:] for row in rows], align[1:])


def figure_links(names: Sequence[str], alt: str) -> str:
    """Markdown image links, one paragraph per figure."""
    return "".join(f"![{alt}]({name})\n\n" for name in names)


def _epoch_time_table(report: StudyReport) -> str:
    summary = report.summary
    backends = ordered(summary["backend"].dropna().unique(), BACKEND_ORDER)
    cells: dict[tuple[Any, ...], str] = {}
    for _, row in summary.iterrows():
        cell = (
            f"{format_seconds(row['epoch_time_s'])} [{format_seconds(row['epoch_time_min_s'])}–"
            f"{format_seconds(row['epoch_time_max_s'])}]"
        )
        cells.setdefault(_key(row, list(SPEEDUP_KEYS) + ["backend"]), cell)
    peers = [backend for backend in backends if f"speedup_vs_{backend}" in report.speedups.columns]
    headers = ["dataset", "loss", "method", "threads"] + [backend_style(b).label for b in backends]
    headers += [f"fastgd vs {backend_style(peer).label}" for peer in peers]
    rows = []
    for _, row in report.speedups.iterrows():
        key = _key(row, SPEEDUP_KEYS)
        line = [
            dataset_label(row),
            _loss_of(row),
            method_style(row["method"]).label,
            format_number(row["threads"]),
        ]
        line += [cells.get(key + (backend,), "—") for backend in backends]
        line += [format_speedup(row[f"speedup_vs_{peer}"]) for peer in peers]
        rows.append(line)
    align = ["l", "l", "l", "r"] + ["r"] * (len(backends) + len(peers))
    return _table(headers, rows, align)


def _throughput_table(summary: pd.DataFrame) -> str:
    headers = [
        "dataset",
        "loss",
        "method",
        "backend",
        "threads",
        "samples/s",
        "GB/s of X read",
        "share of measured bandwidth",
        "JIT compile",
    ]
    rows = [
        [
            dataset_label(row),
            _loss_of(row),
            method_style(row["method"]).label,
            backend_style(row["backend"]).label,
            format_number(row["threads"]),
            format_rate(row["samples_per_s"]),
            format_number(row["gbytes_per_s"], 3),
            "—" if is_missing(row["bandwidth_fraction"]) else f"{float(row['bandwidth_fraction']):.1%}",
            format_seconds(row["compile_s"]),
        ]
        for _, row in summary.iterrows()
    ]
    return _table(headers, rows, ["l", "l", "l", "l", "r", "r", "r", "r", "r"])


def _time_to_target_table(table: pd.DataFrame) -> str:
    headers = ["dataset", "loss", "method", "backend", "threads"]
    for target in TARGETS:
        headers += [f"time to {target:.0e}", f"epochs to {target:.0e}"]
    rows = []
    for _, row in table.iterrows():
        line = [
            dataset_label(row),
            _loss_of(row),
            method_style(row["method"]).label,
            backend_style(row["backend"]).label,
            format_number(row["threads"]),
        ]
        for target in TARGETS:
            time, epochs = row[target_column(target)], row[target_column(target, "epochs")]
            line += [NOT_REACHED, "—"] if is_missing(time) else [format_seconds(time), format_number(epochs)]
        rows.append(line)
    return _table(headers, rows, ["l", "l", "l", "l", "r"] + ["r"] * (2 * len(TARGETS)))


def _final_loss_table(table: pd.DataFrame) -> str:
    headers = [
        "dataset",
        "loss",
        "method",
        "backend",
        "threads",
        "epochs",
        "final loss",
        "loss − f*",
        "relative",
        "coef error",
        "stop",
    ]
    rows = []
    for _, row in table.iterrows():
        diverged = row.get("diverged")
        stop = "diverged" if not is_missing(diverged) and bool(diverged) else row.get("stop_reason")
        rows.append(
            [
                dataset_label(row),
                _loss_of(row),
                method_style(row["method"]).label,
                backend_style(row["backend"]).label,
                format_number(row["threads"]),
                format_number(row["epoch"]),
                format_number(row["loss"], 6),
                format_number(row["suboptimality"], 3),
                format_number(row["relative_suboptimality"], 3),
                format_number(row["coef_error"], 3),
                "—" if is_missing(stop) else str(stop),
            ]
        )
    return _table(headers, rows, ["l", "l", "l", "l", "r", "r", "r", "r", "r", "r", "l"])


def _optima_table(table: pd.DataFrame) -> str:
    rows = [
        [
            dataset_label(row),
            _loss_of(row),
            format_number(row["f_star"], 10),
            optimum_kind_label(row["optimum_kind"]),
        ]
        for _, row in table.iterrows()
    ]
    return _table(["dataset", "loss", "f*", "how f* was obtained"], rows, ["l", "l", "r", "l"])


def _what_was_run(report: StudyReport) -> str:
    study, summary = report.study, report.summary
    datasets = list(dict.fromkeys(dataset_label(row) for _, row in summary[list(DATASET_COLUMNS)].iterrows()))
    lines = [
        "## What was run\n",
        (
            f"- Preset: **{study.get('preset', 'unknown')}**; {report.n_records} finished cases "
            "(a case = dataset × loss × method × backend × threads, with all its repetitions)."
        ),
        f"- Datasets (n_samples × n_features): {'; '.join(datasets)}.",
        f"- Losses: {_names(summary['loss'], LOSS_ORDER, loss_label)}.",
        f"- Methods: {_names(summary['method'], METHOD_ORDER, lambda name: method_style(name).label)}.",
        f"- Backends: {_names(summary['backend'], BACKEND_ORDER, lambda name: backend_style(name).label)}.",
        f"- Threads: {_unique(summary['threads'])}; repetitions per case: {_unique(summary['repetitions'])}.",
        f"- Started: {study.get('started_at', 'unknown')}; results read from `{report.results_dir}`.",
        f"- Command: `{study['command']}`" if study.get("command") else "- Command: unknown (no study.json).",
    ]
    if study.get("study"):
        lines += [
            "",
            "<details><summary>Study parameters (study.json)</summary>\n",
            "```json",
            json.dumps(study["study"], indent=2, sort_keys=True, default=str),
            "```",
            "</details>",
        ]
    return "\n".join(lines) + "\n"


def _figures_or_note(report: StudyReport, section: str, alt: str) -> str:
    note = report.figure_notes.get(section)
    text = figure_links(report.figures.get(section, []), alt)
    return text + (f"_Figure not drawn: {note}_\n\n" if note else "")


def render_study_report(report: StudyReport) -> str:
    """The text of ``REPORT.md`` for a study.

    Parameters
    ----------
    report : StudyReport
        Tables, machine rows, study info and figure names.

    Returns
    -------
    str
        Markdown.
    """
    command = report.study.get("command")
    notes = [str(note) for note in report.study.get("notes") or []]
    parts = [
        "# fastgd benchmark report\n",
        (
            "Batch gradient descent, SGD, mini-batch and Adam, compiled with Numba (fastgd), against NumPy, "
            "scikit-learn and PyTorch on synthetic regression data.  Every number below was measured; the "
            "tables are also in `timing.csv` and `convergence.csv`.\n"
        ),
        _what_was_run(report),
        "## Machine\n",
        markdown_table(["", ""], [[key, value] for key, value in report.machine], ["l", "l"])
        if report.machine
        else "_No machine information recorded._\n",
        "## Epoch time per method and backend\n",
        (
            'Median epoch time over repetitions [fastest–slowest epoch]; "fastgd vs X" is the speed-up of '
            f"{REFERENCE_BACKEND} (X's time / fastgd's time; above 1× fastgd is faster).  Every backend "
            "visits the rows in the same order each epoch.  scikit-learn's `SGDRegressor` cannot take an "
            "order, so it is handed the rows already permuted (a gather outside the timed region) and reads "
            "them sequentially, while the others read rows in random order — a memory-latency cost that "
            "favours scikit-learn here; `bench/test_bench_epochs.py` compares SGD in storage order.\n"
        ),
        _epoch_time_table(report),
        "",
        _figures_or_note(report, "timing", "Epoch time per method and backend"),
        _figures_or_note(report, "speedup", "Speed-up of fastgd against each peer"),
        "### Throughput\n",
        _throughput_table(report.summary),
        "",
        "## Convergence\n",
        "### Time to target\n",
        (
            "Training time (and epoch) at which the relative suboptimality `(loss - f*) / |f*|` first reaches "
            'the target (median over repetitions; "not reached" if any repetition does not reach it).\n'
        ),
        _time_to_target_table(report.time_to_target),
        "",
        "### Final losses\n",
        "The last recorded point of each run (repetition 0).\n",
        _final_loss_table(report.finals),
        "",
        "### Which optimum each dataset and loss used\n",
        _optima_table(report.optima),
        "",
        _figures_or_note(report, "convergence", "Convergence: suboptimality against time and epochs"),
        "## Scaling\n",
        _figures_or_note(report, "scaling", "Epoch time against problem size"),
        "## The seed tutorial's pictures\n",
        "Computed when this report was written (a few scalar gradient steps and two fits on 60 points).\n",
        _figures_or_note(report, "seed", "Seed tutorial picture"),
        "## Notes\n",
        "".join(f"- {note}\n" for note in notes) if notes else "_None: every peer requested was run._\n",
        "",
        CONVENTION_CARD,
        "## Reproduce\n",
        f"```sh\n{command}\n```\n" if command else "_The command is unknown (no `study.json` in the results)._\n",
        (
            "Re-draw this report from the saved results, without re-running anything: "
            f"`fastgd report --results {report.results_dir} --out {report.out_dir}`.\n"
        ),
    ]
    return "\n".join(part for part in parts if part is not None)
