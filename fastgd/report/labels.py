"""Words, number formats and styles shared by the tables, the figures and REPORT.md.

Every figure takes its styles from here, so ``sgd`` has the same colour in every plot and ``torch``
the same hatch in every bar chart.  Colours are from the Okabe-Ito palette (readable by colour-blind
readers).  Other names (a user's own method, a benchmark id such as ``numpy-gemv``) get a spare style
picked by a CRC32 of the name, stable from one report to the next.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import pandas as pd

from ..study.select import DATASET_KEYS, present

__all__ = [
    "BACKEND_ORDER",
    "Style",
    "backend_style",
    "format_number",
    "format_rate",
    "format_seconds",
    "format_speedup",
    "format_suboptimality",
    "is_missing",
    "method_style",
    "not_reached",
    "problem_label",
    "problem_labels",
    "style_of_label",
    "variant_labels",
]


class Style(NamedTuple):
    """How one method or backend is drawn."""

    color: str
    marker: str
    linestyle: str | tuple[float, tuple[float, ...]]
    hatch: str
    label: str


_METHOD_STYLES: dict[str, Style] = {
    "batch": Style("#0072B2", "o", "-", "", "batch GD"),
    "sgd": Style("#D55E00", "s", "-", "", "SGD"),
    "minibatch": Style("#009E73", "^", "-", "", "mini-batch"),
    "adam": Style("#CC79A7", "D", "-", "", "Adam"),
}
_BACKEND_STYLES: dict[str, Style] = {
    "fastgd": Style("#E69F00", "o", "-", "", "fastgd"),
    "distributed": Style("#332288", "P", (0, (5, 1, 1, 1, 1, 1)), "\\\\", "fastgd distributed (dask)"),
    "numpy": Style("#56B4E9", "s", "--", "//", "NumPy"),
    "sklearn": Style("#7F7F7F", "^", "-.", "..", "scikit-learn"),
    "torch": Style("#B2182B", "D", ":", "xx", "PyTorch"),
}
BACKEND_ORDER: tuple[str, ...] = tuple(_BACKEND_STYLES)  # the order of the report's rows
_SPARE_COLORS = ("#882255", "#44AA99", "#999933", "#AA4499", "#117733", "#661100")
_SPARE_HATCHES = ("++", "oo", "--", "||", "..", "//", "xx")
_LOSS_LABELS = {"l2": "L2", "l1": "L1", "huber": "Huber"}


def _spare_style(name: str) -> Style:
    digest = zlib.crc32(name.encode("utf-8"))
    line = ("--", "-.", ":")[(digest // 49) % 3]
    return Style(
        _SPARE_COLORS[digest % 6], "vX*h<>"[(digest // 7) % 6], line, _SPARE_HATCHES[(digest // 147) % 7], name
    )


def method_style(method: str) -> Style:
    """The style of a method (``batch``, ``sgd``, ``minibatch``, ``adam`` or another name)."""
    return _METHOD_STYLES.get(str(method)) or _spare_style(str(method))


def backend_style(backend: str) -> Style:
    """The style of a backend; a variant ``<backend>-<id>`` (``numpy-gemv``) gets its own hatch and label."""
    name = str(backend)
    family = _BACKEND_STYLES.get(name.split("-", 1)[0])
    if name in _BACKEND_STYLES or family is None:
        return _BACKEND_STYLES.get(name) or _spare_style(name)
    return family._replace(hatch=_spare_style(name).hatch, label=name)


def style_of_label(label: str) -> Style:
    """The style whose label starts ``label`` (``"mini-batch b=32"`` -> mini-batch), longest match first."""
    known = sorted((*_METHOD_STYLES.values(), *_BACKEND_STYLES.values()), key=lambda style: -len(style.label))
    for style in known:
        if label == style.label or label.startswith(style.label + " "):
            return style
    return backend_style(label)


def is_missing(value: Any) -> bool:
    """True for None, NaN and pandas' missing values."""
    return value is None or (not isinstance(value, str | Sequence) and bool(pd.isna(value)))


def format_number(value: Any, digits: int = 3) -> str:
    """``digits`` significant digits, ints as ints (thousands separated), missing as an em dash, text as is."""
    if is_missing(value):
        return "—"
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


def problem_label(row: Mapping[Any, Any], with_dataset: bool = True) -> str:
    """``"L1 on 10,000 × 100 float64, noise 1"`` (or only the loss); Huber with its delta.

    The dataset leaves out zero outliers and correlation; a row without a loss is named by its dataset.
    """
    if is_missing(row.get("n_samples")) or is_missing(row.get("n_features")):
        dataset = "—"
    else:
        dataset = f"{int(row['n_samples']):,} × {int(row['n_features']):,}"
        dataset += "" if is_missing(row.get("dtype")) else f" {row['dtype']}"
        for key, name in (("noise", "noise"), ("outliers", "outliers"), ("correlation", "corr")):
            value = row.get(key)
            if value is not None and not is_missing(value) and (key == "noise" or float(value) != 0.0):
                dataset += f", {name} {format_number(value)}"
    if is_missing(row.get("loss")):
        return dataset
    loss = _LOSS_LABELS.get(str(row["loss"]), str(row["loss"]))
    if row["loss"] == "huber" and not is_missing(row.get("delta")):
        loss += f" (δ {format_number(row['delta'])})"
    return f"{loss} on {dataset}" if with_dataset else loss


def problem_labels(frame: pd.DataFrame, with_dataset: bool | None = None) -> pd.Series:
    """:func:`problem_label` of every row; the dataset is named when asked, or (``None``) when there are several."""
    if with_dataset is None:
        with_dataset = frame[present(frame, DATASET_KEYS)].drop_duplicates().shape[0] > 1
    return pd.Series([problem_label(row, with_dataset) for row in frame.to_dict("records")], index=frame.index)


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

    ``variant_labels(winners, ["method", "batch_size", "optimizer"])`` gives ``"SGD"``, ``"Adam"``
    while each method has one batch size and optimizer, and ``"mini-batch b=32"``,
    ``"mini-batch b=256"`` when a method has two.
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
