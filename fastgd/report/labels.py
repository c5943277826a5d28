"""Words and number formats shared by the tables, the figures and REPORT.md."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from .style import backend_style, method_style

__all__ = [
    "dataset_label",
    "format_number",
    "format_rate",
    "format_seconds",
    "format_speedup",
    "format_suboptimality",
    "is_missing",
    "loss_label",
    "not_reached",
    "problem_label",
    "variant_labels",
]

_LOSS_LABELS = {"l2": "L2", "l1": "L1", "huber": "Huber"}


def is_missing(value: Any) -> bool:
    """True for None, NaN and pandas' missing values."""
    return value is None or (not isinstance(value, str | Sequence) and bool(pd.isna(value)))


def format_number(value: Any, digits: int = 3) -> str:
    """``digits`` significant digits, ints as ints (thousands separated), missing as an em dash, text as is."""
    if is_missing(value):
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        return value
    number = float(value)
    if number.is_integer() and abs(number) < 1e15:
        return f"{int(number):,}"
    return f"{number:.{digits}g}"


def format_seconds(value: Any) -> str:
    """A duration with a unit and 3 significant digits: ``812 µs``, ``1.25 s``."""
    if is_missing(value):
        return "—"
    seconds = float(value)
    if not math.isfinite(seconds) or seconds == 0.0:
        return f"{seconds:g} s"
    for scale, unit in ((1.0, "s"), (1e-3, "ms"), (1e-6, "µs")):
        if abs(seconds) >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds * 1e9:.3g} ns"


def format_rate(value: Any) -> str:
    """A rate with an SI prefix: ``13.3 k``, ``2.05 M``."""
    if is_missing(value):
        return "—"
    rate = float(value)
    for scale, prefix in ((1e9, " G"), (1e6, " M"), (1e3, " k")):
        if abs(rate) >= scale:
            return f"{rate / scale:.3g}{prefix}"
    return f"{rate:.3g}"


def format_speedup(value: Any) -> str:
    """A ratio such as ``3.21×``; missing as an em dash, infinite as ``∞``."""
    if is_missing(value):
        return "—"
    return "∞" if math.isinf(float(value)) else f"{float(value):.3g}×"


def format_suboptimality(value: Any) -> str:
    """A relative suboptimality in short scientific notation: ``3.1e-2``."""
    if is_missing(value) or not math.isfinite(float(value)):
        return "—"
    mantissa, exponent = f"{float(value):.1e}".split("e")
    return f"{mantissa.removesuffix('.0')}e{int(exponent)}"


def not_reached(best: Any) -> str:
    """``"not reached (best 3.1e-2)"``: a missed target shown with the best value reached."""
    return "not reached" if is_missing(best) else f"not reached (best {format_suboptimality(best)})"


def loss_label(loss: Any) -> str:
    """``"l2"`` -> ``"L2"``; unknown names unchanged."""
    return _LOSS_LABELS.get(str(loss), str(loss))


def dataset_label(row: Mapping[Any, Any]) -> str:
    """``"400,000 × 100 float64, noise 1, outliers 0.1"`` (zero outliers and correlation left out)."""
    if is_missing(row.get("n_samples")) or is_missing(row.get("n_features")):
        return "—"
    label = f"{int(row['n_samples']):,} × {int(row['n_features']):,}"
    if not is_missing(row.get("dtype")):
        label += f" {row['dtype']}"
    for key, name in (("noise", "noise"), ("outliers", "outliers"), ("correlation", "corr")):
        value = row.get(key)
        if value is not None and not is_missing(value) and (key == "noise" or float(value) != 0.0):
            label += f", {name} {format_number(value)}"
    return label


def problem_label(row: Mapping[Any, Any], with_dataset: bool = True) -> str:
    """``"L1 on 10,000 × 100 float64, noise 1"`` (or only the loss); Huber with its delta."""
    if is_missing(row.get("loss")):
        return dataset_label(row)
    loss = loss_label(row.get("loss"))
    if row.get("loss") == "huber" and not is_missing(row.get("delta")):
        loss += f" (δ {format_number(row['delta'])})"
    return f"{loss} on {dataset_label(row)}" if with_dataset else loss


def _part(column: str, value: Any) -> str:
    if column == "batch_size":
        return "full batch" if is_missing(value) else f"b={int(value)}"
    if column == "threads":
        return f"{format_number(value)} thr"
    if column == "backend":
        return backend_style(str(value)).label
    return "" if is_missing(value) else str(value)


def variant_labels(frame: pd.DataFrame, columns: Sequence[str]) -> pd.Series:
    """Short labels naming rows by ``columns[0]``, adding the other columns only where they vary.

    ``variant_labels(winners, ["method", "batch_size", "optimizer"])`` gives
    ``"SGD"``, ``"Adam"`` while each method has one batch size and optimizer,
    and ``"mini-batch b=32"``, ``"mini-batch b=256"`` when a method has two.
    """
    first = columns[0]
    style = method_style if first == "method" else backend_style
    labels = frame[first].map(lambda name: "—" if is_missing(name) else style(str(name)).label).astype("object")
    for column in columns[1:]:
        if column not in frame:
            continue
        varies = frame.groupby(first, dropna=False)[column].transform(lambda values: values.nunique(dropna=False) > 1)
        extra = [_part(column, value) for value in frame[column]]
        named = zip(labels, extra, varies, strict=True)
        labels = pd.Series(
            [f"{label} {part}" if flag and part else label for label, part, flag in named], index=frame.index
        )
    return labels
