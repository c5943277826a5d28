"""Human-readable labels and number formats shared by the tables, the figures and REPORT.md."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

#: A table row: a dict, or a row of a DataFrame from ``iterrows``.
Row = Mapping[str, Any] | pd.Series

__all__ = [
    "Row",
    "dataset_label",
    "dataset_slug",
    "format_number",
    "format_rate",
    "format_seconds",
    "format_speedup",
    "is_missing",
    "loss_label",
    "optimum_kind_label",
]

_LOSS_LABELS = {"l2": "L2 (squared error)", "l1": "L1 (absolute error)", "huber": "Huber"}
_OPTIMUM_KIND_LABELS = {
    "normal_equations": "certified: normal equations (float64)",
    "highs_lp": "certified: HiGHS LP (exact least absolute deviations)",
    "best_seen": "best loss seen across all runs (not certified)",
}


def is_missing(value: Any) -> bool:
    """True for None, NaN and pandas' missing values."""
    if value is None:
        return True
    missing = pd.isna(value)
    return bool(missing) if isinstance(missing, (bool, np.bool_)) else False


def format_number(value: Any, digits: int = 4) -> str:
    """A number with ``digits`` significant digits; ints as ints; missing as an em dash."""
    if is_missing(value):
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer() and abs(value) < 1e15):
        return f"{int(value):,}" if abs(value) >= 10_000 else str(int(value))
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


def format_seconds(value: Any) -> str:
    """A duration with a unit that keeps 3 significant digits: ``812 µs``, ``1.25 s``."""
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
    """A rate with an SI prefix and 3 significant digits: ``13.3 k``, ``2.05 M``."""
    if is_missing(value):
        return "—"
    rate = float(value)
    for scale, prefix in ((1e9, " G"), (1e6, " M"), (1e3, " k")):
        if abs(rate) >= scale:
            return f"{rate / scale:.3g}{prefix}"
    return f"{rate:.3g}"


def format_speedup(value: Any) -> str:
    """A ratio such as ``3.21×``; missing as an em dash."""
    return "—" if is_missing(value) else f"{float(value):.3g}×"


def loss_label(loss: Any) -> str:
    """``"l2"`` -> ``"L2 (squared error)"``; unknown names unchanged."""
    return _LOSS_LABELS.get(str(loss), str(loss))


def optimum_kind_label(kind: Any) -> str:
    """How ``f*`` was obtained, in words."""
    return _OPTIMUM_KIND_LABELS.get(str(kind), str(kind))


def dataset_label(values: Row) -> str:
    """``"100,000 × 20 float64, noise 1, outliers 0.1"`` (zero outliers/correlation left out)."""
    n_samples, n_features = values.get("n_samples"), values.get("n_features")
    if is_missing(n_samples) or is_missing(n_features):
        return ""
    parts = [f"{int(n_samples):,} × {int(n_features):,}"]  # type: ignore[arg-type]
    if not is_missing(values.get("dtype")):
        parts[0] += f" {values['dtype']}"
    for key, name in (("noise", "noise"), ("outliers", "outliers"), ("correlation", "corr")):
        value = values.get(key)
        if not is_missing(value) and (key == "noise" or float(value) != 0.0):  # type: ignore[arg-type]
            parts.append(f"{name} {format_number(value, 3)}")
    return ", ".join(parts)


def dataset_slug(values: Row) -> str:
    """A file-name-safe identifier of a dataset: ``n100000_d20_float64``."""
    n_samples, n_features = values.get("n_samples"), values.get("n_features")
    if is_missing(n_samples) or is_missing(n_features):
        return "unknown"
    slug = f"n{int(n_samples)}_d{int(n_features)}"  # type: ignore[arg-type]
    if not is_missing(values.get("dtype")):
        slug += f"_{values['dtype']}"
    return "".join(char if char.isalnum() or char in "_-" else "-" for char in slug)
